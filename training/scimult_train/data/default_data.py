"""Training pairs for the shipped default model, built only from the open data in ``../shared/data``.

    python -m scimult_train.data build-default-data --out build/default-minilm-data

Writes ``search.jsonl``, ``link.jsonl``, ``classify.jsonl`` (training), ``eval_*.jsonl``
(a 5% held-out slice of the same sources, by hashed query key, for choosing
hyper-parameters) and ``stats.json`` (counts per source and what was held out).

Sources per task (query -> positive; hard negatives):

- search: SciFact *train* claims -> cited abstracts (``qrels/train.tsv`` only; BM25 top-ranked
  non-relevant abstracts); ACM records, title -> abstract (BM25 top-ranked other abstracts);
  S2ORC and unarXive-2022 papers, title -> abstract.
- link: unarXive citation contexts -> the cited reference (2022 sample: paragraph around a
  ``{{cite:}}`` span -> its ``bib_entry_raw``; 2019 paper-centred sample: context -> the cited
  ``bibitem_string`` in ``refs.db``), with other references of the same citing paper as hard
  negatives; unarXive-2022 citing paper -> each reference; ACM records, one abstract sentence
  -> the rest of the paper (inverse cloze, the way a citing sentence describes a paper).
- classify: S2ORC papers -> their MAG fields (label texts from ``resources/labels/mag_fields.json``,
  other fields as negatives); ACM records -> author keywords (keywords on >= 3 papers;
  co-occurring keywords the paper lacks as hard negatives) and -> venue; unarXive-2022 papers ->
  arXiv categories (``resources/labels/arxiv_categories.json``).

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
from scimult_train.data.texts import SEP, clean, paper_text

TASKS = ("search", "link", "classify")
HELDOUT_BUCKETS = 20  # 1 in 20 query keys goes to the eval slice
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_UNARXIVE_MARKUP = re.compile(r"\{\{(formula|figure|table|float):[^}]*\}\}")
_UNARXIVE_CITE = re.compile(r"\{\{cite:([^}]*)\}\}")
_SELF_REFERENCE = re.compile(r"\b(this (paper|work|article|study)|we|our|us)\b", re.I)
_LATEX_BRACES = re.compile(r"[{}]|\\[a-zA-Z]+\s?|\\.")
_ORDINAL_PROCEEDINGS = re.compile(r"^(proceedings of the )?(\d+(st|nd|rd|th)\s+)?(annual\s+)?", re.I)


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


def unarxive_2022(path: Path, rng: random.Random, negatives: int = 2) -> tuple[list[Example], list[Example], list[tuple]]:
    """(context -> reference, paper -> reference) link examples and (key, title, abstract) papers."""
    contexts, paper_links, papers = [], [], []
    for _, paper in iter_jsonl(path):
        meta = paper.get("metadata", {})
        title, abstract = clean(meta.get("title")), clean(paper.get("abstract", {}).get("text") if isinstance(paper.get("abstract"), dict) else meta.get("abstract"))
        papers.append((f"arxiv:{meta.get('id')}", title, abstract, meta.get("categories", "")))
        references = {ref: clean(entry.get("bib_entry_raw", "").replace("¦", "")) for ref, entry in paper.get("bib_entries", {}).items()}
        references = {ref: text for ref, text in references.items() if len(text) > 20}
        ref_ids = sorted(references)
        for paragraph in paper.get("body_text", []):
            cited = {span.get("ref_id") for span in paragraph.get("cite_spans", [])}
            for ref in sorted(r for r in cited if r in references):
                context = _marked_context(paragraph.get("text", ""), ref)
                if not context or len(context) < 40:
                    continue
                pool = [r for r in ref_ids if r not in cited]
                picked = rng.sample(pool, min(negatives, len(pool)))
                contexts.append(Example("link", context, references[ref], tuple(references[p] for p in picked), f"ref:{references[ref][:80]}"))
        if title and abstract:
            for ref in rng.sample(ref_ids, min(30, len(ref_ids))):
                paper_links.append(Example("link", paper_text(title, abstract), references[ref], (), f"ref:{references[ref][:80]}"))
    return contexts, paper_links, papers


def unarxive_2019(root: Path, rng: random.Random, negatives: int = 2) -> list[Example]:
    """Paper-centred 2019 sample: extended contexts -> the cited bibitem string of the citing paper."""
    db = sqlite3.connect(f"file:{root / 'papers' / 'refs.db'}?mode=ro", uri=True)
    bibitems: dict[str, dict[str, str]] = defaultdict(dict)
    for citing, cited, text in db.execute("SELECT citing_arxiv_id, cited_mag_id, bibitem_string FROM bibitem WHERE cited_mag_id IS NOT NULL"):
        text = clean((text or "").replace("¦", ""))
        if len(text) > 20:
            bibitems[citing][cited] = text
    db.close()
    examples = []
    with (root / "contexts" / "citation_contexts_extended.csv").open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\u241e")
            if len(fields) != 7:
                continue
            cited, citing, context = fields[0], fields[5], fields[6]
            reference = bibitems.get(citing, {}).get(cited)
            if not reference:
                continue
            numbers = iter(range(2, 1000))
            context = context.replace("MAINCIT", "[1]")
            context = re.sub(r"\bCIT\b", lambda _: f"[{next(numbers)}]", context)
            context = clean(context.replace("FORMULA", ""))
            pool = [text for mag, text in bibitems[citing].items() if mag != cited]
            picked = rng.sample(pool, min(negatives, len(pool)))
            examples.append(Example("link", context, reference, tuple(picked), f"ref:{reference[:80]}"))
    return examples


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


def build_default_data(out: Path, data_root: Path | None = None, *, seed: int = 13, acm_search: int = 4000,
                       acm_cloze: int = 3000, acm_keywords: int = 5000, acm_venues: int = 600) -> BuildStats:
    """Write the default model's training and held-out JSONL files to `out`; returns the counts."""
    data = Path(data_root) if data_root else default_data_root()
    rng = random.Random(seed)
    stats = BuildStats()
    acm_excluded = acm_cr_evaluation_dois(data / "acm_cr" / "topics+qrels")
    mag_held = mag_eval_paper_ids(data / "s2orc_sample" / "metadata_sample.jsonl")
    stats.held_out = {"acm_cr_evaluation_dois": len(acm_excluded), "s2orc_eval_papers": len(mag_held)}
    records = read_acm_records(data / "acm_cr" / "collection_bib", acm_excluded)
    labels_dir = project_root() / "resources" / "labels"
    mag_labels, arxiv_labels = _label_set(labels_dir / "mag_fields.json"), _label_set(labels_dir / "arxiv_categories.json")
    contexts22, paper_links22, papers22 = unarxive_2022(data / "unarxive_samples" / "2022_open_subset_sample" / "arXiv_src_2212_086.jsonl", rng)
    s2orc_papers = [
        (f"s2:{row['paper_id']}", clean(row.get("title")), clean(row.get("abstract")))
        for _, row in iter_jsonl(data / "s2orc_sample" / "metadata_sample.jsonl")
        if str(row["paper_id"]) not in mag_held
    ]
    sources: dict[str, dict[str, Iterable[Example]]] = {
        "search": {
            "scifact_train": scifact_train_examples(data / "scifact", rng),
            "acm_title_abstract": acm_title_examples(records, rng, acm_search),
            "s2orc_title_abstract": title_abstract_examples(s2orc_papers),
            "unarxive_title_abstract": title_abstract_examples(p[:3] for p in papers22),
        },
        "link": {
            "unarxive2022_context_reference": contexts22,
            "unarxive2019_context_reference": unarxive_2019(data / "unarxive_samples" / "2019_sample" / "paper_centered_sample", rng),
            "unarxive2022_paper_reference": paper_links22,
            "acm_inverse_cloze": acm_inverse_cloze(records, rng, acm_cloze),
        },
        "classify": {
            "s2orc_mag_fields": mag_examples(data / "s2orc_sample" / "metadata_sample.jsonl", mag_labels, mag_held, rng),
            "acm_keywords": acm_keyword_examples(records, rng, acm_keywords),
            "acm_venues": acm_venue_examples(records, rng, acm_venues),
            "unarxive_arxiv_categories": arxiv_category_examples(papers22, arxiv_labels, rng),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    for task, by_source in sources.items():
        train, held = [], []
        for source, examples in by_source.items():
            for example in examples:
                split = "eval" if heldout(example.query) else "train"
                (held if split == "eval" else train).append(example)
                stats.sources[task][f"{source}/{split}"] += 1
        rng.shuffle(train)
        rng.shuffle(held)
        write_examples(out / f"{task}.jsonl", train)
        write_examples(out / f"eval_{task}.jsonl", held)
    (out / "stats.json").write_text(json.dumps(stats.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return stats
