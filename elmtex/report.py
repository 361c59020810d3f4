"""Tables and files of evaluation results: Markdown for people, CSV and JSON for programs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from elmtex.io import write_json, write_text
from elmtex.metrics import ROUGE_TYPES

COLUMNS = [("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def category_rows(metrics: dict) -> list[dict]:
    rows = []
    for f, m in metrics["per_category"].items():
        row = {"category": f}
        row.update({t: m.get(t) for t in ROUGE_TYPES})
        row["n_scored"] = m.get("n_scored")
        row.update({f"na_{k}": m["na"][k] for k in ("precision", "recall", "f1")})
        rows.append(row)
    return rows


def markdown_table(metrics: dict, run: str) -> str:
    lines = [
        f"### {run}",
        "",
        f"records {metrics['n_records']}/{metrics['n_gold']} · "
        f"JSON parse rate {_fmt(metrics['parse_rate'])} · "
        f"finish reasons {metrics['finish_reasons']}",
        "",
        "| category | " + " | ".join(h for _, h in COLUMNS) + " | n | N/A P | N/A R |",
        "|---|" + "---:|" * (len(COLUMNS) + 3),
    ]
    for r in category_rows(metrics):
        cells = [_fmt(r[t]) for t, _ in COLUMNS]
        lines.append(f"| {r['category']} | " + " | ".join(cells)
                     + f" | {r['n_scored'] if r['n_scored'] is not None else '-'}"
                     + f" | {_fmt(r['na_precision'])} | {_fmt(r['na_recall'])} |")
    o = metrics["overall"]
    lines.append("| **overall (macro)** | " + " | ".join(f"**{_fmt(o[t])}**" for t, _ in COLUMNS)
                 + f" | | {_fmt(o['na']['precision'])} | {_fmt(o['na']['recall'])} |")
    lines += ["", "Policies: " + "; ".join(metrics["policies"].values()) + "."]
    return "\n".join(lines) + "\n"


def comparison_table(all_metrics: dict[str, dict]) -> str:
    """One line per run: parse rate and macro ROUGE."""
    lines = ["| run | parse rate | " + " | ".join(h for _, h in COLUMNS) + " |",
             "|---|---:|" + "---:|" * len(COLUMNS)]
    for run, m in all_metrics.items():
        lines.append(f"| {run} | {_fmt(m['parse_rate'])} | "
                     + " | ".join(_fmt(m["overall"][t]) for t, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def write_results(out_dir: Path, run: str, metrics: dict, config_text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", metrics)
    buf = io.StringIO()
    rows = category_rows(metrics)
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(out_dir / "per_category.csv", buf.getvalue())
    write_text(out_dir / "table.md", markdown_table(metrics, run))
    write_text(out_dir / "config.yaml", config_text)
