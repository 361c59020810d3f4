"""Numbers from clinicians' reviews (elmtex.reviews) for evaluate.py.

Per run: human-judged precision of the predicted items (share judged correct, pooled over
reviewers) overall and per category, with percentile bootstrap CIs over records; items missed
per reviewed record; the share of items in the wrong category with a category-to-category
table; Cohen's kappa between each pair of reviewers on the items both judged (CI over
records); and, per reviewer, agreement with the automatic item matching: of the items the
matcher (entity items, token F1 >= evaluate.entities.threshold against the gold items) calls
matched, how many the clinician judged correct, and of those judged correct, how many the
matcher matched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

from markupsafe import Markup, escape

from elmtex.entities import match_items
from elmtex.reviews import MISSED, VERDICTS, latest
from elmtex.stats import bootstrap_ci
from elmtex.task import Task


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels; None without pairs or when chance agreement is 1."""
    n = len(pairs)
    if not n:
        return None
    po = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return None if pe == 1 else (po - pe) / (1 - pe)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _ratio_ci(per_record: list[tuple[int, int]], boot: Mapping[str, Any]) -> dict[str, Any]:
    """A pooled ratio sum(num)/sum(den) with a bootstrap CI over records."""

    def stat(rows):
        den = sum(d for _, d in rows)
        return sum(n for n, _ in rows) / den if den else None

    return bootstrap_ci(per_record, stat, **boot)


def auto_matched(
    task: Task,
    gold_summary: Mapping[str, str],
    predicted: Mapping[str, Sequence[str]],
    threshold: float,
) -> set[tuple[str, str]]:
    """(field, item) of the predicted items the automatic item matching pairs with a gold item."""
    out = set()
    for f, items in predicted.items():
        _, pairs = match_items(task.items(gold_summary.get(f)), list(items), threshold)
        out.update((f, items[j]) for _, j, _ in pairs)
    return out


