"""The task schema, read from a YAML file (configs/tasks/*.yaml), never hard-coded.

A field is `str` (several items joined with the task's separator, absent = the N/A value),
`list` (a JSON list of strings, absent = []) or `choice` (one of the field's `choices`, such as
the letter of a multiple-choice answer; scored by accuracy, the choice parsed robustly from what
the model wrote). The schema renders the prompt's skeleton, validates gold records and coerces
model output into the declared shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elmtex.config import ConfigError, load_yaml, resolve_path

FIELD_TYPES = ("str", "list", "choice")


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"
    description: str = ""
    choices: tuple[str, ...] = ()  # a choice field's allowed values


@dataclass(frozen=True)
class Task:
    name: str
    fields: tuple[Field, ...]
    input_key: str = "report"
    output_key: str = "summary"
    na_value: str = "N/A"
    item_separator: str = "; "
    prompts: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def choice_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.type == "choice"]

    def skeleton(self) -> dict[str, Any]:
        """The empty answer object the prompt ends with."""
        return {f.name: ([] if f.type == "list" else "") for f in self.fields}

    def skeleton_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.skeleton(), indent=indent, ensure_ascii=False)

    def prompt_path(self, kind: str) -> Path:
        if kind not in self.prompts:
            raise ConfigError(f"Task '{self.name}' ({self.source}) names no '{kind}' prompt file.")
        return resolve_path(self.prompts[kind])

    def is_na(self, value: Any) -> bool:
        if isinstance(value, list):
            return len(value) == 0
        return isinstance(value, str) and value.strip() == self.na_value

    def items(self, value: Any) -> list[str]:
        """The separate items of one field value (N/A and empty give none)."""
        if isinstance(value, list):
            raw = [str(v) for v in value]
        elif isinstance(value, str):
            if value.strip() == self.na_value:
                return []
            raw = value.split(self.item_separator.strip() or self.item_separator)
        else:
            return []
        return [s.strip() for s in raw if s.strip() and s.strip() != self.na_value]

    def validate_gold(self, summary: Any) -> list[str]:
        """Problems with a gold object, as readable strings (empty list = valid)."""
        if not isinstance(summary, dict):
            return [f"'{self.output_key}' must be an object, got {type(summary).__name__}"]
        problems = []
        for f in self.fields:
            if f.name not in summary:
                problems.append(f"field '{f.name}' is missing")
                continue
            v = summary[f.name]
            if f.type == "str" and not isinstance(v, str):
                problems.append(f"field '{f.name}' must be a string, got {type(v).__name__}")
            if f.type == "choice" and v not in f.choices:
                problems.append(f"field '{f.name}' must be one of {list(f.choices)}, got {v!r}")
            if f.type == "list" and not (
                isinstance(v, list) and all(isinstance(x, str) for x in v)
            ):
                problems.append(f"field '{f.name}' must be a list of strings")
        extra = sorted(set(summary) - set(self.field_names))
        if extra:
            problems.append(f"unknown fields {extra}")
        return problems

    def coerce_prediction(self, obj: dict | None) -> dict[str, Any]:
        """Model output in the declared shape: a missing field is empty (not N/A), a list in a
        string field is joined, a string in a list field is split. None (unparseable) gives all
        fields empty."""
        out: dict[str, Any] = {}
        for f in self.fields:
            v = None if obj is None else obj.get(f.name)
            if f.type == "list":
                if v is None:
                    out[f.name] = []
                elif isinstance(v, list):
                    out[f.name] = [_as_text(x) for x in v if _as_text(x).strip()]
                else:
                    out[f.name] = self.items(_as_text(v))
            else:
                if v is None:
                    out[f.name] = ""
                elif isinstance(v, list):
                    parts = [_as_text(x) for x in v if _as_text(x).strip()]
                    out[f.name] = self.item_separator.join(parts) if parts else self.na_value
                else:
                    out[f.name] = _as_text(v)
        return out


def _as_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else str(v)


def load_task(path: str | Path) -> Task:
    p = resolve_path(path)
    raw = load_yaml(p)
    try:
        fields = tuple(
            Field(
                name=f["name"],
                type=f.get("type", "str"),
                description=f.get("description", ""),
                choices=tuple(str(c) for c in f.get("choices") or ()),
            )
            for f in raw["fields"]
        )
        task = Task(
            name=raw["name"],
            fields=fields,
            input_key=raw.get("input_key", "report"),
            output_key=raw.get("output_key", "summary"),
            na_value=raw.get("na_value", "N/A"),
            item_separator=raw.get("item_separator", "; "),
            prompts=dict(raw.get("prompts", {})),
            source=str(p),
        )
    except (KeyError, TypeError) as e:
        raise ConfigError(
            f"Task file {p} lacks or misshapes {e}; see configs/tasks/elmtex.yaml."
        ) from e
    bad = [f.name for f in task.fields if f.type not in FIELD_TYPES]
    if bad:
        raise ConfigError(f"Task file {p}: fields {bad} have a type other than {FIELD_TYPES}.")
    for f in task.fields:
        if (f.type == "choice") != bool(f.choices):
            raise ConfigError(
                f"Task file {p}: field '{f.name}': a field has `choices` if and only "
                "if its type is choice."
            )
    names = task.field_names
    if len(set(names)) != len(names) or not names:
        raise ConfigError(f"Task file {p}: field names must be unique and non-empty.")
    return task
