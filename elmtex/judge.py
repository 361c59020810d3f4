"""What the LLM-as-judge stage (judge.py) and its report (evaluate.py) need: the judgment's schema,
the texts the judge is shown (the reference and a run's answer), the score it gives, and its
rank agreement with the automatic metrics.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from elmtex import stats
from elmtex.io import id_hash
from elmtex.qa import choice_text, parse_choice
from elmtex.task import Field, Task

JUDGE_SCORES = ("1", "2", "3", "4", "5")
# The judgment's shape: the rationale first, so that the score follows from it.
JUDGE_TASK = Task(
    name="judgment",
    fields=(
        Field(
            "rationale", "str", "one or two sentences on how the answer compares with the reference"
        ),
        Field("score", "choice", "1 (wrong) to 5 (fully correct)", JUDGE_SCORES),
    ),
    input_key="question",
    output_key="judgment",
)


def judge_score(parsed: dict | None) -> int | None:
    """The 1-5 score of a parsed judgment ("4", 4, 4.0 and "4/5" count), else None."""
    if not isinstance(parsed, dict):
        return None
    value = parsed.get("score")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        value = int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([1-5])(?:\s*/\s*5)?\s*", value)
        value = int(m.group(1)) if m else None
    else:
        value = None
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def field_text(task: Task, f: Field, value: Any, options: dict[str, str] | None) -> str:
    if f.type == "choice":
        return choice_text(value if value in f.choices else None, options)
    if isinstance(value, list):
        return task.item_separator.join(value) or task.na_value
    return str(value)


def _lines(parts: list[tuple[str, str]]) -> str:
    """One line per field ("answer: C (metformin)"); a one-field task's value alone."""
    return parts[0][1] if len(parts) == 1 else "\n".join(f"{k}: {v}" for k, v in parts)


def reference_text(task: Task, record: dict) -> str:
    """The gold answer as the judge reads it."""
    gold = record[task.output_key]
    return _lines(
        [(f.name, field_text(task, f, gold[f.name], record.get("options"))) for f in task.fields]
    )


def answer_text(task: Task, record: dict, row: dict) -> str:
    """The run's answer as the judge reads it: the parsed fields (a choice parsed as the
    evaluation parses it), or the raw text when it was no JSON."""
    parsed = row.get("parsed")
    if parsed is None:
        return (row.get("raw") or "").strip() or "(empty answer)"
    pred = task.coerce_prediction(parsed)
    parts = []
    for f in task.fields:
        value = pred[f.name]
        if f.type == "choice":
            value = parse_choice(value, f.choices, record.get("options"))
        parts.append((f.name, field_text(task, f, value, record.get("options"))))
    return _lines(parts)


def agreement(judge: np.ndarray, metrics: dict[str, np.ndarray]) -> dict[str, dict]:
    """Rank correlation of the judge's scores with each per-record automatic metric, on the
    records where both exist: Spearman's rho and Kendall's tau-b with their p-values."""
    from scipy import stats as sps

    out = {}
    for name, values in metrics.items():
        ok = ~(np.isnan(judge) | np.isnan(values))
        n = int(ok.sum())
        entry: dict[str, Any] = {
            "n": n,
            "spearman": None,
            "spearman_p": None,
            "kendall": None,
            "kendall_p": None,
        }
        # A constant side has no ranks to correlate (scipy would return nan with a warning).
        if n >= 3 and np.ptp(judge[ok]) > 0 and np.ptp(values[ok]) > 0:
            rho = sps.spearmanr(judge[ok], values[ok])
            tau = sps.kendalltau(judge[ok], values[ok])
            entry.update(
                spearman=float(rho.statistic),
                spearman_p=float(rho.pvalue),
                kendall=float(tau.statistic),
                kendall_p=float(tau.pvalue),
            )
        out[name] = entry
    return out


def judge_config(cfg: dict) -> dict:
    """The config the judge runs under: the judge section's model, backend and length in place
    of the answering model's (everything else, such as backend.openai, shared)."""
    jc = cfg["judge"]
    out = copy.deepcopy(cfg)
    if jc["model"]:
        out["model"]["name_or_path"] = jc["model"]
    if jc["backend"]:
        out["backend"]["name"] = jc["backend"]
    out["generation"]["max_new_tokens"] = int(jc["max_new_tokens"])
    out["generation"]["constrained"] = bool(jc["constrained"])
    return out


def judge_summary(
    ids: Sequence[str], per_record: dict[str, np.ndarray], judge_rows: dict[str, dict], boot: dict
) -> dict[str, Any]:
    """The judge's scores of one run's records (in `ids` order): mean with a bootstrap CI,
    counts per score, and the rank agreement with each per-record automatic metric."""
    scores = np.array(
        [
            np.nan
            if (s := judge_score((judge_rows.get(i) or {}).get("parsed"))) is None
            else float(s)
            for i in ids
        ]
    )
    judged = sum(i in judge_rows for i in ids)
    counts = Counter(int(s) for s in scores[~np.isnan(scores)])
    return {
        "n_records": len(ids),
        "n_judged": judged,
        "n_invalid": judged - int((~np.isnan(scores)).sum()),
        "mean_score": stats.bootstrap_mean_ci(scores, **boot, keys=[id_hash(i) for i in ids]),
        "score_counts": {str(k): counts.get(k, 0) for k in range(1, 6)},
        "agreement": agreement(scores, per_record),
    }
