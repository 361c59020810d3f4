"""Tables and files of evaluation results: Markdown and HTML for people, CSV and JSON for programs.

Every number with a bracket beside it is a point estimate with its 95% percentile bootstrap CI
over records; a difference is (run - baseline) from a paired bootstrap on the same records.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from elmtex.analysis_report import (
    all_tables,
    analysis_plots,
    comparison_analysis_tables,
    error_tables,
    language_tables,
    tables_html,
    tables_markdown,
)
from elmtex.io import write_json, write_text
from elmtex.plots import plot_categories, plot_rates
from elmtex.report_tables import CATEGORY_METRICS, ci_cell, comparison_tables, short_names
from elmtex.review_stats import review_html, review_lines
from elmtex.run_scores import ROUGE_TYPES


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


# One run ------------------------------------------------------------------------------------


def category_rows(metrics: dict) -> list[dict]:
    rows = []
    for f, m in metrics["per_category"].items():
        ent = m.get("entity") or {}
        ci = m.get("ci", {})
        row = {
            "category": f,
            **{t: m.get(t) for t in ROUGE_TYPES},
            "bertscore_f1": m.get("bertscore_f1"),
            **({"bleu": m.get("bleu")} if "bleu" in metrics["overall"] else {}),
            "entity_precision": ent.get("precision"),
            "entity_recall": ent.get("recall"),
            "entity_f1": ent.get("f1"),
            "exact_match": m.get("exact_match"),
            "n_scored": m.get("n_scored"),
            **{f"na_{k}": m["na"][k] for k in ("precision", "recall", "f1")},
        }
        for k in (
            *ROUGE_TYPES,
            "bertscore_f1",
            *(["bleu"] if "bleu" in row else []),
            "entity_f1",
            "exact_match",
        ):
            row[f"{k}_low"] = ci.get(k, {}).get("low")
            row[f"{k}_high"] = ci.get(k, {}).get("high")
        rows.append(row)
    return rows


HEAD = [
    "ROUGE-1",
    "ROUGE-2",
    "ROUGE-L [95% CI]",
    "BERTScore [95% CI]",
    "Ent P",
    "Ent R",
    "Ent F1 [95% CI]",
    "exact [95% CI]",
    "n",
    "N/A P",
    "N/A R",
]


def _with_ci(value: float | None, ci: dict | None) -> str:
    return ci_cell({"value": value, **(ci or {})})


def headline_lines(metrics: dict) -> list[str]:
    lines = ["| metric | value [95% CI] | n |", "|---|---:|---:|"]
    for h in metrics["headline"].values():
        lines.append(f"| {h['label']} | {ci_cell(h)} | {h['n']} |")
    return lines


def notes_lines(metrics: dict) -> list[str]:
    b = metrics["bootstrap"]
    lines = [
        "ROUGE and BERTScore overall: macro average over categories; entity P/R/F1 overall: "
        f"micro; entity backend: {metrics.get('entity_backend') or '-'}.",
        "Policies: " + "; ".join(metrics["policies"].values()) + ".",
        f"CIs: {int((1 - b['alpha']) * 100)}% percentile Poisson bootstrap over records, "
        f"{b['n_boot']} resamples, seed {b['seed']}.",
    ]
    if metrics.get("bertscore"):
        bs = metrics["bertscore"]
        lines.append(
            f"BERTScore: {bs['model']}, layer {bs['num_layers']}, "
            f"{'rescaled' if bs['rescaled'] else 'not rescaled'}; hash `{bs['hash']}`."
        )
    if metrics.get("grounding"):
        g = metrics["grounding"]
        lines.append(
            "Source grounding: each predicted item is looked up in its report; exactly = "
            "verbatim or up to case and whitespace, fuzzily = a window of report words with "
            f"character similarity >= {g['fuzzy_threshold']}, unsupported = neither; shares "
            "of items, overall over the text categories"
            + (
                "; copied from ICL examples = unsupported, but standing in a retrieved "
                "in-context example (its report or gold answer)"
                if g["overall"]["icl_copied"] is not None
                else ""
            )
            + "."
        )
    return lines


GROUNDING_HEAD = [
    "items",
    "exact",
    "normalized",
    "fuzzy",
    "none",
    "ICL-copied",
    "grounded exactly [95% CI]",
    "fuzzy share",
    "unsupported [95% CI]",
]


def _grounding_cells(g: dict, ci: dict) -> list[str]:
    return [
        str(g["items"]),
        str(g["exact"]),
        str(g["normalized"]),
        str(g["fuzzy"]),
        str(g["none"]),
        "-" if g["icl_copied"] is None else str(g["icl_copied"]),
        _with_ci(g["share_grounded_exact"], ci.get("grounded_exact")),
        _fmt(g["share_fuzzy"]),
        _with_ci(g["share_none"], ci.get("ungrounded")),
    ]


def grounding_lines(metrics: dict) -> list[str]:
    """The per-category grounding table of one run (empty without grounding)."""
    g = metrics.get("grounding")
    if not g:
        return []
    lines = [
        "#### Source grounding per category",
        "",
        "| category | " + " | ".join(GROUNDING_HEAD) + " |",
        "|---|" + "---:|" * len(GROUNDING_HEAD),
    ]
    for f, m in g["per_category"].items():
        lines.append(f"| {f} | " + " | ".join(_grounding_cells(m, m["ci"])) + " |")
    cells = _grounding_cells(g["overall"], g["overall"]["ci"])
    lines.append(
        "| **overall (text categories)** | " + " | ".join(f"**{c}**" for c in cells) + " |"
    )
    return lines


def judge_lines(judge: dict) -> list[str]:
    """The LLM-as-judge section of one run: mean score, score counts, and the rank agreement
    of the judge with each automatic metric."""
    dist = " · ".join(f"{k}: {v}" for k, v in judge["score_counts"].items())
    lines = [
        "#### LLM as judge",
        "",
        f"judge {judge['judge_model']} (cache {judge['cache']}) · judged "
        f"{judge['n_judged']}/{judge['n_records']} answers · no valid score "
        f"{judge['n_invalid']} · mean score {ci_cell(judge['mean_score'])} · "
        f"scores {dist}",
        "",
        "| automatic metric (per record) | n | Spearman rho | p | Kendall tau-b | p |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, a in judge["agreement"].items():
        lines.append(
            f"| {name} | {a['n']} | {_fmt(a['spearman'])} | {_fmt(a['spearman_p'])} "
            f"| {_fmt(a['kendall'])} | {_fmt(a['kendall_p'])} |"
        )
    return lines


def markdown_table(metrics: dict, run: str) -> str:
    """report.md of one run: headline metrics with CIs, then the per-category table."""
    o = metrics["overall"]
    bleu = "bleu" in o  # a column only where the config asked for BLEU (evaluate.bleu)
    head = [*HEAD[:4], *(["BLEU [95% CI]"] if bleu else []), *HEAD[4:]]
    lines = [
        f"### {run}",
        "",
        f"records {metrics['n_records']}/{metrics['n_gold']} · "
        f"JSON parse rate {_fmt(metrics['parse_rate'])} · "
        f"schema-valid {_fmt(metrics.get('schema_valid_rate'))} · "
        f"skipped {metrics['skipped_unparseable']} · "
        f"finish reasons {metrics['finish_reasons']}",
        "",
        *headline_lines(metrics),
        "",
        "| category | " + " | ".join(head) + " |",
        "|---|" + "---:|" * len(head),
    ]
    for f, m in metrics["per_category"].items():
        ent, ci = m.get("entity") or {}, m.get("ci", {})
        cells = [
            _fmt(m.get("rouge1")),
            _fmt(m.get("rouge2")),
            _with_ci(m.get("rougeL"), ci.get("rougeL")),
            _with_ci(m.get("bertscore_f1"), ci.get("bertscore_f1")),
            *([_with_ci(m.get("bleu"), ci.get("bleu"))] if bleu else []),
            _fmt(ent.get("precision")),
            _fmt(ent.get("recall")),
            _with_ci(ent.get("f1"), ci.get("entity_f1")),
            _with_ci(m.get("exact_match"), ci.get("exact_match")),
            "-" if m.get("n_scored") is None else str(m["n_scored"]),
            _fmt(m["na"]["precision"]),
            _fmt(m["na"]["recall"]),
        ]
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    em = o.get("entity_micro") or {}
    cells = [
        _fmt(o["rouge1"]),
        _fmt(o["rouge2"]),
        _fmt(o["rougeL"]),
        _fmt(o.get("bertscore_f1")),
        *([_fmt(o["bleu"])] if bleu else []),
        _fmt(em.get("precision")),
        _fmt(em.get("recall")),
        _fmt(em.get("f1")),
        "",
        "",
        _fmt(o["na"]["precision"]),
        _fmt(o["na"]["recall"]),
    ]
    lines.append("| **overall** | " + " | ".join(f"**{c}**" if c else "" for c in cells) + " |")
    if metrics.get("grounding"):
        lines += ["", *grounding_lines(metrics)]
    if metrics.get("judge"):
        lines += ["", *judge_lines(metrics["judge"])]
    lines += tables_markdown(
        [
            *language_tables(metrics),  # by language, misplaced items, cost
            *error_tables({**metrics, "run": run}),
        ]
    )
    if metrics.get("human_review"):
        lines += ["", *review_lines(metrics["human_review"])]
    lines += ["", *notes_lines(metrics)]
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


# Several runs (or one) ----------------------------------------------------------------------


def _md_table(first: str, head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        f"| {first} | " + " | ".join(head) + " |",
        "|---|" + "---:|" * len(head),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def comparison_markdown(comparison: dict) -> str:
    """Headline metrics and per-category F1/ROUGE-L/BERTScore of every run with CIs, and the
    differences to the baseline with paired CIs."""
    runs, base = comparison["runs"], comparison["baseline"]
    names = short_names(runs)
    head, headline, sections = comparison_tables(comparison)
    lines = [
        f"Records: {comparison['n_common']} common to all runs "
        f"(per run: {comparison['n_per_run']}). Baseline: {base}.",
        "",
    ]
    if any(names[r] != r for r in runs):
        lines[-1:] = ["Columns: " + "; ".join(f"{names[r]} = {r}" for r in runs), ""]
    lines += _md_table("metric", head, headline)
    for section in sections:
        lines += [
            "",
            f"#### {section['label']} per category",
            "",
            *_md_table("category", head, section["rows"]),
        ]
    b = comparison["bootstrap"]
    lines += [
        "",
        f"Brackets: {int((1 - b['alpha']) * 100)}% percentile Poisson bootstrap CI over "
        f"records ({b['n_boot']} resamples, seed {b['seed']}); differences are paired (the "
        "same record weights for both runs); * marks a difference whose CI excludes 0.",
    ]
    lines += tables_markdown(comparison_analysis_tables(comparison))  # languages, errors, cost
    return "\n".join(lines) + "\n"


def comparison_rows(comparison: dict) -> list[dict]:
    """Long format: one row per (run, category, metric) with value, CI and difference."""
    base = comparison["baseline"]
    rows = []
    for run in comparison["runs"]:
        blocks = [("overall", m, h) for m, h in comparison["headline"][run].items()]
        blocks += [
            (f, m, d) for f, ms in comparison["per_category"][run].items() for m, d in ms.items()
        ]
        for cat, metric, d in blocks:
            diff = (
                {}
                if run == base
                else (
                    comparison["diffs"][run]["overall"]
                    if cat == "overall"
                    else comparison["diffs"][run]["per_category"][cat]
                ).get(metric)
                or {}
            )
            rows.append(
                {
                    "run": run,
                    "category": cat,
                    "metric": metric,
                    "value": d["value"],
                    "low": d["low"],
                    "high": d["high"],
                    "n": d["n"],
                    "diff_vs_baseline": diff.get("diff"),
                    "diff_low": diff.get("low"),
                    "diff_high": diff.get("high"),
                    "p_value": diff.get("p_value"),
                }
            )
    return rows


def make_plots(comparison: dict, out_dir: Path) -> dict[str, Path]:
    """per-category entity F1 (or ROUGE-L without entities) with CI bars, and rates."""
    runs, base = comparison["runs"], comparison["baseline"]
    plots = {}
    for metric, label in CATEGORY_METRICS.items():
        cats = [f for f, ms in comparison["per_category"][base].items() if metric in ms]
        if not cats:
            continue
        per_run = {r: {f: comparison["per_category"][r][f][metric] for f in cats} for r in runs}
        plots[metric] = plot_categories(per_run, out_dir / f"per_category_{metric}.png", label)
    rates = {
        r: {
            "JSON parse rate": comparison["headline"][r]["parse_rate"],
            "schema-valid rate": comparison["headline"][r]["schema_valid_rate"],
        }
        for r in runs
    }
    for r in runs:  # grounding rates in the same plot (the page keeps one image per topic)
        for m, label in (("grounded_exact", "grounded exactly"), ("ungrounded", "unsupported")):
            if m in comparison["headline"][r]:
                rates[r][label] = comparison["headline"][r][m]
    plots["rates"] = plot_rates(rates, out_dir / "parse_rates.png")
    return plots


_HTML = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}.sig{font-weight:bold}.note{color:#555;font-size:.9em}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
</style></head><body>
<h1>{{ title }}</h1>
<p>Runs: {% for r in c.runs %}<code>{{ r }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.
Baseline: <code>{{ c.baseline }}</code>. Records common to all runs: {{ c.n_common }}.</p>
<h2>Headline metrics</h2>
<table><tr><th>metric</th>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in headline %}<tr><td>{{ row[0] }}</td>{% for cell in row[1:] %}
<td{% if cell.endswith('*') %} class="sig"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% for name, img in images %}<h2>{{ name }}</h2>
<img alt="{{ name }}" src="data:image/png;base64,{{ img }}">
{% endfor %}
{{ analysis }}
{% for section in categories %}<h2>{{ section.label }} per category</h2>
<table><tr><th>category</th>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in section.rows %}<tr><td>{{ row[0] }}</td>{% for cell in row[1:] %}
<td{% if cell.endswith('*') %} class="sig"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endfor %}
{% if reviews %}<h2 id="human-review">Clinician review</h2>
{% for section in reviews %}{{ section }}{% endfor %}{% endif %}
<h2>How these numbers were made</h2>
<ul class="note">{% for run, lines in notes %}
<li><code>{{ run }}</code>: {{ lines | join(' ') }}</li>
{% endfor %}
<li>Brackets: 95% percentile Poisson bootstrap CI over records ({{ c.bootstrap.n_boot }}
resamples, seed {{ c.bootstrap.seed }}); differences are run minus baseline from a paired
bootstrap on the same records; bold with * = the difference's CI excludes 0.</li></ul>
</body></html>
""")


