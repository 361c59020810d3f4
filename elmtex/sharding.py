"""Sharded caching: N processes (or SLURM array tasks) each cache a deterministic 1/N of a split.

Numbering: `--shard I/N` counts from 1 (1/4, 2/4, 3/4, 4/4), like "part I of N"; shard files
are named the same way, `data/cache/<run>.shard-0001-of-0004.jsonl` (+ `.manifest.json`).

Assignment: a record belongs to shard `sha256(id) mod N` (+1). It depends on the record's id
only, not on its position, so it is the same whatever `data.limit`, the order of `data.langs`
or the file order: the shards of a split are disjoint and together hold exactly the records
an unsharded run would cache. Hashing spreads records evenly in expectation (a few records may
leave one shard empty; an empty shard still writes its files, so the merge can tell it ran).

Without `--shard`, a stage inside a SLURM job array shards itself: shard
(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP + 1 of
SLURM_ARRAY_TASK_COUNT, so `--array=0-3` and `--array=1-4` both give shards 1..4. `--shard off`
ignores SLURM (an array job that runs one whole split per task).

`merge_shards` streams the shard files into the ordinary `<run>.jsonl` + manifest, refusing
shards that do not fit together (see its docstring).
"""

from __future__ import annotations

import argparse
import os
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from elmtex.config import ConfigError, UserError, resolve_path
from elmtex.io import SplitRecords, id_hash

ASSIGNMENT = "sha256(id) mod count"
SHARD_FILE = re.compile(r"^(?P<run>.+)\.shard-(?P<number>\d{4,})-of-(?P<count>\d{4,})\.jsonl$")


class ShardError(UserError, ValueError):
    """Shards that cannot be merged, or a shard spec / SLURM environment that makes no sense."""


@dataclass(frozen=True)
class Shard:
    number: int  # 1-based: shard `number` of `count`
    count: int

    def __post_init__(self):
        if not (isinstance(self.count, int) and self.count >= 1):
            raise ConfigError(f"a shard count must be a positive integer, got {self.count!r}")
        if not (isinstance(self.number, int) and 1 <= self.number <= self.count):
            raise ConfigError(
                f"shard number must be 1..{self.count} (counted from 1), got "
                f"{self.number!r}: --shard I/N with 1 <= I <= N"
            )

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"

    def owns(self, record_id: str) -> bool:
        return shard_number_of(record_id, self.count) == self.number

    def select(self, records: Iterable[dict]) -> Iterator[dict]:
        """The records of this shard, in their order (a stream: nothing is held)."""
        return (r for r in records if self.owns(r["id"]))

    def suffix(self) -> str:
        return f".shard-{self.number:04d}-of-{self.count:04d}"

    def describe(self) -> dict[str, Any]:
        return {"number": self.number, "count": self.count, "assignment": ASSIGNMENT}


def shard_number_of(record_id: str, count: int) -> int:
    """The 1-based shard a record belongs to among `count` shards."""
    return id_hash(record_id) % count + 1


def parse_shard(spec: str) -> Shard | None:
    """`I/N` (1 <= I <= N) -> Shard; `off` -> None (no sharding, SLURM ignored)."""
    text = spec.strip().lower()
    if text in ("off", "none"):
        return None
    m = re.fullmatch(r"(\d+)\s*/\s*(\d+)", text)
    if not m:
        raise ConfigError(
            f"--shard wants I/N (e.g. 1/4: the first of 4 shards, counted from 1) "
            f"or 'off', got {spec!r}"
        )
    return Shard(int(m.group(1)), int(m.group(2)))


