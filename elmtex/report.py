"""Tables and files of evaluation results: Markdown for people, CSV and JSON for programs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from elmtex.io import write_json, write_text
from elmtex.metrics import ROUGE_TYPES


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def category_rows(metrics: dict) -> list[dict]:
    rows = []
    for f, m in metrics["per_category"].items():
        ent = m.get("entity") or {}
        rows.append({
            "category": f,
            **{t: m.get(t) for t in ROUGE_TYPES},
            "bertscore_f1": m.get("bertscore_f1"),
            "entity_precision": ent.get("precision"),
            "entity_recall": ent.get("recall"),
            "entity_f1": ent.get("f1"),
            "exact_match": m.get("exact_match"),
            "n_scored": m.get("n_scored"),
            **{f"na_{k}": m["na"][k] for k in ("precision", "recall", "f1")},
        })
    return rows


HEAD = ["ROUGE-1", "ROUGE-2", "ROUGE-L", "BERTScore", "Ent P", "Ent R", "Ent F1", "exact",
        "n", "N/A P", "N/A R"]


def markdown_table(metrics: dict, run: str) -> str:
    o = metrics["overall"]
    lines = [
        f"### {run}",
        "",
        f"records {metrics['n_records']}/{metrics['n_gold']} · "
        f"JSON parse rate {_fmt(metrics['parse_rate'])} · "
        f"schema-valid {_fmt(metrics.get('schema_valid_rate'))} · "
        f"finish reasons {metrics['finish_reasons']}",
        "",
        "| category | " + " | ".join(HEAD) + " |",
        "|---|" + "---:|" * len(HEAD),
    ]
    for r in category_rows(metrics):
        cells = [_fmt(r[k]) for k in ("rouge1", "rouge2", "rougeL", "bertscore_f1",
                                      "entity_precision", "entity_recall", "entity_f1",
                                      "exact_match")]
        cells += ["-" if r["n_scored"] is None else str(r["n_scored"]),
                  _fmt(r["na_precision"]), _fmt(r["na_recall"])]
        lines.append(f"| {r['category']} | " + " | ".join(cells) + " |")
    em = o.get("entity_micro") or {}
    cells = [_fmt(o[t]) for t in ROUGE_TYPES] + [_fmt(o.get("bertscore_f1")),
             _fmt(em.get("precision")), _fmt(em.get("recall")), _fmt(em.get("f1")), "", "",
             _fmt(o["na"]["precision"]), _fmt(o["na"]["recall"])]
    lines.append("| **overall** | " + " | ".join(f"**{c}**" if c else "" for c in cells) + " |")
    lines += ["",
              "ROUGE and BERTScore overall: macro average over categories; entity P/R/F1 "
              f"overall: micro (entity macro F1 {_fmt(o.get('entity_macro_f1'))}); "
              f"entity backend: {metrics.get('entity_backend') or '-'}.",
              "Policies: " + "; ".join(metrics["policies"].values()) + "."]
    if metrics.get("bertscore"):
        b = metrics["bertscore"]
        lines.append(f"BERTScore: {b['model']}, layer {b['num_layers']}, "
                     f"{'rescaled' if b['rescaled'] else 'not rescaled'}; hash `{b['hash']}`.")
    return "\n".join(lines) + "\n"


def comparison_table(all_metrics: dict[str, dict]) -> str:
    """One line per run: parse rate and the headline metrics."""
    lines = ["| run | parse rate | ROUGE-1 | ROUGE-2 | ROUGE-L | BERTScore | Ent F1 (micro) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for run, m in all_metrics.items():
        o = m["overall"]
        cells = [_fmt(m["parse_rate"])] + [_fmt(o[t]) for t in ROUGE_TYPES] + [
            _fmt(o.get("bertscore_f1")), _fmt((o.get("entity_micro") or {}).get("f1"))]
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
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
