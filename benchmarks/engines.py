"""Benchmark: inference engines side by side on the demo's own work. The naive and ICL prompts
of the demo test reports, greedy, the same max_new_tokens, through: the transformers backend in
float32 and bf16; vLLM's CPU build in process and served (concurrent requests), with prefix
caching on and off; llama.cpp serving the shipped GGUF as it is (4-5 bit weights, no
dequantisation) through llama-cpp-python's OpenAI-compatible server. Prints a table of
records/s, prompt and generated tokens/s, peak RSS, and each engine's rate as a share of this
machine's measured matmul rate for its precision.

    python benchmarks/engines.py                           # all engines, 16 naive + 16 ICL prompts
    python benchmarks/engines.py --records 8 --engines hf-float32,vllm-served
    python benchmarks/engines.py --workloads naive --max-new-tokens 256

Needs .venv-vllm (make vllm) for the vLLM engines and .venv-llamacpp (make llamacpp: it
compiles llama.cpp, minutes) for llama.cpp. The ICL prompts come from the retriever service,
started and stopped here (scripts/with_retriever.py). Each engine runs in a fresh process (or
server), so its peak RSS is its own: for a server, the peak RSS of the server's processes.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]

from elmtex.backends import GenerationSettings  # noqa: E402
from elmtex.provenance import benchmark_header  # noqa: E402

ENGINES = {  # name: (environment, how, precision of its matmuls)
    "hf-float32": ("main", "transformers", "float32"),
    "hf-bfloat16": ("main", "transformers", "bfloat16"),
    "vllm": ("vllm", "vllm", "float32"),
    "vllm-no-prefix-cache": ("vllm", "vllm", "float32"),
    "vllm-eager": ("vllm", "vllm", "float32"),  # enforce_eager: no torch.compile warm-up
    "vllm-served": ("vllm", "served", "float32"),
    "vllm-served-no-prefix-cache": ("vllm", "served", "float32"),
    "llamacpp-served": ("llamacpp", "llamacpp", "int8"),  # Q4_K/Q5_0/Q6_K/Q8_0 dot products
}
PYTHONS = {
    "main": ROOT / ".venv/bin/python",
    "vllm": ROOT / ".venv-vllm/bin/python",
    "llamacpp": ROOT / ".venv-llamacpp/bin/python",
}

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
parser.add_argument("--records", type=int, default=16, help="demo test reports (half en, half de)")
parser.add_argument("--max-new-tokens", type=int, default=512)
parser.add_argument("--batch-size", type=int, default=8, help="transformers: records per call")
parser.add_argument("--concurrency", type=int, default=16, help="served: requests in flight")
parser.add_argument("--engines", default=",".join(ENGINES))
parser.add_argument("--workloads", default="naive,icl")
parser.add_argument("--workdir", help="prompts, answers and logs (default: a temp folder)")
parser.add_argument(
    "--one", nargs=3, metavar=("ENGINE", "PROMPTS", "OUT"), help=argparse.SUPPRESS
)  # internal: one in-process engine
parser.add_argument("--write-prompts", help=argparse.SUPPRESS)  # internal: with the retriever
args = parser.parse_args()


def settings() -> GenerationSettings:
    return GenerationSettings(max_new_tokens=args.max_new_tokens)  # greedy, unconstrained


def write_prompts(path: Path) -> None:
    """The naive and ICL conversations of the first records of the demo test split, as the
    stages build them (the ICL ones through the running retriever service, k=3)."""
    from elmtex import icl
    from elmtex.config import load_config
    from elmtex.io import load_split
    from elmtex.prompts import PromptTemplate
    from elmtex.task import load_task

    cfg = load_config()
    task = load_task(cfg["task"])
    half = (args.records + 1) // 2
    records = load_split(ROOT / "data/demo", ["en", "de"], "test", task, half)[: args.records]
    naive = PromptTemplate(task.prompt_path("naive"))
    advanced = PromptTemplate(task.prompt_path("advanced_icl"))
    client = icl.RetrieverClient(icl.retriever_url(cfg))
    out = {"naive": [], "icl": []}
    for r in records:
        out["naive"].append(naive.render(task, r[task.input_key]))
        examples = client.retrieve(r[task.input_key], 3, r["lang"], exclude_ids=[r["id"]])
        out["icl"].append(icl.render_prompt(advanced, task, r[task.input_key], examples))
    path.write_text(json.dumps(out, ensure_ascii=False))


def run_in_process(engine: str, prompts_path: Path, out_path: Path) -> None:
    """One in-process engine over every workload; writes its answers and timings."""
    from elmtex.local_models import resolve_model_path

    _, how, precision = ENGINES[engine]
    path = resolve_model_path(args.model)
    t_start = time.perf_counter()
    if how == "transformers":
        from elmtex.backends import TransformersBackend

        backend = TransformersBackend(path, precision, "cpu")
        batch = args.batch_size
    else:
        from elmtex.backends import VLLMBackend

        backend = VLLMBackend(
            path,
            "float32",
            1234,
            max_model_len=8192,
            prefix_caching="no-prefix-cache" not in engine,
            enforce_eager=engine.endswith("-eager"),
        )
        batch = 10**6  # vLLM schedules the whole workload itself
    result = {"load_s": time.perf_counter() - t_start}
    for workload, convs in json.loads(prompts_path.read_text()).items():
        t0 = time.perf_counter()
        gens = []
        for i in range(0, len(convs), batch):
            gens += backend.generate(convs[i : i + batch], settings())
        result[workload] = summary(gens, time.perf_counter() - t0)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out_path.write_text(json.dumps(result))


def summary(gens: list, seconds: float) -> dict:
    return {
        "seconds": seconds,
        "records": len(gens),
        "prompt_tokens": sum(g.prompt_tokens or 0 for g in gens),
        "completion_tokens": sum(g.completion_tokens or 0 for g in gens),
        "errors": sum(g.finish_reason == "error" for g in gens),
        "texts": [g.text for g in gens],
    }


def tree_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a process and its descendants, summed, in MB."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += (
                next(
                    int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
                )
                / 1024
            )
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
        except (OSError, StopIteration):
            continue
    return total


def run_served(engine: str, prompts_path: Path, workdir: Path) -> dict:
    """Start the engine's server on a free port, send each workload with `--concurrency`
    requests in flight, stop the server."""
    import socket

    import requests

    from elmtex.backends import OpenAIBackend

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, how, _ = ENGINES[engine]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if how == "served":
        cmd = [
            "bash",
            str(ROOT / "scripts/run_llm.sh"),
            "--set",
            "model.dtype=float32",
            "--set",
            "backend.vllm.max_model_len=8192",
            "--set",
            f"backend.vllm.prefix_caching={'no-prefix-cache' not in engine}",
            "--set",
            "backend.vllm.enforce_eager=false",  # compiled, as "vllm"; auto is eager on a CPU
            args.model,
        ]
        env.update(PORT=str(port), VLLM_PYTHON=str(PYTHONS["vllm"]))
        served_name = args.model
    else:
        gguf = llamacpp_gguf(workdir)
        cmd = [
            str(PYTHONS["llamacpp"]),
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "16384",
            "--n_threads",
            str(os.cpu_count()),
            "--model_alias",
            args.model,
        ]
        served_name = args.model
    log = (workdir / f"{engine}.server.log").open("w")
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/v1"
    start = time.perf_counter()
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{engine}: the server exited; see {log.name}")
            try:
                if requests.get(url + "/models", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(2)
        result: dict = {"startup_s": time.perf_counter() - start}
        client = OpenAIBackend(
            url, served_name, concurrency=args.concurrency, timeout_s=3600, max_retries=0
        )
        for workload, convs in json.loads(prompts_path.read_text()).items():
            t0 = time.perf_counter()
            gens = client.generate(convs, settings())
            result[workload] = summary(gens, time.perf_counter() - t0)
        result["peak_rss_mb"] = tree_rss_mb(proc.pid)
        return result
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def llamacpp_gguf(workdir: Path) -> Path:
    """The shipped GGUF joined from its package parts (sha256-checked), as it is."""
    from elmtex.local_models import get_spec, materialized_gguf

    spec = get_spec(args.model)
    target = workdir / spec.gguf_name
    if not target.exists():
        with materialized_gguf(spec, workdir) as joined:
            shutil.copyfile(joined, target)
    return target


def matmul_rates() -> dict[str, float]:
    """GFLOP/s (int8: GOP/s) of a 2048x2048 matmul on this machine, with torch's threads."""
    import torch

    n, rates = 2048, {}
    for name, dtype in (
        ("float32", torch.float32),
        ("bfloat16", torch.bfloat16),
        ("int8", torch.int8),
    ):
        if dtype == torch.int8:
            a = torch.randint(-64, 64, (n, n), dtype=dtype)
            b = torch.randint(-64, 64, (n, n), dtype=dtype)
            op = torch._int_mm
        else:
            a, b, op = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype), torch.mm
        op(a, b)
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 3:
            op(a, b)
            reps += 1
        rates[name] = 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9
    return rates


