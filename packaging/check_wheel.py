"""What a SciMult Desktop wheel must and must not hold (used by build_wheels.py and the tests).

    python3 packaging/check_wheel.py dist/wheels/scimult_desktop-*.whl

Standard library only.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import PurePosixPath

# Shipped on purpose (resources the app reads); everything else outside the package is suspect.
REQUIRED_APP_FILES = (
    "scimult_desktop/__init__.py",
    "scimult_desktop/_version.py",
    "scimult_desktop/cli/main.py",
    "scimult_desktop/gui/app.py",
    ".data/data/share/scimult-desktop/resources/labels/mag_fields.json",
    ".data/data/share/scimult-desktop/resources/demo/scifact-demo.json",
    ".data/data/share/scimult-desktop/resources/models/minilm-scimult-trained.safetensors",
    ".data/data/share/scimult-desktop/resources/models/minilm-scimult-trained.json",
)
# The one weights file that ships in the app wheel: the trained default's fp16 delta (7 MB).
SHIPPED_WEIGHTS = "share/scimult-desktop/resources/models/minilm-scimult-trained.safetensors"
FORBIDDEN_PARTS = {"tests", "test", "conftest.py", "fakes.py", "training", "scimult_train", "benchmarks", "shared", ".venv", "__pycache__"}
FORBIDDEN_SUFFIXES = {".pyc", ".sqlite3", ".pdf", ".bib", ".ckpt", ".safetensors", ".jsonl"}


def wheel_problems(wheel: str) -> list[str]:
    """Every reason `wheel` is not fit to ship, as one line each (empty when it is fine)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    problems = []
    stem = PurePosixPath(wheel).name.split("-")
    data_prefix = f"{stem[0]}-{stem[1]}.data/"
    for name in names:
        parts = PurePosixPath(name).parts
        if FORBIDDEN_PARTS.intersection(parts):
            problems.append(f"{name}: tests, training code or caches do not belong in the wheel")
        elif PurePosixPath(name).suffix in FORBIDDEN_SUFFIXES and name != f"{data_prefix}data/{SHIPPED_WEIGHTS}":
            problems.append(f"{name}: data or compiled files do not belong in the wheel")
    if stem[0] == "scimult_desktop":
        for required in REQUIRED_APP_FILES:
            wanted = required.replace(".data/", data_prefix) if required.startswith(".data/") else required
            if wanted not in names:
                problems.append(f"{wanted}: missing from the wheel")
        if any(name.endswith(".onnx") for name in names):
            problems.append("the app wheel carries model graphs; they belong in scimult-desktop-model")
    return problems


def main(argv: list[str]) -> int:
    failed = False
    for wheel in argv:
        problems = wheel_problems(wheel)
        for problem in problems:
            print(f"{wheel}: {problem}", file=sys.stderr)
        failed |= bool(problems)
        if not problems:
            print(f"{wheel}: ok")
    return 1 if failed or not argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
