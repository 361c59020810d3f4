"""Join a sharded run's shard files into its ordinary cache: data/cache/<run>.jsonl + manifest.

    python cache_results_naive.py --shard 1/4    # ... and 2/4, 3/4, 4/4 (or a SLURM job array)
    python scripts/merge_shards.py               # this config's runs that have shard files
    python scripts/merge_shards.py --config configs/experiments/X.yaml --run NAME

Refuses, naming the files: missing shard files or manifests, shards of different counts or
settings (fingerprint, model files, data selection), a torn last line, duplicated ids, and ids
of the split that no shard holds (an unfinished shard). Streams: memory does not grow with the
rows' texts. After the merge, evaluate.py reads the run as if it had been cached in one go.
"""

import argparse
import sys

from elmtex.config import add_config_args, config_from_args, resolve_path
from elmtex.runs import METHODS, default_runs, run_name
from elmtex.sharding import merge_shards, shard_files

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument(
    "--run",
    action="append",
    dest="runs",
    metavar="NAME",
    help="run to merge (repeatable); default: this config's runs of every "
    "method that have shard files",
)
parser.add_argument(
    "--overwrite",
    action="store_true",
    help="replace an existing <run>.jsonl that is not a merge of these shards",
)
parser.add_argument(
    "--no-split-check",
    action="store_true",
    help="skip the check that every id of the split is in some shard (for a "
    "machine without the data); duplicates and settings are still checked",
)
args = parser.parse_args()
cfg = config_from_args(args, show=False)
cache_dir = resolve_path(cfg["run"]["cache_dir"])

runs = args.runs
if not runs:
    candidates = list(dict.fromkeys([*(run_name(cfg, m) for m in METHODS), *default_runs(cfg)]))
    runs = [r for r in candidates if shard_files(cache_dir, r)]
    if not runs:
        sys.exit(
            f"error: no shard files in {cache_dir} for this config's runs "
            f"({', '.join(candidates)}); name one with --run"
        )

for run in runs:
    result = merge_shards(
        cache_dir, run, check_split=not args.no_split_check, overwrite=args.overwrite
    )
    print(f"{run}: {result['shards']} shards, {result['rows']} rows -> {result['path']}")
