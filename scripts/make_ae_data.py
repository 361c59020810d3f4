"""Write the synthetic adverse-event email set: <out>/en/<split>.jsonl
(elmtex/synth/adverse_events.py).

    python scripts/make_ae_data.py [--out data/adverse_events] [--seed 1234]
                                   [--train 700] [--val 35] [--test 70]

The same arguments always give byte-identical files; the shipped data/adverse_events uses the
defaults (about the size of the original pharmacovigilance study's set).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from elmtex.synth import adverse_events


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "adverse_events")
    ap.add_argument("--seed", type=int, default=adverse_events.DEFAULT_SEED)
    for split, n in adverse_events.DEFAULT_SIZES.items():
        ap.add_argument(
            f"--{split}",
            type=int,
            default=n,
            metavar="N",
            help=f"records in {split} (default: {n})",
        )
    args = ap.parse_args(argv)
    sizes = {split: getattr(args, split) for split in adverse_events.DEFAULT_SIZES}
    if any(n < 0 for n in sizes.values()):
        ap.error("split sizes must not be negative")
    for split, n in adverse_events.write_ae_data(args.out, sizes, args.seed).items():
        print(f"{args.out / 'en' / (split + '.jsonl')}: {n} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
