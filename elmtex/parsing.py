"""Tolerant extraction of the JSON answer from raw model text.

Models wrap JSON in markdown fences or prose; the study stripped fences and called json.loads.
We do that first, then look for the first balanced JSON object anywhere in the text. A failure
is returned as an error string for the cache, never raised.
"""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


def strip_fences(text: str) -> str:
    """The content of the first fenced block, or the text itself if there is none."""
    m = _FENCE.search(text)
    if m:
        return m.group(1).strip()
    # An unclosed fence (output cut off at max tokens): drop the opening line.
    stripped = text.strip()
    if stripped.startswith("```"):
        return stripped.split("\n", 1)[1] if "\n" in stripped else ""
    return stripped


def parse_json_object(text: str) -> tuple[dict | None, str | None]:
    """(object, None) on success, (None, error message) otherwise."""
    if not text or not text.strip():
        return None, "empty response"
    body = strip_fences(text)
    try:
        obj = json.loads(body)
        if isinstance(obj, dict):
            return obj, None
        first_error = f"top-level JSON is a {type(obj).__name__}, not an object"
    except json.JSONDecodeError as e:
        first_error = str(e)  # e.g. "Unterminated string starting at: line 10 column 24 (char 300)"
    # Prose around the JSON: try each '{' until one decodes to an object.
    for source in (body, text) if body != text else (text,):
        for m in re.finditer(r"\{", source):
            try:
                obj, _ = _DECODER.raw_decode(source, m.start())
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj, None
    return None, first_error


# How an answer was parsed (cache rows' `parse_path`). `plain` and `fence` are the study's strict
# parse (fences stripped, then json.loads); `embedded` is only the lenient one: an object found
# inside surrounding text, which may be an echoed example rather than the answer.
PARSE_PATHS = ("plain", "fence", "embedded", "failed")
STRICT_PATHS = ("plain", "fence")


def parse_path(text: str | None) -> str:
    """Which of PARSE_PATHS `parse_json_object` takes for this text."""
    if not text or not text.strip():
        return "failed"
    body = strip_fences(text)
    try:
        if isinstance(json.loads(body), dict):
            return "plain" if body == text.strip() else "fence"
    except json.JSONDecodeError:
        pass
    return "embedded" if parse_json_object(text)[0] is not None else "failed"


def row_parse_path(row: dict) -> str:
    """A cache row's parse path: as cached, else worked out from its raw text (caches made
    before paths were stored); a parsed answer without raw text counts as plain."""
    path = row.get("parse_path") or (parse_path(row["raw"]) if row.get("raw") else "failed")
    if path == "failed" and row.get("parsed") is not None:
        return "plain"
    return path
