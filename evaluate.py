"""Stage: score cached runs against gold. Writes data/results/<run>/ (metrics.json,
per_category.csv, table.md, config.yaml) and prints the tables.

    python evaluate.py                                  # the naive run of the config
    python evaluate.py --runs naive-qwen2.5-coder-0.5b-instruct-demo-test other-run
"""

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local scorer models by default

from elmtex.bertscore import FieldBertScorer
from elmtex.cache import cache_paths, run_name
from elmtex.config import add_config_args, config_from_args, dump_config, resolve_path
from elmtex.entities import make_entity_backend
from elmtex.io import load_split, read_jsonl
from elmtex.metrics import Policies, score_run
from elmtex.report import comparison_table, markdown_table, write_results
from elmtex.task import load_task

parser = add_config_args(argparse.ArgumentParser(description=__doc__.split("\n")[0]))
parser.add_argument("--runs", nargs="+", help="run names (default: evaluate.runs, else naive)")
args = parser.parse_args()
cfg = config_from_args(args)

task = load_task(cfg["task"])
gold = {r["id"]: r for r in load_split(resolve_path(cfg["data"]["dir"]), cfg["data"]["langs"],
                                       cfg["data"]["split"], task, cfg["data"]["limit"])}
ev = cfg["evaluate"]
policies = Policies(ev["unparseable"], ev["gold_na"], tuple(ev["exclude_fields"]))
runs = args.runs or ev["runs"] or [run_name(cfg, "naive")]
entity_backend = make_entity_backend(ev["entities"]["backend"], task, ev["entities"]["threshold"])
bert = None
if ev["bertscore"]["enabled"]:
    b = ev["bertscore"]
    bert = FieldBertScorer(b["model"], b["num_layers"], b["rescale_with_baseline"], b["lang"],
                           b["batch_size"])

all_metrics = {}
for run in runs:
    cache_path, _ = cache_paths(cfg, run)
    if not cache_path.exists():
        sys.exit(f"No cache for run '{run}' at {cache_path}; run its caching stage first.")
    metrics = score_run(task, gold, (row for _, row in read_jsonl(cache_path)), policies,
                        ev["rouge_stemming"], entity_backend, bert)
    out_dir = resolve_path(cfg["run"]["results_dir"]) / run
    write_results(out_dir, run, metrics, dump_config(cfg))
    all_metrics[run] = metrics
    print()
    print(markdown_table(metrics, run))
    if metrics["missing_ids"]:
        print(f"warning: {len(metrics['missing_ids'])} selected records have no cached answer "
              f"in {cache_path}; rerun the caching stage to fill them in.")
    print(f"results written to {out_dir}")

if len(all_metrics) > 1:
    print()
    print(comparison_table(all_metrics))
