"""Training pairs for the shipped default model, built only from the open data in ``../shared/data``.

    python -m scimult_train.data build-default-data --out build/default-minilm-data

Writes ``search.jsonl``, ``link.jsonl``, ``classify.jsonl`` (training), ``eval_*.jsonl``
(a 5% held-out slice of the same sources, by hashed query key, for choosing
hyper-parameters) and ``stats.json`` (counts per source and what was held out).

Sources per task (query -> positive; hard negatives):

- search: SciFact *train* claims -> cited abstracts (``qrels/train.tsv`` only; BM25 top-ranked
  non-relevant abstracts); ACM records, title -> abstract (BM25 top-ranked other abstracts);
  S2ORC and unarXive-2022 papers, title -> abstract.
- link, in the app's own format (the text a writer types -> the cited paper as the app embeds it,
  ``title [SEP] abstract``, or ``title [SEP]`` when the title is all there is): unarXive citation
  contexts (2022 sample: paragraph around a ``{{cite:}}`` span; 2019 paper-centred sample: the
  extended contexts) -> the cited paper, whose title is read from the reference string
  (`reference_title`) and whose abstract is added when that title names a paper of the shared
  data (ACM records outside the hold-outs, S2ORC, unarXive: `CitedPapers`), with other cited
  papers of the same citing paper as hard negatives; S2ORC's cite spans (the full-text parse)
  -> the cited paper; unarXive-2022 citing paper -> each cited paper; ACM records, one abstract
  sentence -> the rest of the paper (inverse cloze, the way a citing sentence describes a paper).
  References whose string holds no recognisable title are left out (a bibliography string is
  not what the app ranks).
- classify: S2ORC papers -> their MAG fields (label texts from ``resources/labels/mag_fields.json``,
  other fields as negatives); ACM records -> author keywords (keywords on >= 3 papers;
  co-occurring keywords the paper lacks as hard negatives) and -> venue; unarXive-2022 papers ->
  arXiv categories (``resources/labels/arxiv_categories.json``).

Unseen label sets (``unseen_label_sets``, e.g. ``("mag_fields", "arxiv_categories")``): those
classify sources are left out of training entirely and written as ``unseen_<set>.jsonl``
instead, every paper -> its label written once as the app writes it (``label_text``), so the
loop can measure zero-shot classification on a label set the model never trained on.

Held out from everything, because ``benchmarks/eval_quality.py`` evaluates on them:
SciFact test (``qrels/test.tsv`` is read only for its query ids, to drop the two train claims
whose text repeats a test claim); every S2ORC paper eval_quality classifies (abstract
and exactly one MAG field: `mag_eval_paper_ids`); every DOI in the ACM-CR topics/qrels
material (cited DOIs of both qrels files, the blacklist, the 50 citing papers and their
reference lists), which is read only to leave those records out. ACM-CR contexts are never used.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scimult_train.data.bm25 import BM25
from scimult_train.data.examples import Example, write_examples
from scimult_train.data.jsonstream import iter_jsonl
from scimult_train.data.texts import SEP, clean, label_text, paper_text

TASKS = ("search", "link", "classify")
HELDOUT_BUCKETS = 20  # 1 in 20 query keys goes to the eval slice
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_UNARXIVE_MARKUP = re.compile(r"\{\{(formula|figure|table|float):[^}]*\}\}")
_UNARXIVE_CITE = re.compile(r"\{\{cite:([^}]*)\}\}")
_SELF_REFERENCE = re.compile(r"\b(this (paper|work|article|study)|we|our|us)\b", re.I)
_LATEX_BRACES = re.compile(r"[{}]|\\[a-zA-Z]+\s?|\\.")
_ORDINAL_PROCEEDINGS = re.compile(r"^(proceedings of the )?(\d+(st|nd|rd|th)\s+)?(annual\s+)?", re.I)
# Reference strings: a quoted title (IEEE/APS style), or the segment after the authors
# ("A. Author and B. Author. Title. Venue, 2020."): segments end at a period after two
# lower-case letters/digits, so authors' initials do not end one.
_QUOTED_TITLE = re.compile(r"[\"“”‘’']{1,2}([^\"“”]{15,250}?)[,.]?[\"“”’']{1,2}")
_REFERENCE_SEGMENT_END = re.compile(r"(?<=[a-z0-9)\]]{2})\.\s+|(?<=\?)\s+")
_NOT_A_TITLE = re.compile(r"^(in\b|proc|journal|arxiv|phys\.|ieee|acm|vol\b|pp\b|springer|preprint|j\.|trans\.|ann\.|adv\.|lecture)", re.I)
_NUMBERS_OF_A_VENUE = re.compile(r"\d{4}|\d+\(\d+\)|:\d")
_TITLE_KEY = re.compile(r"[^a-z0-9]+")


def project_root() -> Path:
    return Path(__file__).resolve().parents[3]


def default_data_root() -> Path:
    return project_root().parent / "shared" / "data"


@dataclass
class BuildStats:
    sources: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    held_out: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"sources": {task: dict(c) for task, c in self.sources.items()}, "held_out": self.held_out}


# ---- evaluation hold-outs -------------------------------------------------------------


def mag_eval_paper_ids(metadata: Path) -> set[str]:
    """S2ORC papers that benchmarks/eval_quality.py classifies: abstract and exactly one MAG field."""
    held = set()
    for _, row in iter_jsonl(metadata):
        if row.get("abstract") and row.get("mag_field_of_study") and len(row["mag_field_of_study"]) == 1:
            held.add(str(row["paper_id"]))
    return held


def acm_cr_evaluation_dois(topics_qrels: Path) -> set[str]:
    """Every DOI the ACM-CR evaluation material names (lower-cased): cited, blacklisted, citing, referenced."""
    dois: set[str] = set()
    for name in ("contexts.qrels", "sentences.qrels"):
        for line in (topics_qrels / name).read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 4:
                dois.add(parts[2].lower())
    dois |= {line.strip().lower() for line in (topics_qrels / "blacklist.txt").read_text(encoding="utf-8").splitlines() if line.strip()}
    for path in (topics_qrels / "papers").glob("*/*"):
        if path.suffix == ".xml":
            dois.add(f"10.1145/{path.stem}".lower())
        elif path.suffix == ".dois":
            dois |= {line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return dois


# ---- small helpers -------------------------------------------------------------------


def heldout(key: str) -> bool:
    """Whether a query key belongs to the 5% evaluation slice (stable across runs and machines)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % HELDOUT_BUCKETS == 0


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _latex_plain(text: str) -> str:
    return clean(_LATEX_BRACES.sub("", text or ""))


