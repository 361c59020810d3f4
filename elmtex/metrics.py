"""Scoring of cached runs against gold: ROUGE per category, parse rate, N/A agreement.

Policies (config `evaluate.*`, stated in every report):
- unparseable: `empty` scores an unparseable prediction as empty on every field (default);
  `skip` leaves it out, as the original study did (for reproduction only: it flatters a model
  that often fails to produce JSON).
- gold_na: `exclude` leaves fields whose gold is N/A out of the text metrics (how the study's
  ROUGE treated them; N/A agreement measures them instead); `match` scores both-N/A as 1 and
  one-side N/A as 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nltk.stem import porter
from rouge_score import rouge_scorer

from elmtex.config import ConfigError
from elmtex.entities import EntityBackend, MatchCounts, macro_f1, micro, normalise_item
from elmtex.task import Task

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


class UnicodeRougeTokenizer:
    """rouge-score's tokenizer, except that it keeps non-ASCII letters.

    The default one replaces everything outside [a-z0-9] by spaces, so "Übelkeit" becomes
    "belkeit" and "µg" vanishes. On ASCII text this gives exactly the default's tokens.
    """

    def __init__(self, use_stemmer: bool = True):
        self._stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        tokens = _NON_WORD.sub(" ", text.lower()).split()
        if self._stemmer:
            # Like rouge-score: stem only longer words; Porter is English, so only ASCII words.
            tokens = [self._stemmer.stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]
        return [t for t in tokens if t]


def make_rouge_scorer(stemming: bool = True) -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES),
                                    tokenizer=UnicodeRougeTokenizer(stemming))


@dataclass
class Policies:
    unparseable: str = "empty"  # empty | skip
    gold_na: str = "exclude"  # exclude | match
    exclude_fields: tuple[str, ...] = ("age", "gender")

    def __post_init__(self):
        if self.unparseable not in ("empty", "skip"):
            raise ConfigError(
                f"evaluate.unparseable must be 'empty' or 'skip', got {self.unparseable!r}")
        if self.gold_na not in ("exclude", "match"):
            raise ConfigError(
                f"evaluate.gold_na must be 'exclude' or 'match', got {self.gold_na!r}")

    def describe(self) -> dict[str, str]:
        return {
            "unparseable": {"empty": "an unparseable prediction counts as empty on every field",
                            "skip": "unparseable predictions are left out (original study)"}
            [self.unparseable],
            "gold_na": {"exclude": "fields whose gold is N/A are left out of text metrics",
                        "match": "both N/A scores 1, one side N/A scores 0"}[self.gold_na],
            "exclude_fields": f"left out of text metrics: {', '.join(self.exclude_fields) or '-'}",
        }


def _as_text(task: Task, value) -> str:
    return task.item_separator.join(value) if isinstance(value, list) else str(value)


def schema_valid(task: Task, parsed: dict | None) -> bool:
    """All fields present with the declared type (str, or list of str)."""
    if parsed is None:
        return False
    return all(f.name in parsed and (isinstance(parsed[f.name], str) if f.type == "str" else
               isinstance(parsed[f.name], list)
               and all(isinstance(x, str) for x in parsed[f.name]))
               for f in task.fields)


def score_run(task: Task, gold: dict[str, dict], cached: Iterable[dict], policies: Policies,
              stemming: bool = True, entity_backend: EntityBackend | None = None,
              bert=None) -> dict:
    """Metrics of one run: overall, per category, per language; plus counts.

    `entity_backend` adds entity-level P/R/F1 on the text fields; `bert` (a FieldBertScorer)
    adds BERTScore F1 on the same (record, field) pairs as ROUGE, under the same N/A policy.
    Fields in `policies.exclude_fields` (age, gender) get exact-match accuracy instead.
    """
    scorer = make_rouge_scorer(stemming)
    text_fields = [f for f in task.field_names if f not in policies.exclude_fields]
    rouge = {f: {t: [] for t in ROUGE_TYPES} for f in text_fields}
    entity = {f: MatchCounts() for f in text_fields}
    bert_pairs: dict[str, list] = {f: [] for f in text_fields}  # (pred, gold) or a fixed score
    exact = {f: [] for f in policies.exclude_fields if f in task.field_names}
    valid_n = 0
    na = {f: {"tp": 0, "pred": 0, "gold": 0} for f in task.field_names}
    lang_rouge = defaultdict(list)
    n = parsed_n = skipped = 0
    finish = defaultdict(int)
    seen = set()
    for row in cached:
        rid = row["id"]
        if rid not in gold:
            continue  # outside the selected records (e.g. a smaller data.limit)
        seen.add(rid)
        n += 1
        finish[row.get("finish_reason") or "unknown"] += 1
        ok = row.get("parsed") is not None
        parsed_n += ok
        if not ok and policies.unparseable == "skip":
            skipped += 1
            continue
        rec = gold[rid]
        valid_n += schema_valid(task, row.get("parsed"))
        pred = task.coerce_prediction(row.get("parsed"))
        for f in task.field_names:
            g_na, p_na = task.is_na(rec[task.output_key][f]), task.is_na(pred[f])
            na[f]["tp"] += g_na and p_na
            na[f]["pred"] += p_na
            na[f]["gold"] += g_na
            if f in exact:
                exact[f].append(normalise_item(_as_text(task, rec[task.output_key][f]))
                                == normalise_item(_as_text(task, pred[f])))
            if f not in rouge:
                continue
            if entity_backend is not None:
                lang = rec.get("lang", "")
                entity[f] += entity_backend.compare(
                    entity_backend.entities(rec[task.output_key][f], lang),
                    entity_backend.entities(pred[f], lang))
            if g_na or p_na:
                if g_na and policies.gold_na == "exclude":
                    continue
                # one side N/A (or, under `match`, both): no text to compare
                value = 1.0 if (g_na and p_na) else 0.0
                scores = {t: value for t in ROUGE_TYPES}
                bert_pairs[f].append(value)
            else:
                g_text, p_text = _as_text(task, rec[task.output_key][f]), _as_text(task, pred[f])
                s = scorer.score(g_text, p_text)
                scores = {t: s[t].fmeasure for t in ROUGE_TYPES}
                bert_pairs[f].append((p_text, g_text))
            for t in ROUGE_TYPES:
                rouge[f][t].append(scores[t])
            lang_rouge[rec.get("lang")].append(scores["rougeL"])

    def mean(xs):
        return sum(xs) / len(xs) if xs else None

    def prf(c):
        p = c["tp"] / c["pred"] if c["pred"] else None
        r = c["tp"] / c["gold"] if c["gold"] else None
        f1 = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        return {"precision": p, "recall": r, "f1": f1, "gold_na": c["gold"], "pred_na": c["pred"]}

    bert_f1 = _bertscore_means(bert, bert_pairs) if bert is not None else {}
    per_category = {}
    for f in task.field_names:
        entry = {"na": prf(na[f])}
        if f in rouge:
            entry.update({t: mean(rouge[f][t]) for t in ROUGE_TYPES})
            entry["n_scored"] = len(rouge[f]["rouge1"])
            if bert is not None:
                entry["bertscore_f1"] = bert_f1[f]
            if entity_backend is not None:
                entry["entity"] = entity[f].as_dict()
        if f in exact:
            entry["exact_match"] = mean(exact[f])
        per_category[f] = entry
    # macro average: each category counts once
    overall = {t: mean([v[t] for v in per_category.values() if v.get(t) is not None])
               for t in ROUGE_TYPES}
    if bert is not None:
        overall["bertscore_f1"] = mean([v for v in bert_f1.values() if v is not None])
    if entity_backend is not None:
        overall["entity_micro"] = micro(entity.values()).as_dict()
        overall["entity_macro_f1"] = macro_f1(entity)
    total_na = {k: sum(na[f][k] for f in na) for k in ("tp", "pred", "gold")}
    return {
        "n_records": n,
        "n_gold": len(gold),
        "missing_ids": sorted(set(gold) - seen),
        "parse_rate": parsed_n / n if n else None,
        "schema_valid_rate": valid_n / (n - skipped) if n - skipped else None,
        "skipped_unparseable": skipped,
        "finish_reasons": dict(finish),
        "overall": {**overall, "na": prf(total_na)},
        "per_language_rougeL": {k: mean(v) for k, v in sorted(lang_rouge.items())},
        "per_category": per_category,
        "policies": policies.describe(),
        "entity_backend": getattr(entity_backend, "name", None),
        "bertscore": bert.describe() if bert is not None else None,
    }


def _bertscore_means(bert, pairs: dict[str, list]) -> dict[str, float | None]:
    """Score every text pair of every field in one call (one reused scorer), then average."""
    flat = [(f, i, p) for f, items in pairs.items() for i, p in enumerate(items)
            if isinstance(p, tuple)]
    scores = bert.score_pairs([p[0] for _, _, p in flat], [p[1] for _, _, p in flat]) \
        if flat else []
    values = {f: [p if not isinstance(p, tuple) else None for p in items]
              for f, items in pairs.items()}
    for (f, i, _), sc in zip(flat, scores, strict=True):
        values[f][i] = sc
    return {f: (sum(v) / len(v) if v else None) for f, v in values.items()}
