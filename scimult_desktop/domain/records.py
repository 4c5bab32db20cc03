"""Domain records: what the services take and return. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Attachment:
    """A file belonging to a paper (usually its PDF)."""

    path: str
    kind: str = "pdf"
    status: str = "ok"  # ok | missing | no_text_layer | error
    id: int | None = None


@dataclass
class PageText:
    """The text of one page, kept for evidence (page numbers start at 1)."""

    page: int
    text: str


@dataclass
class Reference:
    """One entry of a paper's bibliography, before or after matching to a library paper."""

    raw: str
    doi: str | None = None
    arxiv_id: str | None = None
    title: str | None = None
    year: int | None = None
    cited_paper_id: int | None = None


@dataclass
class Paper:
    """A paper as stored in the library."""

    title: str
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str | None = None
    abstract: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    citekey: str | None = None
    entry_type: str | None = None
    source: str | None = None
    id: int | None = None
    files: list[Attachment] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None

    def embedding_text(self) -> str:
        """Text a model embeds for this paper: SciMult's `title [SEP] abstract`."""
        return f"{self.title} [SEP] {self.abstract or ''}".strip()


@dataclass
class ImportedRecord:
    """One paper as an importer read it, before it is matched against the library.

    `source_key` identifies the record inside its source (a BibTeX key, a Zotero
    item key, a PDF path) so that re-importing the same source updates instead of
    duplicating.
    """

    paper: Paper
    source_kind: str  # bibtex | pdf | zotero | csl-json
    source_path: str
    source_key: str
    extra: dict = field(default_factory=dict)
    pages: list[PageText] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    full_text: str | None = None
    status: str = "ok"  # ok | no_text_layer
    source_line: int | None = None  # where the record starts in a text source (a BibTeX entry's line)


@dataclass
class ImportProblem:
    """A source (file or entry) that could not be imported, with a message naming it."""

    path: str
    error: str


@dataclass
class ImportReport:
    """What one import run did. Its JSON form is a public CLI contract."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    failed: list[ImportProblem] = field(default_factory=list)
    paper_ids: list[int] = field(default_factory=list)
    no_text_layer: list[str] = field(default_factory=list)  # PDFs stored without text (image-only scans)

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": self.skipped,
            "failed": [{"path": p.path, "error": p.error} for p in self.failed],
            "no_text_layer": list(self.no_text_layer),
        }


@dataclass
class PassageMatch:
    """The passage of a paper's PDF text that matched a query best, and its page."""

    text: str
    page: int
    score: float

    def to_json(self) -> dict:
        return {"text": self.text, "page": self.page, "score": round(self.score, 6)}


@dataclass
class SearchHit:
    """One ranked result, with why it matched."""

    paper: Paper
    score: float
    why: str | None = None  # a highlighted snippet or the reason for relatedness
    page: int | None = None
    passage: PassageMatch | None = None  # set by search when a passage of the PDF matched
    # Set by suggestions: a sentence in which a library paper cites this paper for a claim like the
    # text's ({"sentence", "marker", "page", "citing_paper": {...}, "shared_words"}).
    library_context: dict | None = None

    def to_json(self) -> dict:
        data = {"id": self.paper.id, "citekey": self.paper.citekey, "title": self.paper.title, "score": self.score}
        if self.passage is not None:
            data["passage"] = self.passage.to_json()
        if self.library_context is not None:
            data["library_context"] = self.library_context
        return data
