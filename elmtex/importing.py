"""Conversion of the released ELMTEX files into the project's JSONL records.

The release has JSON arrays or JSONL, records with `report` and `summary` (an object, or a JSON
string of one) and optional ids (`patient_id`, or `patient_uid` and `PMID`), in files named like
`train.json` or `test_en.json`. Every record is validated; what is skipped is counted by reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from elmtex.guards import value_problem
from elmtex.io import DataError, read_jsonl
from elmtex.task import Task


def iter_raw(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, raw record) from a JSON array file or a JSONL file; bytes that are not UTF-8
    and nesting too deep for Python are DataErrors naming the file and line."""
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    if head.startswith(b"["):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise DataError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from e
        except RecursionError:
            raise DataError(f"{path}: JSON nested too deeply") from None
        for i, rec in enumerate(data):
            yield f"{path} item {i}", rec
    else:
        for lineno, rec in read_jsonl(path):
            yield f"{path}:{lineno}", rec


def guess_split_lang(path: Path) -> tuple[str | None, str | None]:
    """'test_en.json' -> ('test', 'en'); 'train.json' -> ('train', None)."""
    stem = path.name.split(".")[0].lower()
    split = next((s for s in ("train", "val", "valid", "dev", "test") if s in stem), None)
    if split in ("valid", "dev"):
        split = "val"
    m = re.search(r"(?:^|[_\-.])(en|de)(?:$|[_\-.])", stem)
    return split, (m.group(1) if m else None)


def record_id(raw: dict, fallback: str) -> str:
    if raw.get("patient_id") not in (None, ""):
        return str(raw["patient_id"])
    if raw.get("patient_uid") not in (None, ""):
        return str(raw["patient_uid"])  # unique on its own (PMC-Patients style "7665777-1")
    return fallback


def convert_record(raw: Any, task: Task, lang: str, fallback_id: str) -> tuple[dict | None, str]:
    """(record, "") or (None, reason it was skipped)."""
    if not isinstance(raw, dict):
        return None, "not a JSON object"
    report = raw.get(task.input_key)
    if not isinstance(report, str):
        return None, f"'{task.input_key}' missing or not a string"
    if not report.strip():
        return None, f"'{task.input_key}' is empty"
    summary = raw.get(task.output_key)
    if isinstance(summary, str):
        try:
            summary = json.loads(summary)
        except json.JSONDecodeError:
            return None, f"'{task.output_key}' is a string that is not JSON"
    if not isinstance(summary, dict):
        return None, f"'{task.output_key}' missing or not an object"
    missing = [f for f in task.field_names if f not in summary]
    if missing:
        return None, f"summary lacks fields {missing}"
    clean = {}
    for f in task.fields:
        v = summary[f.name]
        if f.type == "str":
            # Numbers (ages) and nulls occur in scraped data; lists are joined as the study did.
            if v is None:
                v = task.na_value
            elif isinstance(v, list):
                if not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in v):
                    # str() of a nested list or object would store its Python repr as gold
                    return None, f"field '{f.name}' holds a nested list or object"
                v = task.item_separator.join(str(x) for x in v) or task.na_value
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
        clean[f.name] = v
    problems = task.validate_gold(clean)
    if problems:
        return None, "; ".join(problems)
    for key, value in ((task.input_key, report), (task.output_key, clean)):
        why = value_problem(value, key)
        if why:
            return None, why
    rec = {
        "id": record_id(raw, fallback_id),
        "lang": lang,
        task.input_key: report.strip(),
        task.output_key: clean,
    }
    for key in ("patient_id", "patient_uid", "PMID"):
        if raw.get(key) not in (None, ""):
            rec.setdefault("meta", {})[key] = raw[key]
    return rec, ""


# Reports longer than this are imported with a warning: no model here takes them whole (the
# caching stages then record finish_reason "too_long" instead of sending them).
LONG_REPORT_CHARS = 50_000


def convert_file(
    path: Path, task: Task, lang: str, split: str
) -> tuple[list[dict], Counter, list[str]]:
    """Records, skip reasons counted, and the first examples of skipped places."""
    return convert_files([path], task, lang, split)


def convert_files(
    paths: list[Path], task: Task, lang: str, split: str
) -> tuple[list[dict], Counter, list[str]]:
    """The records of several input files for one language and split, merged: a duplicate id
    (within or across files) is skipped and counted, never silently kept twice. Records
    without an id get `<lang>-<split>-<position>`, with a suffix where a real id already has
    that form: a generated id never equals a real one (which would drop a record)."""
    converted, reasons, examples = [], Counter(), []
    i = 0  # position among all inputs' items: the generated id's number
    for path in paths:
        for where, raw in iter_raw(path):
            rec, why = convert_record(raw, task, lang, "")
            i += 1
            if rec is None:
                reasons[why] += 1
                if len(examples) < 5:
                    examples.append(f"{where}: {why}")
                continue
            converted.append((where, i - 1, rec))
    taken = {rec["id"] for _, _, rec in converted if rec["id"]}
    records, seen = [], {}
    for where, position, rec in converted:
        if not rec["id"]:
            base = candidate = f"{lang}-{split}-{position:06d}"
            suffix = 1
            while candidate in taken:  # a real id looks like a generated one
                candidate, suffix = f"{base}-{suffix}", suffix + 1
            rec["id"] = candidate
            taken.add(candidate)
        if rec["id"] in seen:
            why = "duplicate id"
            reasons[why] += 1
            if len(examples) < 5:
                examples.append(f"{where}: {why} '{rec['id']}' (first at {seen[rec['id']]})")
            continue
        seen[rec["id"]] = where
        records.append(rec)
    return records, reasons, examples


def long_reports(records: list[dict], task: Task) -> list[tuple[str, int]]:
    """(id, characters) of reports longer than LONG_REPORT_CHARS, longest first."""
    out = [
        (r["id"], len(r[task.input_key]))
        for r in records
        if len(r[task.input_key]) > LONG_REPORT_CHARS
    ]
    return sorted(out, key=lambda x: -x[1])
