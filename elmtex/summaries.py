"""The report's metrics of scored runs, with seeded bootstrap confidence intervals over records.

`summarize` turns one run's `RunScores` (elmtex/scoring.py, elmtex/run_scores.py) into the
report's metrics with CIs; `compare_runs` gives paired-bootstrap differences against a baseline
run on the records every run has; `paired_examples` lists where runs differ. The CIs come from
one streamed pass over the rows on disk (`stats.Bootstrap`): memory does not grow with the
number of records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import islice
from typing import Any

import numpy as np

from elmtex import stats
from elmtex.config import ConfigError
from elmtex.entities import MatchCounts
from elmtex.run_scores import EVAL_CHUNK, GROUNDING_COUNTS, ROUGE_TYPES, RunScores, take
from elmtex.scoring import Policies


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


def _counts_dict(summed: np.ndarray) -> dict[str, Any]:
    return MatchCounts(*(int(x) for x in summed)).as_dict()


def _share_counts(hits: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per-record (hits, total - hits, total - hits): their micro F1, 2h / (2h + 2(t - h)), is
    the share h / t of the summed counts, so the F1 bootstrap gives the CI of a share of items
    (records weighted by their items; nan rows are missing)."""
    miss = total - hits
    return np.stack([hits, miss, miss], axis=-1)


# Shares of grounded items: name -> (label, columns of GROUNDING_COUNTS counted as hits)
GROUNDING_SHARES = {
    "grounded_exact": ("items grounded exactly", (0, 1)),
    "grounded_fuzzy": ("items grounded fuzzily", (2,)),
    "ungrounded": ("items unsupported by the report", (3,)),
    "icl_copied": ("items copied from ICL examples", (4,)),
}
# Grounding shares with a CI per category (every field, age and gender included).
_CATEGORY_SHARES = ("grounded_exact", "ungrounded")


def _grounding_shares(g: np.ndarray) -> dict[str, np.ndarray]:
    """(n, 5) per-record grounding counts -> per-record share counts for each share."""
    total = g[:, :4].sum(axis=1)
    return {
        name: _share_counts(g[:, list(cols)].sum(axis=1), total)
        for name, (_, cols) in GROUNDING_SHARES.items()
    }


def _grounding_sums(g: np.ndarray) -> np.ndarray:
    """(n, ..., 5) grounding counts -> (..., 5) sums over the records with counts (the ICL
    column stays nan in a run without examples)."""
    kept = ~np.isnan(g[..., :4]).any(axis=-1, keepdims=True)
    return np.where(kept, g, 0.0).sum(axis=0)


def _grounding_summary(sums: np.ndarray, ci: dict[str, dict]) -> dict[str, Any]:
    """Counts and shares from summed (5,) grounding counts, with the given CIs."""
    items = int(sums[:4].sum())
    icl = None if np.isnan(sums[4]) else int(sums[4])
    out: dict[str, Any] = {
        "items": items,
        **{k: int(sums[i]) for i, k in enumerate(GROUNDING_COUNTS[:4])},
        "icl_copied": icl,
    }
    for k in (*GROUNDING_COUNTS[:4], "icl_copied"):
        out[f"share_{k}"] = None if out[k] is None or not items else out[k] / items
    out["share_grounded_exact"] = (out["exact"] + out["normalized"]) / items if items else None
    out["ci"] = {name: _ci(d) for name, d in ci.items()}
    return out


# What summarize and compare_runs bootstrap: per chunk of records, name -> (kind, values) -----


