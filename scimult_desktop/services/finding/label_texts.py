"""How a label is written for the classification expert: by what it means, never by its code.

A label's *meaning* is its title when it has one (arXiv `cs.CV` -> "Computer Vision and
Pattern Recognition"), else its name unless the name looks like a code (`cs.CV`, an ACM CCS
id `10002951.10003317`, `H.3.3`, a user's short tag `p2`), in which case only its description
(if any) carries meaning. A user's code-like tag without a description is represented by the
centroid of the papers tagged with it (`services/finding/own_labels.py`), not by its string.

Which text a cosine (sentence-encoder) model embeds per label was chosen on held-out data of
a label set that `benchmarks/eval_quality.py` does NOT evaluate: the 49 unarXive-2022 papers
with their arXiv categories (`tools/select_label_template.py`, plain all-MiniLM-L6-v2).
Candidates and their MRR of the first correct category: "meaning: description" 0.729,
"meaning [SEP] description" (SciMult's label input) 0.723, that plus "A research paper in
{meaning}." 0.712, the earlier two-prompt ensemble 0.702 ("A research paper in {code}." with
the code instead of the title: 0.475), description alone 0.666, meaning alone 0.610. The
margin over SciMult's own format is within noise, so the choice is one plain template and no
ensemble. Labels without a description (keyword lists, user tags) were chosen on the same
papers with the descriptions ignored: "A research paper in {meaning}." 0.629, "A paper about
{meaning}." 0.614, both averaged 0.618, the bare meaning 0.610. The earlier ensemble had been picked on the MAG benchmark itself, which it no longer
is. Dot-product models (official SciMult checkpoints) keep the format they were trained on.
"""

from __future__ import annotations

import re
from typing import Sequence

from scimult_desktop.services.finding.label_sets import LABEL_SEPARATOR, Label, LabelSet

# Chosen on the held-out arXiv selection set (see the module docstring); {meaning}, {description}.
COSINE_TEMPLATE = "{meaning}: {description}"
COSINE_TEMPLATE_WITHOUT_DESCRIPTION = "A research paper in {meaning}."

_CODE_CHARS = re.compile(r"^[\w.:/#+\-]+$")
_VOWELS = set("aeiouyAEIOUY")


def looks_like_code(name: str) -> bool:
    """Whether a label name is an identifier rather than words: `cs.CV`, `10003317`, `H.3.3`, `q-bio.NC`, `p2`, `ml_todo`.

    Words with spaces, or a single word of letters with a vowel and at least three
    characters ("physics", "NLP" is an acronym and counts as a code), are not codes.
    """
    text = name.strip()
    if not text or not _CODE_CHARS.match(text):
        return False
    if any(ch.isdigit() for ch in text) or any(ch in "._:/#" for ch in text):
        return True
    letters = text.replace("-", "").replace("+", "")
    if len(letters) <= 3 or letters.isupper():
        return True
    return not (set(letters) & _VOWELS)


def label_meaning(label: Label) -> str | None:
    """The words that say what a label is: its title, else its name unless that is a code (then None)."""
    if label.title:
        return label.title
    return None if looks_like_code(label.name) else label.name


def label_texts(label: Label, similarity: str) -> list[str]:
    """The text(s) whose embeddings (averaged) become the label's vector.

    Args:
        label: the label.
        similarity: the model's similarity, "cosine" or "dot".
    """
    meaning = label_meaning(label)
    description = label.description
    if similarity == "dot":  # SciMult's trained input format: name [SEP] definition
        head = meaning or label.name
        return [f"{head}{LABEL_SEPARATOR}{description}" if description else head]
    if meaning and description:
        return [COSINE_TEMPLATE.format(meaning=meaning, description=description)]
    if description:  # a code with a description: the code string itself carries nothing
        return [description]
    if meaning:
        return [COSINE_TEMPLATE_WITHOUT_DESCRIPTION.format(meaning=meaning)]
    return [label.name]  # a bare code: nothing else to go on (own tags use their papers' centroid instead)


def has_meaning(label: Label) -> bool:
    """Whether the label has words to embed (a title, a description, or a non-code name)."""
    return bool(label_meaning(label) or label.description)


def find_label(label_set: LabelSet, name: str) -> Label | None:
    """The label of `label_set` a user's tag or collection name refers to: by name, synonym or title."""
    if name in label_set:
        label = label_set.get(name)
    else:
        wanted = name.strip().casefold()
        label = next((lab for lab in label_set if lab.title and lab.title.casefold() == wanted), None)
    if label is not None and label.alias_of:
        return label_set.get(label.alias_of)
    return label


def all_label_texts(labels: Sequence[Label], similarity: str) -> list[list[str]]:
    return [label_texts(label, similarity) for label in labels]
