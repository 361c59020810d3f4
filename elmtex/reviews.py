"""The clinician review store: judgements of predicted items, appended as JSONL events.

One file per reviewer, data/reviews/<reviewer>.jsonl (review.reviews_dir). Each judgement is
one event line; nothing is ever rewritten, and the latest event per key wins when read:

    {"ts", "reviewer", "run", "record_id", "kind", "field", "item", "start", "end",
     "verdict", "target", "note", "done"}

kind "item":   a verdict on a predicted item (VERDICTS); target = the right category when the
               verdict is "wrong_category".
kind "missed": an item the model missed, added by the reviewer (start/end: where it stands in
               the report); verdict "missed", or "withdrawn" to take it back.
kind "note":   the record's free-text note;  kind "done": the record's "done" mark.

Durability: every event is one os.write of one whole line, then fsync; a process killed
mid-write can leave at most a final line without its newline, which the next writer cuts
off (as the caching stages do) and readers skip. A reviewer's file is locked (flock) by the
app that writes it, so a second app for the same reviewer is refused; reviewers never share
a file.

The corrected gold export (export_gold) turns the latest judgements of one run into records
in the dataset schema.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elmtex.config import UserError
from elmtex.entities import normalise_item
from elmtex.io import DataError, repair_torn_tail, write_json, write_jsonl
from elmtex.task import Task

VERDICTS = {
    "correct": "correct",
    "wrong_category": "correct, but in the wrong category",
    "unsupported": "not supported by the report",
    "wrong": "wrong or incomplete",
}
MISSED, WITHDRAWN = "missed", "withdrawn"
KINDS = ("item", "missed", "note", "done")
REVIEWER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_ITEM = 1000  # characters of an item's text
MAX_NOTE = 5000  # characters of a note


class ReviewStoreError(UserError):
    """A reviewer name, file or judgement the store cannot take; the message says why."""


def check_reviewer(name: str) -> str:
    """A reviewer name doubles as a file name: letters, digits, '.', '_', '-' only."""
    if not isinstance(name, str) or not REVIEWER_RE.match(name):
        raise ReviewStoreError(
            f"Reviewer name {name!r}: use 1-64 letters, digits, '.', '_' or '-' "
            "(it names the file data/reviews/<reviewer>.jsonl)."
        )
    return name


def event_key(ev: Mapping[str, Any]) -> tuple:
    """What a later event replaces: the same reviewer, run, record, kind and (for items)
    the same field and item text."""
    kind = ev["kind"]
    item = (ev.get("field"), ev.get("item")) if kind in ("item", "missed") else (None, None)
    return (ev["reviewer"], ev["run"], ev["record_id"], kind, *item)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def make_event(
    reviewer: str,
    run: str,
    record_id: str,
    kind: str,
    *,
    field: str | None = None,
    item: str | None = None,
    start: int | None = None,
    end: int | None = None,
    verdict: str | None = None,
    target: str | None = None,
    note: str | None = None,
    done: bool | None = None,
) -> dict[str, Any]:
    """One event with every key present (None where it does not apply)."""
    if kind not in KINDS:
        raise ReviewStoreError(f"Unknown event kind {kind!r}; one of {', '.join(KINDS)}.")
    return {
        "ts": _now(),
        "reviewer": reviewer,
        "run": run,
        "record_id": record_id,
        "kind": kind,
        "field": field,
        "item": item,
        "start": start,
        "end": end,
        "verdict": verdict,
        "target": target,
        "note": note,
        "done": done,
    }


def read_events(path: Path) -> list[dict]:
    """The events of one review file in order. A final line without its newline is a write
    in flight or cut short: skipped (the writer cuts it off when it next opens the file)."""
    path = Path(path)
    data = path.read_bytes() if path.exists() else b""
    lines = data.split(b"\n")
    out = []
    for lineno, line in enumerate(lines[:-1], start=1):  # lines[-1]: after the last newline
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataError(f"{path}:{lineno}: not a valid review event") from None
        if not isinstance(ev, dict) or ev.get("kind") not in KINDS:
            raise DataError(f"{path}:{lineno}: not a review event")
        out.append(ev)
    return out


def review_files(reviews_dir: Path) -> list[Path]:
    reviews_dir = Path(reviews_dir)
    return sorted(reviews_dir.glob("*.jsonl")) if reviews_dir.is_dir() else []


def read_all_events(reviews_dir: Path) -> list[dict]:
    """Every reviewer's events, file by file (each in its own order)."""
    return [ev for p in review_files(reviews_dir) for ev in read_events(p)]


