"""A small library whose PDF-like records cite each other, for citation-context tests (no PDF files needed)."""

from __future__ import annotations

from scimult_desktop.domain.records import ImportedRecord, PageText, Paper, Reference
from scimult_desktop.services.library import importing
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore

CITED = [
    Paper(title="Dense passage retrieval for open-domain question answering", authors=["Karpukhin, Vladimir"], year=2020,
          abstract="Dense representations of passages learned with a dual encoder outperform BM25 for open-domain QA.",
          doi="10.18653/v1/2020.emnlp-main.550"),
    Paper(title="BERT: pre-training of deep bidirectional transformers for language understanding", authors=["Devlin, Jacob"],
          year=2019, abstract="We introduce BERT, a language representation model pre-trained on unlabeled text.",
          doi="10.18653/v1/n19-1423"),
]

REFERENCES = [
    Reference(raw="[1] J. Devlin, M. Chang, K. Lee, and K. Toutanova. BERT: pre-training of deep bidirectional "
                  "transformers for language understanding. In NAACL, 2019. doi:10.18653/v1/N19-1423",
              doi="10.18653/v1/n19-1423", year=2019),
    Reference(raw="[2] V. Karpukhin et al. Dense passage retrieval for open-domain question answering. In EMNLP, 2020. "
                  "doi:10.18653/v1/2020.emnlp-main.550", doi="10.18653/v1/2020.emnlp-main.550", year=2020),
    Reference(raw="[3] S. Robertson and H. Zaragoza. The probabilistic relevance framework: BM25 and beyond. 2009.", year=2009),
]

PAGES = [
    PageText(1, "Neural rankers for everyone\n1 Introduction\n"
                "Pre-trained language models such as BERT [1] changed ranking. Dual encoders re-\n"
                "trieve passages far better than sparse retrieval [2, 3] on open-domain questions.\n"),
    PageText(2, "2 Method\nWe fine-tune the dual encoder of Karpukhin et al. [2] on our logs.\n"
                "References\n" + "\n".join(r.raw for r in REFERENCES) + "\n"),
]


def citing_record(source_key: str = "citing.pdf", title: str = "Neural rankers for everyone", year: int = 2021) -> ImportedRecord:
    paper = Paper(title=title, authors=["Doe, Jane"], year=year, abstract="We study neural rankers.", source="pdf")
    return ImportedRecord(paper=paper, source_kind="pdf", source_path=f"/papers/{source_key}", source_key=source_key,
                          pages=list(PAGES), references=list(REFERENCES), full_text="\n".join(p.text for p in PAGES))


def build(library, citing: int = 1) -> dict[str, int]:
    """Store the cited papers, then `citing` citing records, as an import would; returns their ids."""
    papers, sources = PaperStore(library.database), SourceStore(library.database)
    ids = {}
    for i, paper in enumerate(CITED):
        record = ImportedRecord(paper=paper, source_kind="bibtex", source_path="/refs.bib", source_key=f"k{i}")
        importing.store_record(papers, sources, record)
        ids[paper.doi] = record.paper.id
    for n in range(citing):
        record = citing_record(f"citing{n}.pdf", title=f"Neural rankers for everyone, part {n + 1}")
        importing.store_record(papers, sources, record)
        ids[f"citing{n}"] = record.paper.id
    from scimult_desktop.store import links

    links.match_references(library.database)
    return ids
