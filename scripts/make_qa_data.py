"""Write the synthetic medical QA set (elmtex/synth/medqa.py): data/medqa_passages.jsonl (the
passage collection), data/medqa_open/en/<split>.jsonl (free-text questions) and
data/medqa_mc/en/<split>.jsonl (the same questions as multiple choice).

    python scripts/make_qa_data.py [--out data] [--seed 1234]

The same arguments always give byte-identical files; the shipped files use the defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from elmtex.synth import medqa


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "data",
        help="the folder that gets the three data sets (default: data)",
    )
    ap.add_argument("--seed", type=int, default=medqa.DEFAULT_SEED)
    args = ap.parse_args(argv)
    for rel, n in medqa.write_qa_data(args.out, args.seed).items():
        print(f"{args.out / rel}: {n} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