def shard_from_env(env: Mapping[str, str] = os.environ) -> Shard | None:
    """This SLURM array task's shard, or None outside a job array.

    SLURM numbers array tasks by the ids the user gave (`--array=0-3`, `1-4`, `0-15:4`), so the
    shard is the task's position in the range: (ID - MIN) / STEP + 1 of COUNT. A sparse array
    (`--array=1,3,7`) or one throttled by `%` is fine as long as the ids form one range with a
    step; anything else is refused, since some records would belong to no task."""
    task_id = env.get("SLURM_ARRAY_TASK_ID")
    if task_id in (None, ""):
        return None

    def num(name: str, default: int | None = None) -> int:
        raw = env.get(name)
        if raw in (None, ""):
            if default is None:
                raise ShardError(
                    f"SLURM_ARRAY_TASK_ID is set but {name} is not; pass --shard "
                    "I/N explicitly (or --shard off)"
                )
            return default
        try:
            return int(raw)
        except ValueError:
            raise ShardError(f"{name}={raw!r} is not an integer") from None

    tid, count, low = (
        num("SLURM_ARRAY_TASK_ID"),
        num("SLURM_ARRAY_TASK_COUNT"),
        num("SLURM_ARRAY_TASK_MIN"),
    )
    high = num("SLURM_ARRAY_TASK_MAX", low + count - 1)
    step = num("SLURM_ARRAY_TASK_STEP", 1)
    if step < 1 or (tid - low) % step or not low <= tid <= high:
        raise ShardError(f"SLURM array task {tid} does not lie on the range {low}-{high}:{step}")
    if (high - low) // step + 1 != count:
        raise ShardError(
            f"the SLURM array {low}-{high}:{step} has {count} tasks, not one per step of its "
            "range; shard with a plain range, e.g. --array=0-{count - 1}, or pass --shard I/N"
        )
    return Shard((tid - low) // step + 1, count)


def add_shard_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="cache only shard I of N (counted from 1) of the split, "
        "into <run>.shard-000I-of-000N.jsonl; scripts/merge_shards.py joins the shards. Default: "
        "the SLURM array task's shard inside a job array, else the whole split; 'off' = whole "
        "split even inside an array",
    )
    return parser


def shard_from_args(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Shard | None:
    """--shard if given (`off`: none), else the SLURM array task's shard, else None."""
    spec = getattr(args, "shard", None)
    shard = parse_shard(spec) if spec is not None else shard_from_env(env)
    if shard is not None:
        source = "--shard" if spec is not None else "SLURM array"
        print(f"shard {shard} (from {source}): records with {ASSIGNMENT} = {shard.number - 1}")
    return shard


# --- merging ------------------------------------------------------------------------------

# Manifest keys that must agree between shards beyond the fingerprint (which covers `decisive`):
# the same model files (`model`, but for its path: shards may run where the models folder lies
# elsewhere, as a resumed run may) and the same selection of records.
_SAME_IN_EVERY_SHARD = ("run", "method", "fingerprint", "decisive", "backend", "model")


def shard_records(cfg: dict, task, shard: Shard | None) -> SplitRecords:
    """The configured split's records (`data.*`) that this shard owns (all of them without a
    shard), streamed: what every caching stage iterates."""
    d = cfg["data"]
    return SplitRecords(
        resolve_path(d["dir"]),
        d["langs"],
        d["split"],
        task,
        d["limit"],
        keep=shard.owns if shard else None,
    )


def _comparable(manifest: dict, key: str) -> Any:
    value = manifest.get(key)
    if key == "model" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "name_or_path"}
    return value


_MAX_NAMED = 10  # ids named in an error message; the count says how many more


def shard_files(cache_dir: Path, run: str) -> list[Path]:
    """Every shard file of `run` in `cache_dir`, by shard count, then number."""
    found = [
        (int(m.group("count")), int(m.group("number")), p)
        for p in Path(cache_dir).glob(f"{glob_escape(run)}.shard-*-of-*.jsonl")
        if (m := SHARD_FILE.match(p.name)) and m.group("run") == run
    ]
    return [p for _, _, p in sorted(found)]


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def manifest_of(shard_path: Path) -> Path:
    return shard_path.with_name(shard_path.name[: -len(".jsonl")] + ".manifest.json")


def _named(ids: list[str], total: int) -> str:
    more = f" and {total - len(ids)} more" if total > len(ids) else ""
    return ", ".join(ids) + more


