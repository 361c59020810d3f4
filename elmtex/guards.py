"""Checks that keep bad input from losing data, crashing late or leaking a secret.

One place for what every stage shares: config ranges and choices (checked when the config
loads, before any model loads), run names as file names, secrets from the environment and
redacted wherever a config is printed or saved, text that a tokenizer can encode, one writer
per cache file, and the Host names the web apps answer.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from elmtex.errors import ConfigError, UserError

# --- Config ranges and choices ----------------------------------------------------------------

# key -> (lowest, highest); None = unbounded that side. A null value is allowed where the
# default is null (checked by config's type rules), so only numbers are checked here.
RANGES: dict[str, tuple[float | None, float | None]] = {
    "data.limit": (1, None),
    "backend.batch_size": (1, None),
    "backend.transformers.torch_threads": (1, None),
    "backend.vllm.tensor_parallel_size": (1, None),
    "backend.vllm.pipeline_parallel_size": (1, None),
    "backend.vllm.data_parallel_size": (1, None),
    "backend.vllm.max_model_len": (1, None),
    "backend.vllm.gpu_memory_utilization": (0.01, 1.0),
    "backend.vllm.cpu_kv_cache_gib": (0, None),
    "backend.openai.concurrency": (1, None),
    "backend.openai.timeout_s": (0.001, None),
    "backend.openai.max_retries": (0, None),
    "backend.openai.backoff_s": (0, None),
    "generation.max_new_tokens": (1, None),
    "generation.temperature": (0, None),
    "generation.top_p": (0.000001, 1.0),
    "generation.max_value_chars": (1, None),
    "retriever.port": (0, 65535),  # 0 = any free port
    "retriever.batch_size": (1, None),
    "retriever.max_seq_length": (1, None),
    "retriever.index.nlist": (1, None),
    "retriever.index.nprobe": (1, None),
    "retriever.max_k": (1, None),
    "retriever.max_body_bytes": (1, None),
    "retriever.threads": (1, None),
    "retriever.torch_threads": (1, None),
    "icl.k": (1, None),
    "icl.timeout_s": (0.001, None),
    "icl.max_prompt_tokens": (1, None),
    "rag.k": (1, None),
    "rag.rerank_to": (1, None),
    "rag.timeout_s": (0.001, None),
    "judge.max_new_tokens": (1, None),
    "evaluate.bootstrap.n_boot": (1, None),
    "evaluate.bootstrap.alpha": (0.000001, 0.999999),
    "evaluate.entities.threshold": (0, 1),
    "evaluate.bertscore.batch_size": (1, None),
    "evaluate.bertscore.num_layers": (1, None),
    "evaluate.grounding.fuzzy_threshold": (0, 1),
    "finetune.train_limit": (1, None),
    "finetune.val_limit": (1, None),
    "finetune.max_length": (1, None),
    "finetune.lora.r": (1, None),
    "finetune.lora.alpha": (0.000001, None),
    "finetune.lora.dropout": (0, 0.999999),
    "finetune.lora.top_layers": (1, None),
    # The finetune.sft block goes to trl.SFTConfig as it is; its usual numbers are checked here
    # too, so that a bad one stops before any model loads.
    "finetune.sft.learning_rate": (0.0, None),
    "finetune.sft.warmup_steps": (0, None),
    "finetune.sft.weight_decay": (0, None),
    "finetune.sft.max_grad_norm": (0, None),
    "finetune.sft.num_train_epochs": (0.000001, None),
    "finetune.sft.max_steps": (-1, None),  # -1 = no step limit
    "finetune.sft.per_device_train_batch_size": (1, None),
    "finetune.sft.per_device_eval_batch_size": (1, None),
    "finetune.sft.gradient_accumulation_steps": (1, None),
    "finetune.sft.logging_steps": (0.000001, None),
    "finetune.sft.eval_steps": (0.000001, None),
    "finetune.sft.save_steps": (0.000001, None),
    "finetune.sft.save_total_limit": (1, None),
    "finetune.torch_threads": (1, None),
    "finetune.merge_check_records": (0, None),
    "review.port": (0, 65535),
    "review.threads": (1, None),
}

CHOICES: dict[str, tuple[Any, ...]] = {
    "backend.name": ("transformers", "vllm", "openai"),
    "model.dtype": ("auto", "bfloat16", "float16", "float32"),
    "backend.transformers.device": ("auto", "cpu", "cuda"),
    "backend.vllm.distributed_executor_backend": (None, "mp", "ray"),
    "generation.json_whitespace": ("spaced", "compact", "none"),
    "retriever.device": ("cpu", "cuda"),
    "retriever.dtype": ("auto", "float32", "bfloat16", "float16"),
    "retriever.index.type": ("flat", "ivf"),
    "retriever.passages.reranker": ("bm25", "cross-encoder", "none"),
    "judge.backend": (None, "transformers", "vllm", "openai"),
    "judge.context": ("gold", "retrieved", "none"),
    "evaluate.unparseable": ("empty", "skip"),
    "evaluate.gold_na": ("exclude", "match"),
    "evaluate.entities.backend": ("items", "umls"),
    "evaluate.bertscore.dtype": ("auto", "float32", "bfloat16", "float16"),
    "finetune.overlong": ("drop", "truncate"),
    "finetune.method": ("lora", "qlora", "dora"),
    "finetune.qlora_merge_into": ("original", "dequantized"),
    "finetune.merge_dtype": ("bfloat16", "float16", "float32"),
}

# Config values that are file names (never paths: a name with "/" or ".." writes elsewhere).
FILE_NAME_KEYS = ("run.name", "finetune.name", "evaluate.comparison_name")


def _get(cfg: dict, dotted: str) -> tuple[bool, Any]:
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def check_config(cfg: dict) -> None:
    """Every range, choice and file name of a loaded config; the first problem is a
    ConfigError naming the key, the value and what is allowed."""
    for key, (lo, hi) in RANGES.items():
        found, value = _get(cfg, key)
        if not found or value is None or isinstance(value, bool):
            continue
        if not isinstance(value, (int, float)):
            continue  # the type check in config.py has spoken already
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            allowed = (
                f"between {lo:g} and {hi:g}"
                if lo is not None and hi is not None
                else f"at least {lo:g}"
                if lo is not None
                else f"at most {hi:g}"
            )
            raise ConfigError(f"Config key '{key}' must be {allowed}, got {value!r}.")
    for key, options in CHOICES.items():
        found, value = _get(cfg, key)
        if found and value not in options:
            shown = ", ".join("null" if o is None else str(o) for o in options)
            raise ConfigError(f"Config key '{key}' must be one of {shown}; got {value!r}.")
    for key in FILE_NAME_KEYS:
        found, value = _get(cfg, key)
        if found and value not in (None, ""):  # null or empty: the default name
            check_file_name(value, f"config key '{key}'")


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=@-]*")


def check_file_name(name: Any, what: str) -> str:
    """A name used as one file name: letters, digits and . _ + = @ -, not starting with a dot,
    at most 200 characters (so no '/', no '..', nothing hidden, nothing outside its folder)."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or len(name) > 200:
        raise ConfigError(
            f"{what} must be a file name (letters, digits and . _ + = @ -, not "
            f"starting with '.' or '-', at most 200 characters), got {name!r}."
        )
    return name


