"""Benchmark: the in-context example retriever. Prints Markdown tables of embedding throughput,
index build time, and latency under load against the running service.

    python benchmarks/retrieval.py                                # 60,000 records, 16 clients
    python benchmarks/retrieval.py --records 2000 --requests 200  # a quick run

The indexed records are synthetic English reports from the demo generator
(elmtex/synth/demo.py), written once to <workdir>/data; the queries are generated test-split
reports, never indexed. The service is started as a subprocess (icl_retriever_app.py, as a
user would) and keeps its index under <workdir>/index, so a rerun reuses it. `--requests` is
the total over all client threads, each with its own keep-alive connection, k=3.

Latency is split with the service's own timing: the query's embedding (the model forward
pass), the wait for the model (query embedding runs one request at a time), the FAISS search
(with the exclusion filter), and what a request costs apart from embedding its query, twice:
the service's handler time minus embedding and wait (parsing, search, assembling the answer),
and the client-observed latency minus embedding and wait (that plus HTTP, waitress and the
client itself, whose 16 threads share the same cores).
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import requests
from tqdm import tqdm

from elmtex import ROOT
from elmtex.config import load_config, resolve_path
from elmtex.io import write_jsonl
from elmtex.provenance import benchmark_header
from elmtex.retrieval import Embedder, build_index
from elmtex.synth.demo import generate_record

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--records", type=int, default=60000, help="indexed records (one language)")
parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
parser.add_argument("--requests", type=int, default=1000, help="requests in total, all clients")
parser.add_argument("--index-types", default="flat,ivf")
parser.add_argument(
    "--dtype",
    default="bfloat16",
    help="embedding dtype of the benchmarked index and service (the config "
    "default is float32: about half as fast on this CPU)",
)
parser.add_argument(
    "--max-seq-length",
    type=int,
    default=128,
    help="tokens embedded per text for the benchmarked index (default config: "
    "512): 60,000 reports at 512 tokens take over an hour on 2 busy cores, "
    "and the search cost does not depend on it",
)
parser.add_argument("--sample", type=int, default=256, help="texts for the throughput rows")
parser.add_argument(
    "--threads",
    type=int,
    default=None,
    help="waitress threads (default: --clients, so requests wait at the "
    "model, where the service measures the wait, not in waitress's queue)",
)
parser.add_argument("--workdir", default="data/cache/bench-retriever")
args = parser.parse_args()
threads = args.threads or args.clients
workdir = resolve_path(args.workdir)
LANG, K = "en", 3


def make_data() -> tuple[Path, list[str]]:
    """<workdir>/data/en/train.jsonl with --records generated reports (kept for reruns), and
    200 generated test-split reports as queries."""
    data = workdir / "data"
    path = data / LANG / "train.jsonl"
    if not path.exists() or sum(1 for _ in path.open()) != args.records:
        recs = [
            generate_record(LANG, "train", i)
            for i in tqdm(range(args.records), desc="generating records")
        ]
        write_jsonl(path, recs)
    queries = [generate_record(LANG, "test", i)["report"] for i in range(200)]
    return data, queries


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def embedding_rows(texts: list[str]) -> list[str]:
    """Batches with all cores (as the service builds its index), single queries with the
    service's retriever.torch_threads (as it serves them)."""
    import torch

    rows = []
    default = load_config()["retriever"]
    all_threads = torch.get_num_threads()
    for dtype, length in [
        ("float32", default["max_seq_length"]),
        (args.dtype, args.max_seq_length),
    ]:
        emb = Embedder(
            default["embedding_model"],
            "cpu",
            default["batch_size"],
            dtype=dtype,
            max_seq_length=length,
        )
        torch.set_num_threads(all_threads)
        emb.embed_passages(texts[:8], progress=False)  # warm-up
        t0 = time.perf_counter()
        emb.embed_passages(texts, progress=False)
        rate = len(texts) / (time.perf_counter() - t0)
        torch.set_num_threads(default["torch_threads"] or all_threads)
        single = []
        for t in texts[:21]:
            t0 = time.perf_counter()
            emb.embed_query(t)
            single.append((time.perf_counter() - t0) * 1000)
        rows.append(f"| {dtype}, max {length} tokens | {rate:.1f} | {pct(single[1:], 50):.1f} |")
    torch.set_num_threads(all_threads)
    return rows


def start_service(data: Path, index_type: str) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sets = [
        f"data.dir={data}",
        f"data.langs=[{LANG}]",
        f"retriever.port={port}",
        f"retriever.index_dir={workdir / 'index'}",
        f"retriever.index.type={index_type}",
        f"retriever.dtype={args.dtype}",
        f"retriever.max_seq_length={args.max_seq_length}",
        f"retriever.threads={threads}",
    ]
    cmd = [sys.executable, str(ROOT / "icl_retriever_app.py")]
    for s in sets:
        cmd += ["--set", s]
    # The service's log (and its embedding progress bar) goes to our stderr.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            sys.exit(f"the service exited with {proc.returncode}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)


