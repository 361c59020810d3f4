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

from elmtex.io import DataError, read_jsonl
from elmtex.task import Task


def iter_raw(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, raw record) from a JSON array file or a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        head = fh.read(4096).lstrip()
    if head.startswith("["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from e
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
                v = task.item_separator.join(str(x) for x in v) or task.na_value
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
        clean[f.name] = v
    problems = task.validate_gold(clean)
    if problems:
        return None, "; ".join(problems)
    rec = {"id": record_id(raw, fallback_id), "lang": lang, task.input_key: report.strip(),
           task.output_key: clean}
    for key in ("patient_id", "patient_uid", "PMID"):
        if raw.get(key) not in (None, ""):
            rec.setdefault("meta", {})[key] = raw[key]
    return rec, ""


def convert_file(path: Path, task: Task, lang: str, split: str) -> tuple[list[dict], Counter,
                                                                         list[str]]:
    """Records, skip reasons counted, and the first examples of skipped places."""
    records, reasons, examples = [], Counter(), []
    seen: set[str] = set()
    for i, (where, raw) in enumerate(iter_raw(path)):
        rec, why = convert_record(raw, task, lang, f"{lang}-{split}-{i:06d}")
        if rec is not None and rec["id"] in seen:
            rec, why = None, "duplicate id"
        if rec is None:
            reasons[why] += 1
            if len(examples) < 5:
                examples.append(f"{where}: {why}")
            continue
        seen.add(rec["id"])
        records.append(rec)
    return records, reasons, examples