def _headline_specs(scores: RunScores, a: dict) -> dict[str, tuple[str, str, np.ndarray]]:
    """The headline metrics: name -> (label, kind of statistic, per-record values)."""
    specs: dict[str, tuple] = {
        "parse_rate": ("JSON parse rate", "mean", a["parsed"]),
        "schema_valid_rate": ("schema-valid rate", "mean", a["valid"]),
    }
    labels = {"rouge1": "ROUGE-1 (macro)", "rouge2": "ROUGE-2 (macro)", "rougeL": "ROUGE-L (macro)"}
    for t in ROUGE_TYPES:
        specs[t] = (labels[t], "macro_mean", a[t])
    if a["bert"] is not None:
        specs["bertscore_f1"] = ("BERTScore F1 (macro)", "macro_mean", a["bert"])
    if a["bleu"] is not None:
        specs["bleu"] = ("sentence BLEU (macro)", "macro_mean", a["bleu"])
    if a["entity"] is not None:
        summed = a["entity"].sum(axis=1)  # nan rows (skipped records) stay nan
        specs["entity_micro_f1"] = ("entity F1 (micro)", "f1", summed)
        specs["entity_macro_f1"] = ("entity F1 (macro)", "macro_f1", a["entity"])
    specs["na_f1"] = ("N/A agreement F1", "f1", _na_counts(a["na"]).sum(axis=1))
    for i, f in enumerate(scores.exact_fields):
        # A choice field (never in the policy's exclude_fields list) is scored by accuracy.
        label = f"{f} accuracy" if f in scores.choice_fields else f"{f} exact match"
        specs[f"exact_{f}"] = (label, "mean", a["exact"][:, i])
    if a["grounding"] is not None:
        # Over the text categories (age and gender are normalised values, not spans).
        text = [scores.fields.index(f) for f in scores.text_fields]
        shares = _grounding_shares(a["grounding"][:, text, :].sum(axis=1))
        for name, (label, _) in GROUNDING_SHARES.items():
            specs[name] = (label, "f1", shares[name])
    return specs


# Per-category metrics compared between runs: name -> array key
_CATEGORY_METRICS = {
    "rougeL": "rougeL",
    "bertscore_f1": "bert",
    "bleu": "bleu",
    "entity_f1": "entity",
}


def _category_specs(
    scores: RunScores,
    a: dict,
    metrics: dict[str, str],
) -> dict[tuple[str, str], tuple[str, np.ndarray]]:
    """(category, metric) -> (kind, per-record values), in field order."""
    specs: dict[tuple[str, str], tuple[str, np.ndarray]] = {}
    for j, f in enumerate(scores.text_fields):
        for m, key in metrics.items():
            if a.get(key) is None:
                continue
            specs[f, m] = ("f1", a[key][:, j, :]) if key == "entity" else ("mean", a[key][:, j])
    for i, f in enumerate(scores.exact_fields):
        specs[f, "exact_match"] = ("mean", a["exact"][:, i])
    if a["grounding"] is not None:
        for i, f in enumerate(scores.fields):
            shares = _grounding_shares(a["grounding"][:, i, :])
            for m in _CATEGORY_SHARES:
                specs[f, m] = ("f1", shares[m])
    return specs


def _empty(scores: RunScores) -> dict[str, Any]:
    return scores.rows(0, 0)


def _lang_mask(scores: RunScores, a: dict[str, Any], lang: str | None) -> np.ndarray:
    """The rows of `a` that are present and, when `lang` is given, in that language."""
    if lang is None:
        return a["present"]
    code = scores.lang_names.index(lang) if lang in scores.lang_names else -1
    return a["present"] & (a["lang"] == code)


def _chunks_present(scores: RunScores, lang: str | None = None) -> Iterator[dict[str, Any]]:
    for _, a in scores.chunks():
        keep = _lang_mask(scores, a, lang)
        if keep.any():
            yield take(a, keep)