def html_report(
    title: str, comparison: dict, metrics_by_run: dict[str, dict], plots: dict[str, Path]
) -> str:
    """A self-contained HTML page (plots inlined as base64 PNG)."""
    head, headline, categories = comparison_tables(comparison, minus="−")
    grounded = "grounded_exact" in comparison["headline"][comparison["baseline"]]
    titles = {
        "entity_f1": "Entity F1 per category",
        "rougeL": "ROUGE-L per category",
        "bertscore_f1": "BERTScore F1 per category",
        "rates": "Parse, schema and grounding rates" if grounded else "Parse and schema rates",
    }
    images = [
        (titles.get(k, k), base64.b64encode(Path(p).read_bytes()).decode("ascii"))
        for k, p in plots.items()
    ]
    notes = [(r, notes_lines(m)) for r, m in metrics_by_run.items()]
    reviews = [
        review_html(r, m["human_review"])
        for r, m in metrics_by_run.items()
        if m.get("human_review")
    ]
    return _HTML.render(
        title=title,
        c=comparison,
        head=head,
        headline=headline,
        categories=categories,
        images=images,
        notes=notes,
        reviews=reviews,
        analysis=Markup(tables_html(all_tables(comparison, metrics_by_run))),
    )


def write_run_results(out_dir: Path, run: str, metrics: dict, config_text: str) -> None:
    """metrics.json, per_category.csv, report.md and config.yaml of one run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", metrics)
    write_text(out_dir / "per_category.csv", _csv(category_rows(metrics)))
    write_text(out_dir / "report.md", markdown_table(metrics, run))
    write_text(out_dir / "config.yaml", config_text)


def write_report_page(
    out_dir: Path, title: str, comparison: dict, metrics_by_run: dict[str, dict]
) -> Path:
    """The PNG plots and the self-contained report.html."""
    plots = make_plots(comparison, out_dir)
    plots.update(analysis_plots(comparison, metrics_by_run, out_dir))  # heat-maps, frontier
    page = out_dir / "report.html"
    write_text(page, html_report(title, comparison, metrics_by_run, plots))
    return page


def write_comparison(
    out_dir: Path, title: str, comparison: dict, metrics_by_run: dict[str, dict], config_text: str
) -> Path:
    """metrics.json (the comparison), per_category.csv (long format), report.md, config.yaml,
    the plots and report.html of several runs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", comparison)
    write_text(out_dir / "per_category.csv", _csv(comparison_rows(comparison)))
    write_text(out_dir / "report.md", f"### {title}\n\n" + comparison_markdown(comparison))
    write_text(out_dir / "config.yaml", config_text)
    return write_report_page(out_dir, title, comparison, metrics_by_run)
