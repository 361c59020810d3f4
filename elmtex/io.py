"""JSONL and JSON files: readers that name file and line, writers that never leave torn data.

Appends go through one os.write per line on an O_APPEND descriptor, flushed with fsync per
batch: a `kill -9` at any moment leaves only whole lines behind, and `repair_torn_tail` removes
the one partial line that a crash of the machine itself could still leave.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from elmtex.config import UserError
from elmtex.guards import value_problem
from elmtex.task import Task


class DataError(UserError, ValueError):
    """Bad input data; the message names the file and line."""


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; a bad line is a DataError."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    # Bytes, decoded line by line: a non-UTF-8 byte is an error naming its line, not a bare
    # UnicodeDecodeError from somewhere in the file.
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            yield lineno, _parse_line(path, lineno, raw)


def validate_record(rec: dict, task: Task, where: str) -> dict:
    """Check one dataset record against the contract {id, lang, <input>, <output>}."""
    rid = rec.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise DataError(f"{where}: 'id' must be a non-empty string, got {rid!r}")
    if not isinstance(rec.get("lang"), str) or not rec["lang"]:
        raise DataError(f"{where}: record {rid}: 'lang' must be a non-empty string")
    text = rec.get(task.input_key)
    if not isinstance(text, str):
        raise DataError(f"{where}: record {rid}: '{task.input_key}' must be a string")
    if not text.strip():
        raise DataError(f"{where}: record {rid}: '{task.input_key}' is empty")
    if task.output_key not in rec:
        raise DataError(f"{where}: record {rid}: '{task.output_key}' is missing")
    problems = task.validate_gold(rec[task.output_key])
    if problems:
        raise DataError(f"{where}: record {rid}: " + "; ".join(problems))
    # Text no tokenizer can encode would pass here and fail after the model loaded.
    for key in ("id", "lang", task.input_key, task.output_key):
        why = value_problem(rec[key], key)
        if why:
            raise DataError(f"{where}: record {rid!a}: {why}")
    return rec


def iter_records(path: str | Path, task: Task) -> Iterator[dict]:
    """A dataset split, validated, one record at a time; duplicate ids are an error."""
    seen: dict[str, int] = {}  # id -> line: a few dozen bytes per record, never the texts
    for lineno, rec in read_jsonl(path):
        where = f"{path}:{lineno}"
        validate_record(rec, task, where)
        if rec["id"] in seen:
            first = seen[rec["id"]]
            raise DataError(f"{where}: duplicate id '{rec['id']}' (first on line {first})")
        seen[rec["id"]] = lineno
        yield rec


def read_records(path: str | Path, task: Task) -> list[dict]:
    """A dataset split, validated; duplicate ids are an error."""
    return list(iter_records(path, task))


def iter_split(
    data_dir: Path, langs: Iterable[str], split: str, task: Task, limit: int | None = None
) -> Iterator[dict]:
    """Records of one split for each language, the first `limit` of each, streamed."""
    for lang in langs:
        path = Path(data_dir) / lang / f"{split}.jsonl"
        yield from islice(iter_records(path, task), limit)


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Lists of up to `size` consecutive items, streamed."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def load_split(
    data_dir: Path, langs: Iterable[str], split: str, task: Task, limit: int | None = None
) -> list[dict]:
    """Records of one split for each language, the first `limit` of each."""
    return list(iter_split(data_dir, langs, split, task, limit))


class SplitRecords:
    """The records a caching stage works on, read from disk each time it is iterated (a
    60,000-record split is never held in memory): `iter_split`, keeping only records whose id
    passes `keep` (e.g. a shard's `owns`). `len()` counts them with one streaming pass."""

    def __init__(
        self,
        data_dir: Path,
        langs: Iterable[str],
        split: str,
        task: Task,
        limit: int | None = None,
        keep: Callable[[str], bool] | None = None,
    ):
        self.data_dir, self.langs, self.split = Path(data_dir), list(langs), split
        self.task, self.limit, self.keep = task, limit, keep
        self._len: int | None = None

    def __iter__(self) -> Iterator[dict]:
        recs = iter_split(self.data_dir, self.langs, self.split, self.task, self.limit)
        return recs if self.keep is None else (r for r in recs if self.keep(r["id"]))

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(1 for _ in self)
        return self._len


class SplitIndex(Mapping):
    """The records of a split by id (what `{r["id"]: r for r in load_split(...)}` gives), read
    from disk on each lookup: only the ids' 64-bit hashes, byte offsets and positions stay in
    memory (24 bytes per record), so a 60,000-record gold split costs about 1.4 MB instead of
    its texts.

    Built with one validating pass (`iter_split`'s checks and errors). A lookup seeks to the
    record's line and parses it; it checks the id, so a hash collision can never return the
    wrong record (a colliding id is found by a scan instead)."""

    def __init__(
        self, data_dir: Path, langs: Iterable[str], split: str, task: Task, limit: int | None = None
    ):
        import numpy as np

        self.paths = [Path(data_dir) / lang / f"{split}.jsonl" for lang in langs]
        self.task, self.limit = task, limit
        hashes, places = array("Q"), array("q")
        for file_no, path in enumerate(self.paths):
            for offset, rec in _records_with_offsets(path, task, limit):
                hashes.append(id_hash(rec["id"]))
                places.append(file_no << 48 | offset)  # 2^48 bytes per file is plenty
        all_hashes = np.frombuffer(hashes, dtype=np.uint64)  # empty arrays work too
        order = np.argsort(all_hashes, kind="stable")
        self._hashes = all_hashes[order]
        self._places = np.frombuffer(places, dtype=np.int64)[order]
        self._positions = order  # each sorted entry's position in file order

    def _read(self, place: int) -> dict:
        with self.paths[place >> 48].open("rb") as fh:
            fh.seek(place & ((1 << 48) - 1))
            return json.loads(fh.readline())

    def position_and_record(self, key: str) -> tuple[int, dict] | None:
        """(the record's position in file order, the record), or None if it is not here."""
        import numpy as np

        h = np.uint64(id_hash(key))
        lo = int(np.searchsorted(self._hashes, h, side="left"))
        hi = int(np.searchsorted(self._hashes, h, side="right"))
        for i in range(lo, hi):  # almost always one
            rec = self._read(int(self._places[i]))
            if rec["id"] == key:
                return int(self._positions[i]), rec
        return None

    def get(self, key: str, default: Any = None) -> Any:
        found = self.position_and_record(key)
        return default if found is None else found[1]

    def __getitem__(self, key: str) -> dict:
        rec = self.get(key)
        if rec is None:
            raise KeyError(key)
        return rec

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        return len(self._hashes)

    def __iter__(self) -> Iterator[str]:
        """The ids, in file order (streamed; nothing is kept)."""
        for path in self.paths:
            for _, rec in _records_with_offsets(path, self.task, self.limit):
                yield rec["id"]


def id_hash(record_id: str) -> int:
    """A stable 64-bit hash of a record id (Python's hash() changes per process): the shard a
    record belongs to, and SplitIndex's key."""
    return int.from_bytes(hashlib.sha256(record_id.encode("utf-8")).digest()[:8], "big")


def _records_with_offsets(path: Path, task: Task, limit: int | None) -> Iterator[tuple[int, dict]]:
    """(byte offset, record) of the first `limit` records of a split file, validated as
    `iter_records` does (bad JSON and duplicate ids are errors naming the line)."""
    if not Path(path).exists():
        raise DataError(f"{path}: file not found")
    seen: dict[str, int] = {}
    count = 0
    offset = 0
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            if limit is not None and count >= limit:
                return
            rec = _parse_line(path, lineno, raw)
            where = f"{path}:{lineno}"
            validate_record(rec, task, where)
            if rec["id"] in seen:
                raise DataError(
                    f"{where}: duplicate id '{rec['id']}' (first on line {seen[rec['id']]})"
                )
            seen[rec["id"]] = lineno
            count += 1
            yield start, rec


def _parse_line(path: Path, lineno: int, line: str | bytes) -> dict:
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(
                f"{path}:{lineno}: not UTF-8 text (byte 0x{line[e.start]:02x} at "
                f"column {e.start + 1})"
            ) from None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise DataError(f"{path}:{lineno}: JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    return obj


def repair_torn_tail(path: Path) -> bool:
    """Cut a final line that lacks its newline (a write cut short); True if one was cut."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return False
        # Scan back in chunks for the last newline: cache files can be large.
        end = fh.seek(0, os.SEEK_END)
        pos = end
        keep = 0
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            chunk = fh.read(step)
            i = chunk.rfind(b"\n")
            if i >= 0:
                keep = pos + i + 1
                break
        fh.truncate(keep)
    return True


class JsonlAppender:
    """Append whole lines durably; use as a context manager."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write_many(self, rows: Iterable[dict]) -> None:
        for row in rows:
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            os.write(self._fd, line)  # one syscall per line: a killed process leaves no half line
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _file_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp's temp files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Have `write(tmp_path)` write a temp file beside `path`, then fsync it and rename it over
    `path`: readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, _file_mode())
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def json_sha256(obj: Any) -> str:
    """sha256 hex digest of `obj` as canonical JSON (sorted keys)."""
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Write a whole JSONL file atomically (temp file, then rename); returns the row count."""
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in rows]
    _atomic_write_bytes(path, "".join(lines).encode("utf-8"))
    return len(lines)


class AtomicJsonlWriter:
    """Stream rows to a temp file beside `path`; it replaces `path` only when the block ends
    without an error, so readers never see a half-written file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        os.chmod(self._tmp, _file_mode())
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        self.count = 0

    def write(self, row: dict) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count += 1

    def write_line(self, line: str) -> None:
        """One JSONL line as it is (e.g. copied from another file), newline included."""
        self._fh.write(line)
        self.count += 1

    def __enter__(self) -> AtomicJsonlWriter:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._fh.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            os.unlink(self._tmp)


def write_json(path: Path, obj: Any) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    _atomic_write_bytes(path, text.encode("utf-8"))


def write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte offset {e.start})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply") from None