def model_matmul_params() -> int:
    """Weights that every token multiplies: all but the input embedding (the tied output
    head counts once, as the last matmul)."""
    from transformers import AutoConfig

    from elmtex.local_models import resolve_model_path

    c = AutoConfig.from_pretrained(resolve_model_path(args.model))
    head = c.head_dim if getattr(c, "head_dim", None) else c.hidden_size // c.num_attention_heads
    attn = c.hidden_size * head * (c.num_attention_heads * 2 + c.num_key_value_heads * 2)
    mlp = 3 * c.hidden_size * c.intermediate_size
    return c.num_hidden_layers * (attn + mlp) + c.hidden_size * c.vocab_size


if args.write_prompts:
    write_prompts(Path(args.write_prompts))
    sys.exit(0)
if args.one:
    run_in_process(args.one[0], Path(args.one[1]), Path(args.one[2]))
    sys.exit(0)

# SIGTERM (e.g. a stopped job) unwinds like Ctrl-C, so a running server is stopped too.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench-engines-"))
workdir.mkdir(parents=True, exist_ok=True)
engines = [e for e in args.engines.split(",") if e]
unknown = [e for e in engines if e not in ENGINES]
missing = sorted(
    {
        str(PYTHONS[ENGINES[e][0]])
        for e in engines
        if e in ENGINES and not PYTHONS[ENGINES[e][0]].exists()
    }
)
if unknown or missing:
    sys.exit(
        f"unknown engines {unknown} (choose from {', '.join(ENGINES)})"
        if unknown
        else f"missing environments: {missing} (see this script's docstring)"
    )