def _ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def _check_manifests(files: list[Path]) -> tuple[dict, int]:
    """The shards' common manifest (the first) and count; refuses any disagreement."""
    from elmtex.io import read_json

    counts = {int(SHARD_FILE.match(p.name).group("count")) for p in files}
    if len(counts) > 1:
        raise ShardError(
            "shard files of different shard counts: "
            + ", ".join(p.name for p in files)
            + "; delete the files of the split you abandoned"
        )
    count = counts.pop()
    present = {int(SHARD_FILE.match(p.name).group("number")): p for p in files}
    missing = [n for n in range(1, count + 1) if n not in present]
    if missing:
        names = [
            f"{files[0].name.split('.shard-')[0]}{Shard(n, count).suffix()}.jsonl" for n in missing
        ]
        raise ShardError(
            f"missing shard files in {files[0].parent}: {', '.join(names)}; run "
            f"those shards (--shard I/{count}) first"
        )
    manifests = {}
    for n, path in sorted(present.items()):
        mpath = manifest_of(path)
        if not mpath.exists():
            raise ShardError(f"{path} has no manifest ({mpath.name}); rerun that shard")
        manifests[n] = (mpath, read_json(mpath))
    first_path, first = manifests[1]
    for n, (mpath, m) in manifests.items():
        shard = m.get("shard") or {}
        if shard.get("count") != count or shard.get("number") != n:
            raise ShardError(
                f"{mpath} says shard {shard.get('number')}/{shard.get('count')}, "
                f"its file name says {n}/{count}"
            )
        if shard.get("assignment") != ASSIGNMENT:
            raise ShardError(
                f"{mpath} assigns records by {shard.get('assignment')!r}, not {ASSIGNMENT!r}"
            )
        for key in _SAME_IN_EVERY_SHARD:
            if _comparable(m, key) != _comparable(first, key):
                raise ShardError(
                    f"{mpath} and {first_path} differ in '{key}' (fingerprint "
                    f"{m.get('fingerprint')} vs {first.get('fingerprint')}): these "
                    "shards were made with other settings and cannot be merged"
                )
        for key in ("data", "task"):  # which records: the same split, limit and languages
            if m["config"].get(key) != first["config"].get(key):
                raise ShardError(
                    f"{mpath} and {first_path} differ in config '{key}': these "
                    "shards cover different records and cannot be merged"
                )
    return first, count


def _hash_array(values: Iterable[int]) -> np.ndarray:
    a = array("Q", values)  # 8 bytes per record: the checks stay small at 60k records
    return np.frombuffer(a, dtype=np.uint64) if len(a) else np.zeros(0, dtype=np.uint64)