def summarize(
    scores: RunScores,
    policies: Policies,
    entity_backend: str | None = None,
    bert_info: dict | None = None,
    n_boot: int = 1000,
    seed: int = 1234,
    alpha: float = 0.05,
    lang: str | None = None,
) -> dict:
    """The report's metrics of one run with bootstrap CIs (resampling records); with `lang`,
    of that language's records only.

    Overall ROUGE and BERTScore are macro averages over categories (each category's mean over
    the records where it is scored); entity P/R/F1 overall is micro (summed counts), with the
    macro F1 beside it. Every headline metric has a CI in `headline`; per-category values have
    theirs under `ci`. One streamed pass over the run's rows (`stats.Bootstrap`).
    """
    boot = stats.Bootstrap(n_boot, seed, alpha)
    all_metrics = {t: t for t in ROUGE_TYPES} | {
        m: k for m, k in _CATEGORY_METRICS.items() if m != "rougeL"
    }
    labels = {name: spec[0] for name, spec in _headline_specs(scores, _empty(scores)).items()}
    has = {"bert": scores.has_bert, "bleu": scores.has_bleu, "entity": scores.has_entities}
    nf = len(scores.fields)
    na_sums = np.zeros((nf, 3))  # per field: tp, predicted N/A, gold N/A
    entity_sums = np.zeros((len(scores.text_fields), 3))
    grounding_sums = np.zeros((nf, len(GROUNDING_COUNTS)))
    grounding_text = np.zeros(len(GROUNDING_COUNTS))
    lang_rouge: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    skipped = 0
    text = [scores.fields.index(f) for f in scores.text_fields]
    for a in _chunks_present(scores, lang):
        w = boot.weights(a["keys"])
        for name, (_, kind, values) in _headline_specs(scores, a).items():
            boot.add(name, kind, values, w)
        for name, (kind, values) in _category_specs(scores, a, all_metrics).items():
            boot.add(name, kind, values, w)
        na = a["na"]
        ok = ~np.isnan(na).any(axis=-1)
        g, p = np.where(ok, na[..., 0], 0.0), np.where(ok, na[..., 1], 0.0)
        na_sums += np.stack([(g * p).sum(axis=0), p.sum(axis=0), g.sum(axis=0)], axis=-1)
        if a["entity"] is not None:
            entity_sums += np.nansum(a["entity"], axis=0)
        if a["grounding"] is not None:
            grounding_sums += _grounding_sums(a["grounding"])
            grounding_text += _grounding_sums(a["grounding"][:, text, :].sum(axis=1))
        skipped += int(np.isnan(a["valid"]).sum())
        langs = a["lang"].astype(int)
        for lang in np.unique(langs).tolist():
            rouge = a["rougeL"][langs == lang]
            lang_rouge[lang][0] += float(np.nansum(rouge))
            lang_rouge[lang][1] += int((~np.isnan(rouge)).sum())

    per_category: dict[str, dict] = {}
    for i, f in enumerate(scores.fields):
        entry: dict[str, Any] = {"na": _prf(*na_sums[i])}
        ci: dict[str, Any] = {}
        if f in scores.text_fields:
            j = scores.text_fields.index(f)
            for m, key in all_metrics.items():
                if not has.get(key, True):
                    continue
                d = boot.ci((f, m))
                if key == "entity":
                    entry["entity"] = _counts_dict(entity_sums[j])
                else:
                    entry[m] = d["value"]
                ci[m] = _ci(d)
                if m == "rougeL":
                    entry["n_scored"] = d["n"]
        if f in scores.exact_fields:
            d = boot.ci((f, "exact_match"))
            entry["exact_match"] = d["value"]
            ci["exact_match"] = _ci(d)
        entry["ci"] = ci
        per_category[f] = entry

    headline = {name: {"label": label, **boot.ci(name)} for name, label in labels.items()}
    overall: dict[str, Any] = {t: headline[t]["value"] for t in ROUGE_TYPES}
    if scores.has_bert:
        overall["bertscore_f1"] = headline["bertscore_f1"]["value"]
    if scores.has_bleu:
        overall["bleu"] = headline["bleu"]["value"]
    if scores.has_entities:
        overall["entity_micro"] = _counts_dict(entity_sums.sum(axis=0))
        overall["entity_macro_f1"] = headline["entity_macro_f1"]["value"]
    overall["na"] = _prf(*na_sums.sum(axis=0))
    grounding = None
    if scores.has_grounding:
        grounding = {
            **(scores.grounding_info or {}),
            "overall_fields": list(scores.text_fields),
            "overall": _grounding_summary(
                grounding_text, {name: headline[name] for name in GROUNDING_SHARES}
            ),
            "per_category": {
                f: _grounding_summary(
                    grounding_sums[i], {m: boot.ci((f, m)) for m in _CATEGORY_SHARES}
                )
                for i, f in enumerate(scores.fields)
            },
        }
    return {
        "n_records": scores.n,
        "n_gold": scores.n_gold,
        "missing_ids": scores.missing_ids,
        "parse_rate": headline["parse_rate"]["value"],
        "schema_valid_rate": headline["schema_valid_rate"]["value"],
        "skipped_unparseable": skipped,
        "finish_reasons": dict(scores.finish),
        "overall": overall,
        "headline": headline,
        "per_language_rougeL": dict(
            sorted(
                (scores.lang_names[k], v[0] / v[1] if v[1] else None) for k, v in lang_rouge.items()
            )
        ),
        "per_category": per_category,
        "policies": policies.describe(),
        "bootstrap": boot_settings(n_boot, seed, alpha),
        "entity_backend": entity_backend,
        "bertscore": bert_info,
        "grounding": grounding,
    }