# --- Secrets ---------------------------------------------------------------------------------

SECRET_KEYS = ("backend.openai.api_key",)
REDACTED = "<redacted>"
# Values that are no secret: vLLM and llama.cpp servers take any key.
PLACEHOLDER_KEYS = {None, "", "EMPTY"}


def openai_api_key(cfg: dict) -> str:
    """The key for the OpenAI-compatible server: the environment variable that
    backend.openai.api_key_env names (OPENAI_API_KEY by default) wins over the config value,
    which is best left at EMPTY so no secret sits in a file."""
    o = cfg["backend"]["openai"]
    env_name = o.get("api_key_env") or "OPENAI_API_KEY"
    return os.environ.get(env_name) or o.get("api_key") or "EMPTY"


def redact_config(cfg: dict) -> dict:
    """A copy of `cfg` with every secret replaced: what may be printed, logged or saved."""
    out = copy.deepcopy(cfg)
    for key in SECRET_KEYS:
        *parents, last = key.split(".")
        node = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(last) not in PLACEHOLDER_KEYS:
            node[last] = REDACTED
    return out


# --- Text a tokenizer can take ---------------------------------------------------------------

# Lone surrogates (cannot be encoded as UTF-8) and control characters other than whitespace
# (\t \n \v \f \r and U+0085). One regex: it runs over every report of a split.
_BAD_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
MAX_DEPTH = 64  # nesting deeper than this in a record is refused (RecursionError otherwise)


