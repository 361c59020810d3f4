"""Prompt files: plain text with `=== system ===` and `=== user ===` sections, rendered with
Jinja2 (StrictUndefined, so a misspelt placeholder is an error, not an empty string).

Placeholders available to every prompt: task (the Task), fields (its Field list),
skeleton (the empty answer as JSON), na_value, separator, report (the input text);
stages may add more (e.g. examples for in-context learning).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from elmtex.config import ConfigError
from elmtex.task import Task

_SECTION = re.compile(r"^===\s*(system|user)\s*===\s*$", re.MULTILINE)
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False
)


class PromptTemplate:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise ConfigError(f"Prompt file not found: {self.path}")
        from elmtex.guards import read_utf8

        self.text = read_utf8(self.path)  # not UTF-8: an error naming file and line
        parts = _SECTION.split(self.text)
        # parts = [preamble, role, body, role, body, ...]; the preamble holds comments only.
        self.sections: list[tuple[str, jinja2.Template]] = []
        for role, body in zip(parts[1::2], parts[2::2], strict=True):
            try:
                self.sections.append((role, _ENV.from_string(body.strip("\n"))))
            except jinja2.TemplateSyntaxError as e:
                raise ConfigError(
                    f"{self.path}: template error on line {e.lineno}: {e.message}"
                ) from e
        if not self.sections or self.sections[-1][0] != "user":
            raise ConfigError(
                f"{self.path}: a prompt needs '=== system ===' and/or '=== user ===' sections, "
                "the last one '=== user ==='."
            )

    def render(self, task: Task, report: str, **extra: Any) -> list[dict[str, str]]:
        """Chat messages for one input."""
        ctx = {
            "task": task,
            "fields": task.fields,
            "skeleton": task.skeleton_json(),
            "na_value": task.na_value,
            "separator": task.item_separator,
            "report": report,
            **extra,
        }
        try:
            return [
                {"role": role, "content": tpl.render(**ctx).strip()} for role, tpl in self.sections
            ]
        except jinja2.UndefinedError as e:
            raise ConfigError(f"{self.path}: {e.message}; known names: {sorted(ctx)}") from e
