"""Write the synthetic demo data set: <out>/<lang>/<split>.jsonl (see elmtex/synth/demo.py).

    python scripts/make_demo_data.py [--out data/demo] [--seed 1234] [--train 300] [--val 40]
                                     [--test 40] [--langs en de]

The same arguments always give byte-identical files; the shipped data/demo uses the defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from elmtex.synth import demo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "data" / "demo",
        help="output directory (default: data/demo)",
    )
    ap.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    for split, n in demo.DEFAULT_SIZES.items():
        ap.add_argument(
            f"--{split}",
            type=int,
            default=n,
            metavar="N",
            help=f"records per language in {split} (default: {n})",
        )
    ap.add_argument("--langs", nargs="+", default=list(demo.LANGS), choices=demo.LANGS)
    args = ap.parse_args(argv)

    sizes = {split: getattr(args, split) for split in demo.DEFAULT_SIZES}
    if any(n < 0 for n in sizes.values()):
        ap.error("split sizes must not be negative")
    counts = demo.write_demo_data(args.out, sizes, args.langs, args.seed)
    for lang, per_split in counts.items():
        for split, n in per_split.items():
            print(f"{args.out / lang / (split + '.jsonl')}: {n} records")
    print(f"total: {sum(sum(c.values()) for c in counts.values())} records (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
