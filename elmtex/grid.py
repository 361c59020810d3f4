"""The study's table shape over many runs: rows = model, columns = method, cells = a headline
metric with its CI; and per model a per-category version (rows = category).

Runs are placed from their cache manifests, never from their names: the method is the
manifest's `method` (naive, advanced_icl -> ICL, rag -> RAG; "(constrained)" when the run's
generation was constrained), and a model that merge_model_lora.py made (the manifest's model has
`merged_json_sha256`) is the FINE-TUNED variant of its base model (merged.json's base_model):
its naive run is the "fine-tuned" column of the base model's row. Cells hold each run's own
metrics.json values (its records; the CIs are not paired).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from elmtex.config import UserError
from elmtex.io import read_json
from elmtex.report_tables import ci_cell

METHOD_LABELS = {"naive": "naive", "advanced_icl": "ICL", "rag": "RAG"}
COLUMN_ORDER = ("naive", "ICL", "RAG", "fine-tuned")
# Headline metric -> the per-category metric shown in the per-category grid.
CATEGORY_METRIC = {
    "entity_micro_f1": "entity_f1",
    "entity_macro_f1": "entity_f1",
    "rougeL": "rougeL",
    "rouge1": "rougeL",
    "rouge2": "rougeL",
    "bertscore_f1": "bertscore_f1",
    "bleu": "bleu",
}


def _name(path: str) -> str:
    return Path(str(path).rstrip("/")).name


def place_run(manifest: dict) -> tuple[str, str]:
    """(model, method column) of a run from its cache manifest (rules in the docstring)."""
    model = manifest.get("model") or {}
    path = str(model.get("name_or_path") or "?")
    method = METHOD_LABELS.get(manifest.get("method", ""), manifest.get("method") or "?")
    tuned = "merged_json_sha256" in model
    base = _name(path)
    if tuned:
        merged = Path(path) / "merged.json"
        info = read_json(merged) if merged.exists() else {}
        base = (
            _name(info["base_model"])
            if info.get("base_model")
            else (base[:-3] if base.endswith("-ft") else base)
        )
        method = "fine-tuned" if method == "naive" else f"fine-tuned + {method}"
    if ((manifest.get("config") or {}).get("generation") or {}).get("constrained"):
        method += " (constrained)"
    return base, method


def _column_key(method: str) -> tuple[int, str]:
    base = method.split(" (")[0]
    return (COLUMN_ORDER.index(base) if base in COLUMN_ORDER else len(COLUMN_ORDER), method)


def _category_value(entry: dict, metric: str) -> float | None:
    if metric == "entity_f1":
        return (entry.get("entity") or {}).get("f1")
    return entry.get(metric)


def build_grid(
    placed: dict[str, tuple[str, str]],
    metrics_by_run: dict[str, dict],
    metric: str = "entity_micro_f1",
) -> dict[str, Any]:
    """The grid of `metric` (a key of metrics.json's headline) and its per-category version."""
    cells: dict[str, dict[str, dict]] = {}
    owner: dict[tuple[str, str], str] = {}
    label = None
    for run, (model, method) in placed.items():
        if (model, method) in owner:
            raise UserError(
                f"runs {owner[model, method]} and {run} both are {method} of "
                f"{model}; name the runs for the grid with --runs"
            )
        owner[model, method] = run
        head = metrics_by_run[run]["headline"].get(metric)
        if head is None:
            raise UserError(
                f"run {run} has no headline metric {metric!r}; choose one of "
                f"{', '.join(metrics_by_run[run]['headline'])}"
            )
        label = head.get("label", metric)
        cells.setdefault(model, {})[method] = {
            "run": run,
            **{k: head.get(k) for k in ("value", "low", "high", "n")},
        }
    methods = sorted({m for _, m in placed.values()}, key=_column_key)
    cat_metric = CATEGORY_METRIC.get(metric, "entity_f1")
    per_category: dict[str, dict[str, dict[str, dict]]] = {}
    for model, by_method in cells.items():
        for method, cell in by_method.items():
            for f, entry in metrics_by_run[cell["run"]]["per_category"].items():
                ci = (entry.get("ci") or {}).get(cat_metric)
                if ci is None:
                    continue
                per_category.setdefault(model, {}).setdefault(f, {})[method] = {
                    "value": _category_value(entry, cat_metric),
                    **ci,
                }
    return {
        "metric": metric,
        "label": label or metric,
        "category_metric": cat_metric,
        "models": sorted(cells),
        "methods": methods,
        "cells": cells,
        "per_category": per_category,
    }


def _cell(d: dict | None) -> str:
    return ci_cell(d)


def grid_tables(grid: dict) -> list[dict]:
    """The grid and its per-category versions as tables ({"title", "head", "rows", "note"})."""
    methods = grid["methods"]
    tables = [
        {
            "title": f"{grid['label']} by model and method",
            "head": methods,
            "rows": [
                [model, *(_cell(grid["cells"][model].get(m)) for m in methods)]
                for model in grid["models"]
            ],
            "note": "Runs: "
            + "; ".join(
                f"{model} / {m} = {c['run']}"
                for model in grid["models"]
                for m, c in grid["cells"][model].items()
            ),
        }
    ]
    for model in grid["models"]:
        cats = grid["per_category"].get(model, {})
        if cats:
            tables.append(
                {
                    "title": f"{model}: {grid['category_metric']} per category",
                    "head": methods,
                    "rows": [[f, *(_cell(by.get(m)) for m in methods)] for f, by in cats.items()],
                    "note": None,
                }
            )
    return tables


def grid_markdown(grid: dict) -> str:
    from elmtex.analysis_report import tables_markdown

    return (
        "\n".join(tables_markdown(grid_tables(grid))).lstrip("\n")
        + "\n\n"
        + "Cells: value [95% bootstrap CI] of each run on its own records.\n"
    )


_PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}.note{color:#555;font-size:.9em}
</style></head><body><h1>{{ title }}</h1>{{ body }}
<p class="note">Cells: value [95% bootstrap CI] of each run on its own records.</p>
</body></html>
""")


def grid_html(grid: dict, title: str = "Runs by model and method") -> str:
    from markupsafe import Markup

    from elmtex.analysis_report import tables_html

    return _PAGE.render(title=title, body=Markup(tables_html(grid_tables(grid))))
