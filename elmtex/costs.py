"""What a run cost, from its cache rows and manifest: speed, tokens, memory, and what produced it.

Per cached row the caching stage stores prompt_tokens, completion_tokens, latency_s (the wall
time of the call that produced the answer: in process, the whole batch's) and batch_size.
Generation seconds per record = sum of latency_s / batch_size over the rows / rows (in process
the batch's wall time shared by its records; for a server backend sending a batch concurrently,
each request's latency shared the same way: an approximation). records/s = 1 / that. The
manifest names backend, dtype and hardware, and (caches made from now on) the peak memory of
the caching process: peak RSS (resource.getrusage) and, on CUDA, torch's peak allocated memory.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from elmtex.io import read_json, write_json


def peak_memory() -> dict[str, int | None]:
    """This process's peak RSS in bytes and, when torch has CUDA up, its peak GPU memory."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss_bytes = int(rss) if sys.platform == "darwin" else int(rss) * 1024
    cuda = None
    torch = sys.modules.get("torch")  # only if the stage loaded it: never import it here
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = int(
            max(torch.cuda.max_memory_allocated(i) for i in range(torch.cuda.device_count()))
        )
    return {"peak_rss_bytes": rss_bytes, "peak_cuda_bytes": cuda}


def manifest_path_of(cache_path: Path) -> Path:
    """data/cache/<run>.jsonl -> data/cache/<run>.manifest.json"""
    name = cache_path.name
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else cache_path.stem
    return cache_path.with_name(stem + ".manifest.json")


def record_peak_memory(cache_path: Path) -> None:
    """Store peak_memory() in the run's manifest (not part of its fingerprint); a resumed run
    keeps the larger of the old and new values."""
    path = manifest_path_of(Path(cache_path))
    if not path.exists():
        return
    manifest = read_json(path)
    old = manifest.get("peak_memory") or {}
    new = peak_memory()
    manifest["peak_memory"] = {
        k: max((x for x in (old.get(k), v) if x is not None), default=None) for k, v in new.items()
    }
    write_json(path, manifest)


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None


def run_costs(rows: Iterable[dict], manifest: dict | None) -> dict[str, Any]:
    """The cost summary of one run's cache rows (every row, scored or not) and its manifest."""
    n = 0
    prompt = completion = latency = share = 0.0
    n_prompt = n_completion = n_latency = 0
    for row in rows:
        n += 1
        if row.get("prompt_tokens") is not None:
            prompt += row["prompt_tokens"]
            n_prompt += 1
        if row.get("completion_tokens") is not None:
            completion += row["completion_tokens"]
            n_completion += 1
        if row.get("latency_s") is not None:
            latency += row["latency_s"]
            share += row["latency_s"] / max(1, row.get("batch_size") or 1)
            n_latency += 1
    seconds = _mean(share, n_latency)
    m = manifest or {}
    peak = m.get("peak_memory") or {}
    hardware = m.get("hardware")
    return {
        "records": n,
        "seconds_per_record": seconds,
        "records_per_s": 1 / seconds if seconds else None,
        "mean_latency_s": _mean(latency, n_latency),
        "prompt_tokens_per_record": _mean(prompt, n_prompt),
        "generated_tokens_per_record": _mean(completion, n_completion),
        "engine": m.get("backend"),
        "dtype": m.get("dtype"),
        "hardware": hardware
        if isinstance(hardware, str) or hardware is None
        else _describe_hardware(hardware),
        "peak_rss_bytes": peak.get("peak_rss_bytes"),
        "peak_cuda_bytes": peak.get("peak_cuda_bytes"),
    }


def _describe_hardware(hw: Any) -> str:
    """elmtex.hardware.describe()'s dict as one short label: device, then GPU or CPU model."""
    if isinstance(hw, dict):
        parts = [hw.get("device"), hw.get("gpu") or hw.get("cpu")]
        return " · ".join(str(p) for p in parts if p) or "-"
    return str(hw)


def format_bytes(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**30:.2f} GiB"