def label_variants(name: str, description: str | None) -> list[str]:
    """The ways the app writes a label (services/finding/classifying.py, label_sets.label_text): train on all of them."""
    variants = [name, f"A research paper in {name}."]
    if description:
        variants += [f"{name}: {description}", f"{name}{SEP}{description}"]
    return variants


def _label_set(path: Path) -> dict[str, tuple[str, str | None]]:
    """name (as used in data) -> (display name, description) from one of the app's label-set files."""
    labels = {}
    for label in json.loads(path.read_text(encoding="utf-8"))["labels"]:
        labels[label["name"].lower()] = (label.get("title") or label["name"], label.get("description"))
    return labels


# ---- readers of the shared data --------------------------------------------------------


@dataclass
class AcmRecord:
    doi: str
    title: str
    abstract: str
    keywords: list[str]
    venue: str


def read_acm_records(collection: Path, exclude_dois: set[str]) -> list[AcmRecord]:
    """ACM records with title and abstract, one per distinct title, leaving out `exclude_dois`."""
    import bibtexparser

    records, seen = [], set()
    for path in sorted(collection.rglob("*.bib")):
        for entry in bibtexparser.parse_file(str(path)).entries:
            fields = {f.key.lower(): str(f.value) for f in entry.fields}
            doi = fields.get("doi", entry.key).strip().lower()
            title, abstract = _latex_plain(fields.get("title", "")), _latex_plain(fields.get("abstract", ""))
            key = title.lower()
            if not title or len(abstract) < 200 or doi in exclude_dois or key in seen:
                continue
            seen.add(key)
            keywords = [clean(k).lower() for k in fields.get("keywords", "").split(",") if clean(k)]
            venue = _ORDINAL_PROCEEDINGS.sub("", _latex_plain(fields.get("booktitle") or fields.get("journal", "")))
            records.append(AcmRecord(doi, title, abstract, keywords, venue))
    return records