print(benchmark_header())
prompts_path = workdir / "prompts.json"
if not prompts_path.exists():
    print(
        "rendering the prompts (the retriever service starts for the ICL ones) ...",
        file=sys.stderr,
        flush=True,
    )
    subprocess.run(
        [
            str(PYTHONS["main"]),
            str(ROOT / "scripts/with_retriever.py"),
            "--",
            str(PYTHONS["main"]),
            __file__,
            "--records",
            str(args.records),
            "--write-prompts",
            str(prompts_path),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
workloads = [w for w in args.workloads.split(",") if w]
prompts = json.loads(prompts_path.read_text())
(workdir / "selected.json").write_text(json.dumps({w: prompts[w] for w in workloads}))
selected = workdir / "selected.json"

rates = matmul_rates()
params = model_matmul_params()
results = {}
for engine in engines:
    print(f"running {engine} ...", file=sys.stderr, flush=True)
    env_name, how, _ = ENGINES[engine]
    if how in ("transformers", "vllm"):
        out = workdir / f"{engine}.json"
        subprocess.run(
            [
                str(PYTHONS[env_name]),
                __file__,
                "--one",
                engine,
                str(selected),
                str(out),
                "--model",
                args.model,
                "--max-new-tokens",
                str(args.max_new_tokens),
                "--batch-size",
                str(args.batch_size),
            ],
            cwd=ROOT,
            check=True,
            stdout=(workdir / f"{engine}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        results[engine] = json.loads(out.read_text())
    else:
        results[engine] = run_served(engine, selected, workdir)
    (workdir / "results.json").write_text(json.dumps(results))

print(
    f"\nmodel {args.model}, {args.records} demo test reports per workload, greedy, "
    f"max_new_tokens {args.max_new_tokens}; transformers batches of {args.batch_size}, "
    f"served engines {args.concurrency} requests in flight. Matmul rate here (2048x2048): "
    + ", ".join(f"{k} {v:.0f} G{'OP' if k == 'int8' else 'FLOP'}/s" for k, v in rates.items())
    + f". Share = 2 x {params / 1e6:.0f}M matmul weights x (prompt + generated tokens) / s, "
    "over that rate for the engine's precision.\n"
)
print(
    "| engine | workload | records/s | prompt tok/s | generated tok/s | seconds | "
    "peak RSS MB | share of matmul peak |"
)
print("|---|---|---:|---:|---:|---:|---:|---:|")
for engine, res in results.items():
    for w in workloads:
        r = res[w]
        s = r["seconds"]
        done = 2 * params * (r["prompt_tokens"] + r["completion_tokens"]) / s / 1e9
        print(
            f"| {engine} | {w} | {r['records'] / s:.3f} | {r['prompt_tokens'] / s:.0f} | "
            f"{r['completion_tokens'] / s:.1f} | {s:.0f} | {res['peak_rss_mb']:.0f} | "
            f"{done / rates[ENGINES[engine][2]]:.1%} |"
            + (" errors: " + str(r["errors"]) if r["errors"] else "")
        )

# Agreement of each engine's greedy answers with transformers float32's (same prompts).
if "hf-float32" in results:
    from transformers import AutoTokenizer

    from elmtex.backends import token_agreement
    from elmtex.local_models import resolve_model_path

    tok = AutoTokenizer.from_pretrained(resolve_model_path(args.model))
    print(
        "\n| engine | workload | answers identical to transformers float32 | mean shared prefix |"
    )
    print("|---|---|---:|---:|")
    for engine, res in results.items():
        if engine == "hf-float32":
            continue
        for w in workloads:
            a = token_agreement(tok, res[w]["texts"], results["hf-float32"][w]["texts"])
            print(
                f"| {engine} | {w} | {a['identical']}/{a['answers']} | "
                f"{a['mean_prefix_share']:.1%} |"
            )
for engine, res in results.items():
    if "startup_s" in res:
        print(f"{engine}: the server took {res['startup_s']:.0f} s to answer its first request")
    if "load_s" in res:
        print(f"{engine}: loading the engine took {res['load_s']:.0f} s (warm-up included)")
print(f"\nanswers and logs: {workdir}")
