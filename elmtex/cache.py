"""Caching stage logic shared by every prompting method: render, generate, parse, append.

A run's responses go to data/cache/<run>.jsonl with data/cache/<run>.manifest.json beside it.
Rerunning skips finished ids; a run whose model, prompt or generation settings changed refuses
to mix its answers into the old file. Run names and paths: elmtex/runs.py.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from elmtex.backends import Backend, Conversation, Generation, GenerationSettings
from elmtex.config import UserError
from elmtex.costs import record_peak_memory
from elmtex.guards import hold_writer_lock, redact_config
from elmtex.io import (
    JsonlAppender,
    chunks,
    json_sha256,
    read_json,
    read_jsonl,
    repair_torn_tail,
    write_json,
)
from elmtex.local_models import sha256_file
from elmtex.parsing import parse_json_object, parse_path
from elmtex.provenance import code_revision, package_versions
from elmtex.sharding import Shard


def model_identity(path: str) -> dict[str, Any]:
    """What exactly the model was: its path plus, for a prepared local model, its source hash,
    and for a merged fine-tuned model, the hash of its merged.json (a new merge is a new model)."""
    ident: dict[str, Any] = {"name_or_path": path}
    prepared = Path(path) / "prepared.json"
    if prepared.exists():
        info = read_json(prepared)
        ident.update({k: info.get(k) for k in ("name", "gguf_sha256", "dtype", "source_packages")})
    merged = Path(path) / "merged.json"
    if merged.exists():
        ident["merged_json_sha256"] = sha256_file(merged)
    return ident


def fingerprint(parts: dict) -> str:
    """Hash of what decides the answers; a resumed run must match it."""
    return json_sha256(parts)[:16]


class CacheMismatch(UserError, RuntimeError):
    """A resumed run whose settings differ from the cached part."""


def finished_ids(cache_path: Path) -> set[str]:
    """Ids already in the cache; a torn last line (crash mid-write) is cut off first."""
    if repair_torn_tail(cache_path):
        print(f"note: removed an incomplete last line from {cache_path}", file=sys.stderr)
    if not cache_path.exists():
        return set()
    return {row["id"] for _, row in read_jsonl(cache_path)}


def checked_row_count(cache_path: Path) -> int:
    """Rows of a cache, after checking that no id occurs twice (two writers at once, or a
    hand-edited file): scoring would otherwise keep one answer silently."""
    from elmtex.io import DataError

    first_line: dict[str, int] = {}
    for lineno, row in read_jsonl(cache_path):
        rid = row.get("id")
        if rid in first_line:
            raise DataError(
                f"{cache_path}:{lineno}: id {rid!r} is cached twice (first on line "
                f"{first_line[rid]}); rerun its stage with --overwrite, or remove "
                "one of the lines."
            )
        first_line[rid] = lineno
    return len(first_line)


def prepare_manifest(
    manifest_path: Path,
    cfg: dict,
    name: str,
    method: str,
    backend: Backend,
    decisive: dict,
    overwrite: bool,
    shard: Shard | None = None,
) -> dict:
    """Write (or check, on resume) the manifest; returns it. A shard's manifest also records
    which shard it is (not part of the fingerprint: every shard of a run shares it)."""
    hold_writer_lock(
        manifest_path.with_name(manifest_path.name.removesuffix(".manifest.json") + ".jsonl")
    )
    fp = fingerprint(decisive)
    identity = model_identity(backend.model_id)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if manifest_path.exists() and not overwrite:
        old = read_json(manifest_path)
        if old.get("fingerprint") != fp:
            raise CacheMismatch(
                f"{manifest_path} was made with other model/prompt/generation settings "
                f"(fingerprint {old.get('fingerprint')} != {fp}). Pick another run name "
                "(--set run.name=...) or start over with --overwrite."
            )
        # Same settings, other weights: the model was prepared or merged again since.
        changed = sorted(
            k
            for k in set(identity) | set(old.get("model", {}))
            if k != "name_or_path" and identity.get(k) != old["model"].get(k)
        )
        if changed:
            raise CacheMismatch(
                f"{manifest_path} was made with other model files ({', '.join(changed)} "
                "differ: prepared or merged again since). Pick another run name "
                "(--set run.name=...) or start over with --overwrite."
            )
        old["resumed_at"] = old.get("resumed_at", []) + [now]
        write_json(manifest_path, old)
        return old
    manifest = {
        "run": name,
        "method": method,
        "fingerprint": fp,
        "decisive": decisive,
        "backend": backend.name,
        "model": identity,
        "dtype": getattr(backend, "dtype", None),  # what model.dtype=auto resolved to
        "hardware": getattr(backend, "hardware", None),  # CPU model and flags, GPU
        "config": redact_config(cfg),  # never a secret on disk
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "code": code_revision(),
        "created_at": now,
    }
    if shard is not None:
        manifest["shard"] = shard.describe()
    write_json(manifest_path, manifest)
    return manifest


# Records are rendered (and, for ICL, retrieved) one window of this many batches at a time, not
# all at once: a 60,000-record split never has all its prompts in memory. Within a window the
# longest go first: similar lengths pad less, and a memory problem shows in the first batch.
RENDER_WINDOW_BATCHES = 16


def cache_responses(
    records: Iterable[dict],
    build: Callable[[dict], tuple[Conversation, dict]],
    backend: Backend,
    settings: GenerationSettings,
    cache_path: Path,
    run: str,
    method: str,
    batch_size: int,
) -> dict[str, int]:
    """Generate for every record not yet cached and append one line per record.

    `records` is streamed once (a list, or io.SplitRecords, whose len() sizes the progress bar).
    `build(record)` returns the conversation and extra fields to store (e.g. example ids).
    Returns counts: total, skipped (already cached), written, parse_failures, request_errors.
    """
    hold_writer_lock(cache_path)  # before reading what is done: no two writers, no duplicates
    done = finished_ids(cache_path)
    counts = {
        "total": 0,
        "skipped": 0,
        "written": 0,
        "parse_failures": 0,
        "request_errors": 0,
        "too_long": 0,
    }

    def todo() -> Iterator[dict]:
        for rec in records:
            counts["total"] += 1
            if rec["id"] in done:
                counts["skipped"] += 1
                bar.update(1)
            else:
                yield rec

    bar = tqdm(
        total=len(records) if isinstance(records, Sized) else None,
        desc=run,
        unit="rec",
        dynamic_ncols=True,
    )
    # Opened even with nothing to do: an empty shard's file says that the shard ran.
    with JsonlAppender(cache_path) as out:
        for window in chunks(todo(), max(1, batch_size) * RENDER_WINDOW_BATCHES):
            prepared = [(r, *build(r)) for r in window]
            prepared.sort(key=lambda x: -sum(len(m["content"]) for m in x[1]))
            for start in range(0, len(prepared), batch_size):
                batch = prepared[start : start + batch_size]
                rows = _generate_rows(batch, backend, settings, run, method, counts)
                out.write_many(rows)
                counts["written"] += len(rows)
                bar.update(len(batch))
                bar.set_postfix(parse_fail=counts["parse_failures"])
    bar.close()
    record_peak_memory(cache_path)  # into the manifest: the cost tables report it
    return counts


def _generate_rows(
    batch: list[tuple[dict, Conversation, dict]],
    backend: Backend,
    settings: GenerationSettings,
    run: str,
    method: str,
    counts: dict[str, int],
) -> list[dict]:
    """One generate call for a batch -> its cache rows (failed requests are counted, not kept:
    a rerun asks again). A prompt that leaves the model fewer than max_new_tokens positions is
    not sent: its row says finish_reason "too_long" (counted; the same prompt would not fit on
    a rerun either)."""
    too_long = {
        i: why
        for i, (_, conv, _) in enumerate(batch)
        if (why := prompt_too_long(backend, conv, settings.max_new_tokens))
    }
    if too_long:
        counts["too_long"] += len(too_long)
    sent = [conv for i, (_, conv, _) in enumerate(batch) if i not in too_long]
    answers = iter(backend.generate(sent, settings) if sent else [])
    gens = [
        Generation("", "too_long", too_long[i][0], 0, 0.0, error=too_long[i][1])
        if i in too_long
        else next(answers)
        for i in range(len(batch))
    ]
    rows = []
    for (rec, _, extra), gen in zip(batch, gens, strict=True):
        if gen.finish_reason == "too_long":
            tqdm.write(f"not sent: {rec['id']}: {gen.error}", file=sys.stderr)
            rows.append(
                {
                    "id": rec["id"],
                    "lang": rec.get("lang"),
                    "run": run,
                    "method": method,
                    "model": backend.model_id,
                    "raw": "",
                    "parsed": None,
                    "parse_error": gen.error,
                    "finish_reason": "too_long",
                    "prompt_tokens": gen.prompt_tokens,
                    "completion_tokens": 0,
                    "latency_s": 0.0,
                    "batch_size": len(batch),
                    "created_at": time.time(),
                    **extra,
                }
            )
            continue
        if gen.finish_reason == "error":
            counts["request_errors"] += 1
            tqdm.write(f"request failed for {rec['id']}: {gen.error}", file=sys.stderr)
            continue
        parsed, error = parse_json_object(gen.text)
        counts["parse_failures"] += parsed is None
        rows.append(
            {
                "id": rec["id"],
                "lang": rec.get("lang"),
                "run": run,
                "method": method,
                "model": backend.model_id,
                "raw": gen.text,
                "parsed": parsed,
                "parse_error": error,
                "parse_path": parse_path(gen.text),
                "finish_reason": gen.finish_reason,
                "prompt_tokens": gen.prompt_tokens,
                "completion_tokens": gen.completion_tokens,
                "latency_s": round(gen.latency_s, 4),
                "batch_size": len(batch),
                "created_at": time.time(),
                **extra,
            }
        )
    return rows


def prompt_too_long(
    backend: Backend, conversation: Conversation, max_new_tokens: int
) -> tuple[int, str] | None:
    """(prompt tokens, why) when the prompt plus max_new_tokens exceeds the model's context;
    None when it fits or the backend cannot tell (a server: it answers with an error then).
    No truncation: a cut report would be scored as if the model had seen all of it."""
    limit = getattr(backend, "context_length", lambda: None)()
    count = getattr(backend, "count_prompt_tokens", None)
    if not limit or count is None:
        return None
    n = count(conversation)
    if n + max_new_tokens <= limit:
        return None
    return n, (
        f"prompt of {n} tokens + max_new_tokens {max_new_tokens} exceeds the model's "
        f"context of {limit} tokens"
    )