def text_problem(text: str) -> str | None:
    """Why `text` cannot go to a tokenizer or a web response, or None: a lone surrogate
    (cannot be encoded as UTF-8), or a control character other than whitespace."""
    m = _BAD_TEXT.search(text)
    if m is None:
        return None
    ch, i = m.group(), m.start()
    if unicodedata.category(ch) == "Cs":
        return f"a lone surrogate U+{ord(ch):04X} at character {i} (not encodable text)"
    return f"control character U+{ord(ch):04X} at character {i}"


def value_problem(value: Any, name: str, depth: int = 0) -> str | None:
    """text_problem for every string inside a JSON value, and a bound on nesting depth."""
    if depth > MAX_DEPTH:
        return f"'{name.split('.')[0]}' is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        why = text_problem(value)
        return f"'{name}' holds {why}" if why else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for k, v in items:
        if isinstance(k, str) and text_problem(k):
            return f"a key in '{name}' holds {text_problem(k)}"
        why = value_problem(v, f"{name}.{k}", depth + 1)
        if why:
            return why
    return None


def loads_line(line: str | bytes) -> Any:
    """json.loads that turns nesting too deep for Python into a ValueError (json raises
    RecursionError there, which no caller expects)."""
    try:
        return json.loads(line)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_utf8(path: Path) -> str:
    """A text file's contents; bytes that are not UTF-8 are a ConfigError naming file, line
    and column (config, task and prompt files)."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column "
            f"{column}); save the file as UTF-8."
        ) from None


# --- One writer per cache --------------------------------------------------------------------


class CacheBusy(UserError, RuntimeError):
    """Another process writes this cache now."""


class WriterLock:
    """An exclusive, non-blocking lock on `<path>.lock` for the life of a `with` block. The
    lock file holds the owner's PID, so the message names the other process. The kernel
    releases the lock when its process ends, even by kill -9: a stale file never blocks."""

    def __init__(self, path: Path, what: str = "cache"):
        self.path = Path(str(path) + ".lock")
        self.target, self.what = Path(path), what
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise CacheBusy(
                f"{self.target} is being written by another process (PID {other}); "
                "wait for it to finish, or pick another run name "
                "(--set run.name=...)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


# Caches this process writes: locked until it exits (the kernel frees a dead process's lock).
_WRITER_LOCKS: dict[Path, WriterLock] = {}


def hold_writer_lock(cache_path: Path) -> None:
    """Make this process the only writer of `cache_path` for the rest of its life; a second
    process gets a CacheBusy error naming the first one's PID (two writers would each write
    every record: the cache would hold every id twice)."""
    key = Path(cache_path).resolve()
    if key not in _WRITER_LOCKS:
        _WRITER_LOCKS[key] = WriterLock(key).__enter__()


# --- Web apps: Host allow-list ---------------------------------------------------------------

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
ANY_ADDRESS = {"0.0.0.0", "::", ""}


def allowed_hosts(bind_host: str) -> set[str] | None:
    """Host names (without port) a server bound to `bind_host` answers; None = any (a server
    on 0.0.0.0 is reachable under names it cannot know)."""
    if bind_host in ANY_ADDRESS:
        return None
    names = {bind_host.lower()}
    if bind_host in LOOPBACK_NAMES or bind_host.startswith("127."):
        names |= LOOPBACK_NAMES
    return names


_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::\d{1,5})?$")


def host_name(host_header: str) -> str | None:
    """'example.org:8770' -> 'example.org'; '[::1]:80' -> '[::1]'; None if malformed."""
    m = _HOST_RE.match((host_header or "").strip())
    return m.group(1).lower() if m else None


def install_host_check(app: Any, bind_host: str) -> None:
    """Refuse (421) a request whose Host header is not a name of the served address: a page
    of another site that rebinds its DNS name to 127.0.0.1 would otherwise read the app."""
    allowed = allowed_hosts(bind_host)
    if allowed is None:
        return
    from flask import Response, request

    @app.before_request
    def check_host():
        if host_name(request.headers.get("Host", "")) not in allowed:
            body = json.dumps(
                {
                    "error": f"421 Misdirected Request: this server answers only "
                    f"for {sorted(allowed)}"
                }
            )
            return Response(body, status=421, mimetype="application/json")
        return None