def boot_settings(n_boot: int, seed: int, alpha: float) -> dict[str, Any]:
    """How the CIs were made, as the reports state it."""
    return {
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
        "unit": "record",
        "resampling": "Poisson(1) weights per record, keyed by seed and record id",
        "interval": "percentile",
    }


def _aligned_chunks(runs: dict[str, RunScores]) -> Iterator[tuple[int, dict[str, dict]]]:
    """(first position, run -> arrays) over the gold positions, the runs side by side."""
    first = next(iter(runs.values()))
    for name, s in runs.items():
        if s.n_gold != first.n_gold:
            raise ValueError(
                f"run {name} was scored against another gold split "
                f"({s.n_gold} records, not {first.n_gold})"
            )
    for start in range(0, first.n_gold, EVAL_CHUNK):
        yield start, {name: s.rows(start, start + EVAL_CHUNK) for name, s in runs.items()}


def compare_runs(
    runs: dict[str, RunScores],
    baseline: str,
    n_boot: int = 1000,
    seed: int = 1234,
    alpha: float = 0.05,
    lang: str | None = None,
) -> dict:
    """Paired-bootstrap differences (run - baseline) on the records that every run has (with
    `lang`, those of that language).

    Returns, for the common records, every run's headline values with CIs, and per compared
    run the difference to the baseline with its CI and p-value, overall and per category.
    One streamed pass over all runs' rows, side by side.
    """
    if baseline not in runs:
        raise ConfigError(f"baseline run {baseline!r} is not among the runs {list(runs)}")
    boot = stats.Bootstrap(n_boot, seed, alpha)
    empty = {name: _empty(s) for name, s in runs.items()}
    labels = {
        name: {m: sp[0] for m, sp in _headline_specs(s, empty[name]).items()}
        for name, s in runs.items()
    }
    categories = {
        name: list(_category_specs(s, empty[name], _CATEGORY_METRICS)) for name, s in runs.items()
    }
    n_common = 0
    for _, parts in _aligned_chunks(runs):
        common = np.logical_and.reduce(
            [_lang_mask(runs[name], a, lang) for name, a in parts.items()]
        )
        if not common.any():
            continue
        n_common += int(common.sum())
        sub = {name: take(a, common) for name, a in parts.items()}
        w = boot.weights(sub[baseline]["keys"])
        head = {name: _headline_specs(runs[name], a) for name, a in sub.items()}
        cats = {name: _category_specs(runs[name], a, _CATEGORY_METRICS) for name, a in sub.items()}
        for name in runs:
            for m, (_, kind, values) in head[name].items():
                boot.add(("run", name, m), kind, values, w)
            for key, (kind, values) in cats[name].items():
                boot.add(("run", name, *key), kind, values, w)
            if name == baseline:
                continue
            for m, (_, kind, values) in head[name].items():
                if m in head[baseline]:
                    boot.add_paired(("diff", name, m), kind, head[baseline][m][2], values, w)
            for key, (kind, values) in cats[name].items():
                if key in cats[baseline]:
                    boot.add_paired(("diff", name, *key), kind, cats[baseline][key][1], values, w)
    headline = {
        name: {
            m: {"label": label, **boot.ci(("run", name, m))} for m, label in labels[name].items()
        }
        for name in runs
    }
    per_category: dict[str, dict] = {}
    for name in runs:
        per_category[name] = {}
        for f, m in categories[name]:
            per_category[name].setdefault(f, {})[m] = boot.ci(("run", name, f, m))
    diffs: dict[str, dict] = {}
    for name in runs:
        if name == baseline:
            continue
        by_category: dict[str, dict] = {}
        for f, m in categories[name]:
            if (f, m) in categories[baseline]:
                by_category.setdefault(f, {})[m] = boot.diff(("diff", name, f, m))
        diffs[name] = {
            "overall": {
                m: boot.diff(("diff", name, m)) for m in labels[name] if m in labels[baseline]
            },
            "per_category": by_category,
        }
    return {
        "runs": list(runs),
        "baseline": baseline,
        "n_common": n_common,
        "n_per_run": {name: s.n for name, s in runs.items()},
        "headline": headline,
        "per_category": per_category,
        "diffs": diffs,
        "bootstrap": {**boot_settings(n_boot, seed, alpha), "paired": True},
    }


