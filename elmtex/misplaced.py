"""Items in the wrong category: a confusion table of predicted category x gold category.

Per record, with the entity metric's matching rule (`elmtex.entities.match_items`: normalised
items, similarity >= threshold, one-to-one greedy from the highest similarity down):

1. Within each category, gold items are matched to predicted items as the entity metric does:
   a matched pair is CORRECT (the table's diagonal).
2. The predicted items left unmatched in their own category (the entity metric's false
   positives) and the gold items left unmatched in theirs (its false negatives) are then matched
   ACROSS categories in one more greedy round, the same rule, pairs of the same category
   excluded. A pair found here is a MISPLACED item: predicted under category p, gold under g.
3. A predicted item still unmatched is SPURIOUS (found in no gold category: column "(none)");
   a gold item still unmatched is MISSED everywhere (row "(none)" of the missed table).

Shares: misplaced share = misplaced / all predicted items; for gold items, found in their own
category (recall), found under another category, found nowhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from elmtex.entities import match_items, normalise_item, similarity

NONE = "(none)"


def confusion(
    gold: dict[str, list[str]], pred: dict[str, list[str]], fields: Sequence[str], threshold: float
) -> np.ndarray:
    """(F, F + 1) counts of one record: [p, g] = predicted items of category p matched to gold
    items of category g (diagonal: correct; off it: misplaced), [p, F] = spurious. The missed
    gold items of category g are gold_total[g] - column g's sum."""
    nf = len(fields)
    table = np.zeros((nf, nf + 1))
    left_gold: list[tuple[int, str]] = []  # (category index, normalised item)
    left_pred: list[tuple[int, str]] = []
    for k, f in enumerate(fields):
        g_items, p_items = gold.get(f, []), pred.get(f, [])
        counts, pairs = match_items(g_items, p_items, threshold)
        table[k, k] += counts.tp
        used_g = {i for i, _, _ in pairs}
        used_p = {j for _, j, _ in pairs}
        left_gold += [
            (k, n) for i, x in enumerate(g_items) if i not in used_g and (n := normalise_item(x))
        ]
        left_pred += [
            (k, n) for j, x in enumerate(p_items) if j not in used_p and (n := normalise_item(x))
        ]
    candidates = []
    for i, (gk, gn) in enumerate(left_gold):
        for j, (pk, pn) in enumerate(left_pred):
            if gk == pk:
                continue
            sim = similarity(gn, pn)
            if sim >= threshold:
                candidates.append((-sim, i, j))
    candidates.sort()  # the entity metric's order: similarity, then gold, then predicted index
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    for _, i, j in candidates:
        if i in used_gold or j in used_pred:
            continue
        used_gold.add(i)
        used_pred.add(j)
        table[left_pred[j][0], left_gold[i][0]] += 1
    for j, (pk, _) in enumerate(left_pred):
        if j not in used_pred:
            table[pk, nf] += 1
    return table


def gold_totals(gold: dict[str, list[str]], fields: Sequence[str]) -> np.ndarray:
    """(F,) gold items per category that count (those with something left after normalising)."""
    return np.array(
        [sum(1 for x in gold.get(f, []) if normalise_item(x)) for f in fields], dtype=float
    )


def record_counts(table: np.ndarray, gold_total: np.ndarray) -> dict[str, float]:
    """The per-record sums behind the shares: predicted items (all, misplaced, spurious) and
    gold items (all, found in their category, found under another, missed everywhere)."""
    nf = table.shape[0]
    diag = float(np.trace(table[:, :nf]))
    misplaced = float(table[:, :nf].sum() - diag)
    predicted = float(table.sum())
    gold = float(gold_total.sum())
    return {
        "predicted": predicted,
        "correct": diag,
        "misplaced": misplaced,
        "spurious": float(table[:, nf].sum()),
        "gold": gold,
        "gold_elsewhere": misplaced,
        "gold_nowhere": gold - diag - misplaced,
    }


def summarise_table(table: np.ndarray, gold_total: np.ndarray, fields: Sequence[str]) -> dict:
    """The run's confusion table (summed over records) as JSON: counts, each predicted
    category's row shares, and per gold category where its items were found."""
    nf = len(fields)
    cols = [*fields, NONE]
    rows = {}
    for k, f in enumerate(fields):
        total = table[k].sum()
        rows[f] = {
            "predicted": int(total),
            "counts": {c: int(table[k, i]) for i, c in enumerate(cols) if table[k, i]},
            "shares": {c: float(table[k, i] / total) for i, c in enumerate(cols) if table[k, i]}
            if total
            else {},
        }
    missed = {}
    for k, f in enumerate(fields):
        found = table[:, k]
        total = gold_total[k]
        nowhere = total - found.sum()
        counts = {fields[p]: int(found[p]) for p in range(nf) if found[p]}
        if nowhere:
            counts[NONE] = int(nowhere)
        missed[f] = {
            "gold": int(total),
            "found_under": counts,
            "shares": {c: v / total for c, v in counts.items()} if total else {},
        }
    return {"fields": list(fields), "by_predicted": rows, "by_gold": missed}
