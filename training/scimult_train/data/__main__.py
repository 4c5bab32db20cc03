"""Training-data command line.

    python -m scimult_train.data convert --format scirepeval-cite IN OUT.jsonl
    python -m scimult_train.data convert --format maple papers.json OUT.jsonl --labels labels.txt
    python -m scimult_train.data convert --format specter data.json OUT.jsonl --metadata metadata.json --ids train.txt
    python -m scimult_train.data build-default-data --out build/default-minilm-data
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from scimult_desktop.errors import ScimultError


def main(argv: list[str] | None = None) -> int:
    from scimult_train.data.formats import FORMATS

    parser = argparse.ArgumentParser(prog="python -m scimult_train.data", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="convert a published training file to our JSONL",
                                  description="\n".join(f"{f.name:18} ({f.task}) {f.help}" for f in FORMATS.values()),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    convert.add_argument("--format", required=True, choices=sorted(FORMATS))
    convert.add_argument("source", type=Path)
    convert.add_argument("out", type=Path)
    convert.add_argument("--labels", type=Path, help="maple: labels.txt / *_label.json")
    convert.add_argument("--metadata", type=Path, help="specter: metadata.json")
    convert.add_argument("--ids", type=Path, help="specter: query ids of a split (train.txt)")
    convert.add_argument("--max-negatives", type=int, default=3, help="hard negatives kept per example (default 3)")
    build = commands.add_parser("build-default-data", help="training pairs for the default model from ../shared/data")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--data-root", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    build.add_argument("--seed", type=int, default=13)
    build.add_argument("--unseen", default="", metavar="SET,SET",
                       help="classify label sets left out of training, written as unseen_<set>.jsonl (mag_fields, arxiv_categories, acm_keywords, acm_venues)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "convert":
            from scimult_train.data.examples import write_examples
            from scimult_train.data.formats import read_format

            examples = read_format(args.format, args.source, labels=args.labels, metadata=args.metadata, ids=args.ids,
                                   max_negatives=args.max_negatives)
            count = write_examples(args.out, examples)
            print(f"{args.out}: {count} examples in {time.monotonic() - started:.1f}s", file=sys.stderr)
        else:
            from scimult_train.data.default_data import build_default_data

            unseen = tuple(name.strip() for name in args.unseen.split(",") if name.strip())
            try:
                stats = build_default_data(args.out, args.data_root, seed=args.seed, unseen_label_sets=unseen)
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(json.dumps(stats.to_json(), indent=1, sort_keys=True))
            print(f"{args.out}: built in {time.monotonic() - started:.1f}s", file=sys.stderr)
    except ScimultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
