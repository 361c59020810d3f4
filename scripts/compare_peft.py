"""LoRA vs QLoRA vs DoRA in one command: train, merge and prompt each, then compare the runs.

    python scripts/compare_peft.py                 # configs/experiments/peft_{lora,qlora,dora}.yaml
    python scripts/compare_peft.py --set finetune.sft.max_steps=2   # applied to every recipe
    make compare-peft ARGS="--set ..."

For each recipe (the same data, seed, rank and steps; one finetune.method each), as a user would
run them: scripts/prepare_train_chat_data.py, finetune.py --resume, scripts/merge_model_lora.py,
then cache_results_naive.py on the merged model. Every stage resumes or has nothing to do when
its output is complete, so the command can be run again after an interruption. Then evaluate.py
compares the naive runs on the same records, with the first recipe's as the baseline (paired
bootstrap differences with confidence intervals: data/results/<--name>/report.md), and the
training costs (seconds per step, peak RSS, adapter size; train_summary.json, merged.json) are
printed and written beside it as training.md.
"""

import argparse
import copy
import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local models by default; HF_HUB_OFFLINE=0 uses a hub

from elmtex import ROOT
from elmtex.config import install_error_hook, load_config, resolve_path
from elmtex.finetune import SUMMARY_FILE, FinetuneError
from elmtex.io import read_json, write_text
from elmtex.runs import finetune_paths, run_name

RECIPES = [f"configs/experiments/peft_{m}.yaml" for m in ("lora", "qlora", "dora")]

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument(
    "--recipes",
    nargs="+",
    default=RECIPES,
    help="fine-tuning recipes; the first one's run is the baseline",
)
parser.add_argument(
    "--set",
    action="append",
    default=[],
    metavar="KEY=VALUE",
    dest="overrides",
    help="override one config value in every recipe (repeatable)",
)
parser.add_argument(
    "--name", default="compare-peft", help="comparison folder under run.results_dir"
)
args = parser.parse_args()
install_error_hook()
sets = [a for s in args.overrides for a in ("--set", s)]


def stage(script: str, recipe: str, *extra: str) -> None:
    print(f"\n=== {script} --config {recipe} {' '.join(extra)}", flush=True)
    cmd = [sys.executable, str(ROOT / script), "--config", recipe, *sets, *extra]
    if subprocess.run(cmd, cwd=ROOT).returncode != 0:
        raise FinetuneError(
            f"{script} failed for {recipe}; fix it and run this again (every "
            "stage continues where it stopped)"
        )


runs, training = [], []
for recipe in args.recipes:
    cfg = load_config(recipe, args.overrides)
    paths = finetune_paths(cfg)
    stage("scripts/prepare_train_chat_data.py", recipe)
    stage("finetune.py", recipe, "--resume")
    stage("scripts/merge_model_lora.py", recipe)
    stage("cache_results_naive.py", recipe, "--set", f"model.name_or_path={paths.merged_dir}")
    tuned = copy.deepcopy(cfg)
    tuned["model"]["name_or_path"] = str(paths.merged_dir)
    runs.append(run_name(tuned, "naive"))
    summary = read_json(paths.adapter_dir / SUMMARY_FILE)
    merged = read_json(paths.merged_dir / "merged.json")
    training.append((runs[-1], summary, merged))

stage("evaluate.py", args.recipes[0], "--runs", *runs, "--baseline", runs[0], "--name", args.name)

lines = [
    "| run | method | steps | s/step | peak RSS MB | adapter MB | trainable params | "
    "train loss | eval loss | merged into | merged vs unmerged (max abs logit diff) | "
    "merged vs nf4 base + adapter |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
]
for run, s, m in training:
    nf4 = m.get("merged_vs_nf4_base_plus_adapter")
    lines.append(
        f"| {run} | {s['mode']} | {s['global_step']} | {s.get('seconds_per_step', '?')} | "
        f"{s.get('peak_rss_mb', '?')} | {s.get('adapter_bytes', 0) / 2**20:.1f} | "
        f"{s['trainable_parameters']:,} | {s['train_loss']:.4f} | "
        f"{s['eval_loss'] if s['eval_loss'] is None else round(s['eval_loss'], 4)} | "
        f"{m.get('merged_into', 'original')} | "
        f"{m['merged_vs_base_plus_adapter']['max_abs_diff']:.2g} | "
        f"{'-' if nf4 is None else format(nf4['max_abs_diff'], '.3g')} |"
    )
out = resolve_path(load_config(args.recipes[0], args.overrides)["run"]["results_dir"]) / args.name
table = "\n".join(lines) + "\n"
write_text(out / "training.md", table)
print(f"\nTraining costs (hardware: {training[0][1].get('hardware', {}).get('cpu', '?')}):\n")
print(table)
print(
    f"metrics and paired differences to {runs[0]}: {out / 'report.md'}; this table: "
    f"{out / 'training.md'}"
)
