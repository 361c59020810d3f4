"""Scoring of cached runs against gold, per record and category.

`score_records` streams a run's cached rows once, in chunks (BERTScore is batched per chunk),
and keeps only numbers: per record and category ROUGE, BERTScore, optionally sentence BLEU,
entity counts, N/A flags and exact matches, in a `RunScores` (elmtex/run_scores.py; a task's
choice fields, such as a multiple-choice answer, are exact-match fields: accuracy of the parsed
choice). elmtex/summaries.py turns those into the report's metrics with confidence intervals.
Report texts are never held beyond one chunk.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from nltk.stem import porter
from rouge_score import rouge_scorer

from elmtex.config import ConfigError
from elmtex.entities import EntityBackend, normalise_item
from elmtex.grounding import Grounder
from elmtex.io import chunks
from elmtex.parsing import row_parse_path
from elmtex.qa import parse_choice, sentence_bleu
from elmtex.run_scores import GROUNDING_COUNTS, ROUGE_TYPES, RunScores
from elmtex.task import Task

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
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=UnicodeRougeTokenizer(stemming))


@dataclass
class Policies:
    unparseable: str = "empty"  # empty | skip
    gold_na: str = "exclude"  # exclude | match
    exclude_fields: tuple[str, ...] = ("age", "gender")

    def __post_init__(self):
        if self.unparseable not in ("empty", "skip"):
            raise ConfigError(
                f"evaluate.unparseable must be 'empty' or 'skip', got {self.unparseable!r}"
            )
        if self.gold_na not in ("exclude", "match"):
            raise ConfigError(
                f"evaluate.gold_na must be 'exclude' or 'match', got {self.gold_na!r}"
            )

    def describe(self) -> dict[str, str]:
        return {
            "unparseable": {
                "empty": "an unparseable prediction counts as empty on every field",
                "skip": "unparseable predictions are left out (original study)",
            }[self.unparseable],
            "gold_na": {
                "exclude": "fields whose gold is N/A are left out of text metrics",
                "match": "both N/A scores 1, one side N/A scores 0",
            }[self.gold_na],
            "exclude_fields": f"left out of text metrics: {', '.join(self.exclude_fields) or '-'}",
        }


def _as_text(task: Task, value) -> str:
    return task.item_separator.join(value) if isinstance(value, list) else str(value)


def schema_valid(task: Task, parsed: dict | None) -> bool:
    """All fields present with the declared type (str; list of str; a choice's string)."""
    if parsed is None:
        return False
    return all(
        f.name in parsed
        and (
            isinstance(parsed[f.name], list) and all(isinstance(x, str) for x in parsed[f.name])
            if f.type == "list"
            else isinstance(parsed[f.name], str)
        )
        for f in task.fields
    )


NAN = float("nan")


def _grounding_row(groundings: dict[str, list], fields: list[str]) -> list[tuple[float, ...]]:
    row = []
    for f in fields:
        gs = groundings.get(f, [])
        counts = Counter(g.status for g in gs)
        row.append(
            (
                *(float(counts[s]) for s in GROUNDING_COUNTS[:4]),
                float(sum(g.example_id is not None for g in gs)),
            )
        )
    return row


def _gold_lookup(gold) -> Callable[[str], tuple[int, dict] | None]:
    """rid -> (position in file order, record) or None, for a SplitIndex or a plain mapping."""
    if hasattr(gold, "position_and_record"):
        return gold.position_and_record
    positions = {rid: k for k, rid in enumerate(gold)}
    return lambda rid: (positions[rid], gold[rid]) if rid in positions else None


def score_records(
    task: Task,
    gold: dict[str, dict],
    cached: Iterable[dict],
    policies: Policies,
    stemming: bool = True,
    entity_backend: EntityBackend | None = None,
    bert=None,
    on_example: Callable[[dict], None] | None = None,
    chunk_size: int = 256,
    progress: Callable[[int], None] | None = None,
    grounder: Grounder | None = None,
    bleu: bool = False,
) -> RunScores:
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
    text_fields = [
        f for f in task.field_names if f not in policies.exclude_fields and f not in choice
    ]
    exact_fields = [f for f in task.field_names if f not in text_fields]
    out = RunScores(
        gold,
        text_fields,
        exact_fields,
        list(task.field_names),
        bert is not None,
        entity_backend is not None,
        bleu,
        list(choice),
    )
    out.has_grounding = grounder is not None
    if grounder is not None:
        out.grounding_info = grounder.describe()
    lookup = _gold_lookup(gold)
    seen = np.zeros(out.n_gold, dtype=bool)  # by gold position: one byte per record
    nt = len(text_fields)
    for chunk in chunks(cached, chunk_size):
        pending = []  # (record position in chunk, field index, pred text, gold text)
        done: list[tuple[int, np.ndarray, dict]] = []  # (gold position, row, example)
        for row in chunk:
            rid = row["id"]
            found = lookup(rid)
            if found is None:
                continue  # outside the selected records (e.g. a smaller data.limit)
            position, rec = found
            if seen[position]:
                continue  # a duplicated id (hand-edited cache): the first answer counts
            seen[position] = True
            ok = row.get("parsed") is not None
            finish = row.get("finish_reason") or "unknown"
            out.finish[finish] += 1
            lang = rec.get("lang", "")
            nums = out.new_row(rid, lang, ok)
            example: dict[str, Any] = {
                "id": rid,
                "lang": lang,
                "parsed": ok,
                "parse_path": row_parse_path(row),
                "finish_reason": finish,
            }
            done.append((position, nums, example))
            example_ids = row.get("icl_example_ids")
            if example_ids is not None:
                out.has_icl = True
                example["icl_example_ids"] = example_ids
            if not ok and policies.unparseable == "skip":
                example.update(skipped=True, schema_valid=None, fields={})
                continue  # nan everywhere but `parsed`
            valid = schema_valid(task, row.get("parsed"))
            out.put(nums, "valid", float(valid))
            example.update(skipped=False, schema_valid=valid)
            pred = task.coerce_prediction(row.get("parsed"))
            per_field: dict[str, dict] = {}
            na_row, exact_row = [], []
            rouge_row = {t: [NAN] * nt for t in ROUGE_TYPES}
            bleu_row = [NAN] * nt
            bert_row = out.get(nums, "bert")  # a view: filled here and after the chunk
            entity_row = []
            groundings = {}
            if grounder is not None:
                groundings = grounder.ground(
                    rec[task.input_key], row.get("parsed"), example_ids or ()
                )
                out.put(nums, "grounding", _grounding_row(groundings, out.fields))
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
                    hit = normalise_item(_as_text(task, g_val)) == normalise_item(
                        _as_text(task, p_val)
                    )
                    exact_row.append(float(hit))
                    fe["exact_match"] = hit
                    continue
                if f not in text_fields:
                    continue
                j = text_fields.index(f)
                if entity_backend is not None:
                    c = entity_backend.compare(
                        entity_backend.entities(g_val, lang), entity_backend.entities(p_val, lang)
                    )
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
                    pending.append((len(done) - 1, j, p_text, g_text))
                fe.update({t: rouge_row[t][j] for t in ROUGE_TYPES})
            for t in ROUGE_TYPES:
                out.put(nums, t, rouge_row[t])
            if out.has_bleu:
                out.put(nums, "bleu", bleu_row)
            if out.has_entities:
                out.put(nums, "entity", entity_row)
            out.put(nums, "na", na_row)
            out.put(nums, "exact", exact_row)
            example["fields"] = per_field
        if bert is not None and pending:
            # one batched call per chunk through the one reused scorer
            found_scores = bert.score_pairs([p[2] for p in pending], [p[3] for p in pending])
            for (i, j, _, _), sc in zip(pending, found_scores, strict=True):
                out.get(done[i][1], "bert")[j] = sc
        for position, nums, example in done:
            out.write(position, nums)
            if on_example is None:
                continue
            if out.has_bert and example["fields"]:
                bert_row = out.get(nums, "bert")
                for j, f in enumerate(text_fields):
                    if not math.isnan(bert_row[j]):
                        example["fields"][f]["bertscore_f1"] = float(bert_row[j])
            on_example(example)
        if progress is not None:
            progress(len(chunk))
    out.missing_ids = sorted(rid for rid, here in zip(gold, seen.tolist(), strict=True) if not here)
    return out
