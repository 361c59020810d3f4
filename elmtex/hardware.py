"""Precision from the hardware: `auto` dtypes resolve to bf16 only where bf16 is native.

bf16 is native on CUDA GPUs that support it and on CPUs with avx512_bf16 or AMX (x86), or the
`bf16` feature (Arm). Elsewhere a CPU emulates it: on an Intel Xeon with AVX-512 but without
avx512_bf16 a bf16 matmul ran at about a fifth of float32's rate (docs/models-and-engines.md,
"Precision from the hardware"), so `auto` picks float32 there. Every manifest records what was
chosen and the flags it came from.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import Any

# CPU flags that decide (or explain) the choice; the manifest records the ones present.
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 AVX-512 BF16, x86 AMX, Arm BF16
VECTOR_FLAGS = (
    "avx2",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "amx_tile",
    "amx_int8",
    "fma",
    "asimd",
    "sve",
)


@functools.cache
def cpu_info() -> dict[str, Any]:
    """{"model": the CPU's name, "flags": the BF16_FLAGS and VECTOR_FLAGS it has}."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("model name", "cpu model") and model in ("", platform.machine()):
                model = value.strip()
            elif key in ("flags", "features") and not flags:  # x86 "flags", Arm "Features"
                flags = set(value.split())
    known = [f for f in (*BF16_FLAGS, *VECTOR_FLAGS) if f in flags]
    return {"model": model, "flags": known}


def cpu_has_native_bf16() -> bool:
    return any(f in cpu_info()["flags"] for f in BF16_FLAGS)


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" where a CUDA GPU is visible, else "cpu"; other values as they are."""
    return ("cuda" if cuda_available() else "cpu") if device == "auto" else device


def bf16_is_native(device: str) -> bool:
    """On CUDA: assumed (every GPU from Ampere on; set float16 by hand on older ones), since
    asking the GPU would start CUDA in this process, and vLLM must then spawn its workers."""
    if resolve_device(device).startswith("cuda"):
        return True
    return cpu_has_native_bf16()


def resolve_enforce_eager(value: bool | str) -> bool:
    """vLLM's eager mode: "auto" is eager without CUDA, compiled (torch.compile, CUDA graphs) on it.

    On a CPU the compile warm-up outweighs what it buys for runs of the demo's size: on 2 cores
    it took 94-210 s per engine start against 3 s eager, for about 10% faster generation
    (identical answers; docs/models-and-engines.md). On a GPU, CUDA graphs matter.
    """
    return (not cuda_available()) if value == "auto" else bool(value)


def resolve_dtype(dtype: str, device: str) -> str:
    """A dtype name for `device`; "auto" becomes bfloat16 where bf16 is native, else float32."""
    if dtype != "auto":
        return dtype
    return "bfloat16" if bf16_is_native(device) else "float32"


def describe(device: str = "auto") -> dict[str, Any]:
    """What the manifests record: the device, the CPU and its relevant flags, the GPU."""
    out: dict[str, Any] = {
        "device": resolve_device(device),
        "cpu": cpu_info()["model"],
        "cpu_flags": cpu_info()["flags"],
        "bf16_native": bf16_is_native(device),
    }
    if out["device"].startswith("cuda"):
        import torch

        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def why(device: str) -> str:
    """One line that says where the choice came from, e.g. for the stage's log."""
    if resolve_device(device).startswith("cuda"):  # not named: asking would start CUDA
        return "a CUDA GPU (bf16 assumed: set float16 on a GPU older than Ampere)"
    info = cpu_info()
    have = [f for f in BF16_FLAGS if f in info["flags"]]
    bf16 = f"with {'/'.join(have)}" if have else "without avx512_bf16/amx_bf16/bf16"
    return f"CPU {info['model']} {bf16} (flags: {' '.join(info['flags']) or 'none read'})"


def resolve_precision(cfg: dict, show: bool = True) -> list[str]:
    """Replace every `auto` precision of the config in place: model.dtype (for the in-process
    backends; a server picks its own), finetune.bf16, retriever.dtype. Returns what changed,
    printed with the hardware it came from when `show`."""
    changes = []
    backend = cfg["backend"]["name"]
    model = cfg["model"]
    if model.get("dtype") == "auto" and backend in ("transformers", "vllm"):
        device = cfg["backend"]["transformers"]["device"] if backend == "transformers" else "auto"
        model["dtype"] = resolve_dtype("auto", device)
        changes.append(f"model.dtype={model['dtype']}")
    ft = cfg.get("finetune", {})
    if ft.get("bf16") == "auto":
        ft["bf16"] = bf16_is_native("auto")
        changes.append(f"finetune.bf16={str(ft['bf16']).lower()}")
    rc = cfg.get("retriever", {})
    if rc.get("dtype") == "auto":
        rc["dtype"] = resolve_dtype("auto", rc.get("device", "cpu"))
        changes.append(f"retriever.dtype={rc['dtype']}")
    bs = cfg.get("evaluate", {}).get("bertscore", {})
    if bs.get("dtype") == "auto":
        bs["dtype"] = resolve_dtype("auto", "auto")  # bert_score's device: cuda if there is one
        changes.append(f"evaluate.bertscore.dtype={bs['dtype']}")
    if changes and show:
        print(f"precision (auto): {', '.join(changes)} -- {why('auto')}", flush=True)
    return changes
