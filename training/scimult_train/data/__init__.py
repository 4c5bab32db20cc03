"""Training data: our JSONL example format and readers for published formats."""

from __future__ import annotations

from scimult_train.data.examples import Example, read_examples, write_examples

__all__ = ["Example", "read_examples", "write_examples"]
