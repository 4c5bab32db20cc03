"""Timestamps as stored in the database (UTC, ISO 8601, seconds)."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
