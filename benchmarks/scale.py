"""Benchmark: peak memory of each stage's data path at 10,000 / 30,000 / 60,000 records.

    python benchmarks/scale.py                                   # 10k, 30k, 60k; 4 shards
    python benchmarks/scale.py --sizes 2000,4000 --n-boot 200    # a quick look

For each size it writes a synthetic split (the shipped demo records, en and de, repeated under
new ids: half the records per language) and a sharded cache of fake but realistic answers (the
gold JSON with seeded damage: items dropped, N/A, made up; 3% unparseable), then measures, each
step in a fresh process, the peak RSS (getrusage ru_maxrss) and the wall time of:

- imports only: the interpreter with the modules the steps load (the floor of every row);
- reading the split: io.SplitRecords, streamed and validated (what the caching stages iterate);
  and, for contrast, io.load_split, which holds the split as a list;
- prompt rendering: elmtex.cache.cache_responses over the split with the naive prompt, its
  windows of rendered prompts, parsing and appends, with an instant stand-in backend that
  returns a fixed answer (no model: generation's memory is the model's, not the data's);
- merging shards: elmtex.sharding.merge_shards on the shard files (checks and copy);
- evaluation scoring: score_records (ROUGE-1/2/L + entity items; BERTScore and grounding off)
  against io.SplitIndex gold, per-example rows streamed to a file, as evaluate.py runs it;
- bootstrap CIs: the same, then summarize (every headline metric and per-category value);
- paired comparison: the same, then compare_runs and paired_examples (written to a file) of
  the run against itself under a second name (two runs' rows read side by side).

Prints a markdown table per measurement. Timings include the shared CPU's noise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from elmtex import ROOT  # noqa: E402
from elmtex.provenance import benchmark_header  # noqa: E402

STEPS = {
    "imports": "imports only",
    "read": "reading the split (SplitRecords, streamed)",
    "read_list": "reading the split as a list (load_split)",
    "render": "prompt rendering (cache_responses, instant backend)",
    "merge": "merging shards (merge_shards)",
    "score": "evaluation scoring (ROUGE + entities)",
    "summarize": "scoring + bootstrap CIs (summarize)",
    "compare": "scoring + paired comparison (compare_runs, paired_examples)",
}
RUN = "bench"
LANGS = ("en", "de")

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--sizes", default="10000,30000,60000", help="record counts (both languages)")
parser.add_argument("--shards", type=int, default=4, help="shard files the merge joins")
parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (summarize)")
parser.add_argument("--steps", default=",".join(STEPS), help="steps to measure")
parser.add_argument(
    "--workdir", help="where the synthetic data go (default: a temp folder, deleted at the end)"
)
parser.add_argument("--one", nargs=3, metavar=("STEP", "SIZE", "DIR"), help=argparse.SUPPRESS)
args = parser.parse_args()


def config_for(data_dir: Path, cache_dir: Path) -> dict:
    from elmtex.config import load_config

    return load_config(
        None,
        [
            f"data.dir={data_dir}",
            f"data.langs=[{','.join(LANGS)}]",
            "data.split=test",
            "data.limit=null",
            f"run.name={RUN}",
            f"run.cache_dir={cache_dir}",
        ],
    )


# --- synthetic data (parent process) ---------------------------------------------------------


def base_records() -> dict[str, list[dict]]:
    from elmtex.io import read_jsonl

    return {
        lang: [
            row
            for split in ("train", "val", "test")
            for _, row in read_jsonl(ROOT / "data/demo" / lang / f"{split}.jsonl")
        ]
        for lang in LANGS
    }


def damaged(summary: dict, task, rng: random.Random) -> dict:
    pred = {}
    for f, value in summary.items():
        items = task.items(value)
        roll = rng.random()
        if roll < 0.15:
            items = [task.na_value]
        elif roll < 0.30 and len(items) > 1:
            items.pop(rng.randrange(len(items)))
        elif roll < 0.40:
            items = [*items, rng.choice(["fatigue", "Übelkeit", "CRP 12 mg/L", "aspirin 100 mg"])]
        pred[f] = task.item_separator.join(items)
    return pred


def make_data(size: int, root: Path) -> None:
    """<root>/data/<lang>/test.jsonl (size records in all) and <root>/cache/ with the shards."""
    from elmtex.io import write_json
    from elmtex.sharding import Shard, shard_number_of
    from elmtex.task import load_task

    task = load_task("configs/tasks/elmtex.yaml")
    base = base_records()
    rng = random.Random(1234)
    cache = root / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shard_files = [
        (cache / f"{RUN}{Shard(n, args.shards).suffix()}.jsonl").open("w")
        for n in range(1, args.shards + 1)
    ]
    for lang in LANGS:
        out = root / "data" / lang / "test.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            for i in range(size // len(LANGS)):
                rec = dict(base[lang][i % len(base[lang])], id=f"scale-{lang}-{i:06d}")
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                pred = damaged(rec["summary"], task, rng)
                ok = rng.random() > 0.03
                raw = json.dumps(pred, ensure_ascii=False) if ok else "Sorry, " * 40
                row = {
                    "id": rec["id"],
                    "lang": lang,
                    "run": RUN,
                    "method": "naive",
                    "model": "stand-in",
                    "raw": raw,
                    "parsed": pred if ok else None,
                    "parse_error": None if ok else "no JSON object found",
                    "finish_reason": "stop" if ok else "length",
                    "prompt_tokens": 900,
                    "completion_tokens": 260,
                    "latency_s": 12.5,
                    "batch_size": 8,
                    "created_at": time.time(),
                }
                f = shard_files[shard_number_of(rec["id"], args.shards) - 1]
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    for f in shard_files:
        f.close()
    cfg = config_for(root / "data", cache)
    for n in range(1, args.shards + 1):
        write_json(
            cache / f"{RUN}{Shard(n, args.shards).suffix()}.manifest.json",
            {
                "run": RUN,
                "method": "naive",
                "fingerprint": "bench",
                "decisive": {},
                "backend": "stand-in",
                "model": {"name_or_path": "stand-in"},
                "config": cfg,
                "shard": Shard(n, args.shards).describe(),
                "created_at": "now",
            },
        )


# --- one measurement (child process) ---------------------------------------------------------


class InstantBackend:
    """Returns one fixed answer at once: the caching loop without a model."""

    name, model_id = "stand-in", "stand-in"

    def generate(self, conversations, settings):
        from elmtex.backends import Generation

        return [Generation('{"diagnosis": "N/A"}', "stop", 900, 8, 0.0) for _ in conversations]


def measure(step: str, size: int, root: Path) -> dict:
    from elmtex.backends import GenerationSettings
    from elmtex.cache import cache_responses
    from elmtex.entities import ItemsBackend
    from elmtex.io import AtomicJsonlWriter, SplitIndex, SplitRecords, load_split, read_jsonl
    from elmtex.prompts import PromptTemplate
    from elmtex.scoring import Policies, score_records
    from elmtex.sharding import merge_shards
    from elmtex.summaries import compare_runs, paired_examples, summarize
    from elmtex.task import load_task

    task = load_task("configs/tasks/elmtex.yaml")
    data, cache = root / "data", root / "cache"
    t0 = time.perf_counter()
    info: dict = {}
    if step == "read":
        info["records"] = sum(1 for _ in SplitRecords(data, LANGS, "test", task))
    elif step == "read_list":
        info["records"] = len(load_split(data, LANGS, "test", task))
    elif step == "render":
        template = PromptTemplate(task.prompt_path("naive"))
        out = root / "render.jsonl"
        out.unlink(missing_ok=True)
        counts = cache_responses(
            SplitRecords(data, LANGS, "test", task),
            lambda r: (template.render(task, r[task.input_key]), {}),
            InstantBackend(),
            GenerationSettings(),
            out,
            "render",
            "naive",
            64,
        )
        info["records"] = counts["written"]
        out.unlink()
    elif step == "merge":
        info["records"] = merge_shards(cache, RUN, overwrite=True)["rows"]
    elif step in ("score", "summarize", "compare"):
        if not (cache / f"{RUN}.jsonl").exists():
            merge_shards(cache, RUN)
        gold = SplitIndex(data, LANGS, "test", task)
        policies = Policies()
        with AtomicJsonlWriter(root / "per_example.jsonl") as examples:
            rows = (row for _, row in read_jsonl(cache / f"{RUN}.jsonl"))
            scores = score_records(
                task,
                gold,
                rows,
                policies,
                True,
                ItemsBackend(task),
                None,
                on_example=examples.write,
            )
        info["records"] = scores.n
        if step == "summarize":
            summarize(scores, policies, "items", None, n_boot=args.n_boot)
        if step == "compare":
            runs = {"bench": scores, "bench again": scores}
            compare_runs(runs, "bench", n_boot=args.n_boot)
            with AtomicJsonlWriter(root / "paired.jsonl") as paired:
                for row in paired_examples(runs):
                    paired.write(row)
    info["seconds"] = round(time.perf_counter() - t0, 1)
    info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return info


if args.one:
    step, size, root = args.one
    print(json.dumps(measure(step, int(size), Path(root))))
    sys.exit(0)


# --- driver ----------------------------------------------------------------------------------


def run_child(step: str, size: int, root: Path) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--one",
            step,
            str(size),
            str(root),
            "--n-boot",
            str(args.n_boot),
            "--shards",
            str(args.shards),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{step} at {size} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    print(benchmark_header())
    sizes = [int(s) for s in args.sizes.split(",")]
    steps = [s for s in args.steps.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="elmtex-scale-"))
    results: dict[tuple[str, int], dict] = {}
    try:
        for size in sizes:
            root = work / str(size)
            if not (root / "cache").exists():
                t0 = time.perf_counter()
                make_data(size, root)
                print(
                    f"# {size} records written in {time.perf_counter() - t0:.0f} s", file=sys.stderr
                )
            for step in steps:
                results[step, size] = r = run_child(step, size, root)
                print(f"# {step} at {size}: {r}", file=sys.stderr)
    finally:
        if not args.workdir:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    head = " | ".join(f"{s:,} records" for s in sizes)
    print(
        f"\npeak RSS, MB (each step in a fresh process; {args.shards} shards, "
        f"n_boot {args.n_boot})\n"
    )
    print(f"| step | {head} |")
    print("|---|" + "---:|" * len(sizes))
    for step in steps:
        print(
            f"| {STEPS[step]} | "
            + " | ".join(str(results[step, s]["peak_rss_mb"]) for s in sizes)
            + " |"
        )
    print("\nwall time, s\n")
    print(f"| step | {head} |")
    print("|---|" + "---:|" * len(sizes))
    for step in steps:
        print(
            f"| {STEPS[step]} | "
            + " | ".join(str(results[step, s]["seconds"]) for s in sizes)
            + " |"
        )


main()