def single_run_comparison(run: str, metrics: dict) -> dict:
    """One run's `summarize` output in the shape of `compare_runs` (no differences), for the
    report page of a single run; the CIs are summarize's, not bootstrapped again."""
    per_category = {}
    for f, m in metrics["per_category"].items():
        values = {
            "rougeL": m.get("rougeL"),
            "bertscore_f1": m.get("bertscore_f1"),
            "entity_f1": (m.get("entity") or {}).get("f1"),
            "exact_match": m.get("exact_match"),
        }
        per_category[f] = {k: {"value": v, **m["ci"][k]} for k, v in values.items() if k in m["ci"]}
        g = (metrics.get("grounding") or {}).get("per_category", {}).get(f)
        if g:
            values = {"grounded_exact": g["share_grounded_exact"], "ungrounded": g["share_none"]}
            per_category[f].update({k: {"value": v, **g["ci"][k]} for k, v in values.items()})
    return {
        "runs": [run],
        "baseline": run,
        "n_common": metrics["n_records"],
        "n_per_run": {run: metrics["n_records"]},
        "headline": {run: metrics["headline"]},
        "per_category": {run: per_category},
        "diffs": {},
        "bootstrap": {**metrics["bootstrap"], "paired": True},
    }


def _mean(x: np.ndarray) -> float | None:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


def paired_examples(runs: dict[str, RunScores]) -> Iterator[dict]:
    """Per record common to all runs (in gold order): each run's parse flag, mean ROUGE-L and
    BERTScore over the record's scored categories, its summed entity counts and its grounding
    counts over all fields (to find where runs differ)."""
    first = next(iter(runs.values()))
    ids = iter(first.gold)
    for _, parts in _aligned_chunks(runs):
        chunk_ids = list(islice(ids, EVAL_CHUNK))
        common = np.logical_and.reduce([a["present"] for a in parts.values()])
        for i in np.flatnonzero(common).tolist():
            out = {}
            for name, a in parts.items():
                entry: dict[str, Any] = {
                    "parsed": bool(a["parsed"][i]),
                    "rougeL": _mean(a["rougeL"][i]),
                }
                if a["bert"] is not None:
                    entry["bertscore_f1"] = _mean(a["bert"][i])
                if a["entity"] is not None:
                    c = a["entity"][i]
                    entry["entity"] = (
                        None if np.isnan(c).all() else _counts_dict(np.nansum(c, axis=0))
                    )
                if a["grounding"] is not None:  # counts over all fields, to find unsupported
                    g = a["grounding"][i]
                    entry["grounding"] = (
                        None
                        if np.isnan(g[:, :4]).all()
                        else {
                            k: (None if np.isnan(v) else int(v))
                            for k, v in zip(GROUNDING_COUNTS, g.sum(axis=0).tolist(), strict=True)
                        }
                    )
                out[name] = entry
            lang = first.lang_names[int(parts[next(iter(parts))]["lang"][i])]
            yield {"id": chunk_ids[i], "lang": lang, "runs": out}


def per_record_metrics(scores: RunScores) -> dict[str, np.ndarray]:
    """One number per record and automatic metric (mean over the record's scored text fields;
    accuracy or exact match per exact field), nan where nothing was scored, in gold order
    (`scores.ids`): what the LLM judge's scores are correlated with."""
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
        out[f"{f} {'accuracy' if f in scores.choice_fields else 'exact match'}"] = a["exact"][:, i]
    return out
