"""Citation contexts: precision/recall of marker detection and of reference linking, on real text.

Two ground truths, both from ../shared/data:

1. **ACM-CR** (`acm_cr/topics+qrels/papers/*/*.xml`): 25 citing papers whose citation
   paragraphs were extracted by hand, each sentence with the reference numbers it cites
   (`cites="5,9,10"`) and the markers as printed ("[5, 9, 10]"). The paragraphs are given
   to the finder as page text, the curated reference lists (`*.dois`) as references. Scored
   per (sentence, reference number): a prediction is a context whose sentence is the
   annotated one (or holds it, or is held by it) and whose linked reference has that number.
   This is the numeric ACM style only, on clean text (no PDF layout).
2. **Hand-marked PDFs** (`pdf_corpus/`): every citation marker on the pages listed in
   `HAND_MARKED`, read off the extracted text by hand, with the reference each one names;
   two numeric papers (OSDI, IEEE) and two author-year ones (ACL, EMNLP). These go
   through the app's PDF import (`read_pdf`: layout, reference parsing) and the finder.
   Marker detection is scored per marker (same page, same text), linking per (marker,
   reference): a link is right when the linked entry is the one the marker names (its
   "[n]" label, or its first author and year).

Baseline in the same run: a bare "[digits]" regex (the simplest numeric finder), scored
the same way, so the figures read as a difference against it.

    python benchmarks/eval_citation_contexts.py
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

# (file under pdf_corpus, pages checked, [(page, marker as extracted, [cited keys])]); a key is a
# reference label number or "Surname year".
HAND_MARKED = [
    ("science-parse/map-reduce.pdf", range(1, 13), [
        (3, "[4]", [4]), (3, "[8]", [8]), (5, "[8]", [8]), (8, "[10]", [10]), (9, "[18]", [18]), (9, "[14]", [14]),
        (11, "[6, 9, 13]", [6, 9, 13]), (11, "[17]", [17]), (11, "[11]", [11]), (11, "[12, 15]", [12, 15]),
        (11, "[3]", [3]), (11, "[16]", [16]), (11, "[1]", [1]), (11, "[2]", [2]), (11, "[5]", [5]), (12, "[7]", [7]),
        (12, "[8]", [8]),
    ]),
    ("grobid/test_Grobid_1_05452615.pdf", range(1, 4), [
        (1, "[1]", [1]), (1, "[9]", [9]), (1, "[9]", [9]), (1, "[10]", [10]), (1, "[4]", [4]), (1, "[11]", [11]),
        (1, "[13]", [13]), (1, "[9]", [9]), (1, "[9]", [9]), (1, "[13]", [13]), (1, "[14]", [14]), (1, "[11]", [11]),
        (1, "[14]", [14]), (2, "[23]", [23]), (2, "[23]", [23]), (2, "[2]", [2]), (2, "[4]", [4]), (2, "[8]", [8]),
        (2, "[18]", [18]), (3, "[21]", [21]), (3, "[21]", [21]), (3, "[20]", [20]),
    ]),
    ("science-parse/P14-1059.pdf", range(1, 4), [
        (1, "Erk, 2012", ["Erk 2012"]), (1, "Baroni (2013)", ["Baroni 2013"]), (1, "Frome et al., 2013", ["Frome 2013"]),
        (1, "Socher et al., 2013", ["Socher 2013"]), (2, "Kalchbrenner and Blunsom (2013)", ["Kalchbrenner 2013"]),
        (2, "Andreas and Ghahramani (2013)", ["Andreas 2013"]), (2, "Socher et al. (2011)", ["Socher 2011"]),
        (2, "Mitchell and Lapata (2008)", ["Mitchell 2008"]), (2, "Guevara (2010)", ["Guevara 2010"]),
        (2, "Zanzotto et al. (2010)", ["Zanzotto 2010"]), (3, "Dinu et al., 2013", ["Dinu 2013"]),
        (3, "Turney, 2012", ["Turney 2012"]), (3, "Turney and Pantel, 2010", ["Turney 2010"]),
        (3, "Andoni and Indyk, 2008", ["Andoni 2008"]),
    ]),
    ("science-parse/fader11.pdf", range(1, 3), [
        (1, "Kim and Moldovan, 1993", ["Kim 1993"]), (1, "Riloff, 1996", ["Riloff 1996"]),
        (1, "Soderland, 1999", ["Soderland 1999"]), (1, "Banko et al., 2007", ["Banko 2007"]),
        (1, "Banko et al., 2007", ["Banko 2007"]), (1, "Wu and Weld, 2010", ["Wu 2010"]), (1, "Zhu et al., 2009", ["Zhu 2009"]),
        (1, "Ritter et al., 2010", ["Ritter 2010"]), (1, "Lin et al., 2010", ["Lin 2010"]),
        (1, "Schoenmackers et al., 2010", ["Schoenmackers 2010"]), (1, "Berant et al., 2011", ["Berant 2011"]),
        (1, "Soderland et al., 2010", ["Soderland 2010"]), (2, "Grefenstette and Teufel, 1995", ["Grefenstette 1995"]),
        (2, "Stevenson et al., 2004", ["Stevenson 2004 Suzanne"]), (2, "Allerton, 2002", ["Allerton 2002"]),
        (2, "Banko et al., 2007", ["Banko 2007"]), (2, "Wu and Weld, 2010", ["Wu 2010"]),
    ]),
    # Marked after the finder was written and not used to change it (the four above were read during development).
    ("science-parse/pedersen04.pdf", range(1, 5), [
        (2, "[12]", [12]), (3, "[3]", [3]), (3, "[10]", [10]), (4, "[1]", [1]),
    ]),
    ("science-parse/proto06.pdf", range(1, 3), [
        (1, "Manning and Sch ̈utze, 1999", ["Manning 1999"]), (1, "Radford, 1988", ["Radford 1988"]),
        (1, "Marcus et al., 1994", ["Marcus 1994"]), (1, "Ircs, 2002", ["Ircs 2002"]),
        (2, "Merialdo (1991)", ["Merialdo 1991"]), (2, "Smith and Eisner (2005)", ["Smith 2005"]),
        (2, "Grenager et al. (2005)", ["Grenager 2005"]), (2, "Grenager et al. (2005)", ["Grenager 2005"]),
        (2, "Grenager et al., 2005", ["Grenager 2005"]),
    ]),
]
HELD_OUT_FILES = {"science-parse/pedersen04.pdf", "science-parse/proto06.pdf"}


def _norm(marker: str) -> str:
    return re.sub(r"[\s.,;()\[\]–—-]", "", marker.lower())


def _key_matches(raw: str, key) -> bool:
    if isinstance(key, int):
        return bool(re.match(rf"^\s*\[?{key}[\].]", raw))
    words = key.split()
    return all(w.lower() in raw.lower() for w in words) and raw.lower().find(words[0].lower()) < 60


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn

    def text(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (tp {self.tp}, fp {self.fp}, fn {self.fn})"


# ---- 1. ACM-CR annotated sentences ------------------------------------------------------------
def acm_cr(finder) -> tuple[Score, Score]:
    """(per (sentence, reference) pair score, exact-sentence rate as a Score of sentence matches)."""
    pairs, sentences = Score(), Score()
    for xml in sorted((DATA / "acm_cr" / "topics+qrels" / "papers").glob("*/*.xml")):
        root = ET.parse(xml).getroot()
        truth: list[tuple[str, set[int]]] = []
        paragraphs = []
        for context in root.iter("context"):
            texts = []
            for s in context.iter("s"):
                text = " ".join("".join(s.itertext()).split())
                cites = {int(c) for c in re.findall(r"\d+", s.get("cites") or "")}
                truth.append((text, cites))
                texts.append(text)
            paragraphs.append(" ".join(texts))
        references = _acm_references(xml.with_suffix(".dois"))
        predicted = finder([(1, "\n\n".join(paragraphs))], references)
        labels = {i: int(m.group(1)) for i, raw in enumerate(references) if (m := re.match(r"\[(\d+)\]", raw))}
        by_sentence: dict[int, set[int]] = {}
        exact = 0
        unplaced = 0
        for sentence, index in predicted:
            placed = _place(sentence, truth)
            if placed is None:
                unplaced += 1
                continue
            exact += truth[placed][0] == sentence
            by_sentence.setdefault(placed, set()).add(labels.get(index, -1) if index is not None else -1)
        for i, (_text, cites) in enumerate(truth):
            got = by_sentence.get(i, set())
            pairs.add(len(got & cites), len(got - cites), len(cites - got))
        pairs.add(0, unplaced, 0)
        sentences.add(exact, len(predicted) - exact, 0)
    return pairs, sentences


def _acm_references(listing: Path) -> list[str]:
    found = []
    for line in listing.read_text(encoding="utf-8").splitlines() if listing.exists() else []:
        parts = line.split("\t")
        number = re.search(r"\[(\d+)\]", parts[0])
        if number and len(parts) > 1:
            found.append((int(number.group(1)), f"[{number.group(1)}] {parts[1].strip()}"))
    return [raw for _, raw in sorted(found)]


def _place(sentence: str, truth: list[tuple[str, set[int]]]) -> int | None:
    for i, (text, _) in enumerate(truth):
        if sentence == text:
            return i
    for i, (text, _) in enumerate(truth):
        if text in sentence or sentence.strip("… ") in text:
            return i
    return None


# ---- 2. hand-marked PDFs ----------------------------------------------------------------------
def hand_marked(finder_contexts) -> tuple[Score, Score, dict]:
    from scimult_desktop.ingest.pdf import read_pdf

    detection, linking = Score(), Score()
    per_file = {}
    for name, pages, truth in HAND_MARKED:
        record = read_pdf(DATA / "pdf_corpus" / name)
        raws = [r.raw for r in record.references]
        found = finder_contexts([(p.page, p.text) for p in record.pages], raws)
        markers: dict[tuple, list] = {}
        for page, marker, index, group in found:
            if page in pages:
                markers.setdefault(group, [page, marker, []])[2].append(index)
        predicted = Counter((page, _norm(marker)) for page, marker, _ in markers.values())
        expected = Counter((page, _norm(marker)) for page, marker, _ in truth)
        tp = sum((predicted & expected).values())
        file_detection = (tp, sum(predicted.values()) - tp, sum(expected.values()) - tp)
        detection.add(*file_detection)
        # linking: pair each true marker with an unused predicted one of the same page and text
        pool: dict[tuple, list[list]] = {}
        for page, marker, indexes in markers.values():
            pool.setdefault((page, _norm(marker)), []).append(indexes)
        link_tp = link_fp = link_fn = 0
        for page, marker, keys in truth:
            candidates = pool.get((page, _norm(marker)))
            if not candidates:
                link_fn += len(keys)
                continue
            indexes = candidates.pop(0)
            linked = [raws[i] for i in indexes if i is not None]
            right = sum(1 for key in keys if any(_key_matches(raw, key) for raw in linked))
            link_tp += right
            link_fn += len(keys) - right
            link_fp += len(linked) - right
        for leftovers in pool.values():  # markers found where there are none: their links are wrong too
            for indexes in leftovers:
                link_fp += sum(1 for i in indexes if i is not None)
        linking.add(link_tp, link_fp, link_fn)
        per_file[name] = {"markers": sum(expected.values()), "detection": file_detection,
                          "linking": (link_tp, link_fp, link_fn)}
    return detection, linking, per_file


# ---- finders: the app's and the baseline -------------------------------------------------------
def app_sentences(pages, references):
    from scimult_desktop.ingest.citation_contexts import find_citation_contexts

    return [(c.sentence, c.reference_index) for c in find_citation_contexts(pages, references)]


def app_markers(pages, references):
    from scimult_desktop.ingest.citation_contexts import find_citation_contexts

    return [(c.page, c.marker, c.reference_index, (c.page, c.paragraph_start, c.sentence, c.marker_offset, c.marker))
            for c in find_citation_contexts(pages, references)]


_BARE = re.compile(r"\[(\d{1,3})\]")


def baseline_sentences(pages, references):
    """"[n]" anywhere, the whole text split at ". " into sentences, n-1 as the reference index."""
    found = []
    for _, text in pages:
        for sentence in re.split(r"(?<=\.)\s+", " ".join(text.split())):
            for match in _BARE.finditer(sentence):
                found.append((sentence, int(match.group(1)) - 1))
    return found


def baseline_markers(pages, references):
    found = []
    for page, text in pages:
        for match in _BARE.finditer(text):
            found.append((page, match.group(0), int(match.group(1)) - 1, (page, match.start())))
    return [(p, m, i if 0 <= i < len(references) else None, g) for p, m, i, g in found]


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (real data lives beside the project)", file=sys.stderr)
        return 0
    print("ACM-CR annotated citation sentences (25 citing papers, numeric markers, clean text)")
    for name, finder in (("bare [n] regex", baseline_sentences), ("scimult", app_sentences)):
        pairs, sentences = acm_cr(finder)
        print(f"  {name:15s} (sentence, reference) pairs: {pairs.text()}")
        print(f"  {name:15s} sentence exactly the annotated one: {sentences.tp}/{sentences.tp + sentences.fp}")
    print("\nHand-marked PDF pages (real import: layout, reference parsing, markers, linking)")
    for name, finder in (("bare [n] regex", baseline_markers), ("scimult", app_markers)):
        detection, linking, per_file = hand_marked(finder)
        print(f"  {name:15s} marker detection: {detection.text()}")
        print(f"  {name:15s} reference linking: {linking.text()}")
        if name == "scimult":
            for file, figures in per_file.items():
                print(f"      {file}{' (held out)' if file in HELD_OUT_FILES else ''}: {figures}")
    held_out = [entry for entry in HAND_MARKED if entry[0] in HELD_OUT_FILES]
    HAND_MARKED[:] = held_out
    print("\nThe PDFs marked after development only")
    for name, finder in (("bare [n] regex", baseline_markers), ("scimult", app_markers)):
        detection, linking, _ = hand_marked(finder)
        print(f"  {name:15s} marker detection: {detection.text()}")
        print(f"  {name:15s} reference linking: {linking.text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
