"""`suggest --file` on a LaTeX draft spread over files (\\input, \\include, \\import)."""

from __future__ import annotations

import json

from tests.cli.test_finding_cli import library, run  # noqa: F401 (the library fixture)
from scimult_desktop.services.writing.drafting import draft_item
from scimult_desktop.writing.latex_inputs import read_latex_project

CLAIM = "Dense passage retrieval with dual encoders has been shown to outperform term weighting in previous studies."


def write_project(root):
    (root / "sections").mkdir()
    (root / "main.tex").write_text("\n".join([
        r"\documentclass{article}", r"\begin{document}",
        r"Main text has been shown before \cite{m1}.",
        r"% \input{sections/commented}",
        r"\input{sections/intro}",
        r"Between the inputs.",
        r"\include{sections/results.tex}",
        r"\input{sections/missing}",
        r"\import{sections/}{deep}",
        r"\end{document}", ""]), encoding="utf-8")
    (root / "sections" / "intro.tex").write_text(f"Café — intro.\n\n{CLAIM}\n\\input{{sections/nested}}\n", encoding="utf-8")
    (root / "sections" / "nested.tex").write_text("Nested text.\n", encoding="utf-8")
    (root / "sections" / "results.tex").write_text("Results look fine.\n\\input{main}\n", encoding="utf-8")
    (root / "sections" / "deep.tex").write_text("Deep import text.\n", encoding="utf-8")
    (root / "sections" / "commented.tex").write_text("Never read.\n", encoding="utf-8")
    return root / "main.tex"


def test_files_read_in_come_where_they_stand_with_their_own_lines_and_a_missing_one_is_reported(tmp_path):
    problems = []
    sentences = read_latex_project(write_project(tmp_path), problems.append)
    assert [(s.file, s.line, s.text) for s in sentences] == [
        (None, 3, "Main text has been shown before."),
        ("sections/intro.tex", 1, "Café — intro."),
        ("sections/intro.tex", 3, CLAIM),
        ("sections/nested.tex", 1, "Nested text."),
        (None, 6, "Between the inputs."),
        ("sections/results.tex", 1, "Results look fine."),  # its \input{main} loops back: not read again
        ("sections/deep.tex", 1, "Deep import text."),
    ]
    assert problems == [f"main.tex line 8: sections/missing not found (looked in {tmp_path.resolve()})"]
    intro = (tmp_path / "sections" / "intro.tex").read_text(encoding="utf-8")
    assert intro[sentences[2].start:sentences[2].end] == CLAIM
    assert len({s.paragraph for s in sentences}) == len(sentences)  # no paragraph spans two files
    assert draft_item(sentences[2], [], [])["file"] == "sections/intro.tex"
    assert "file" not in draft_item(sentences[0], [], []) and "file" not in sentences[0].to_json()


def test_cli_follows_inputs_by_default_and_warns_about_a_missing_one(library, tmp_path):  # noqa: F811
    main = write_project(tmp_path)
    result = run("--library", library, "suggest", "--file", str(main), "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    [claim] = [i for i in items if i["sentence"] == CLAIM]
    assert (claim["file"], claim["line"]) == ("sections/intro.tex", 3) and len(claim["suggestions"]) == 2
    assert "warning: main.tex line 8: sections/missing not found" in result.stderr
    alone = json.loads(run("--library", library, "suggest", "--file", str(main), "--no-follow-inputs", "--json").stdout)
    assert all("file" not in i for i in alone) and not any(i["sentence"] == CLAIM for i in alone)