def merge_shards(
    cache_dir: Path, run: str, check_split: bool = True, overwrite: bool = False
) -> dict[str, Any]:
    """Join `run`'s shard files into `<run>.jsonl` and `<run>.manifest.json`, streaming.

    Refused (ShardError, naming the files): a missing shard file or manifest, shards of
    different counts, manifests whose fingerprint, decisive settings, model files, data
    selection or shard numbering differ, a torn last line, a row in the wrong shard, a
    duplicated id, ids of the split that no shard holds (with `check_split`: the split as the
    shards' own config selects it; an unfinished shard shows here), and ids outside it. An existing
    merged file is replaced only if it came from the same settings, or with `overwrite`.

    Ids are checked as 64-bit hashes in sorted numpy arrays (8 bytes per record; a collision
    among 60,000 ids has odds of about 1e-10); the ids named in an error are found again by a
    second pass over the files. Rows are copied line by line, as the shards wrote them.
    Returns counts: shards, rows.
    """
    from elmtex.io import AtomicJsonlWriter, read_json, read_jsonl, write_json

    cache_dir = Path(cache_dir)
    files = shard_files(cache_dir, run)
    if not files:
        raise ShardError(
            f"no shard files of run '{run}' in {cache_dir} (looked for {run}.shard-*-of-*.jsonl)"
        )
    manifest, count = _check_manifests(files)
    for path in files:
        if not _ends_with_newline(path):
            raise ShardError(
                f"{path} ends in a torn line (its process was killed mid-write); "
                "rerun that shard, which repairs and completes it"
            )

    # Pass 1: every row in its own shard; collect id hashes.
    def row_hashes() -> Iterator[int]:
        for number, path in enumerate(files, start=1):
            for lineno, row in read_jsonl(path):
                h = id_hash(row["id"])
                if h % count + 1 != number:
                    raise ShardError(
                        f"{path}:{lineno}: id {row['id']!r} belongs to shard "
                        f"{h % count + 1}/{count}, not {number}: this file was not "
                        "written by that shard"
                    )
                yield h

    got = np.sort(_hash_array(row_hashes()))
    dup_hashes = np.unique(got[1:][got[1:] == got[:-1]])
    if dup_hashes.size:
        wanted = {int(h) for h in dup_hashes[:_MAX_NAMED]}
        where: dict[str, list[str]] = {}
        for path in files:
            for lineno, row in read_jsonl(path):
                if id_hash(row["id"]) in wanted:
                    where.setdefault(row["id"], []).append(f"{path}:{lineno}")
        named = "; ".join(f"{i} ({', '.join(locs)})" for i, locs in where.items())
        more = f" and {dup_hashes.size - len(where)} more" if dup_hashes.size > len(where) else ""
        raise ShardError(
            f"duplicate ids in the shard files: {named}{more}; rerun the shard with --overwrite"
        )
    if check_split:
        want = np.sort(_hash_array(id_hash(i) for i in expected_ids_from_manifest(manifest)))
        missing = np.setdiff1d(want, got, assume_unique=True)
        extra = np.setdiff1d(got, want, assume_unique=True)
        if missing.size:
            ids = _ids_with_hashes([expected_ids_from_manifest(manifest)], missing)
            by_shard = sorted(
                {f"{run}{Shard(shard_number_of(i, count), count).suffix()}.jsonl" for i in ids}
            )
            raise ShardError(
                f"{missing.size} ids of the split are in no shard file (e.g. "
                f"{_named(ids, int(missing.size))}; unfinished: {', '.join(by_shard)}); rerun "
                "those shards to complete them"
            )
        if extra.size:
            ids = _ids_with_hashes(((row["id"] for _, row in read_jsonl(p)) for p in files), extra)
            raise ShardError(
                f"{extra.size} ids in the shard files are not in the split the "
                f"shards' config selects: {_named(ids, int(extra.size))}"
            )

    out_path = cache_dir / f"{run}.jsonl"
    out_manifest = cache_dir / f"{run}.manifest.json"
    if (out_path.exists() or out_manifest.exists()) and not overwrite:
        old = read_json(out_manifest) if out_manifest.exists() else {}
        if not old.get("merged_from") or old.get("fingerprint") != manifest["fingerprint"]:
            raise ShardError(
                f"{out_path} exists and is not a merge of these shards; move it "
                "away or pass --overwrite"
            )
    rows = 0
    with AtomicJsonlWriter(out_path) as out:
        for path in files:
            with path.open(encoding="utf-8") as fh:
                for line in fh:  # copied as written: no re-serialisation, constant memory
                    if line.strip():
                        out.write_line(line)
                        rows += 1
    merged = {k: v for k, v in manifest.items() if k not in ("shard", "resumed_at")}
    merged["merged_from"] = [
        {
            "file": p.name,
            "created_at": m.get("created_at"),
            "resumed_at": m.get("resumed_at", []),
            "platform": m.get("platform"),
            "code": m.get("code"),
        }
        for p in files
        for m in [read_json(manifest_of(p))]
    ]
    merged["merged_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_json(out_manifest, merged)
    return {"shards": count, "rows": rows, "path": str(out_path)}


def _ids_with_hashes(id_streams: Iterable[Iterable[str]], hashes: np.ndarray) -> list[str]:
    """Up to _MAX_NAMED ids whose hash is in `hashes` (sorted), for error messages."""
    wanted = set(int(h) for h in hashes[: _MAX_NAMED * 4])
    out: list[str] = []
    for ids in id_streams:
        for i in ids:
            if id_hash(i) in wanted and i not in out:
                out.append(i)
                if len(out) >= _MAX_NAMED:
                    return out
    return out


def expected_ids_from_manifest(manifest: dict) -> Iterator[str]:
    """The ids the shards' own config selects (data.dir, langs, split, limit; its task)."""
    from elmtex.io import iter_split
    from elmtex.task import load_task

    cfg = manifest["config"]
    data = cfg["data"]
    task = load_task(cfg["task"])
    return (
        r["id"]
        for r in iter_split(
            resolve_path(data["dir"]), data["langs"], data["split"], task, data["limit"]
        )
    )