def latest(events: Iterable[Mapping[str, Any]]) -> dict[tuple, dict]:
    """The latest event per key. Within one file the order is the time order; across files
    (only when the caller merges reviewers) the timestamp decides."""
    out: dict[tuple, dict] = {}
    for ev in events:
        k = event_key(ev)
        if k not in out or ev.get("ts", "") >= out[k].get("ts", ""):
            out[k] = dict(ev)
    return out


class ReviewStore:
    """One reviewer's append-only file, locked against a second writer while open."""

    def __init__(self, reviews_dir: Path, reviewer: str):
        self.reviewer = check_reviewer(reviewer)
        self.path = Path(reviews_dir) / f"{reviewer}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise ReviewStoreError(
                f"{self.path} is open in another review app (one writer per reviewer); "
                "stop that one first, or review under another name."
            ) from None
        self.repaired = repair_torn_tail(self.path)  # a crash mid-write: cut the torn line
        self._mutex = threading.Lock()  # the app's worker threads append one at a time
        self.latest = latest(read_events(self.path))

    def append(self, events: Sequence[dict]) -> None:
        """Write the events, each one whole line in one write, then fsync."""
        with self._mutex:
            for ev in events:
                if ev["reviewer"] != self.reviewer:
                    raise ReviewStoreError(f"event of {ev['reviewer']} in {self.path}")
                line = (json.dumps(ev, ensure_ascii=False) + "\n").encode("utf-8")
                os.write(self._fd, line)
            os.fsync(self._fd)
            for ev in events:
                self.latest[event_key(ev)] = dict(ev)

    def record_state(self, run: str, record_id: str) -> dict[str, Any]:
        """This reviewer's current judgements of one record of one run."""
        state: dict[str, Any] = {"items": {}, "missed": {}, "note": "", "done": False}
        for (_, r, rid, kind, f, item), ev in self.latest.items():
            if r != run or rid != record_id:
                continue
            if kind == "item":
                state["items"][(f, item)] = ev
            elif kind == "missed" and ev["verdict"] == MISSED:
                state["missed"].setdefault(f, []).append(ev)
            elif kind == "note":
                state["note"] = ev["note"] or ""
            elif kind == "done":
                state["done"] = bool(ev["done"])
        for evs in state["missed"].values():
            evs.sort(key=lambda e: e["ts"])
        return state

    def progress(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(record id, run) -> this reviewer's items judged, missed items added, done mark."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for (_, run, rid, kind, _, _), ev in self.latest.items():
            p = out.setdefault((rid, run), {"judged": 0, "missed": 0, "done": False})
            if kind == "item" and ev["verdict"]:
                p["judged"] += 1
            elif kind == "missed" and ev["verdict"] == MISSED:
                p["missed"] += 1
            elif kind == "done":
                p["done"] = bool(ev["done"])
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- Corrected gold --------------------------------------------------------------------------


def _add(items: list[str], text: str) -> None:
    if normalise_item(text) and normalise_item(text) not in map(normalise_item, items):
        items.append(text)


def corrected_summary(
    task: Task, predicted: Mapping[str, Sequence[str]], judged: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    """A record's corrected summary: the predicted items judged correct, those judged to be in
    the wrong category moved to their category, then the added missed items; each field's
    items joined with the task's separator, a field without items N/A. Predicted items
    without a judgement are left out (the export takes only what a clinician confirmed)."""
    verdicts = {(e["field"], e["item"]): e for e in judged if e["kind"] == "item"}
    out: dict[str, list[str]] = {f: [] for f in task.field_names}
    for f in task.field_names:
        for item in predicted.get(f, ()):
            ev = verdicts.get((f, item))
            if ev is None:
                continue
            if ev["verdict"] == "correct":
                _add(out[f], item)
            elif ev["verdict"] == "wrong_category" and ev.get("target") in out:
                _add(out[ev["target"]], item)
    for e in sorted(
        (e for e in judged if e["kind"] == "missed" and e["verdict"] == MISSED),
        key=lambda e: e["ts"],
    ):
        if e["field"] in out:
            _add(out[e["field"]], e["item"])
    return {f: task.item_separator.join(v) if v else task.na_value for f, v in out.items()}


def export_gold(
    task: Task,
    records: Sequence[dict],
    predicted: Mapping[str, dict],
    events: Iterable[Mapping[str, Any]],
    run: str,
    split: str,
    out_dir: Path,
) -> dict[str, Any]:
    """Write <out_dir>/<lang>/<split>.jsonl with the corrected record of every record of `run`
    that a reviewer marked done, and <out_dir>/provenance.json; returns the provenance.

    `predicted`: record id -> {field: [items]} of the run's answer. With several reviewers,
    the latest judgement of an item across them counts (their timestamps decide)."""
    evs = [dict(e) for e in events if e["run"] == run]
    done = {e["record_id"] for e in latest(evs).values() if e["kind"] == "done" and e["done"]}
    # merged across reviewers: the key without the reviewer
    merged: dict[tuple, dict] = {}
    for e in evs:
        k = event_key(e)[1:]
        if k not in merged or e["ts"] >= merged[k]["ts"]:
            merged[k] = e
    by_record: dict[str, list[dict]] = {}
    for e in merged.values():
        by_record.setdefault(e["record_id"], []).append(e)
    out_dir = Path(out_dir)
    by_lang: dict[str, list[dict]] = {}
    counts = {
        "records": 0,
        "items_kept": 0,
        "items_moved": 0,
        "items_dropped": 0,
        "items_unjudged": 0,
        "missed_added": 0,
    }
    for rec in records:
        rid = rec["id"]
        if rid not in done:
            continue
        judged = by_record.get(rid, [])
        pred = predicted.get(rid, {})
        verdicts = {(e["field"], e["item"]): e["verdict"] for e in judged if e["kind"] == "item"}
        for f, items in pred.items():
            for item in items:
                v = verdicts.get((f, item))
                key = {
                    "correct": "items_kept",
                    "wrong_category": "items_moved",
                    None: "items_unjudged",
                }.get(v, "items_dropped")
                counts[key] += 1
        counts["missed_added"] += sum(
            1 for e in judged if e["kind"] == "missed" and e["verdict"] == MISSED
        )
        counts["records"] += 1
        new = {k: v for k, v in rec.items() if k != task.output_key}
        new[task.output_key] = corrected_summary(task, pred, judged)
        by_lang.setdefault(rec.get("lang", "en"), []).append(new)
    if not counts["records"]:
        raise ReviewStoreError(
            f"No record of run '{run}' is marked done by a reviewer: nothing to export."
        )
    for lang, rows in by_lang.items():
        write_jsonl(out_dir / lang / f"{split}.jsonl", rows)
    provenance = {
        "run": run,
        "split": split,
        "langs": sorted(by_lang),
        "reviewers": sorted({e["reviewer"] for e in evs}),
        "record_ids": [r["id"] for rows in by_lang.values() for r in rows],
        "counts": counts,
        "rule": "per record marked done: predicted items judged correct, items judged to be "
        "in the wrong category moved there, the added missed items; unjudged and "
        "rejected items left out; across reviewers the latest judgement counts",
        "written": _now(),
    }
    write_json(out_dir / "provenance.json", provenance)
    return provenance


def predicted_items(
    task: Task, rows: Iterable[Mapping[str, Any]], ids: Iterable[str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """record id -> {field: [items]} of a run's cached answers (the first answer per id, as
    scoring takes it; items as the entity metric and the review page count them)."""
    from elmtex.grounding import field_items  # grounding imports the entity code: keep it lazy

    wanted = set(ids) if ids is not None else None
    out: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        rid = row.get("id")
        if rid in out or (wanted is not None and rid not in wanted):
            continue
        parsed = row.get("parsed")
        if not isinstance(parsed, dict):
            out[rid] = {}
            continue
        coerced = task.coerce_prediction(parsed)
        out[rid] = {
            f: items
            for f in task.field_names
            if f in parsed and (items := field_items(task, coerced[f]))
        }
    return out
