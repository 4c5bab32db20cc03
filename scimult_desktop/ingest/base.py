"""The importer protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Protocol, Union

from scimult_desktop.domain.records import ImportedRecord, ImportProblem

ImportItem = Union[ImportedRecord, ImportProblem]


class Importer(Protocol):
    """Reads one kind of source file.

    `read` yields a record per paper and an `ImportProblem` per broken entry
    (naming the file and line), so one bad entry never stops the others. A file
    that cannot be read at all raises `ImportFailed` with a message naming it.
    """

    kind: str

    def can_import(self, path: Path) -> bool: ...

    def read(self, path: Path) -> Iterator[ImportItem]: ...
