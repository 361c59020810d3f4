"""The error-analysis part of the reports: metrics by language, misplaced items, parse paths,
age/gender as values and cost beside accuracy; Markdown, HTML and PNG.

Each part is a list of tables ({"title", "head", "rows", "note"}) rendered the same way in
report.md and report.html (hooks in `elmtex.report`). Plots: a heat-map of misplaced items per
run (predicted x gold category, row shares) and the accuracy-cost frontier (entity F1 with its
CI against generation seconds per record).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jinja2 import Environment

from elmtex import summaries
from elmtex.costs import format_bytes
from elmtex.misplaced import NONE
from elmtex.plots import _save, plt
from elmtex.report_tables import ci_cell, comparison_tables, diff_cell, short_names

Table = dict  # {"title": str, "head": [str], "rows": [[str]], "note": str | None}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _ci(d: dict | None) -> str:
    return ci_cell(d)


def _diff(d: dict | None) -> str:
    return diff_cell(d)


# Computing the splits (evaluate.py) ---------------------------------------------------------


def language_split(
    scores,
    policies,
    entity_backend: str | None,
    bert_info: dict | None,
    n_boot: int,
    seed: int,
    alpha: float,
) -> dict[str, dict]:
    """`summarize` of each language's records: {lang: metrics} (empty with one language)."""
    langs = sorted(scores.lang_names)
    if len(langs) < 2:
        return {}
    out = {}
    for lang in langs:
        m = summaries.summarize(
            scores, policies, entity_backend, bert_info, n_boot, seed, alpha, lang=lang
        )
        m["n_records"] = m["headline"]["parse_rate"]["n"]
        m["missing_ids"] = []
        out[lang] = m
    return out


def compare_by_language(
    scores_by_run: dict, baseline: str, n_boot: int, seed: int, alpha: float
) -> dict[str, dict]:
    """`compare_runs` on each language's common records: {lang: comparison}."""
    langs = sorted(set().union(*(s.lang_names for s in scores_by_run.values())))
    if len(langs) < 2:
        return {}
    return {
        lang: summaries.compare_runs(scores_by_run, baseline, n_boot, seed, alpha, lang=lang)
        for lang in langs
    }


# One run ------------------------------------------------------------------------------------

_CATEGORY_VALUES = {
    "entity_f1": ("entity F1", lambda m: (m.get("entity") or {}).get("f1")),
    "rougeL": ("ROUGE-L", lambda m: m.get("rougeL")),
    "exact_match": ("exact match (strict)", lambda m: m.get("exact_match")),
}


def _category_cell(metrics: dict, f: str, metric: str) -> str:
    m = metrics["per_category"].get(f)
    if not m or metric not in m.get("ci", {}):
        return "-"
    return _ci({"value": _CATEGORY_VALUES[metric][1](m), **m["ci"][metric]})


def language_tables(metrics: dict) -> list[Table]:
    """Every headline and per-category metric overall and per language, with CIs."""
    per_lang = metrics.get("per_language") or {}
    if not per_lang:
        return []
    langs = list(per_lang)
    head = ["overall", *(lang.upper() for lang in langs)]
    rows = [
        [h["label"], _ci(h), *(_ci(per_lang[lang]["headline"].get(name)) for lang in langs)]
        for name, h in metrics["headline"].items()
    ]
    rows.append(
        [
            "records",
            str(metrics["n_records"]),
            *(str(per_lang[lang]["n_records"]) for lang in langs),
        ]
    )
    tables = [{"title": "Headline metrics by language", "head": head, "rows": rows, "note": None}]
    for metric, (label, _) in _CATEGORY_VALUES.items():
        cats = [f for f, m in metrics["per_category"].items() if metric in m.get("ci", {})]
        if cats:
            tables.append(
                {
                    "title": f"{label} per category by language",
                    "head": head,
                    "rows": [
                        [
                            f,
                            _category_cell(metrics, f, metric),
                            *(_category_cell(per_lang[lang], f, metric) for lang in langs),
                        ]
                        for f in cats
                    ],
                    "note": None,
                }
            )
    return tables