def review_summary(
    task: Task,
    run: str,
    events: Sequence[Mapping[str, Any]],
    predicted: Mapping[str, Mapping[str, Sequence[str]]],
    gold: Mapping[str, Mapping[str, str]],
    threshold: float,
    boot: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The review numbers of one run, or None if nobody reviewed it.

    predicted: record id -> {field: [items]} of the run's answers; gold: record id -> gold
    summary. Only judgements of items the answer holds count (an answer cached again after
    the review may have other items)."""
    boot = {k: boot[k] for k in ("n_boot", "seed", "alpha") if k in boot}
    cur = [
        e
        for e in latest(e for e in events if e["run"] == run).values()
        if e["record_id"] in predicted
    ]
    if not cur:
        return None
    items = [
        e
        for e in cur
        if e["kind"] == "item"
        and e["verdict"] in VERDICTS
        and e["item"] in predicted[e["record_id"]].get(e["field"], ())
    ]
    missed = [e for e in cur if e["kind"] == "missed" and e["verdict"] == MISSED]
    reviewed = sorted({(e["reviewer"], e["record_id"]) for e in items + missed})
    records = sorted({rid for _, rid in reviewed})
    reviewers = sorted({r for r, _ in reviewed})
    fields = task.field_names

    def precision(sel) -> dict[str, Any]:
        per_rec = [
            (
                sum(e["verdict"] == "correct" for e in sel if e["record_id"] == rid),
                sum(1 for e in sel if e["record_id"] == rid),
            )
            for rid in records
        ]
        return {
            **_ratio_ci(per_rec, boot),
            "judged": sum(d for _, d in per_rec),
            "correct": sum(n for n, _ in per_rec),
        }

    per_category = {}
    for f in fields:
        sel = [e for e in items if e["field"] == f]
        m = [e for e in missed if e["field"] == f]
        if not sel and not m:
            continue
        per_category[f] = {
            "precision": precision(sel),
            "verdicts": dict(Counter(e["verdict"] for e in sel)),
            "wrong_category_share": _ratio(
                sum(e["verdict"] == "wrong_category" for e in sel), len(sel)
            ),
            "missed_per_record": len(m) / len(reviewed),
        }
    moves = Counter((e["field"], e["target"]) for e in items if e["verdict"] == "wrong_category")
    missed_per = [
        sum(1 for e in missed if (e["reviewer"], e["record_id"]) == rr) for rr in reviewed
    ]
    out: dict[str, Any] = {
        "run": run,
        "reviewers": reviewers,
        "n_records": len(records),
        "n_reviewed": len(reviewed),
        "n_judged": len(items),
        "precision": precision(items),
        "verdicts": dict(Counter(e["verdict"] for e in items)),
        "wrong_category_share": _ratio(sum(moves.values()), len(items)),
        "wrong_category_table": [
            {"from": a, "to": b, "n": n} for (a, b), n in sorted(moves.items())
        ],
        "missed": {
            "total": len(missed),
            **bootstrap_ci(missed_per, lambda xs: sum(xs) / len(xs), **boot),
        },
        "per_category": per_category,
        "kappa": [],
        "automatic": {},
    }
    by_item: dict[tuple, dict[str, str]] = {}
    for e in items:
        by_item.setdefault((e["record_id"], e["field"], e["item"]), {})[e["reviewer"]] = e[
            "verdict"
        ]
    for a, b in combinations(reviewers, 2):
        per_rec: dict[str, list[tuple[str, str]]] = {}
        for (rid, _, _), v in by_item.items():
            if a in v and b in v:
                per_rec.setdefault(rid, []).append((v[a], v[b]))
        pairs = [p for ps in per_rec.values() for p in ps]
        ci = bootstrap_ci(
            list(per_rec.values()), lambda rows: cohen_kappa([p for ps in rows for p in ps]), **boot
        )
        out["kappa"].append(
            {
                "reviewers": [a, b],
                "n_items": len(pairs),
                "agreement": _ratio(sum(x == y for x, y in pairs), len(pairs)),
                **ci,
            }
        )
    matched = {
        rid: auto_matched(task, gold.get(rid, {}), predicted[rid], threshold) for rid in records
    }
    for r in reviewers:
        table = Counter()
        for e in items:
            if e["reviewer"] == r:
                auto = (e["field"], e["item"]) in matched[e["record_id"]]
                table[(auto, e["verdict"] == "correct")] += 1
        n = sum(table.values())
        pairs = [(str(a), str(h)) for (a, h), k in table.items() for _ in range(k)]
        out["automatic"][r] = {
            "n_items": n,
            "matched_and_correct": table[(True, True)],
            "matched_not_correct": table[(True, False)],
            "unmatched_correct": table[(False, True)],
            "unmatched_not_correct": table[(False, False)],
            "correct_given_matched": _ratio(
                table[(True, True)], table[(True, True)] + table[(True, False)]
            ),
            "matched_given_correct": _ratio(
                table[(True, True)], table[(True, True)] + table[(False, True)]
            ),
            "agreement": _ratio(table[(True, True)] + table[(False, False)], n),
            "kappa": cohen_kappa(pairs),
        }
    out["threshold"] = threshold
    return out


# --- Rendering -------------------------------------------------------------------------------


def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.2f}"


def _ci(d: Mapping[str, Any]) -> str:
    s = _f(d.get("value"))
    return s if d.get("low") is None else f"{s} [{_f(d['low'])}, {_f(d['high'])}]"


def review_tables(s: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The review section as (title, header, rows) tables, for markdown and HTML alike."""
    p = s["precision"]
    tables = [
        (
            "Human-judged precision per category",
            ["category", "judged", "precision [95% CI]", "wrong category", "missed / record"],
            [
                [
                    f,
                    str(m["precision"]["judged"]),
                    _ci(m["precision"]),
                    _f(m["wrong_category_share"]),
                    _f(m["missed_per_record"]),
                ]
                for f, m in s["per_category"].items()
            ]
            + [
                [
                    "overall",
                    str(p["judged"]),
                    _ci(p),
                    _f(s["wrong_category_share"]),
                    _ci(s["missed"]),
                ]
            ],
        )
    ]
    if s["wrong_category_table"]:
        tables.append(
            (
                "Items in the wrong category",
                ["predicted as", "belongs to", "items"],
                [[m["from"], m["to"], str(m["n"])] for m in s["wrong_category_table"]],
            )
        )
    if s["kappa"]:
        tables.append(
            (
                "Agreement between reviewers",
                ["reviewers", "items", "agreement", "Cohen's kappa [95% CI]"],
                [
                    [" vs ".join(k["reviewers"]), str(k["n_items"]), _f(k["agreement"]), _ci(k)]
                    for k in s["kappa"]
                ],
            )
        )
    tables.append(
        (
            "Clinician vs automatic item matching",
            [
                "reviewer",
                "items",
                "matched: judged correct",
                "judged correct: matched",
                "agreement",
                "kappa",
            ],
            [
                [
                    r,
                    str(a["n_items"]),
                    _f(a["correct_given_matched"]),
                    _f(a["matched_given_correct"]),
                    _f(a["agreement"]),
                    _f(a["kappa"]),
                ]
                for r, a in s["automatic"].items()
            ],
        )
    )
    return tables


def _intro(s: Mapping[str, Any]) -> str:
    return (
        f"reviewers {', '.join(s['reviewers'])} · records {s['n_records']} · judged items "
        f"{s['n_judged']} · verdicts {s['verdicts']} · missed items added "
        f"{s['missed']['total']}; automatic matching: token F1 >= {s['threshold']} "
        "against the gold items"
    )


def review_lines(s: Mapping[str, Any]) -> list[str]:
    """The review section of report.md."""
    lines = ["#### Clinician review", "", _intro(s)]
    for title, head, rows in review_tables(s):
        lines += [
            "",
            f"{title}:",
            "",
            "| " + " | ".join(head) + " |",
            "|---|" + "---:|" * (len(head) - 1),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def review_html(run: str, s: Mapping[str, Any]) -> Markup:
    """The review section of report.html for one run."""
    parts = [
        f'<section class="human-review" data-run="{escape(run)}">'
        f"<h3>Clinician review: <code>{escape(run)}</code></h3>"
        f'<p class="note">{escape(_intro(s))}</p>'
    ]
    for title, head, rows in review_tables(s):
        parts.append(
            f"<h4>{escape(title)}</h4><table><tr>"
            + "".join(f"<th>{escape(h)}</th>" for h in head)
            + "</tr>"
        )
        parts += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows]
        parts.append("</table>")
    parts.append("</section>")
    return Markup("".join(parts))
