"""Label sets for field classification: the built-in ones and the user's own.

A label set is a versioned list of labels; each label has a `name` and a
`description` that the classification expert matches papers against, in
SciMult's label input format `name [SEP] description` (see `label_text`).

Built-in sets live in `resources/labels/` at the project root, next to the
`scimult_desktop` package (`mag`: the 19 MAG level-0 fields of study used by
SciDocs MAG; `arxiv`: the arXiv category taxonomy). `$SCIMULT_RESOURCES`
points at another `resources` folder (a packaged app, or a test).

User sets are JSON or CSV files:
- JSON: `{"name", "version", "source", "licence_note", "labels": [...]}`, or
  just the list of labels; a label is `{"name", "description", "synonyms"?}`
  (optional `title`, `group`, `alias_of`) or a bare name string.
- CSV: columns `name,description` (header row optional; optional extra columns
  `synonyms` separated by `;`, `title`, `group`).

Example:
    >>> fields = load_label_set("mag")
    >>> label_text(fields.get("physics"))
    'Physics [SEP] Matter, energy and their interactions: ...'
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from scimult_desktop.errors import ScimultError
from scimult_desktop.resource_folders import resource_folders

RESOURCES_ENV = "SCIMULT_RESOURCES"
LABEL_SEPARATOR = " [SEP] "
BUILTIN_LABEL_SETS = {"mag": "mag_fields.json", "arxiv": "arxiv_categories.json"}


class LabelSetError(ScimultError):
    """A label set file is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class Label:
    """One class a paper can be assigned to.

    `name` identifies the label (unique in its set, compared case-insensitively);
    `title` is a display name where the identifier is a code (arXiv: name
    `cs.IR`, title `Information Retrieval`). `alias_of` names another label of
    the same set that means the same thing (arXiv cross-listed aliases).
    """

    name: str
    description: str = ""
    synonyms: tuple[str, ...] = ()
    title: str | None = None
    group: str | None = None
    alias_of: str | None = None

    @property
    def display_name(self) -> str:
        return self.title or self.name

    def to_json(self) -> dict:
        data: dict = {"name": self.name, "description": self.description}
        if self.synonyms:
            data["synonyms"] = list(self.synonyms)
        for key in ("title", "group", "alias_of"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class LabelSet:
    """A named, versioned list of labels, with where it came from."""

    name: str
    labels: tuple[Label, ...]
    version: str = ""
    source: str = ""
    licence_note: str = ""
    path: Path | None = None
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for label in self.labels:
            for alias in (label.name, *label.synonyms):
                self._index.setdefault(alias.casefold(), label)

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[Label]:
        return iter(self.labels)

    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    def get(self, name: str) -> Label:
        """The label called `name` or having it as a synonym (case-insensitive).

        Raises:
            KeyError: no label matches.
        """
        try:
            return self._index[name.strip().casefold()]
        except KeyError:
            raise KeyError(f"no label {name!r} in label set {self.name!r}") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().casefold() in self._index

    def canonical(self) -> "LabelSet":
        """The same set without labels that are aliases of another (one label per class)."""
        kept = tuple(label for label in self.labels if not label.alias_of)
        return LabelSet(self.name, kept, self.version, self.source, self.licence_note, self.path)

    def texts(self) -> list[str]:
        """`label_text` of every label, in order: what the classification expert embeds."""
        return [label_text(label) for label in self.labels]


def label_text(label: Label) -> str:
    """SciMult's label input: `name [SEP] description` (the display name for coded labels)."""
    if not label.description:
        return label.display_name
    return f"{label.display_name}{LABEL_SEPARATOR}{label.description}"


# ---- finding the resources folder -------------------------------------------
def resources_dir() -> Path:
    """The folder holding `labels/` and other shipped resources.

    Order: `$SCIMULT_RESOURCES`; `resources/` beside the package folder (a source
    checkout or editable install); `scimult_desktop/resources/` (a wheel that
    ships them inside the package); `<prefix>/share/scimult-desktop/resources`
    (a wheel that ships them as data files: sys.prefix, /usr/local, ~/.local;
    `resource_folders`).

    Raises:
        LabelSetError: none of these exists.
    """
    env = os.environ.get(RESOURCES_ENV)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise LabelSetError(f"${RESOURCES_ENV} points at {folder}, which is not a folder")
        return folder
    # Beside the package, inside it, then under each prefix pip may have put a wheel's data files.
    candidates = resource_folders()
    for folder in candidates:
        if (folder / "labels").is_dir():
            return folder
    searched = ", ".join(str(c) for c in candidates)
    raise LabelSetError(f"the resources folder was not found (looked in {searched}; set ${RESOURCES_ENV})")


def builtin_label_set_names() -> list[str]:
    return sorted(BUILTIN_LABEL_SETS)


def load_builtin_label_set(name: str) -> LabelSet:
    """A label set shipped with the app: `mag` or `arxiv`.

    Raises:
        LabelSetError: unknown name, or the shipped file is missing or broken.
    """
    try:
        file_name = BUILTIN_LABEL_SETS[name.strip().lower()]
    except KeyError:
        known = ", ".join(builtin_label_set_names())
        raise LabelSetError(f"unknown label set {name!r} (built-in sets: {known}; or give a .json/.csv file)") from None
    return load_label_set_file(resources_dir() / "labels" / file_name)


def load_label_set(name_or_path: str | os.PathLike) -> LabelSet:
    """A built-in set by name, else a user's .json or .csv file by path."""
    text = os.fspath(name_or_path)
    if text.strip().lower() in BUILTIN_LABEL_SETS and not Path(text).exists():
        return load_builtin_label_set(text)
    return load_label_set_file(text)


# ---- reading files -------------------------------------------------------------
def load_label_set_file(path: str | os.PathLike) -> LabelSet:
    """Read a label set from a JSON or CSV file (see the module docstring for the formats).

    Raises:
        LabelSetError: the file cannot be read, has the wrong shape, has no labels,
            or names one label twice. The message names the file.
    """
    path = Path(path).expanduser()
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelSetError(f"{path}: label set file not found") from None
    except IsADirectoryError:
        raise LabelSetError(f"{path}: is a folder, not a label set file") from None
    except UnicodeDecodeError:
        raise LabelSetError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise LabelSetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        label_set = _parse_json(raw, path)
    elif suffix in (".csv", ".tsv"):
        label_set = _parse_csv(raw, path, delimiter="\t" if suffix == ".tsv" else ",")
    else:
        raise LabelSetError(f"{path}: unsupported label set file type {suffix or '(none)'!r} (use .json or .csv)")
    _check(label_set, path)
    return label_set


def _parse_json(raw: str, path: Path) -> LabelSet:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LabelSetError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    meta: dict = {}
    if isinstance(data, dict) and "labels" in data:
        meta, items = data, data["labels"]
    elif isinstance(data, (list, dict)):
        items = data
    else:
        raise LabelSetError(f"{path}: expected an object with \"labels\" or a list of labels")
    if isinstance(items, dict):  # {"name": "description", ...}
        items = [{"name": k, "description": v} for k, v in items.items()]
    if not isinstance(items, list):
        raise LabelSetError(f"{path}: \"labels\" must be a list")
    labels = tuple(_label_from_json(item, number, path) for number, item in enumerate(items, start=1))
    return LabelSet(
        name=str(meta.get("name") or path.stem),
        labels=labels,
        version=str(meta.get("version") or ""),
        source=str(meta.get("source") or ""),
        licence_note=str(meta.get("licence_note") or ""),
        path=path,
    )


def _label_from_json(item: object, number: int, path: Path) -> Label:
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise LabelSetError(f"{path}: label {number} must be an object or a name string")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise LabelSetError(f"{path}: label {number} has no \"name\"")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise LabelSetError(f"{path}: label {name!r} has a \"description\" that is not text")
    synonyms = item.get("synonyms") or []
    if isinstance(synonyms, str):
        synonyms = [synonyms]
    if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
        raise LabelSetError(f"{path}: label {name!r} has \"synonyms\" that are not a list of text")
    return Label(
        name=name.strip(),
        description=description.strip(),
        synonyms=tuple(s.strip() for s in synonyms if s.strip()),
        title=_optional_text(item.get("title")),
        group=_optional_text(item.get("group")),
        alias_of=_optional_text(item.get("alias_of")),
    )


def _optional_text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _parse_csv(raw: str, path: Path, *, delimiter: str) -> LabelSet:
    rows = [row for row in csv.reader(raw.splitlines(), delimiter=delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise LabelSetError(f"{path}: no labels")
    header = [cell.strip().lower() for cell in rows[0]]
    if "name" in header:
        columns, body, first_line = header, rows[1:], 2
    else:
        columns, body, first_line = ["name", "description"], rows, 1
    labels = []
    for number, row in enumerate(body, start=first_line):
        values = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(columns)}
        if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns):]):
            raise LabelSetError(f"{path}: row {number} has more columns than the header (quote descriptions that contain {delimiter!r})")
        if not values.get("name"):
            raise LabelSetError(f"{path}: row {number} has no name")
        synonyms = tuple(s.strip() for s in values.get("synonyms", "").split(";") if s.strip())
        labels.append(Label(
            name=values["name"],
            description=values.get("description", ""),
            synonyms=synonyms,
            title=values.get("title") or None,
            group=values.get("group") or None,
        ))
    return LabelSet(name=path.stem, labels=tuple(labels), path=path)


def _check(label_set: LabelSet, path: Path) -> None:
    if not label_set.labels:
        raise LabelSetError(f"{path}: no labels")
    seen: dict[str, str] = {}
    for label in label_set.labels:
        key = label.name.casefold()
        if key in seen:
            raise LabelSetError(f"{path}: label {label.name!r} appears twice")
        seen[key] = label.name
    for label in label_set.labels:
        if label.alias_of and label.alias_of.casefold() not in seen:
            raise LabelSetError(f"{path}: label {label.name!r} is an alias of {label.alias_of!r}, which is not in the set")
