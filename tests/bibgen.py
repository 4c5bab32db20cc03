"""Generates BibTeX text for tests (the project ships no third-party .bib files)."""

from __future__ import annotations


def bib_entry(key: str, title: str, *, author: str = "Doe, Jane and Roe, Richard", year: int = 2020,
              doi: str | None = None, abstract: str | None = None, extra: str = "") -> str:
    fields = [f"  title = {{{title}}}", f"  author = {{{author}}}", f"  year = {{{year}}}"]
    if doi:
        fields.append(f"  doi = {{{doi}}}")
    if abstract:
        fields.append(f"  abstract = {{{abstract}}}")
    if extra:
        fields.append(extra)
    return f"@article{{{key},\n" + ",\n".join(fields) + "\n}\n"


def synthetic_bib(n: int, *, start: int = 0) -> str:
    """`n` distinct entries with unique titles, DOIs and abstracts."""
    topics = ["retrieval", "citation", "embedding", "classification", "graphs", "proteins", "climate", "galaxies"]
    parts = []
    for i in range(start, start + n):
        topic = topics[i % len(topics)]
        parts.append(
            bib_entry(
                f"key{i}",
                f"Study number {i} of {topic} methods",
                author=f"Author{i}, Ann and Coauthor, Bob",
                year=1990 + i % 30,
                doi=f"10.1234/test.{i}",
                abstract=f"We study {topic} in setting {i}. Results improve over baselines.",
            )
        )
    return "\n".join(parts)
