"""Stage 1: naive prompting. Renders the task's naive prompt for every record of the split,
generates with the configured backend and appends responses to data/cache/<run>.jsonl.

    python cache_results_naive.py                       # the CPU demo (configs/default.yaml)
    python cache_results_naive.py --config configs/experiments/gpu_llama31_8b_naive.yaml

Rerun it after an interruption: finished records are skipped.
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex.backends import GenerationSettings, make_backend
from elmtex.cache import cache_responses, prepare_manifest
from elmtex.config import add_config_args, config_from_args
from elmtex.constrained import decisive_generation
from elmtex.prompts import PromptTemplate
from elmtex.runs import cache_paths, run_name
from elmtex.sharding import add_shard_args, shard_from_args, shard_records
from elmtex.task import load_task

METHOD = "naive"

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--overwrite", action="store_true", help="discard this run's earlier cache")
add_shard_args(parser)  # --shard I/N, or the SLURM array task's shard
args = parser.parse_args()
cfg = config_from_args(args)
shard = shard_from_args(args)

task = load_task(cfg["task"])
template = PromptTemplate(task.prompt_path("naive"))
records = shard_records(cfg, task, shard)
name = run_name(cfg, METHOD)
cache_path, manifest_path = cache_paths(cfg, name, shard, writer=True)
if args.overwrite:
    cache_path.unlink(missing_ok=True)
print(f"run {name}: {len(records)} records -> {cache_path}")

settings = GenerationSettings.from_config(cfg)
backend = make_backend(cfg)
decisive = {
    "method": METHOD,
    "model": cfg["model"],
    "prompt": template.text,
    "task": task.source,
    "generation": decisive_generation(cfg["generation"]),
    "backend": cfg["backend"]["name"],
}
prepare_manifest(manifest_path, cfg, name, METHOD, backend, decisive, args.overwrite, shard)

counts = cache_responses(
    records,
    lambda r: (template.render(task, r[task.input_key]), {}),
    backend,
    settings,
    cache_path,
    name,
    METHOD,
    cfg["backend"]["batch_size"],
)
print(f"done: {counts}")
if counts["request_errors"]:
    print(f"{counts['request_errors']} requests failed; rerun this command to retry them.")
    sys.exit(1)