def error_tables(metrics: dict) -> list[Table]:
    """Misplaced items, parse paths, age/gender as values and cost of one run."""
    ea = metrics.get("error_analysis")
    if not ea:
        return []
    langs = list(ea["per_language"])
    c = ea["counts"]
    tables = [
        {
            "title": "Error analysis",
            "head": ["overall", *(lang.upper() for lang in langs)],
            "rows": [
                [d["label"], _ci(d), *(_ci(ea["per_language"][lang][name]) for lang in langs)]
                for name, d in ea["overall"].items()
            ],
            "note": f"Items: {c['predicted']} predicted ({c['correct']} in the right category, "
            f"{c['misplaced']} in a wrong one, {c['spurious']} in no gold category); "
            f"{c['gold']} gold ({c['gold_nowhere']} found nowhere). Strict parse = the "
            "study's (fences stripped, then json.loads); lenient adds an object found in "
            "surrounding text. Paths: "
            + ", ".join(f"{k} {v}" for k, v in ea["parse_paths"].items())
            + ".",
        }
    ]
    conf = ea["confusion"]
    fields = conf["fields"]
    cols = [*fields, NONE]
    rows = []
    for f in fields:  # none in a task without item categories (multiple choice)
        r = conf["by_predicted"][f]
        rows.append(
            [
                f,
                str(r["predicted"]),
                *(
                    f"{r['counts'][col]} ({r['shares'][col]:.2f})" if col in r["counts"] else ""
                    for col in cols
                ),
            ]
        )
    if not fields:
        run = metrics.get("run", "run")
        return [*tables, cost_table({run: ea.get("costs")}, {run: metrics["headline"]})]
    tables.append(
        {
            "title": "Predicted items: predicted category (rows) x gold category (columns)",
            "head": ["predicted", *cols],
            "rows": rows,
            "note": "Cells: items (share of the row). Diagonal: right category; "
            f"{NONE}: in no gold category. Matching: the entity metric's rule "
            f"(threshold {ea['threshold']}), own category first.",
        }
    )
    rows = []
    for f in fields:
        g = conf["by_gold"][f]
        found = g["found_under"]
        elsewhere = {k: v for k, v in found.items() if k not in (f, NONE)}
        top = max(elsewhere, key=elsewhere.get) if elsewhere else "-"
        rows.append(
            [
                f,
                str(g["gold"]),
                str(found.get(f, 0)),
                str(sum(elsewhere.values())),
                str(found.get(NONE, 0)),
                top,
            ]
        )
    tables.append(
        {
            "title": "Gold items: where the prediction put them",
            "head": ["gold", "own category", "another category", "nowhere", "most often under"],
            "rows": rows,
            "note": None,
        }
    )
    run = metrics.get("run", "run")
    tables.append(cost_table({run: ea.get("costs")}, {run: metrics["headline"]}))
    return tables


def cost_row(costs: dict) -> list[str]:
    sec = costs.get("seconds_per_record")
    rps = costs.get("records_per_s")
    return [
        "-" if sec is None else f"{sec:.2f}",
        "-" if rps is None else f"{rps:.3f}",
        "-" if costs.get("mean_latency_s") is None else f"{costs['mean_latency_s']:.2f}",
        "-"
        if costs.get("prompt_tokens_per_record") is None
        else f"{costs['prompt_tokens_per_record']:.0f}",
        "-"
        if costs.get("generated_tokens_per_record") is None
        else f"{costs['generated_tokens_per_record']:.0f}",
        str(costs.get("engine") or "-"),
        str(costs.get("dtype") or "-"),
        str(costs.get("hardware") or "-"),
        format_bytes(costs.get("peak_rss_bytes")),
        format_bytes(costs.get("peak_cuda_bytes")),
    ]


