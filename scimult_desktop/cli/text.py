"""Free text from the command line, made valid Unicode.

On POSIX, Python turns argv bytes that are not UTF-8 into lone surrogates
(surrogateescape: b"\\xff" becomes "\\udcff"); the tokenizer and SQLite refuse those with a
traceback. Queries, sentences, tag and collection names and paper references therefore
take `TEXT`, which turns undecodable bytes into U+FFFD. File paths never do: a file name
may legitimately not be UTF-8, and the OS needs its exact bytes back.
"""

from __future__ import annotations

import re

import click

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` with every byte that was not UTF-8 (and any other lone surrogate) as U+FFFD."""
    if not _SURROGATE.search(value):
        return value
    try:
        # Back to the bytes the user typed, then decoded properly: valid sequences survive.
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # surrogates that did not come from undecodable bytes
        return _SURROGATE.sub("\ufffd", value)


class CleanText(click.ParamType):
    """A string parameter whose undecodable bytes become U+FFFD (see `clean_text`)."""

    name = "text"

    def convert(self, value, param, ctx):  # noqa: ARG002 - click's signature
        return clean_text(value) if isinstance(value, str) else value


TEXT = CleanText()
