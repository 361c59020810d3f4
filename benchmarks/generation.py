"""Benchmark: the transformers backend's batched generation against a plain sequential
`model.generate` loop over the same prompts. Prints a table of records/s, generated tokens/s
and peak RSS. Each configuration runs in a fresh process, so its peak RSS is its own.

    python benchmarks/generation.py                          # Qwen (the CPU default), 16 records
    python benchmarks/generation.py --model smollm2-135m-instruct --dtype float32
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from elmtex import ROOT
from elmtex.backends import GenerationSettings, TransformersBackend
from elmtex.io import load_split
from elmtex.local_models import resolve_model_path
from elmtex.prompts import PromptTemplate
from elmtex.provenance import benchmark_header
from elmtex.task import load_task

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
parser.add_argument("--dtype", default="auto", help="auto: bf16 only where native")
parser.add_argument("--records", type=int, default=16)
parser.add_argument("--max-new-tokens", type=int, default=128)
parser.add_argument("--batch-sizes", default="1,4,8,16")
parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration
args = parser.parse_args()


def conversations() -> list:
    task = load_task("configs/tasks/elmtex.yaml")
    tpl = PromptTemplate(task.prompt_path("naive"))
    half = (args.records + 1) // 2
    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, half)[: args.records]
    return [tpl.render(task, r["report"]) for r in recs]


def run_one(mode: str) -> dict:
    convs = conversations()
    backend = TransformersBackend(resolve_model_path(args.model), args.dtype, "cpu")
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens)
    t0 = time.perf_counter()
    tokens = 0
    if mode == "sequential":
        # The baseline: one plain model.generate call per prompt, no batching.
        import torch

        tok, model = backend.tokenizer, backend.model
        for conv in convs:
            ids = tok(backend.render(conv), return_tensors="pt", add_special_tokens=False)
            with torch.inference_mode():
                out = model.generate(
                    **ids,
                    max_new_tokens=args.max_new_tokens,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tok.pad_token_id,
                )
            tokens += out.shape[1] - ids["input_ids"].shape[1]
    else:
        bs = int(mode)
        for i in range(0, len(convs), bs):
            tokens += sum(
                g.completion_tokens for g in backend.generate(convs[i : i + bs], settings)
            )
    secs = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "mode": mode,
        "records": len(convs),
        "seconds": secs,
        "tokens": tokens,
        "rec_s": len(convs) / secs,
        "tok_s": tokens / secs,
        "peak_rss_mb": rss_mb,
    }


if args.one:
    print(json.dumps(run_one(args.one)))
    sys.exit(0)

rows = []
for mode in ["sequential", *args.batch_sizes.split(",")]:
    cmd = [
        sys.executable,
        __file__,
        "--one",
        mode,
        "--model",
        args.model,
        "--dtype",
        args.dtype,
        "--records",
        str(args.records),
        "--max-new-tokens",
        str(args.max_new_tokens),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"  {mode}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)

base = rows[0]["tok_s"]
print(
    f"\nmodel {args.model} ({args.dtype}), {args.records} demo records, "
    f"max_new_tokens {args.max_new_tokens}, {os.cpu_count()} CPU threads\n"
)
print(benchmark_header())
print("| mode | records/s | generated tok/s | speed-up | peak RSS MB |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    label = "sequential model.generate" if r["mode"] == "sequential" else f"batch {r['mode']}"
    print(
        f"| {label} | {r['rec_s']:.3f} | {r['tok_s']:.1f} | {r['tok_s'] / base:.1f}x | "
        f"{r['peak_rss_mb']:.0f} |"
    )