COST_HEAD = [
    "s/record",
    "records/s",
    "mean latency s",
    "prompt tok/rec",
    "generated tok/rec",
    "engine",
    "dtype",
    "hardware",
    "peak RSS",
    "peak GPU",
]


def cost_table(costs_by_run: dict[str, dict], headline_by_run: dict[str, dict]) -> Table:
    """Cost beside entity F1 (with its CI), one row per run."""
    rows = [
        [run, _ci((headline_by_run.get(run) or {}).get("entity_micro_f1")), *cost_row(costs or {})]
        for run, costs in costs_by_run.items()
    ]
    return {
        "title": "Cost beside accuracy",
        "head": ["entity F1 (micro)", *COST_HEAD],
        "rows": rows,
        "note": "s/record: generation wall time per record (a batch's time shared by its "
        "records); mean latency: per generate call; peak memory of the caching "
        "process where its manifest recorded it.",
    }


# Several runs -------------------------------------------------------------------------------


def comparison_analysis_tables(comparison: dict) -> list[Table]:
    """Per-language comparison tables (with paired differences), the error analysis of every
    run with paired differences, and cost beside accuracy."""
    tables: list[Table] = []
    for lang, sub in (comparison.get("per_language") or {}).items():
        head, headline, sections = comparison_tables(sub)
        tables.append(
            {
                "title": f"{lang.upper()}: headline metrics ({sub['n_common']} records)",
                "head": head,
                "rows": headline,
                "note": None,
            }
        )
        tables += [
            {
                "title": f"{lang.upper()}: {s['label']} per category",
                "head": head,
                "rows": s["rows"],
                "note": None,
            }
            for s in sections
        ]
    ea = comparison.get("error_analysis")
    if ea:
        runs = comparison["runs"]
        names = short_names(runs)
        others = [r for r in runs if r != ea["baseline"]]
        langs = sorted({lang for d in ea["diffs"].values() for lang in d["per_language"]})
        head = [
            *(names[r] for r in runs),
            *(
                f"{names[r]} - {names[ea['baseline']]}{' ' + lang.upper() if lang else ''}"
                for r in others
                for lang in ("", *langs)
            ),
        ]
        rows = []
        for name, label in ea["labels"].items():
            if not any(name in ea["diffs"][r]["overall"] for r in others) and others:
                continue
            runs_cells = [_ci(ea["per_run"].get(r, {}).get("overall", {}).get(name)) for r in runs]
            diff_cells = [
                _diff(
                    ea["diffs"][r]["overall"].get(name)
                    if not lang
                    else ea["diffs"][r]["per_language"].get(lang, {}).get(name)
                )
                for r in others
                for lang in ("", *langs)
            ]
            rows.append([label, *runs_cells, *diff_cells])
        tables.append(
            {
                "title": "Error analysis (paired differences on the common records)",
                "head": head,
                "rows": rows,
                "note": f"Run columns: each run on its own records; differences: "
                f"{ea['n_common']} records common to all runs.",
            }
        )
        tables.append(
            cost_table(
                {r: ea["per_run"].get(r, {}).get("costs") for r in runs}, comparison["headline"]
            )
        )
    return tables


def tables_markdown(tables: list[Table]) -> list[str]:
    lines: list[str] = []
    for t in tables:
        lines += [
            "",
            f"#### {t['title']}",
            "",
            f"| | {' | '.join(t['head'])} |",
            "|---|" + "---:|" * len(t["head"]),
            *("| " + " | ".join(row) + " |" for row in t["rows"]),
        ]
        if t.get("note"):
            lines += ["", t["note"]]
    return lines


_HTML = Environment(autoescape=True).from_string("""{% for t in tables %}
<h2>{{ t.title }}</h2>
<table><tr><th></th>{% for h in t.head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr><td>{{ row[0] }}</td>{% for cell in row[1:] %}
<td{% if cell.endswith('*') %} class="sig"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
{% endfor %}""")


def tables_html(tables: list[Table]) -> str:
    return _HTML.render(tables=tables)


