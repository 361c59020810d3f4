"""Scoring of cached runs against gold, per record and category, then aggregated with
bootstrap confidence intervals.

`score_records` streams a run's cached rows once, in chunks (BERTScore is batched per chunk),
and keeps only numbers: per record and category ROUGE, BERTScore, optionally sentence BLEU,
entity counts, N/A flags and exact matches (`RunScores`; a task's choice fields, such as a
multiple-choice answer, are exact-match fields: accuracy of the parsed choice). `summarize`
turns those into the report's metrics with seeded bootstrap CIs over records; `compare_runs`
gives paired-bootstrap differences against a baseline run on the records every run has.
Memory grows by a few floats per record and field; report texts are never held beyond one chunk.

Policies (config `evaluate.*`, stated in every report):
- unparseable: `empty` scores an unparseable prediction as empty on every field (default);
  `skip` leaves it out, as the original study did (for reproduction only: it flatters a model
  that often fails to produce JSON).
- gold_na: `exclude` leaves fields whose gold is N/A out of the text metrics (how the study's
  ROUGE treated them; N/A agreement measures them instead); `match` scores both-N/A as 1 and
  one-side N/A as 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nltk.stem import porter
from rouge_score import rouge_scorer

from elmtex import stats
from elmtex.config import ConfigError
from elmtex.entities import EntityBackend, MatchCounts, normalise_item
from elmtex.grounding import EXACT, FUZZY, NONE, NORMALIZED, Grounder
from elmtex.io import chunks
from elmtex.qa import parse_choice, sentence_bleu
from elmtex.rowstore import RowStore
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
    """All fields present with the declared type (str; list of str; a choice's string)."""
    if parsed is None:
        return False
    return all(f.name in parsed and (isinstance(parsed[f.name], list)
                                     and all(isinstance(x, str) for x in parsed[f.name])
                                     if f.type == "list" else isinstance(parsed[f.name], str))
               for f in task.fields)


NAN = float("nan")


@dataclass
class RunScores:
    """Per-record numbers of one run, in record order (nan = not scored for that record).

    rouge[t], bert, bleu: (n, text fields); entity: (n, text fields, 3) tp/fp/fn; na: (n, fields, 2)
    gold N/A, predicted N/A; exact: (n, exact fields); parsed: (n,); valid: (n,);
    grounding: (n, fields, 5) item counts exact, normalized, fuzzy, none, and ICL-copied (the
    last nan in a run without retrieved examples). A record left out under `unparseable: skip`
    is nan everywhere except `parsed` (0).
    """

    text_fields: list[str]
    exact_fields: list[str]
    fields: list[str]
    n_gold: int
    has_bert: bool
    has_entities: bool
    has_bleu: bool = False
    choice_fields: list[str] = field(default_factory=list)  # exact fields scored as a choice
    ids: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    # Per-record rows in compact float64 blocks (elmtex.rowstore), not Python lists of floats:
    # about 1.5 kB per record instead of 5 kB, so 60,000 records fit in under 100 MB.
    parsed: RowStore = field(default_factory=RowStore)
    valid: RowStore = field(default_factory=RowStore)
    rouge: dict[str, RowStore] = field(
        default_factory=lambda: {t: RowStore() for t in ROUGE_TYPES})
    bert: RowStore = field(default_factory=RowStore)
    bleu: RowStore = field(default_factory=RowStore)
    entity: RowStore = field(default_factory=RowStore)
    na: RowStore = field(default_factory=RowStore)
    exact: RowStore = field(default_factory=RowStore)
    grounding: RowStore = field(default_factory=RowStore)
    finish: Counter = field(default_factory=Counter)
    missing_ids: list[str] = field(default_factory=list)
    has_grounding: bool = False
    has_icl: bool = False  # some cached row carries retrieved example ids (advanced_icl)
    grounding_info: dict | None = None

    @property
    def n(self) -> int:
        return len(self.ids)

    def arrays(self, rows: list[int] | None = None) -> dict[str, np.ndarray]:
        """The numbers as float arrays (optionally only the given record positions)."""
        def arr(x, shape_tail):
            # (records, *shape_tail); spelt out, as a task may have no field of a kind (no
            # exact-match field: shape (n, 0), which reshape(-1, 0) cannot infer)
            a = np.asarray(x, dtype=float).reshape((len(x), *shape_tail))
            return a if rows is None else a[rows]
        nt, ne, nf = len(self.text_fields), len(self.exact_fields), len(self.fields)
        grounding = None
        if self.has_grounding:
            grounding = arr(self.grounding, (nf, len(GROUNDING_COUNTS)))
            if not self.has_icl:  # no examples: the copy check does not apply
                grounding[..., -1] = np.nan
        return {
            **{t: arr(self.rouge[t], (nt,)) for t in ROUGE_TYPES},
            "bert": arr(self.bert, (nt,)) if self.has_bert else None,
            "bleu": arr(self.bleu, (nt,)) if self.has_bleu else None,
            "entity": arr(self.entity, (nt, 3)) if self.has_entities else None,
            "na": arr(self.na, (nf, 2)),
            "exact": arr(self.exact, (ne,)),
            "parsed": arr(self.parsed, ()),
            "valid": arr(self.valid, ()),
            "grounding": grounding,
        }


# Columns of RunScores.grounding.
GROUNDING_COUNTS = (EXACT, NORMALIZED, FUZZY, NONE, "icl_copied")


def _grounding_row(groundings: dict[str, list], fields: list[str]) -> list[tuple[float, ...]]:
    row = []
    for f in fields:
        gs = groundings.get(f, [])
        counts = Counter(g.status for g in gs)
        row.append((*(float(counts[s]) for s in GROUNDING_COUNTS[:4]),
                    float(sum(g.example_id is not None for g in gs))))
    return row


def score_records(task: Task, gold: dict[str, dict], cached: Iterable[dict],
                  policies: Policies, stemming: bool = True,
                  entity_backend: EntityBackend | None = None, bert=None,
                  on_example: Callable[[dict], None] | None = None, chunk_size: int = 256,
                  progress: Callable[[int], None] | None = None,
                  grounder: Grounder | None = None, bleu: bool = False) -> RunScores:
    """Score every cached row whose id is in `gold`, streaming in chunks of `chunk_size` rows.

    `entity_backend` adds entity counts on the text fields; `bert` (a FieldBertScorer) adds
    BERTScore F1 on the same (record, field) pairs as ROUGE, under the same N/A policy; `bleu`
    adds sentence BLEU there too. Fields in `policies.exclude_fields` (age, gender) get
    exact-match accuracy instead of text metrics, and so do the task's choice fields, whose
    choice is parsed from the answer (from the raw text when it was no JSON).
    `on_example` receives one per-example dict per record (for per_example.jsonl);
    `progress(k)` is told each time k more rows are done. `grounder` adds the source grounding
    of every predicted item (counts per field; the items' spans in the per-example dicts),
    with the ICL copy check on rows that carry `icl_example_ids`.
    """
    scorer = make_rouge_scorer(stemming)
    choice = {f.name: f for f in task.fields if f.type == "choice"}
    text_fields = [f for f in task.field_names
                   if f not in policies.exclude_fields and f not in choice]
    exact_fields = [f for f in task.field_names if f not in text_fields]
    out = RunScores(text_fields, exact_fields, list(task.field_names), len(gold),
                    bert is not None, entity_backend is not None, bleu, list(choice))
    out.has_grounding = grounder is not None
    if grounder is not None:
        out.grounding_info = grounder.describe()
    seen: set[str] = set()
    nt = len(text_fields)
    for chunk in chunks(cached, chunk_size):
        pending = []  # (record position in chunk, field index, pred text, gold text)
        examples = []
        for row in chunk:
            rid = row["id"]
            if rid not in gold:
                continue  # outside the selected records (e.g. a smaller data.limit)
            if rid in seen:
                continue  # a duplicated id (hand-edited cache): the first answer counts
            seen.add(rid)
            rec = gold[rid]
            ok = row.get("parsed") is not None
            finish = row.get("finish_reason") or "unknown"
            out.finish[finish] += 1
            out.ids.append(rid)
            out.langs.append(rec.get("lang", ""))
            out.parsed.append(float(ok))
            example: dict[str, Any] = {"id": rid, "lang": rec.get("lang", ""), "parsed": ok,
                                       "finish_reason": finish}
            example_ids = row.get("icl_example_ids")
            if example_ids is not None:
                out.has_icl = True
                example["icl_example_ids"] = example_ids
            if not ok and policies.unparseable == "skip":
                for t in ROUGE_TYPES:
                    out.rouge[t].append([NAN] * nt)
                if out.has_bert:
                    out.bert.append([NAN] * nt)
                if out.has_bleu:
                    out.bleu.append([NAN] * nt)
                if out.has_entities:
                    out.entity.append([(NAN, NAN, NAN)] * nt)
                out.na.append([(NAN, NAN)] * len(out.fields))
                out.exact.append([NAN] * len(exact_fields))
                out.valid.append(NAN)
                if out.has_grounding:
                    out.grounding.append([(NAN,) * len(GROUNDING_COUNTS)] * len(out.fields))
                example.update(skipped=True, schema_valid=None, fields={})
                examples.append(example)
                continue
            valid = schema_valid(task, row.get("parsed"))
            out.valid.append(float(valid))
            example.update(skipped=False, schema_valid=valid)
            pred = task.coerce_prediction(row.get("parsed"))
            lang = rec.get("lang", "")
            per_field: dict[str, dict] = {}
            na_row, exact_row = [], []
            rouge_row = {t: [NAN] * nt for t in ROUGE_TYPES}
            bert_row, bleu_row = [NAN] * nt, [NAN] * nt
            entity_row = []
            groundings = {}
            if grounder is not None:
                groundings = grounder.ground(rec[task.input_key], row.get("parsed"),
                                             example_ids or ())
                out.grounding.append(_grounding_row(groundings, out.fields))
            for f in task.field_names:
                g_val, p_val = rec[task.output_key][f], pred[f]
                g_na, p_na = task.is_na(g_val), task.is_na(p_val)
                na_row.append((float(g_na), float(p_na)))
                fe: dict[str, Any] = {"gold_na": g_na, "pred_na": p_na}
                if grounder is not None:
                    fe["grounding"] = [g.to_json() for g in groundings.get(f, [])]
                per_field[f] = fe
                if f in choice:
                    said = p_val if row.get("parsed") is not None else row.get("raw")
                    picked = parse_choice(said, choice[f].choices, rec.get("options"))
                    hit = picked == g_val
                    exact_row.append(float(hit))
                    fe.update(choice=picked, exact_match=hit)
                    continue
                if f in exact_fields:
                    hit = normalise_item(_as_text(task, g_val)) == \
                        normalise_item(_as_text(task, p_val))
                    exact_row.append(float(hit))
                    fe["exact_match"] = hit
                    continue
                if f not in text_fields:
                    continue
                j = text_fields.index(f)
                if entity_backend is not None:
                    c = entity_backend.compare(entity_backend.entities(g_val, lang),
                                               entity_backend.entities(p_val, lang))
                    entity_row.append((c.tp, c.fp, c.fn))
                    fe["entity"] = {"tp": c.tp, "fp": c.fp, "fn": c.fn}
                if g_na or p_na:
                    if g_na and policies.gold_na == "exclude":
                        continue
                    # one side N/A (or, under `match`, both): no text to compare
                    value = 1.0 if (g_na and p_na) else 0.0
                    for t in ROUGE_TYPES:
                        rouge_row[t][j] = value
                    bert_row[j] = bleu_row[j] = value
                else:
                    g_text, p_text = _as_text(task, g_val), _as_text(task, p_val)
                    s = scorer.score(g_text, p_text)
                    for t in ROUGE_TYPES:
                        rouge_row[t][j] = s[t].fmeasure
                    if out.has_bleu:
                        bleu_row[j] = fe["bleu"] = sentence_bleu(p_text, g_text)
                    pending.append((len(out.bert), j, p_text, g_text))
                fe.update({t: rouge_row[t][j] for t in ROUGE_TYPES})
            for t in ROUGE_TYPES:
                out.rouge[t].append(rouge_row[t])
            if out.has_bert:
                out.bert.append(bert_row)
            if out.has_bleu:
                out.bleu.append(bleu_row)
            if out.has_entities:
                out.entity.append(entity_row)
            out.na.append(na_row)
            out.exact.append(exact_row)
            example["fields"] = per_field
            examples.append(example)
        if bert is not None and pending:
            # one batched call per chunk through the one reused scorer
            scores = bert.score_pairs([p[2] for p in pending], [p[3] for p in pending])
            for (i, j, _, _), sc in zip(pending, scores, strict=True):
                out.bert[i][j] = sc
        if on_example is not None:
            first = out.n - len(examples)
            for k, example in enumerate(examples):
                if out.has_bert and example["fields"]:
                    for j, f in enumerate(text_fields):
                        v = out.bert[first + k][j]
                        if not math.isnan(v):
                            example["fields"][f]["bertscore_f1"] = v
                on_example(example)
        if progress is not None:
            progress(len(chunk))
    out.missing_ids = sorted(set(gold) - seen)
    return out


def _ci(d: dict) -> dict[str, Any]:
    return {"low": d["low"], "high": d["high"], "n": d["n"]}


def _prf(tp: float, pred: float, gold: float) -> dict[str, Any]:
    p = tp / pred if pred else None
    r = tp / gold if gold else None
    f1 = 2 * tp / (pred + gold) if pred + gold else None
    return {"precision": p, "recall": r, "f1": f1, "gold_na": int(gold), "pred_na": int(pred)}


def _na_counts(na: np.ndarray) -> np.ndarray:
    """(n, ..., 2) gold/pred N/A flags -> (n, ..., 3) tp, fp, fn of saying N/A."""
    g, p = na[..., 0], na[..., 1]
    return np.stack([g * p, p * (1 - g), g * (1 - p)], axis=-1)


def _counts_dict(c: np.ndarray) -> dict[str, Any]:
    m = MatchCounts(*(int(x) for x in np.nansum(c, axis=0)))
    return m.as_dict()


def _share_counts(hits: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per-record (hits, total - hits, total - hits): their micro F1, 2h / (2h + 2(t - h)), is
    the share h / t of the summed counts, so the vectorised F1 bootstraps of `stats` give the
    CI of a share of items (records weighted by their items; nan rows are missing)."""
    miss = total - hits
    return np.stack([hits, miss, miss], axis=-1)


# Shares of grounded items: name -> (label, columns of GROUNDING_COUNTS counted as hits)
GROUNDING_SHARES = {
    "grounded_exact": ("items grounded exactly", (0, 1)),
    "grounded_fuzzy": ("items grounded fuzzily", (2,)),
    "ungrounded": ("items unsupported by the report", (3,)),
    "icl_copied": ("items copied from ICL examples", (4,)),
}


def _grounding_shares(g: np.ndarray) -> dict[str, np.ndarray]:
    """(n, 5) per-record grounding counts -> per-record share counts for each share."""
    total = g[:, :4].sum(axis=1)
    return {name: _share_counts(g[:, list(cols)].sum(axis=1), total)
            for name, (_, cols) in GROUNDING_SHARES.items()}


def _grounding_summary(g: np.ndarray, boot: dict, shares: tuple[str, ...]) -> dict[str, Any]:
    """Counts and shares of (n, 5) per-record grounding counts, with CIs of `shares`."""
    kept = g[~np.isnan(g[:, :4]).any(axis=1)]
    sums = kept.sum(axis=0)
    items = int(sums[:4].sum())
    icl = None if np.isnan(sums[4]) else int(sums[4])
    out: dict[str, Any] = {"items": items,
                           **{k: int(sums[i]) for i, k in enumerate(GROUNDING_COUNTS[:4])},
                           "icl_copied": icl}
    for k in (*GROUNDING_COUNTS[:4], "icl_copied"):
        out[f"share_{k}"] = (None if out[k] is None or not items else out[k] / items)
    out["share_grounded_exact"] = (out["exact"] + out["normalized"]) / items if items else None
    data = _grounding_shares(g)
    out["ci"] = {name: _ci(stats.bootstrap_counts_f1_ci(data[name], **boot)) for name in shares}
    return out


def _mean(x: np.ndarray) -> float | None:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


def summarize(scores: RunScores, policies: Policies, entity_backend: str | None = None,
              bert_info: dict | None = None, n_boot: int = 1000, seed: int = 1234,
              alpha: float = 0.05) -> dict:
    """The report's metrics of one run with bootstrap CIs (resampling records).

    Overall ROUGE and BERTScore are macro averages over categories (each category's mean over
    the records where it is scored); entity P/R/F1 overall is micro (summed counts), with the
    macro F1 beside it. Every headline metric has a CI in `headline`; per-category values have
    theirs under `ci`.
    """
    a = scores.arrays()
    boot = {"n_boot": n_boot, "seed": seed, "alpha": alpha}
    per_category: dict[str, dict] = {}
    for i, f in enumerate(scores.fields):
        na = a["na"][:, i, :]
        na = na[~np.isnan(na).any(axis=1)]
        entry: dict[str, Any] = {"na": _prf(float((na[:, 0] * na[:, 1]).sum()),
                                            float(na[:, 1].sum()), float(na[:, 0].sum()))}
        ci: dict[str, Any] = {}
        if f in scores.text_fields:
            j = scores.text_fields.index(f)
            for t in ROUGE_TYPES:
                col = a[t][:, j]
                entry[t] = _mean(col)
                ci[t] = _ci(stats.bootstrap_mean_ci(col, **boot))
            entry["n_scored"] = int((~np.isnan(a["rougeL"][:, j])).sum())
            if a["bert"] is not None:
                entry["bertscore_f1"] = _mean(a["bert"][:, j])
                ci["bertscore_f1"] = _ci(stats.bootstrap_mean_ci(a["bert"][:, j], **boot))
            if a["bleu"] is not None:
                entry["bleu"] = _mean(a["bleu"][:, j])
                ci["bleu"] = _ci(stats.bootstrap_mean_ci(a["bleu"][:, j], **boot))
            if a["entity"] is not None:
                entry["entity"] = _counts_dict(a["entity"][:, j, :])
                ci["entity_f1"] = _ci(stats.bootstrap_counts_f1_ci(a["entity"][:, j, :],
                                                                   **boot))
        if f in scores.exact_fields:
            col = a["exact"][:, scores.exact_fields.index(f)]
            entry["exact_match"] = _mean(col)
            ci["exact_match"] = _ci(stats.bootstrap_mean_ci(col, **boot))
        entry["ci"] = ci
        per_category[f] = entry

    headline = _headline(scores, a, boot)
    overall: dict[str, Any] = {t: headline[t]["value"] for t in ROUGE_TYPES}
    if a["bert"] is not None:
        overall["bertscore_f1"] = headline["bertscore_f1"]["value"]
    if a["bleu"] is not None:
        overall["bleu"] = headline["bleu"]["value"]
    if a["entity"] is not None:
        overall["entity_micro"] = _counts_dict(a["entity"].reshape(-1, 3))
        overall["entity_macro_f1"] = headline["entity_macro_f1"]["value"]
    na_all = a["na"].reshape(-1, 2)
    na_all = na_all[~np.isnan(na_all).any(axis=1)]
    overall["na"] = _prf(float((na_all[:, 0] * na_all[:, 1]).sum()), float(na_all[:, 1].sum()),
                         float(na_all[:, 0].sum()))
    lang_rouge = defaultdict(list)
    for lang, row in zip(scores.langs, a["rougeL"], strict=True):
        lang_rouge[lang].extend(v for v in row.tolist() if not math.isnan(v))
    grounding = None
    if a["grounding"] is not None:
        text = [scores.fields.index(f) for f in scores.text_fields]
        grounding = {
            **(scores.grounding_info or {}),
            "overall_fields": list(scores.text_fields),
            "overall": _grounding_summary(a["grounding"][:, text, :].sum(axis=1), boot,
                                          tuple(GROUNDING_SHARES)),
            "per_category": {f: _grounding_summary(a["grounding"][:, i, :], boot,
                                                   _CATEGORY_SHARES)
                             for i, f in enumerate(scores.fields)},
        }
    n = scores.n
    skipped = int(np.isnan(a["valid"]).sum())
    return {
        "n_records": n,
        "n_gold": scores.n_gold,
        "missing_ids": scores.missing_ids,
        "parse_rate": headline["parse_rate"]["value"],
        "schema_valid_rate": _mean(a["valid"]),
        "skipped_unparseable": skipped,
        "finish_reasons": dict(scores.finish),
        "overall": overall,
        "headline": headline,
        "per_language_rougeL": {k: (sum(v) / len(v) if v else None)
                                for k, v in sorted(lang_rouge.items())},
        "per_category": per_category,
        "policies": policies.describe(),
        "bootstrap": {**boot, "unit": "record", "interval": "percentile"},
        "entity_backend": entity_backend,
        "bertscore": bert_info,
        "grounding": grounding,
    }


# The headline metrics: name -> (label, how to get per-record data, CI function, diff function)
def _headline_specs(scores: RunScores, a: dict) -> dict[str, tuple]:
    specs: dict[str, tuple] = {
        "parse_rate": ("JSON parse rate", a["parsed"], stats.bootstrap_mean_ci,
                       stats.paired_bootstrap_diff),
        "schema_valid_rate": ("schema-valid rate", a["valid"], stats.bootstrap_mean_ci,
                              stats.paired_bootstrap_diff),
    }
    labels = {"rouge1": "ROUGE-1 (macro)", "rouge2": "ROUGE-2 (macro)",
              "rougeL": "ROUGE-L (macro)"}
    for t in ROUGE_TYPES:
        specs[t] = (labels[t], a[t], stats.bootstrap_macro_ci, stats.paired_bootstrap_macro_diff)
    if a["bert"] is not None:
        specs["bertscore_f1"] = ("BERTScore F1 (macro)", a["bert"], stats.bootstrap_macro_ci,
                                 stats.paired_bootstrap_macro_diff)
    if a["bleu"] is not None:
        specs["bleu"] = ("sentence BLEU (macro)", a["bleu"], stats.bootstrap_macro_ci,
                         stats.paired_bootstrap_macro_diff)
    if a["entity"] is not None:
        summed = a["entity"].sum(axis=1)  # nan rows (skipped records) stay nan
        specs["entity_micro_f1"] = ("entity F1 (micro)", summed, stats.bootstrap_counts_f1_ci,
                                    stats.paired_bootstrap_counts_f1_diff)
        specs["entity_macro_f1"] = ("entity F1 (macro)", a["entity"],
                                    stats.bootstrap_macro_f1_ci,
                                    stats.paired_bootstrap_macro_f1_diff)
    specs["na_f1"] = ("N/A agreement F1", _na_counts(a["na"]).sum(axis=1),
                      stats.bootstrap_counts_f1_ci, stats.paired_bootstrap_counts_f1_diff)
    for i, f in enumerate(scores.exact_fields):
        # A choice field (never in the policy's exclude_fields list) is scored by accuracy.
        label = f"{f} accuracy" if f in scores.choice_fields else f"{f} exact match"
        specs[f"exact_{f}"] = (label, a["exact"][:, i], stats.bootstrap_mean_ci,
                               stats.paired_bootstrap_diff)
    if a["grounding"] is not None:
        # Over the text categories (age and gender are normalised values, not spans).
        text = [scores.fields.index(f) for f in scores.text_fields]
        shares = _grounding_shares(a["grounding"][:, text, :].sum(axis=1))
        for name, (label, _) in GROUNDING_SHARES.items():
            specs[name] = (label, shares[name], stats.bootstrap_counts_f1_ci,
                           stats.paired_bootstrap_counts_f1_diff)
    return specs


def _headline(scores: RunScores, a: dict, boot: dict) -> dict[str, dict]:
    return {name: {"label": label, **ci_fn(data, **boot)}
            for name, (label, data, ci_fn, _) in _headline_specs(scores, a).items()}


# Per-category metrics compared between runs: name -> (array key, kind)
_CATEGORY_METRICS = {"rougeL": "rougeL", "bertscore_f1": "bert", "bleu": "bleu",
                     "entity_f1": "entity"}
# Grounding shares with a CI per category (every field, age and gender included).
_CATEGORY_SHARES = ("grounded_exact", "ungrounded")


def _category_shares(scores: RunScores, a: dict) -> dict[str, dict[str, np.ndarray]]:
    if a.get("grounding") is None:
        return {}
    return {f: _grounding_shares(a["grounding"][:, i, :]) for i, f in enumerate(scores.fields)}


def compare_runs(runs: dict[str, RunScores], baseline: str, n_boot: int = 1000,
                 seed: int = 1234, alpha: float = 0.05) -> dict:
    """Paired-bootstrap differences (run - baseline) on the records that every run has.

    Returns, for the common records, every run's headline values with CIs, and per compared
    run the difference to the baseline with its CI and p-value, overall and per category.
    """
    if baseline not in runs:
        raise ConfigError(f"baseline run {baseline!r} is not among the runs {list(runs)}")
    boot = {"n_boot": n_boot, "seed": seed, "alpha": alpha}
    common = set.intersection(*(set(s.ids) for s in runs.values()))
    order = [i for i in runs[baseline].ids if i in common]
    arrays = {}
    for name, s in runs.items():
        pos = {rid: k for k, rid in enumerate(s.ids)}
        arrays[name] = s.arrays([pos[i] for i in order])
    base_scores = runs[baseline]
    specs = {name: _headline_specs(runs[name], arrays[name]) for name in runs}
    headline = {name: {m: {"label": sp[0], **sp[2](sp[1], **boot)} for m, sp in spec.items()}
                for name, spec in specs.items()}
    per_category = {name: _category_cis(base_scores, arrays[name], boot) for name in runs}
    diffs: dict[str, dict] = {}
    for name in runs:
        if name == baseline:
            continue
        overall = {}
        for m, (_, data_b, _, diff_fn) in specs[name].items():
            if m in specs[baseline]:
                overall[m] = diff_fn(specs[baseline][m][1], data_b, **boot)
        diffs[name] = {"overall": overall,
                       "per_category": _category_diffs(base_scores, arrays[baseline],
                                                       arrays[name], boot)}
    return {
        "runs": list(runs),
        "baseline": baseline,
        "n_common": len(order),
        "n_per_run": {name: s.n for name, s in runs.items()},
        "headline": headline,
        "per_category": per_category,
        "diffs": diffs,
        "bootstrap": {**boot, "unit": "record", "interval": "percentile", "paired": True},
    }


def single_run_comparison(run: str, metrics: dict) -> dict:
    """One run's `summarize` output in the shape of `compare_runs` (no differences), for the
    report page of a single run; the CIs are summarize's, not bootstrapped again."""
    per_category = {}
    for f, m in metrics["per_category"].items():
        values = {"rougeL": m.get("rougeL"), "bertscore_f1": m.get("bertscore_f1"),
                  "entity_f1": (m.get("entity") or {}).get("f1"),
                  "exact_match": m.get("exact_match")}
        per_category[f] = {k: {"value": v, **m["ci"][k]} for k, v in values.items()
                           if k in m["ci"]}
        g = (metrics.get("grounding") or {}).get("per_category", {}).get(f)
        if g:
            values = {"grounded_exact": g["share_grounded_exact"], "ungrounded": g["share_none"]}
            per_category[f].update({k: {"value": v, **g["ci"][k]} for k, v in values.items()})
    return {"runs": [run], "baseline": run, "n_common": metrics["n_records"],
            "n_per_run": {run: metrics["n_records"]}, "headline": {run: metrics["headline"]},
            "per_category": {run: per_category}, "diffs": {},
            "bootstrap": {**metrics["bootstrap"], "paired": True}}


def _category_cis(scores: RunScores, a: dict, boot: dict) -> dict[str, dict]:
    out = {}
    for j, f in enumerate(scores.text_fields):
        entry = {}
        for m, key in _CATEGORY_METRICS.items():
            if a.get(key) is None:
                continue
            if key == "entity":
                entry[m] = stats.bootstrap_counts_f1_ci(a[key][:, j, :], **boot)
            else:
                entry[m] = stats.bootstrap_mean_ci(a[key][:, j], **boot)
        out[f] = entry
    for i, f in enumerate(scores.exact_fields):
        out[f] = {"exact_match": stats.bootstrap_mean_ci(a["exact"][:, i], **boot)}
    for f, shares in _category_shares(scores, a).items():
        out.setdefault(f, {}).update(
            {m: stats.bootstrap_counts_f1_ci(shares[m], **boot) for m in _CATEGORY_SHARES})
    return out


def _category_diffs(scores: RunScores, a: dict, b: dict, boot: dict) -> dict[str, dict]:
    out = {}
    for j, f in enumerate(scores.text_fields):
        entry = {}
        for m, key in _CATEGORY_METRICS.items():
            if a.get(key) is None or b.get(key) is None:
                continue
            if key == "entity":
                entry[m] = stats.paired_bootstrap_counts_f1_diff(a[key][:, j, :],
                                                                 b[key][:, j, :], **boot)
            else:
                entry[m] = stats.paired_bootstrap_diff(a[key][:, j], b[key][:, j], **boot)
        out[f] = entry
    for i, f in enumerate(scores.exact_fields):
        out[f] = {"exact_match": stats.paired_bootstrap_diff(a["exact"][:, i],
                                                             b["exact"][:, i], **boot)}
    shares_a, shares_b = _category_shares(scores, a), _category_shares(scores, b)
    for f in (f for f in shares_a if f in shares_b):  # in field order
        out.setdefault(f, {}).update(
            {m: stats.paired_bootstrap_counts_f1_diff(shares_a[f][m], shares_b[f][m], **boot)
             for m in _CATEGORY_SHARES})
    return out


def paired_examples(runs: dict[str, RunScores]) -> Iterator[dict]:
    """Per record common to all runs: each run's parse flag, mean ROUGE-L and BERTScore over the
    record's scored categories, its summed entity counts and its grounding counts over all
    fields (to find where runs differ)."""
    first = next(iter(runs.values()))
    common = set.intersection(*(set(s.ids) for s in runs.values()))
    rows = {name: {rid: k for k, rid in enumerate(s.ids)} for name, s in runs.items()}
    arrays = {name: s.arrays() for name, s in runs.items()}
    for k, rid in enumerate(first.ids):
        if rid not in common:
            continue
        out = {}
        for name, a in arrays.items():
            i = rows[name][rid]
            entry: dict[str, Any] = {"parsed": bool(a["parsed"][i]),
                                     "rougeL": _mean(a["rougeL"][i])}
            if a["bert"] is not None:
                entry["bertscore_f1"] = _mean(a["bert"][i])
            if a["entity"] is not None:
                c = a["entity"][i]
                entry["entity"] = None if np.isnan(c).all() else _counts_dict(c)
            if a["grounding"] is not None:  # item counts over all fields, to find unsupported
                g = a["grounding"][i]
                entry["grounding"] = None if np.isnan(g[:, :4]).all() else {
                    k: (None if np.isnan(v) else int(v))
                    for k, v in zip(GROUNDING_COUNTS, g.sum(axis=0).tolist(), strict=True)}
            out[name] = entry
        yield {"id": rid, "lang": first.langs[k], "runs": out}


def per_record_metrics(scores: RunScores) -> dict[str, np.ndarray]:
    """One number per record and automatic metric (mean over the record's scored text fields;
    accuracy or exact match per exact field), nan where nothing was scored: what the LLM
    judge's scores are correlated with."""
    a = scores.arrays()

    def row_mean(x: np.ndarray) -> np.ndarray:
        n = (~np.isnan(x)).sum(axis=1)
        return np.where(n > 0, np.nansum(x, axis=1) / np.maximum(n, 1), np.nan)

    out = {}
    if scores.text_fields:
        out["ROUGE-L"] = row_mean(a["rougeL"])
        if a["bleu"] is not None:
            out["BLEU"] = row_mean(a["bleu"])
        if a["bert"] is not None:
            out["BERTScore F1"] = row_mean(a["bert"])
    for i, f in enumerate(scores.exact_fields):
        out[f"{f} {'accuracy' if f in scores.choice_fields else 'exact match'}"] = \
            a["exact"][:, i]
    return out


def score_run(task: Task, gold: dict[str, dict], cached: Iterable[dict], policies: Policies,
              stemming: bool = True, entity_backend: EntityBackend | None = None,
              bert=None, n_boot: int = 1000, seed: int = 1234) -> dict:
    """score_records then summarize: the metrics of one run in one call."""
    scores = score_records(task, gold, cached, policies, stemming, entity_backend, bert)
    return summarize(scores, policies, getattr(entity_backend, "name", None),
                     bert.describe() if bert is not None else None, n_boot, seed)
