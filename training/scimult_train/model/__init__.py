"""The task-aware encoder: config, layers, encoder, weight loading and tokenizer."""

from __future__ import annotations
