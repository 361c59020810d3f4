"""What every report shares (report.py, analysis_report.py, grid.py): how a confidence interval
and a paired difference are written in a table cell, the runs' short column labels, and the
cells of a comparison of runs."""

from __future__ import annotations

CATEGORY_METRICS = {"entity_f1": "entity F1", "rougeL": "ROUGE-L", "bertscore_f1": "BERTScore F1"}
# Per-category sections of a comparison beyond CATEGORY_METRICS (no plot of their own).
CATEGORY_TABLES = {
    "exact_match": "exact match",
    "grounded_exact": "items grounded exactly",
    "ungrounded": "items unsupported by the report",
}


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def ci_cell(d: dict | None) -> str:
    """'0.412 [0.351, 0.470]' from {"value", "low", "high"}; '-' when undefined."""
    if not d or d.get("value") is None:
        return "-"
    if d.get("low") is None:
        return _fmt(d["value"])
    return f"{d['value']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"


def diff_cell(d: dict | None) -> str:
    """'+0.052 [+0.010, +0.094]*' (* = the CI excludes 0); '-' when undefined."""
    if not d or d.get("diff") is None:
        return "-"
    star = "*" if d["low"] is not None and (d["low"] > 0 or d["high"] < 0) else ""
    if d["low"] is None:
        return f"{d['diff']:+.3f}"
    return f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]{star}"


def short_names(runs: list[str]) -> dict[str, str]:
    """Column labels: the run names without the '-'-separated words they all end with, then
    without the words they all contain (e.g. naive-qwen...-demo-test,
    advanced_icl-qwen...-demo-test and naive-qwen...-ft-demo-test -> naive, advanced_icl,
    naive-ft); the longer labels where a shorter one would be empty or not unique."""
    if len(runs) < 2:
        return {r: r for r in runs}
    words = [r.split("-") for r in runs]
    common = 0
    while (
        all(len(w) > common + 1 for w in words)
        and len({tuple(w[len(w) - common - 1 :]) for w in words}) == 1
    ):
        common += 1
    words = [w[: len(w) - common] for w in words]
    shared = set.intersection(*(set(w) for w in words))
    for labels in (
        {r: "-".join(x for x in w if x not in shared) for r, w in zip(runs, words, strict=True)},
        {r: "-".join(w) for r, w in zip(runs, words, strict=True)},
    ):
        if all(labels.values()) and len(set(labels.values())) == len(runs):
            return labels
    return {r: r for r in runs}


def comparison_tables(comparison: dict, minus: str = "-") -> tuple[list, list, list]:
    """The cells of the comparison, shared by the Markdown and HTML reports: the column heads
    (runs, then each run minus the baseline), the headline rows and the per-category sections
    ({"label", "rows"}); each row is [name, cell, ...]."""
    runs, base = comparison["runs"], comparison["baseline"]
    others = [r for r in runs if r != base]
    names = short_names(runs)
    head = [*(names[r] for r in runs), *(f"{names[r]} {minus} {names[base]}" for r in others)]
    headline = [
        [
            h["label"],
            *(ci_cell(comparison["headline"][r].get(m)) for r in runs),
            *(diff_cell(comparison["diffs"][r]["overall"].get(m)) for r in others),
        ]
        for m, h in comparison["headline"][base].items()
    ]
    sections = []
    for metric, label in (*CATEGORY_METRICS.items(), *CATEGORY_TABLES.items()):
        rows = [
            [
                f,
                *(ci_cell(comparison["per_category"][r][f].get(metric)) for r in runs),
                *(diff_cell(comparison["diffs"][r]["per_category"][f].get(metric)) for r in others),
            ]
            for f, ms in comparison["per_category"][base].items()
            if metric in ms
        ]
        if rows:
            sections.append({"label": label, "rows": rows})
    return head, headline, sections