def all_tables(comparison: dict, metrics_by_run: dict[str, dict]) -> list[Table]:
    """What the report page adds: one run's analysis, or the comparison's."""
    if len(comparison["runs"]) == 1:
        run = comparison["runs"][0]
        m = metrics_by_run.get(run) or {}
        return [*language_tables(m), *error_tables({**m, "run": run})]
    return comparison_analysis_tables(comparison)


# Plots --------------------------------------------------------------------------------------


def plot_confusion(ea: dict, path: Path, title: str) -> Path:
    """Heat-map of a run's predicted items: row shares of predicted category x gold category
    (and "(none)"), counts written in the cells."""
    fields = ea["confusion"]["fields"]
    counts = np.array(ea["confusion_matrix"], dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    fig, ax = plt.subplots(figsize=(0.55 * len(fields) + 4, 0.45 * len(fields) + 2.5))
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(fields) + 1), [*fields, NONE], rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(fields)), fields, fontsize=7)
    ax.set_xlabel("gold category")
    ax.set_ylabel("predicted category")
    ax.set_title(title, fontsize=9)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    int(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if shares[i, j] > 0.5 else "black",
                )
    fig.colorbar(im, ax=ax, fraction=0.03, label="share of the predicted category's items")
    fig.tight_layout()
    return _save(fig, path)


def plot_frontier(points: dict[str, tuple[float, dict]], path: Path) -> Path:
    """Entity F1 (with CI) against generation seconds per record, one point per run."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    slowest = max(p[0] for p in points.values())
    for run, (seconds, ci) in points.items():
        v, lo, hi = ci.get("value"), ci.get("low"), ci.get("high")
        err = None if lo is None else [[v - lo], [hi - v]]
        ax.errorbar([seconds], [v], yerr=err, fmt="o", capsize=3, label=run)
        right = seconds == slowest and len(points) > 1  # the rightmost label inside the axes
        ax.annotate(
            run,
            (seconds, v),
            fontsize=7,
            xytext=(-4 if right else 4, 4),
            textcoords="offset points",
            ha="right" if right else "left",
        )
    seconds = [p[0] for p in points.values()]
    log = max(seconds) / min(seconds) >= 10  # a log axis only where runs differ that much
    if log:
        ax.set_xscale("log")
    ax.margins(x=0.15)
    ax.set_xlabel("generation seconds per record" + (" (log)" if log else ""))
    ax.set_ylabel("entity F1 (micro; bars: 95% bootstrap CI)")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def analysis_plots(
    comparison: dict,
    metrics_by_run: dict[str, dict],
    out_dir: Path,
) -> dict[str, Path]:
    """The heat-map of each run and the accuracy-cost frontier (where the numbers exist)."""
    names = short_names(list(metrics_by_run))
    plots = {}
    points = {}
    for k, (run, m) in enumerate(metrics_by_run.items()):
        ea = m.get("error_analysis")
        if not ea or not ea["confusion"]["fields"]:
            continue  # e.g. a multiple-choice task: no item categories
        title = f"Misplaced items: predicted x gold category ({names[run]})"
        plots[title] = plot_confusion(ea, out_dir / f"misplaced_{k}.png", title)
        ci = comparison["headline"].get(run, {}).get("entity_micro_f1")
        seconds = (ea.get("costs") or {}).get("seconds_per_record")
        if ci and ci.get("value") is not None and seconds:
            points[names[run]] = (seconds, ci)
    if points:
        plots["Accuracy-cost frontier: entity F1 against seconds per record"] = plot_frontier(
            points, out_dir / "accuracy_cost.png"
        )
    return plots


def short_line(metrics: dict) -> str:
    """One line for the console: the misplaced share overall and per language."""
    ea = metrics.get("error_analysis")
    if not ea:
        return ""
    parts = [f"overall {_ci(ea['overall']['misplaced_share'])}"]
    parts += [
        f"{lang.upper()} {_ci(d['misplaced_share'])}" for lang, d in ea["per_language"].items()
    ]
    return "misplaced-item share: " + " · ".join(parts)
