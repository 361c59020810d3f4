"""Question answering on the shared pipeline: parsing a multiple-choice answer, sentence BLEU,
the passage collection that retrieval-augmented prompts draw on, its rerankers, and what the
LLM-as-judge stage needs (the judgment's schema, the texts it is shown, its agreement with the
automatic metrics).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from elmtex.config import UserError
from elmtex.io import id_hash, read_jsonl
from elmtex.task import Field, Task

# --- multiple choice ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def parse_choice(text: Any, choices: Sequence[str], options: dict[str, str] | None = None
                 ) -> str | None:
    """The choice an answer names, or None when it names none or several.

    Accepts the bare choice in any case and wrapping ("b", "(B)", "B.", "**B**"), a choice
    leading the answer ("B) metformin", "B. Metformin"), answer phrases ("Answer: B", "the
    correct answer is (B)", "option B", a broken {"answer": "B"}), and, given the options' texts,
    the text of exactly one option ("Metformin", "It is metformin."). A stray capital letter
    inside prose ("A serious complication ...") does not count.
    """
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    by_lower = {c.lower(): c for c in choices}
    alternatives = "|".join(re.escape(c) for c in sorted(choices, key=len, reverse=True))
    # The whole answer is a choice, up to wrapping punctuation and markup.
    bare = text.strip(" \t\n\"'`*_()[]{}.:;,!").lower()
    if bare in by_lower:
        return by_lower[bare]
    # A choice leading the answer, followed by a delimiter: "B) ...", "B. ...", "Yes, ...".
    m = re.match(rf"^[\s\"'`*_(\[]*({alternatives})\s*[).:,\]\-–]", text, re.IGNORECASE)
    if m:
        return by_lower[m.group(1).lower()]
    # An answer phrase naming one choice.
    found = set()
    for first, second in re.findall(
            rf"(?:answer|option|choice)\W{{0,3}}(?:is|would be|:|=)?\W{{0,3}}\(?({alternatives})\b"
            rf"(?:\)?\s*(?:or|and|/|,)\s*\(?({alternatives})\b)?", text, re.IGNORECASE):
        found.update(by_lower[g.lower()] for g in (first, second) if g)  # "A or B": hedged
    if len(found) == 1:
        return found.pop()
    # The text of exactly one option (longest options first, so that "type 1 diabetes" is not
    # read as a mention of "diabetes").
    if options:
        said = f" {_norm(text)} "
        texts = {k: f" {_norm(v)} " for k, v in options.items() if _norm(v) and k in choices}
        hits = [k for k, v in texts.items() if v in said]
        # an option named only as part of another named option does not count
        hits = [k for k in hits if not any(o != k and texts[k] in texts[o] for o in hits)]
        if len(hits) == 1:
            return hits[0]
    # A lone choice in parentheses or before a closing bracket: "I think (C)".
    found = {by_lower[g.lower()] for g in re.findall(rf"\(({alternatives})\)", text)}
    if len(found) == 1:
        return found.pop()
    return None


def choice_text(choice: str | None, options: dict[str, str] | None) -> str:
    """'C (oral iron supplementation)' when the option text is known, else the choice."""
    if choice is None:
        return "(no choice)"
    if options and choice in options:
        return f"{choice} ({options[choice]})"
    return choice


# --- BLEU --------------------------------------------------------------------------------------


def sentence_bleu(prediction: str, reference: str) -> float:
    """sacrebleu's sentence BLEU (13a tokenisation, exponential smoothing) on a 0-1 scale."""
    import sacrebleu

    return sacrebleu.sentence_bleu(prediction, [reference]).score / 100.0


def bleu_signature() -> str:
    import sacrebleu

    return str(sacrebleu.BLEU(effective_order=True).get_signature())


# --- passages and reranking --------------------------------------------------------------------


class PassageError(UserError, ValueError):
    """A passage collection that cannot be used, with what to do."""


def load_passages(path: str | Path) -> list[dict]:
    """The passage collection: one JSON object per line with a unique string `id` and a
    non-empty `text` (optional `title`); an error names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise PassageError(f"passage collection {path} not found (retriever.passages.path); "
                           "the shipped one is made by scripts/make_qa_data.py.")
    out, seen = [], set()
    for line, row in read_jsonl(path):
        if not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str) \
                or not row["text"].strip():
            raise PassageError(f"{path}:{line}: a passage needs a string 'id' and a non-empty "
                               "string 'text'")
        if row["id"] in seen:
            raise PassageError(f"{path}:{line}: passage id {row['id']!r} occurs twice")
        seen.add(row["id"])
        out.append(row)
    if not out:
        raise PassageError(f"{path} holds no passages")
    return out


def passage_text(passage: dict) -> str:
    """What is embedded and shown: the title (when there is one) above the text."""
    title = (passage.get("title") or "").strip()
    return f"{title}\n{passage['text']}" if title else passage["text"]


_STOP = frozenset("a an the of in on at to for and or is are was be by with what which how "
                  "who does do its it this that as from most often usually name".split())


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25Reranker:
    """Okapi BM25 (k1 = 1.2, b = 0.75) with document frequencies of the whole collection:
    reorders the dense retriever's candidates by the query's exact terms, which an embedding
    blurs (the condition's name, a drug's name)."""

    name = "bm25"

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.docs = [Counter(_terms(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=float)
        self.avg_length = float(self.lengths.mean()) if len(self.docs) else 0.0
        df = Counter(term for d in self.docs for term in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str, positions: Sequence[int]) -> list[float]:
        terms = set(_terms(query))
        out = []
        for p in positions:
            d, norm = self.docs[p], self.k1 * (1 - self.b + self.b * self.lengths[p]
                                               / (self.avg_length or 1.0))
            out.append(sum(self.idf.get(t, 0.0) * d[t] * (self.k1 + 1) / (d[t] + norm)
                           for t in terms if d[t]))
        return out


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2 or
    BAAI/bge-reranker-v2-m3 on a GPU box: hub models, not shipped on PyPI) scoring each
    (question, passage) pair."""

    name = "cross-encoder"

    def __init__(self, model: str, texts: Sequence[str], device: str = "cpu"):
        from sentence_transformers import CrossEncoder

        self.model_name = model
        self.texts = list(texts)
        self.model = CrossEncoder(model, device=device)

    def scores(self, query: str, positions: Sequence[int]) -> list[float]:
        pairs = [(query, self.texts[p]) for p in positions]
        return [float(s) for s in self.model.predict(pairs, show_progress_bar=False)]


def make_reranker(kind: str | None, texts: Sequence[str], model: str | None = None,
                  device: str = "cpu"):
    """None for `none`, else the reranker `retriever.passages.reranker` names."""
    if kind in (None, "none"):
        return None
    if kind == "bm25":
        return BM25Reranker(texts)
    if kind == "cross-encoder":
        if not model:
            raise PassageError("retriever.passages.reranker is cross-encoder but "
                               "retriever.passages.reranker_model names no model.")
        return CrossEncoderReranker(model, texts, device)
    raise PassageError(f"retriever.passages.reranker must be none, bm25 or cross-encoder, "
                       f"got {kind!r}")


def rerank(hits: list[tuple[int, float]], scores: list[float], keep: int
           ) -> list[tuple[int, float, float]]:
    """(position, dense score, rerank score) of the `keep` best by rerank score; ties keep the
    dense order."""
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))[:keep]
    return [(hits[i][0], hits[i][1], scores[i]) for i in order]


