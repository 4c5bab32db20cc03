from pathlib import Path

from scimult_desktop.domain.records import ImportedRecord, Paper, Reference
from scimult_desktop.services.library.importing import import_paths


class ListImporter:
    """A test importer that yields prepared records for any `.fake` file."""

    kind = "fake"

    def __init__(self, records):
        self.records = records

    def can_import(self, path: Path) -> bool:
        return path.suffix == ".fake"

    def read(self, path: Path):
        yield from self.records


def record(key, title, **fields):
    references = fields.pop("references", [])
    paper = Paper(title=title, authors=fields.pop("authors", ["Doe, Jane"]), **fields)
    return ImportedRecord(paper, "fake", "src.fake", key, references=references)


def run(library, tmp_path, records, name="src.fake"):
    path = tmp_path / name
    path.write_text(name + str(len(records)) + repr([r.source_key for r in records]))
    return import_paths(library.database, [path], importers=[ListImporter(records)])


def test_references_become_citation_edges_when_the_cited_paper_arrives(fresh_library, tmp_path):
    citing = record("a", "A survey of neural citation recommendation", year=2022, references=[
        Reference(raw="[1] Smith. Deep citation models. 2019. doi:10.1111/dcm", doi="10.1111/dcm"),
        Reference(raw="[2] Lee. Graph embeddings for scholarly networks. 2018.", title="Graph embeddings for scholarly networks", year=2018),
        Reference(raw="[3] Unknown work not in the library", title="Some work nobody imported at all"),
    ])
    run(fresh_library, tmp_path, [citing], "first.fake")
    assert fresh_library.citations_of("1") == {"cites": [], "cited_by": []}
    cited = [
        record("b", "Deep citation models", doi="10.1111/DCM", authors=["Smith, Al"], year=2019),
        record("c", "Graph Embeddings for Scholarly Networks", authors=["Lee, Kim"], year=2018),
    ]
    run(fresh_library, tmp_path, cited, "second.fake")
    assert fresh_library.citations_of("1") == {"cites": [2, 3], "cited_by": []}
    assert fresh_library.citations_of("2") == {"cites": [], "cited_by": [1]}


def test_preprint_and_published_version_are_proposed_not_merged(fresh_library, tmp_path):
    preprint = record("p", "Contrastive pre-training for scientific documents", arxiv_id="2301.01234", year=2023)
    published = record("q", "Contrastive Pre-Training for Scientific Documents", doi="10.5555/cpt.2023", year=2023)
    run(fresh_library, tmp_path, [preprint, published])
    assert fresh_library.count_papers() == 2
    [proposal] = fresh_library.duplicate_proposals()
    assert (proposal["paper_a"], proposal["paper_b"]) == (1, 2)
    assert "preprint" in proposal["reason"]
    fresh_library.resolve_duplicate(1, 2, same_work=True)
    assert fresh_library.duplicate_proposals() == []