def load(url: str, queries: list[str]) -> dict:
    """--clients threads send --requests requests in total, as fast as answers come."""
    lock, next_i = threading.Lock(), [0]
    rows, errors = [], []

    def client():
        session = requests.Session()
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= args.requests:
                return
            body = {"report": queries[i % len(queries)], "k": K, "lang": LANG}
            t0 = time.perf_counter()
            try:
                resp = session.post(url + "/retrieve", json=body, timeout=120)
                ms = (time.perf_counter() - t0) * 1000
                if resp.status_code != 200 or len(resp.json()["examples"]) != K:
                    errors.append(f"{resp.status_code} {resp.text[:200]}")
                    continue
                t = resp.json()["timing"]
                rows.append((ms, t["embed_ms"], t["queue_ms"], t["search_ms"], t["total_ms"]))
            except (requests.RequestException, ValueError) as e:
                errors.append(repr(e))

    for q in queries[:5]:  # warm-up, not counted
        requests.post(url + "/retrieve", json={"report": q, "k": K, "lang": LANG}, timeout=60)
    workers = [threading.Thread(target=client) for _ in range(args.clients)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    a = np.array(rows) if rows else np.zeros((0, 5))
    return {
        "n": len(rows),
        "errors": errors,
        "rps": len(rows) / wall,
        "client": a[:, 0],
        "embed": a[:, 1],
        "queue": a[:, 2],
        "search": a[:, 3],
        "server_excl": a[:, 4] - a[:, 1] - a[:, 2],
        "excl": a[:, 0] - a[:, 1] - a[:, 2],
    }


def fmt(values) -> str:
    return f"{pct(values, 50):.1f} / {pct(values, 99):.1f}"


data, queries = make_data()
print(benchmark_header())
print(f"embedding throughput on {args.sample} reports ...", file=sys.stderr)
texts = [generate_record(LANG, "val", i)["report"] for i in range(args.sample)]
embed_rows = embedding_rows(texts)

load_rows, build_rows, verdicts, loadavg = [], [], [], []
for kind in args.index_types.split(","):
    proc, url = start_service(data, kind)
    try:
        health = requests.get(url + "/health", timeout=10).json()
        assert health["languages"] == {LANG: args.records}, health
        stats = load(url, queries)
        loadavg.append(os.getloadavg()[0])  # others' work on the same cores shows here
    finally:
        proc.terminate()
        proc.wait(60)
    index = health["index"]
    name = kind if kind == "flat" else f"ivf (nlist {index['nlist']}, nprobe {index['nprobe']})"
    load_rows.append(
        f"| {name} | {stats['n'] + len(stats['errors'])} | {len(stats['errors'])} | "
        f"{stats['rps']:.1f} | {fmt(stats['client'])} | {fmt(stats['embed'])} | "
        f"{fmt(stats['queue'])} | {fmt(stats['search'])} | **{fmt(stats['server_excl'])}** | "
        f"**{fmt(stats['excl'])}** |"
    )
    for label, key in [("service", "server_excl"), ("client", "excl")]:
        met = pct(stats[key], 50) <= 10 and pct(stats[key], 99) <= 50 and not stats["errors"]
        verdicts.append(f"{kind} {label}: {'met' if met else 'MISSED'}")
    for e in stats["errors"][:5]:
        print("error:", e, file=sys.stderr)

# Index build time, in process, from the vectors the service stored.
vectors = np.load(next((workdir / "index" / LANG).glob("embeddings-*.npy")))
for settings in ({"type": "flat"}, {"type": "ivf", "nlist": 20}):
    t0 = time.perf_counter()
    build_index(vectors, settings)
    dt = time.perf_counter() - t0
    label = "flat" if settings["type"] == "flat" else "ivf, nlist 20 (train + add)"
    build_rows.append(f"| {label} | {dt * 1000:.0f} |")

cfg = load_config()["retriever"]
print(
    f"\nModel {cfg['embedding_model']}, {os.cpu_count()} CPU threads. Index: {args.records:,} "
    f"synthetic English demo records embedded in {args.dtype}, max {args.max_seq_length} "
    f"tokens. Load: {args.clients} client threads, {args.requests:,} requests in total per "
    f"index, k={K}, waitress threads {threads}. Latencies in ms, p50 / p99. 1-minute load "
    f"average after each load run: {', '.join(f'{x:.1f}' for x in loadavg)}.\n"
)
print(
    f"| embedding ({args.sample} demo reports) | texts/s (batch {cfg['batch_size']}, "
    f"all cores) | one query p50, ms ({cfg['torch_threads'] or 'all'} thread) |"
)
print("|---|---:|---:|")
print("\n".join(embed_rows))
print(f"\n| index build ({len(vectors):,} x {vectors.shape[1]} vectors) | ms |")
print("|---|---:|")
print("\n".join(build_rows))
print(
    "\n| index | requests | errors | requests/s | client latency | query embedding | "
    "wait for the model | search | **service time excl. embedding** | "
    "**client latency excl. embedding** |"
)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print("\n".join(load_rows))
print(
    f"\nTarget per request excluding the query embedding: p50 <= 10 ms, p99 <= 50 ms, no "
    f"errors. {'; '.join(verdicts)}."
)
