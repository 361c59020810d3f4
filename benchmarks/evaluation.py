"""Benchmark: evaluate.py's scoring on synthetic gold/prediction pairs (15 fields each). Prints
the time of each metric on its own, the whole scoring as evaluate.py runs it (stream, score,
bootstrap CIs) and, in fresh processes at growing record counts, the whole scoring's peak RSS.

    python benchmarks/evaluation.py                                  # 1,000 pairs
    python benchmarks/evaluation.py --records 200 --memory-sizes 100,200

Gold answers come from the demo generator (realistic items in English and German); predictions
are the gold with seeded damage per field: N/A instead of the answer, an item dropped, an item
made up, items reordered and re-cased, or an unparseable answer (3% of records).
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from elmtex.bertscore import FieldBertScorer
from elmtex.entities import ItemsBackend
from elmtex.provenance import benchmark_header
from elmtex.scoring import Policies, make_rouge_scorer, score_records
from elmtex.summaries import summarize
from elmtex.synth.demo import generate_record
from elmtex.task import load_task

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--records", type=int, default=1000)
parser.add_argument(
    "--memory-sizes",
    default="250,500,1000,2000",
    help="record counts whose whole scoring runs in a fresh process for peak RSS",
)
parser.add_argument("--n-boot", type=int, default=1000)
parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one memory run
args = parser.parse_args()

task = load_task("configs/tasks/elmtex.yaml")
policies = Policies()


def damage(summary: dict, rng: random.Random) -> dict:
    pred = {}
    for f, value in summary.items():
        items = task.items(value)
        roll = rng.random()
        if roll < 0.15:
            items = [task.na_value]
        elif roll < 0.30 and len(items) > 1:
            items.pop(rng.randrange(len(items)))
        elif roll < 0.45:
            items = [*items, rng.choice(["fatigue", "Übelkeit", "CRP 12 mg/L", "aspirin 100 mg"])]
        elif roll < 0.55:
            rng.shuffle(items)
            items = [x.lower() for x in items]
        pred[f] = task.item_separator.join(items)
    return pred


def pairs(n: int):
    """(gold records by id, a generator of cached rows): the rows are made lazily, as a cache
    file would be read."""
    gold = {}
    for i in range(n):
        rec = generate_record("en" if i % 2 else "de", "bench", i)
        gold[rec["id"]] = rec

    def rows():
        rng = random.Random(1234)
        for rid, rec in gold.items():
            parsed = None if rng.random() < 0.03 else damage(rec["summary"], rng)
            yield {"id": rid, "parsed": parsed, "finish_reason": "stop"}

    return gold, rows


def text_pairs(gold: dict, rows) -> list[tuple[str, str, str]]:
    """(lang, prediction, gold) of every text field both sides answered (what ROUGE and
    BERTScore score under the default policies)."""
    out = []
    for row in rows():
        pred = task.coerce_prediction(row["parsed"])
        rec = gold[row["id"]]
        for f in task.field_names:
            if f in policies.exclude_fields:
                continue
            g, p = rec["summary"][f], pred[f]
            if not task.is_na(g) and not task.is_na(p):
                out.append((rec["lang"], p, g))
    return out


def whole_scoring(gold: dict, rows, bert) -> tuple[dict, object]:
    scores = score_records(task, gold, rows(), policies, True, ItemsBackend(task), bert)
    metrics = summarize(scores, policies, "items", bert.describe(), n_boot=args.n_boot)
    return metrics, scores


if args.one:
    gold, rows = pairs(args.one)
    bert = FieldBertScorer("all-minilm-l6-v2")
    start = time.perf_counter()
    whole_scoring(gold, rows, bert)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )
    sys.exit(0)

print(
    f"{args.records} synthetic gold/prediction pairs x {len(task.field_names)} fields, "
    f"{os.cpu_count()} CPUs, bootstrap {args.n_boot} resamples",
    flush=True,
)
gold, rows = pairs(args.records)
texts = text_pairs(gold, rows)
timings = {}

t = time.perf_counter()
scorer = make_rouge_scorer(True)
for _, p, g in texts:
    scorer.score(g, p)
timings["ROUGE-1/2/L (rouge-score, Unicode tokenizer)"] = time.perf_counter() - t

t = time.perf_counter()
bert = FieldBertScorer("all-minilm-l6-v2")
load = time.perf_counter() - t
t = time.perf_counter()
for i in range(0, len(texts), 4096):  # in chunks, as the scoring does
    chunk = texts[i : i + 4096]
    bert.score_pairs([p for _, p, _ in chunk], [g for _, _, g in chunk])
timings["BERTScore F1 (MiniLM L6, CPU)"] = time.perf_counter() - t
timings["  (BERTScore model load, once)"] = load

t = time.perf_counter()
backend = ItemsBackend(task)
for row in rows():
    pred = task.coerce_prediction(row["parsed"])
    rec = gold[row["id"]]
    for f in task.field_names:
        if f not in policies.exclude_fields:
            backend.compare(backend.entities(rec["summary"][f]), backend.entities(pred[f]))
timings["entity P/R/F1 (items backend)"] = time.perf_counter() - t

t = time.perf_counter()
metrics, scores = whole_scoring(gold, rows, bert)
total = time.perf_counter() - t
t = time.perf_counter()
summarize(scores, policies, "items", bert.describe(), n_boot=args.n_boot)
timings["bootstrap CIs (summarize, every metric)"] = time.perf_counter() - t

print(f"\n{len(texts)} text pairs scored by ROUGE and BERTScore\n")
print(benchmark_header())
print("| step | seconds |")
print("|---|---:|")
for name, s in timings.items():
    print(f"| {name} | {s:.1f} |")
print(f"| **whole scoring as evaluate.py runs it** (stream, all metrics, CIs) | **{total:.1f}** |")
print(f"\ntarget: whole scoring <= 180 s -> {'met' if total <= 180 else 'MISSED'}")

sizes = [int(x) for x in args.memory_sizes.split(",") if x]
if sizes:
    print("\n| records | whole scoring s | peak RSS MB |")
    print("|---:|---:|---:|")
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--n-boot", str(args.n_boot)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"| {n} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} |", flush=True)
