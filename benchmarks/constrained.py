"""Benchmark: naive prompting with and without schema-constrained decoding on the demo test split.

Runs the real stages as a user would: cache_results_naive.py once unconstrained and once with
`generation.constrained=true` per whitespace guard (each in a fresh process, into a throw-away
cache), then evaluate.py on all runs (BERTScore off). Prints a Markdown table of parse rate,
schema-valid rate, entity F1 (micro, macro and per category, from evaluate.py's metrics.json),
the share of items unsupported by the report, records/s and generated tokens/s (generation
time only, from the cached batch latencies; model loading is left out).

    python benchmarks/constrained.py                       # Qwen (the CPU default), 8 per language
    python benchmarks/constrained.py --limit 2 --model smollm2-135m-instruct
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from elmtex.provenance import benchmark_header  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
parser.add_argument("--limit", type=int, default=8, help="records per language (en, de)")
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--max-new-tokens", type=int, default=512)
parser.add_argument(
    "--json-whitespace",
    default="spaced,compact",
    help="the constrained runs' guards, comma-separated (one run each)",
)
parser.add_argument("--out", help="folder for caches and results (default: a temp folder)")
parser.add_argument(
    "--set",
    action="append",
    default=[],
    metavar="KEY=VALUE",
    help="further config overrides for both runs",
)
args = parser.parse_args()

out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-constrained-"))
common = [
    "--set",
    f"model.name_or_path={args.model}",
    "--set",
    f"data.limit={args.limit}",
    "--set",
    f"backend.batch_size={args.batch_size}",
    "--set",
    f"generation.max_new_tokens={args.max_new_tokens}",
    "--set",
    f"run.cache_dir={out / 'cache'}",
    "--set",
    f"run.results_dir={out / 'results'}",
]
for s in args.set:
    common += ["--set", s]
VARIANTS = {"unconstrained": ["--set", "generation.constrained=false"]}
for ws in args.json_whitespace.split(","):
    VARIANTS[f"constrained, {ws}"] = [
        "--set",
        "generation.constrained=true",
        "--set",
        f"generation.json_whitespace={ws}",
    ]
env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def run(script: str, *extra: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / script), *common, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(
            f"{script} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return time.perf_counter() - t0


runs = {v: "bench-" + v.replace(", ", "-") for v in VARIANTS}
wall = {}
for variant, extra in VARIANTS.items():
    print(f"caching {runs[variant]} ...", file=sys.stderr)
    wall[variant] = run(
        "cache_results_naive.py", *extra, "--set", f"run.name={runs[variant]}", "--overwrite"
    )
print("evaluating ...", file=sys.stderr)
run("evaluate.py", "--set", "evaluate.bertscore.enabled=false", "--runs", *runs.values())


def timing(name: str) -> dict:
    rows = [json.loads(line) for line in open(out / "cache" / f"{name}.jsonl", encoding="utf-8")]
    # Every row carries the latency of the batch it came in: sum it once per batch.
    gen_s = sum(r["latency_s"] / r["batch_size"] for r in rows)
    tokens = sum(r["completion_tokens"] or 0 for r in rows)
    return {
        "n": len(rows),
        "gen_s": gen_s,
        "rec_s": len(rows) / gen_s,
        "tok_s": tokens / gen_s,
        "mean_tokens": tokens / len(rows),
        "cut": sum(r["finish_reason"] == "length" for r in rows),
        "closed": sum(r["finish_reason"] == "budget" for r in rows),
    }


metrics = {
    v: json.loads((out / "results" / runs[v] / "metrics.json").read_text()) for v in VARIANTS
}
times = {v: timing(runs[v]) for v in VARIANTS}


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


n = times["unconstrained"]["n"]
print(
    f"\nmodel {args.model}, demo test split: {args.limit} records per language ({n} in all), "
    f"batch {args.batch_size}, max_new_tokens {args.max_new_tokens}, greedy; "
    f"{os.cpu_count()} CPU threads; caches and results in {out}\n"
)
print(benchmark_header())
print("| | " + " | ".join(VARIANTS) + " |")
print("|---|" + "---:|" * len(VARIANTS))
lines = [
    ("JSON parse rate", lambda v: pct(metrics[v]["parse_rate"])),
    ("schema-valid rate", lambda v: pct(metrics[v]["schema_valid_rate"])),
    ("cut at max_new_tokens", lambda v: str(times[v]["cut"])),
    ("closed early by the token budget", lambda v: str(times[v]["closed"])),
    ("entity F1, micro", lambda v: num(metrics[v]["overall"]["entity_micro"]["f1"])),
    ("entity F1, macro", lambda v: num(metrics[v]["headline"]["entity_macro_f1"]["value"])),
    (
        "items unsupported by the report",
        lambda v: pct(metrics[v]["headline"]["ungrounded"]["value"]),
    ),
    ("records/s (generation)", lambda v: f"{times[v]['rec_s']:.3f}"),
    ("generated tokens/s", lambda v: f"{times[v]['tok_s']:.1f}"),
    ("tokens per answer", lambda v: f"{times[v]['mean_tokens']:.0f}"),
    ("stage wall time, s (model load included)", lambda v: f"{wall[v]:.0f}"),
]
for label, cell in lines:
    print(f"| {label} | " + " | ".join(cell(v) for v in VARIANTS) + " |")

print("\nPer-category entity F1:\n")
print("| category | " + " | ".join(VARIANTS) + " |")
print("|---|" + "---:|" * len(VARIANTS))
for cat in metrics["unconstrained"]["per_category"]:
    cells = []
    for v in VARIANTS:
        ent = metrics[v]["per_category"].get(cat, {}).get("entity") or {}
        cells.append(num(ent.get("f1")))
    print(f"| {cat} | {' | '.join(cells)} |")