# --- LLM as judge ------------------------------------------------------------------------------

JUDGE_SCORES = ("1", "2", "3", "4", "5")
# The judgment's shape: the rationale first, so that the score follows from it.
JUDGE_TASK = Task(
    name="judgment",
    fields=(Field("rationale", "str", "one or two sentences on how the answer compares with the "
                  "reference"),
            Field("score", "choice", "1 (wrong) to 5 (fully correct)", JUDGE_SCORES)),
    input_key="question", output_key="judgment",
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
    return _lines([(f.name, field_text(task, f, gold[f.name], record.get("options")))
                   for f in task.fields])


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
        entry: dict[str, Any] = {"n": n, "spearman": None, "spearman_p": None,
                                 "kendall": None, "kendall_p": None}
        # A constant side has no ranks to correlate (scipy would return nan with a warning).
        if n >= 3 and np.ptp(judge[ok]) > 0 and np.ptp(values[ok]) > 0:
            rho = sps.spearmanr(judge[ok], values[ok])
            tau = sps.kendalltau(judge[ok], values[ok])
            entry.update(spearman=float(rho.statistic), spearman_p=float(rho.pvalue),
                         kendall=float(tau.statistic), kendall_p=float(tau.pvalue))
        out[name] = entry
    return out


def judge_config(cfg: dict) -> dict:
    """The config the judge runs under: the judge section's model, backend and length in place
    of the answering model's (everything else, such as backend.openai, shared)."""
    import copy

    jc = cfg["judge"]
    out = copy.deepcopy(cfg)
    if jc["model"]:
        out["model"]["name_or_path"] = jc["model"]
    if jc["backend"]:
        out["backend"]["name"] = jc["backend"]
    out["generation"]["max_new_tokens"] = int(jc["max_new_tokens"])
    out["generation"]["constrained"] = bool(jc["constrained"])
    return out


def judge_summary(ids: Sequence[str], per_record: dict[str, np.ndarray],
                  judge_rows: dict[str, dict], boot: dict) -> dict[str, Any]:
    """The judge's scores of one run's records (in `ids` order): mean with a bootstrap CI,
    counts per score, and the rank agreement with each per-record automatic metric."""
    from elmtex import stats

    scores = np.array([np.nan if (s := judge_score((judge_rows.get(i) or {}).get("parsed")))
                       is None else float(s) for i in ids])
    judged = sum(i in judge_rows for i in ids)
    counts = Counter(int(s) for s in scores[~np.isnan(scores)])
    return {
        "n_records": len(ids),
        "n_judged": judged,
        "n_invalid": judged - int((~np.isnan(scores)).sum()),
        "mean_score": stats.bootstrap_mean_ci(scores, **boot,
                                              keys=[id_hash(i) for i in ids]),
        "score_counts": {str(k): counts.get(k, 0) for k in range(1, 6)},
        "agreement": agreement(scores, per_record),
    }