# ---- search ------------------------------------------------------------------------------


def scifact_train_examples(root: Path, rng: random.Random, repeats: int = 2, negatives: int = 2) -> Iterator[Example]:
    corpus = {str(d["_id"]): paper_text(d["title"], d["text"]) for _, d in iter_jsonl(root / "corpus.jsonl")}
    claims = {str(q["_id"]): clean(q["text"]) for _, q in iter_jsonl(root / "queries.jsonl")}
    relevant: dict[str, set[str]] = defaultdict(set)
    with (root / "qrels" / "train.tsv").open(encoding="utf-8") as handle:  # relevance from the train split only
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant[row["query-id"]].add(row["corpus-id"])
    # Two train claims repeat a test claim word for word: only the test split's query ids are read, to drop them.
    with (root / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        test_claims = {claims[row["query-id"]] for row in csv.DictReader(handle, delimiter="\t")}
    relevant = {qid: docs for qid, docs in relevant.items() if claims[qid] not in test_claims}
    doc_ids = list(corpus)
    index = BM25([corpus[d] for d in doc_ids])
    position = {d: i for i, d in enumerate(doc_ids)}
    for qid, docs in relevant.items():
        exclude = {position[d] for d in docs if d in position}
        pool = [doc_ids[i] for i in index.top(claims[qid], 10, exclude)]
        for doc in sorted(docs):
            if doc not in corpus:
                continue
            for r in range(repeats):
                picked = rng.sample(pool, min(negatives, len(pool))) if r else pool[:negatives]
                yield Example("search", claims[qid], corpus[doc], tuple(corpus[p] for p in picked), f"scifact:{doc}")


def acm_title_examples(records: list[AcmRecord], rng: random.Random, limit: int, negatives: int = 2) -> Iterator[Example]:
    index = BM25([r.abstract for r in records])
    for i in rng.sample(range(len(records)), min(limit, len(records))):
        pool = index.top(records[i].title, 8, {i})
        picked = rng.sample(pool, min(negatives, len(pool)))
        yield Example("search", records[i].title, records[i].abstract, tuple(records[p].abstract for p in picked), f"doi:{records[i].doi}")


def title_abstract_examples(papers: Iterable[tuple[str, str, str]]) -> Iterator[Example]:
    for key, title, abstract in papers:
        if title and abstract:
            yield Example("search", title, abstract, (), key)


# ---- link ----------------------------------------------------------------------------------


def _marked_context(paragraph: str, target_ref: str, window: int = 1) -> str | None:
    """The sentence citing `target_ref` with `window` sentences each side, markers as [n], markup dropped."""
    numbers: dict[str, int] = {}

    def marker(match: re.Match) -> str:
        ref = match.group(1)
        numbers.setdefault(ref, len(numbers) + 1)
        return f"[{numbers[ref]}]" if ref != target_ref else "\x00"

    text = _UNARXIVE_CITE.sub(marker, _UNARXIVE_MARKUP.sub("", paragraph))
    parts = sentences(clean(text))
    for i, sentence in enumerate(parts):
        if "\x00" in sentence:
            target = numbers.setdefault(target_ref, len(numbers) + 1)
            context = " ".join(parts[max(0, i - window) : i + window + 1])
            return clean(context.replace("\x00", f"[{target}]"))
    return None


def reference_title(reference: str) -> str | None:
    """The cited paper's title inside a bibliography string, or None when none is recognisable."""
    text = clean((reference or "").replace("¦", ""))
    quoted = _QUOTED_TITLE.search(text)
    if quoted and len(quoted.group(1).split()) >= 3:
        return quoted.group(1).strip(" ,.")
    segments = [part.strip() for part in _REFERENCE_SEGMENT_END.split(text) if part and part.strip()]
    if len(segments) < 3:  # authors, title, venue: fewer is a bare "Phys. Rev. Lett. 70, 1895" string
        return None
    title = segments[1].strip(" ,.")
    words = title.split()
    if not 3 <= len(words) <= 40 or _NOT_A_TITLE.match(title) or _NUMBERS_OF_A_VENUE.search(title):
        return None
    if sum(len(w) <= 3 and w.endswith(".") and w[:1].isupper() for w in words) > 1:  # still author initials
        return None
    return title


def title_key(title: str) -> str:
    return _TITLE_KEY.sub(" ", (title or "").lower()).strip()


class CitedPapers:
    """Cited papers as the app embeds them: ``title [SEP] abstract`` when the title names a paper
    of the shared data with an abstract, else ``title [SEP]`` (what the app embeds for such a record)."""

    def __init__(self, papers: Iterable[tuple[str, str]] = ()):
        self.abstracts: dict[str, str] = {}
        self.matched = 0
        self.add(papers)

    def add(self, papers: Iterable[tuple[str, str]]) -> None:
        for title, abstract in papers:
            if title and abstract:
                self.abstracts.setdefault(title_key(title), abstract)

    def text(self, title: str) -> str:
        abstract = self.abstracts.get(title_key(title))
        self.matched += bool(abstract)
        return paper_text(title, abstract)


def _context_examples(contexts: Iterable[tuple[str, str, list[str]]], cited: CitedPapers, rng: random.Random,
                      negatives: int) -> list[Example]:
    """(context, cited title, other titles of the citing paper) -> link examples in the app's format."""
    examples = []
    for context, title, others in contexts:
        pool = [t for t in others if title_key(t) != title_key(title)]
        picked = rng.sample(pool, min(negatives, len(pool)))
        examples.append(Example("link", context, cited.text(title), tuple(cited.text(t) for t in picked), f"title:{title_key(title)[:80]}"))
    return examples


def unarxive_2022(path: Path, cited: CitedPapers, rng: random.Random, negatives: int = 2) -> tuple[list[Example], list[Example], list[tuple]]:
    """(context -> cited paper, citing paper -> cited paper) link examples and (key, title, abstract, categories) papers.

    Reads the file twice: the papers first (their titles and abstracts join `cited`), then the contexts.
    """
    papers = []
    for _, paper in iter_jsonl(path):
        meta = paper.get("metadata", {})
        abstract = paper.get("abstract", {}).get("text") if isinstance(paper.get("abstract"), dict) else meta.get("abstract")
        papers.append((f"arxiv:{meta.get('id')}", clean(meta.get("title")), clean(abstract), meta.get("categories", "")))
    cited.add((p[1], p[2]) for p in papers)
    contexts, paper_links = [], []
    for (_, paper), (_, title, abstract, _) in zip(iter_jsonl(path), papers):
        titles = {ref: reference_title(entry.get("bib_entry_raw", "")) for ref, entry in paper.get("bib_entries", {}).items()}
        titles = {ref: t for ref, t in titles.items() if t}
        rows = []
        for paragraph in paper.get("body_text", []):
            spans = {span.get("ref_id") for span in paragraph.get("cite_spans", [])}
            for ref in sorted(r for r in spans if r in titles):
                context = _marked_context(paragraph.get("text", ""), ref)
                if context and len(context) >= 40:
                    rows.append((context, titles[ref], [t for r, t in sorted(titles.items()) if r not in spans]))
        contexts += _context_examples(rows, cited, rng, negatives)
        if title and abstract:
            for ref in rng.sample(sorted(titles), min(30, len(titles))):
                paper_links.append(Example("link", paper_text(title, abstract), cited.text(titles[ref]), (), f"title:{title_key(titles[ref])[:80]}"))
    return contexts, paper_links, papers


def unarxive_2019(root: Path, cited: CitedPapers, rng: random.Random, negatives: int = 2) -> list[Example]:
    """Paper-centred 2019 sample: extended contexts -> the cited paper (title from the citing paper's bibitem)."""
    db = sqlite3.connect(f"file:{root / 'papers' / 'refs.db'}?mode=ro", uri=True)
    titles: dict[str, dict[str, str]] = defaultdict(dict)
    for citing, cited_id, text in db.execute("SELECT citing_arxiv_id, cited_mag_id, bibitem_string FROM bibitem WHERE cited_mag_id IS NOT NULL"):
        title = reference_title(text or "")
        if title:
            titles[citing][cited_id] = title
    db.close()
    rows = []
    with (root / "contexts" / "citation_contexts_extended.csv").open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\u241e")
            if len(fields) != 7:
                continue
            cited_id, citing, context = fields[0], fields[5], fields[6]
            title = titles.get(citing, {}).get(cited_id)
            if not title:
                continue
            numbers = iter(range(2, 1000))
            context = context.replace("MAINCIT", "[1]")
            context = re.sub(r"\bCIT\b", lambda _: f"[{next(numbers)}]", context)
            context = clean(context.replace("FORMULA", ""))
            rows.append((context, title, [t for mag, t in titles[citing].items() if mag != cited_id]))
    return _context_examples(rows, cited, rng, negatives)


def s2orc_cite_spans(parse: Path, cited: CitedPapers, rng: random.Random, negatives: int = 2) -> list[Example]:
    """S2ORC full-text parse: the sentence around each cite span (one each side) -> the cited paper's title."""
    paper = json.loads(parse.read_text(encoding="utf-8"))
    rows = []
    for layout in ("grobid_parse", "latex_parse"):
        parse_part = paper.get(layout) or {}
        entries = parse_part.get("bib_entries") or {}
        titles = {ref: clean(entry.get("title")) for ref, entry in entries.items() if len(clean(entry.get("title")).split()) >= 3}
        for paragraph in parse_part.get("body_text") or []:
            text = paragraph.get("text", "")
            spans = [s for s in paragraph.get("cite_spans", []) if s.get("ref_id") in titles]
            cited_here = {s["ref_id"] for s in spans}
            for span in spans:
                marked = text[: span["start"]] + "\x00" + text[span["end"] :]
                parts = sentences(clean(marked))
                for i, sentence in enumerate(parts):
                    if "\x00" in sentence:
                        context = clean(" ".join(parts[max(0, i - 1) : i + 2]).replace("\x00", text[span["start"] : span["end"]]))
                        others = [t for r, t in sorted(titles.items()) if r not in cited_here]
                        rows.append((context, titles[span["ref_id"]], others))
                        break
    return _context_examples(rows, cited, rng, negatives)


def acm_inverse_cloze(records: list[AcmRecord], rng: random.Random, limit: int) -> Iterator[Example]:
    """One abstract sentence -> the paper without it (how a citing sentence describes the cited work)."""
    candidates = [r for r in records if len(sentences(r.abstract)) >= 4]
    for record in rng.sample(candidates, min(limit, len(candidates))):
        parts = sentences(record.abstract)
        # Sentences that say something about the work, not "In this paper, we ...".
        usable = [i for i, s in enumerate(parts) if len(s) >= 60 and not _SELF_REFERENCE.search(s)]
        if not usable:
            continue
        i = rng.choice(usable)
        rest = " ".join(parts[:i] + parts[i + 1 :])
        yield Example("link", parts[i], paper_text(record.title, rest), (), f"doi:{record.doi}")


# ---- classify ------------------------------------------------------------------------------


def mag_examples(metadata: Path, labels: dict, held: set[str], rng: random.Random, negatives: int = 3) -> Iterator[Example]:
    names = sorted(labels)
    for _, row in iter_jsonl(metadata):
        fields = [f.lower() for f in row.get("mag_field_of_study") or [] if f.lower() in labels]
        if not fields or str(row["paper_id"]) in held:
            continue
        query = paper_text(row.get("title"), row.get("abstract"))
        for gold in fields:
            others = [n for n in names if n not in fields]
            picked = rng.sample(others, min(negatives, len(others)))
            yield Example(
                "classify", query, rng.choice(label_variants(*labels[gold])),
                tuple(rng.choice(label_variants(*labels[p])) for p in picked), f"mag:{gold}",
            )


def acm_keyword_examples(records: list[AcmRecord], rng: random.Random, limit: int, min_papers: int = 3, negatives: int = 2) -> Iterator[Example]:
    frequency = Counter(k for r in records for k in set(r.keywords))
    usable = {k for k, n in frequency.items() if n >= min_papers}
    cooccur: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        kws = [k for k in set(r.keywords) if k in usable]
        for k in kws:
            cooccur[k].update(o for o in kws if o != k)
    with_keywords = [r for r in records if any(k in usable for k in r.keywords)]
    for record in rng.sample(with_keywords, min(limit, len(with_keywords))):
        own = set(record.keywords)
        gold = rng.choice([k for k in record.keywords if k in usable])
        pool = [k for k, _ in cooccur[gold].most_common(10) if k not in own]
        picked = rng.sample(pool, min(negatives, len(pool)))
        yield Example(
            "classify", paper_text(record.title, record.abstract), rng.choice(label_variants(gold, None)),
            tuple(rng.choice(label_variants(p, None)) for p in picked), f"keyword:{gold}",
        )


def acm_venue_examples(records: list[AcmRecord], rng: random.Random, limit: int, negatives: int = 2) -> Iterator[Example]:
    frequency = Counter(r.venue for r in records if r.venue)
    venues = [v for v, n in frequency.items() if n >= 20]
    usable = [r for r in records if r.venue in venues]
    for record in rng.sample(usable, min(limit, len(usable))):
        others = [v for v in venues if v != record.venue]
        picked = rng.sample(others, min(negatives, len(others)))
        yield Example("classify", paper_text(record.title, record.abstract), record.venue, tuple(picked), f"venue:{record.venue}")


def arxiv_category_examples(papers: list[tuple], labels: dict, rng: random.Random, negatives: int = 3) -> Iterator[Example]:
    codes = sorted(labels)
    for key, title, abstract, categories in papers:
        for code in dict.fromkeys(c.lower() for c in categories.split()):
            if code not in labels:
                continue
            others = [c for c in codes if c.split(".")[0] != code.split(".")[0]]
            picked = rng.sample(others, min(negatives, len(others)))
            yield Example(
                "classify", paper_text(title, abstract), rng.choice(label_variants(*labels[code])),
                tuple(rng.choice(label_variants(*labels[p])) for p in picked), f"arxiv:{code}",
            )


# ---- the build -------------------------------------------------------------------------------


# The classify sources by label set: the name `unseen_label_sets` uses, the source's name in stats.json.
LABEL_SET_SOURCES = {
    "mag_fields": "s2orc_mag_fields",
    "acm_keywords": "acm_keywords",
    "acm_venues": "acm_venues",
    "arxiv_categories": "unarxive_arxiv_categories",
}


def unseen_examples(examples: Iterable[Example], label_texts: dict[str, str]) -> list[Example]:
    """Zero-shot evaluation pairs of a label set left out of training: each paper once, with its
    first label written one way (`label_texts`: positive_id -> text), no hard negatives."""
    seen, out = set(), []
    for example in examples:
        if example.query in seen or example.positive_id not in label_texts:
            continue
        seen.add(example.query)
        out.append(Example("classify", example.query, label_texts[example.positive_id], (), example.positive_id))
    return out


def build_default_data(out: Path, data_root: Path | None = None, *, seed: int = 13, acm_search: int = 4000,
                       acm_cloze: int = 3000, acm_keywords: int = 5000, acm_venues: int = 600,
                       unseen_label_sets: Iterable[str] = ()) -> BuildStats:
    """Write the default model's training and held-out JSONL files to `out`; returns the counts.

    Label sets in `unseen_label_sets` (keys of LABEL_SET_SOURCES) are not trained on; they are
    written as ``unseen_<set>.jsonl`` for zero-shot evaluation.
    """
    unseen = tuple(unseen_label_sets)
    unknown = [name for name in unseen if name not in LABEL_SET_SOURCES]
    if unknown:
        raise ValueError(f"unknown label set(s) {unknown}; known: {sorted(LABEL_SET_SOURCES)}")
    data = Path(data_root) if data_root else default_data_root()
    rng = random.Random(seed)
    stats = BuildStats()
    acm_excluded = acm_cr_evaluation_dois(data / "acm_cr" / "topics+qrels")
    mag_held = mag_eval_paper_ids(data / "s2orc_sample" / "metadata_sample.jsonl")
    stats.held_out = {"acm_cr_evaluation_dois": len(acm_excluded), "s2orc_eval_papers": len(mag_held)}
    records = read_acm_records(data / "acm_cr" / "collection_bib", acm_excluded)
    labels_dir = project_root() / "resources" / "labels"
    mag_labels, arxiv_labels = _label_set(labels_dir / "mag_fields.json"), _label_set(labels_dir / "arxiv_categories.json")
    s2orc_papers = [
        (f"s2:{row['paper_id']}", clean(row.get("title")), clean(row.get("abstract")))
        for _, row in iter_jsonl(data / "s2orc_sample" / "metadata_sample.jsonl")
        if str(row["paper_id"]) not in mag_held
    ]
    # Cited papers get their abstract when the shared data has it (ACM-CR evaluation records are
    # already out of `records`; the benchmark's S2ORC papers are out of `s2orc_papers`).
    cited = CitedPapers([(r.title, r.abstract) for r in records] + [(t, a) for _, t, a in s2orc_papers])
    contexts22, paper_links22, papers22 = unarxive_2022(data / "unarxive_samples" / "2022_open_subset_sample" / "arXiv_src_2212_086.jsonl", cited, rng)
    sources: dict[str, dict[str, Iterable[Example]]] = {
        "search": {
            "scifact_train": scifact_train_examples(data / "scifact", rng),
            "acm_title_abstract": acm_title_examples(records, rng, acm_search),
            "s2orc_title_abstract": title_abstract_examples(s2orc_papers),
            "unarxive_title_abstract": title_abstract_examples(p[:3] for p in papers22),
        },
        "link": {
            "unarxive2022_context_cited": contexts22,
            "unarxive2019_context_cited": unarxive_2019(data / "unarxive_samples" / "2019_sample" / "paper_centered_sample", cited, rng),
            "s2orc_cite_spans": s2orc_cite_spans(data / "s2orc_sample" / "example_pdf_parse_paper.json", cited, rng),
            "unarxive2022_paper_cited": paper_links22,
            "acm_inverse_cloze": acm_inverse_cloze(records, rng, acm_cloze),
        },
        "classify": {
            "s2orc_mag_fields": mag_examples(data / "s2orc_sample" / "metadata_sample.jsonl", mag_labels, mag_held, rng),
            "acm_keywords": acm_keyword_examples(records, rng, acm_keywords),
            "acm_venues": acm_venue_examples(records, rng, acm_venues),
            "unarxive_arxiv_categories": arxiv_category_examples(papers22, arxiv_labels, rng),
        },
    }
    canonical = {  # positive_id -> the label written once, as the app writes a label
        **{f"mag:{k}": label_text(*v) for k, v in mag_labels.items()},
        **{f"arxiv:{k}": label_text(*v) for k, v in arxiv_labels.items()},
        **{f"keyword:{k}": k for r in records for k in r.keywords},
        **{f"venue:{r.venue}": r.venue for r in records if r.venue},
    }
    out.mkdir(parents=True, exist_ok=True)
    for task, by_source in sources.items():
        train, held = [], []
        for source, examples in by_source.items():
            label_set = next((name for name, src in LABEL_SET_SOURCES.items() if src == source), None)
            if task == "classify" and label_set in unseen:
                zero_shot = unseen_examples(examples, canonical)
                write_examples(out / f"unseen_{label_set}.jsonl", zero_shot)
                stats.sources[task][f"{source}/unseen"] += len(zero_shot)
                continue
            for example in examples:
                split = "eval" if heldout(example.query) else "train"
                (held if split == "eval" else train).append(example)
                stats.sources[task][f"{source}/{split}"] += 1
                if task == "link" and split == "train" and not example.positive.endswith(SEP.strip()):
                    stats.sources[task][f"{source}/train_with_abstract"] += 1
        rng.shuffle(train)
        rng.shuffle(held)
        write_examples(out / f"{task}.jsonl", train)
        write_examples(out / f"eval_{task}.jsonl", held)
    (out / "stats.json").write_text(json.dumps(stats.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return stats
