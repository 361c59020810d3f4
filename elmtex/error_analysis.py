"""Error analysis of a cached run beside the metrics: misplaced items, parse paths, age and
gender compared as values, cost; each with bootstrap CIs overall and per language.

`analyse_run` reads the run's cache rows once (the records of the gold split, the first answer
per id, as `elmtex.scoring.score_records` does) and keeps a few numbers per record
(`RunAnalysis`, by record id) for the paired comparisons of `compare_analyses`. The CIs use
`elmtex.stats.Bootstrap` keyed by `id_hash(record id)`: the same resampling as the metrics.

- Misplaced items (`elmtex.misplaced`): over the text categories the entity metric scores.
- Parse: the strict rate is the study's parse (fences stripped, then json.loads: paths `plain`
  and `fence`); the lenient rate adds `embedded` (an object found in surrounding text, which
  evaluate.py accepts). The path is read from the cache row, else worked out from `raw`.
- Values: age and gender exact match, strict (normalised strings, as in the metrics) beside
  normalised (`elmtex.normalise`).
An unparseable answer counts as empty (nothing predicted), whatever `evaluate.unparseable` says:
the error shares are about the items a model gives, so a skipped answer would only hide them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from elmtex import stats
from elmtex.costs import run_costs
from elmtex.entities import ItemsBackend, normalise_item
from elmtex.io import id_hash
from elmtex.misplaced import confusion, gold_totals, record_counts, summarise_table
from elmtex.normalise import value_match
from elmtex.parsing import PARSE_PATHS, STRICT_PATHS, row_parse_path
from elmtex.task import Task

VALUE_FIELDS = ("age", "gender")
# Per-record columns of RunAnalysis.values.
COLUMNS = (
    "predicted",
    "correct",
    "misplaced",
    "spurious",
    "gold",
    "gold_elsewhere",
    "gold_nowhere",
    "strict_parse",
    "lenient_parse",
    *(f"{f}_{kind}" for f in VALUE_FIELDS for kind in ("strict", "normalised")),
)
_COL = {c: i for i, c in enumerate(COLUMNS)}

# name -> (label, kind, per-record values from the (n, columns) matrix)
SHARES = {
    "misplaced_share": ("predicted items in the wrong category", ("misplaced", "predicted")),
    "spurious_share": ("predicted items found in no gold category", ("spurious", "predicted")),
    "gold_elsewhere_share": ("gold items found under another category", ("gold_elsewhere", "gold")),
    "gold_nowhere_share": ("gold items found nowhere", ("gold_nowhere", "gold")),
}
RATES = {
    "strict_parse_rate": ("strict JSON parse rate (study)", "strict_parse"),
    "lenient_parse_rate": ("lenient JSON parse rate (evaluated)", "lenient_parse"),
}
VALUES = {
    f"{f}_{kind}": (f"{f} exact match ({kind})", f"{f}_{kind}")
    for f in VALUE_FIELDS
    for kind in ("strict", "normalised")
}
LABELS = {
    **{k: v[0] for k, v in SHARES.items()},
    **{k: v[0] for k, v in RATES.items()},
    **{k: v[0] for k, v in VALUES.items()},
}


@dataclass
class RunAnalysis:
    """Per record (by id): its language and a row of COLUMNS (nan = not applicable)."""

    lang: dict[str, str] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _specs(m: np.ndarray, value_fields: Sequence[str]) -> dict[str, tuple[str, np.ndarray]]:
    """name -> (bootstrap kind, per-record values) of every estimate."""
    out = {}
    for name, (_, (hit, total)) in SHARES.items():
        h, t = m[:, _COL[hit]], m[:, _COL[total]]
        miss = t - h
        # micro F1 of (h, t-h, t-h) is h / t of the sums: a share of items with its CI
        out[name] = ("f1", np.stack([h, miss, miss], axis=-1))
    for name, (_, col) in RATES.items():
        out[name] = ("mean", m[:, _COL[col]])
    for name, (_, col) in VALUES.items():
        if name.rsplit("_", 1)[0] in value_fields:
            out[name] = ("mean", m[:, _COL[col]])
    return out


def _estimates(
    ids: list[str],
    matrix: np.ndarray,
    langs: list[str],
    value_fields,
    n_boot: int,
    seed: int,
    alpha: float,
) -> dict[str, dict]:
    """{"overall": {name: ci}, "per_language": {lang: {name: ci}}}."""
    boot = stats.Bootstrap(n_boot, seed, alpha)
    keys = np.array([id_hash(i) for i in ids], dtype=np.uint64)
    lang_arr = np.array(langs)
    for start in range(0, len(ids), 512):
        sl = slice(start, start + 512)
        w = boot.weights(keys[sl])
        specs = _specs(matrix[sl], value_fields)
        for name, (kind, values) in specs.items():
            boot.add(("all", name), kind, values, w)
            for lang in sorted(set(langs)):
                masked = np.where(_mask(lang_arr[sl] == lang, values), values, np.nan)
                boot.add((lang, name), kind, masked, w)
    names = list(_specs(matrix[:0], value_fields))
    return {
        "overall": {n: {"label": LABELS[n], **boot.ci(("all", n))} for n in names},
        "per_language": {
            lang: {n: {"label": LABELS[n], **boot.ci((lang, n))} for n in names}
            for lang in sorted(set(langs))
        },
    }


def _mask(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    return rows.reshape((-1,) + (1,) * (values.ndim - 1))


def analyse_run(
    task: Task,
    gold,
    cache_rows: Iterable[dict],
    text_fields: Sequence[str],
    threshold: float,
    manifest: dict | None = None,
    n_boot: int = 1000,
    seed: int = 1234,
    alpha: float = 0.05,
) -> RunAnalysis:
    """The error analysis of one run (rules in the module docstring). `gold` maps record id to
    its record (a dict or io.SplitIndex); `text_fields` are the categories of the entity
    metric; `manifest` (the run's) adds what produced the answers to the cost summary."""
    items = ItemsBackend(task, threshold)
    fields = list(text_fields)
    value_fields = [f for f in VALUE_FIELDS if f in task.field_names]
    out = RunAnalysis()
    table = np.zeros((len(fields), len(fields) + 1))
    gold_sum = np.zeros(len(fields))
    paths: Counter = Counter()
    kept_rows = []
    for row in cache_rows:
        rid = row["id"]
        rec = None if rid in out.values else gold.get(rid)
        if rec is None:
            continue  # outside the selected records, or a duplicated id (the first counts)
        kept_rows.append(row)
        path = row_parse_path(row)
        paths[path] += 1
        pred = task.coerce_prediction(row.get("parsed"))
        g_out = rec[task.output_key]
        g_items = {f: items.entities(g_out[f]) for f in fields}
        p_items = {f: items.entities(pred[f]) for f in fields}
        t = confusion(g_items, p_items, fields, threshold)
        g_tot = gold_totals(g_items, fields)
        table += t
        gold_sum += g_tot
        c = record_counts(t, g_tot)
        vals = np.full(len(COLUMNS), np.nan)
        for k, v in c.items():
            vals[_COL[k]] = v
        vals[_COL["strict_parse"]] = float(path in STRICT_PATHS)
        vals[_COL["lenient_parse"]] = float(path != "failed")
        for f in value_fields:
            g_val, p_val = str(g_out[f]), str(pred[f])
            vals[_COL[f"{f}_strict"]] = float(normalise_item(g_val) == normalise_item(p_val))
            vals[_COL[f"{f}_normalised"]] = float(value_match(f, g_val, p_val, task.na_value))
        out.values[rid] = vals
        out.lang[rid] = rec.get("lang", "")
    ids = list(out.values)
    matrix = np.array([out.values[i] for i in ids]).reshape(len(ids), len(COLUMNS))
    est = _estimates(ids, matrix, [out.lang[i] for i in ids], value_fields, n_boot, seed, alpha)
    sums = {c: float(np.nansum(matrix[:, _COL[c]])) for c in COLUMNS[:7]}
    out.summary = {
        "n_records": len(ids),
        "threshold": threshold,
        "counts": {k: int(v) for k, v in sums.items()},
        "confusion": summarise_table(table, gold_sum, fields),
        "confusion_matrix": table.tolist(),  # rows: predicted category; columns: gold, (none)
        "parse_paths": {p: paths.get(p, 0) for p in PARSE_PATHS},
        **est,
        "costs": run_costs(kept_rows, manifest),
    }
    return out


def compare_analyses(
    runs: dict[str, RunAnalysis],
    baseline: str,
    n_boot: int = 1000,
    seed: int = 1234,
    alpha: float = 0.05,
) -> dict:
    """Paired-bootstrap differences (run - baseline) of every estimate, overall and per
    language, on the records every run has."""
    common = [i for i in runs[baseline].values if all(i in r.values for r in runs.values())]
    langs = np.array([runs[baseline].lang[i] for i in common])
    keys = np.array([id_hash(i) for i in common], dtype=np.uint64)
    value_fields = (
        [
            f
            for f in VALUE_FIELDS
            if not np.isnan(runs[baseline].values[common[0]][_COL[f"{f}_strict"]])
        ]
        if common
        else []
    )
    boot = stats.Bootstrap(n_boot, seed, alpha)
    mats = {
        name: np.array([r.values[i] for i in common]).reshape(len(common), len(COLUMNS))
        for name, r in runs.items()
    }
    lang_names = sorted(set(langs.tolist()))
    for start in range(0, len(common), 512):
        sl = slice(start, start + 512)
        w = boot.weights(keys[sl])
        base = _specs(mats[baseline][sl], value_fields)
        for name in runs:
            if name == baseline:
                continue
            specs = _specs(mats[name][sl], value_fields)
            for m, (kind, values) in specs.items():
                boot.add_paired((name, "all", m), kind, base[m][1], values, w)
                for lang in lang_names:
                    keep = _mask(langs[sl] == lang, values)
                    boot.add_paired(
                        (name, lang, m),
                        kind,
                        np.where(keep, base[m][1], np.nan),
                        np.where(keep, values, np.nan),
                        w,
                    )
    names = list(_specs(np.zeros((0, len(COLUMNS))), value_fields))
    return {
        "baseline": baseline,
        "n_common": len(common),
        "labels": LABELS,
        # each run on its own records, for the report's run columns and cost table
        "per_run": {
            name: {k: r.summary.get(k) for k in ("overall", "per_language", "costs")}
            for name, r in runs.items()
        },
        "diffs": {
            name: {
                "overall": {m: boot.diff((name, "all", m)) for m in names},
                "per_language": {
                    lang: {m: boot.diff((name, lang, m)) for m in names} for lang in lang_names
                },
            }
            for name in runs
            if name != baseline
        },
    }
