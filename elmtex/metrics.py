"""Scoring of cached runs against gold, per record and category, then aggregated with
bootstrap confidence intervals.

`score_records` streams a run's cached rows once, in chunks (BERTScore is batched per chunk),
and keeps only numbers: per record and category ROUGE, BERTScore, optionally sentence BLEU,
entity counts, N/A flags and exact matches (`RunScores`; a task's choice fields, such as a
multiple-choice answer, are exact-match fields: accuracy of the parsed choice). `summarize`
turns those into the report's metrics with seeded bootstrap CIs over records; `compare_runs`
gives paired-bootstrap differences against a baseline run on the records every run has. The
per-record numbers go to a temporary file, one row per gold position, and the CIs come from one
streamed pass over it (`stats.Bootstrap`): memory does not grow with the number of records, and
report texts are never held beyond one chunk.

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
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from nltk.stem import porter
from rouge_score import rouge_scorer

from elmtex import stats
from elmtex.config import ConfigError
from elmtex.entities import EntityBackend, MatchCounts, normalise_item
from elmtex.grounding import EXACT, FUZZY, NONE, NORMALIZED, Grounder
from elmtex.io import chunks, id_hash
from elmtex.parsing import row_parse_path
from elmtex.qa import parse_choice, sentence_bleu
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
# Columns of RunScores' grounding counts.
GROUNDING_COUNTS = (EXACT, NORMALIZED, FUZZY, NONE, "icl_copied")
EVAL_CHUNK = 512  # records per step of the bootstrap passes (weights: n_boot x this)


class RunScores:
    """Per-record numbers of one run (nan = not scored for that record), kept on disk.

    Each scored record is one row of float64 numbers in a temporary file, at the record's
    position in the gold split (file order): memory does not grow with the run, and every run
    scored against the same gold lines up row by row, so comparisons and paired examples are
    sequential reads. `chunks()` reads the rows back in slices, `arrays()` all at once (for
    small runs and tests).

    Arrays (records on axis 0): rouge[t], bert, bleu: (text fields); entity: (text fields, 3)
    tp/fp/fn; na: (fields, 2) gold N/A, predicted N/A; exact: (exact fields); parsed, valid: ();
    grounding: (fields, 5) item counts exact, normalized, fuzzy, none, and ICL-copied (the
    last nan in a run without retrieved examples). A record left out under `unparseable: skip`
    is nan everywhere except `parsed` (0).
    """

    def __init__(self, gold, text_fields: list[str], exact_fields: list[str],
                 fields: list[str], has_bert: bool, has_entities: bool, has_bleu: bool = False,
                 choice_fields: list[str] | None = None):
        self.gold = gold  # a Mapping id -> record, iterated in file order (dict or SplitIndex)
        self.n_gold = len(gold)
        self.text_fields, self.exact_fields, self.fields = text_fields, exact_fields, fields
        self.has_bert, self.has_entities, self.has_bleu = has_bert, has_entities, has_bleu
        self.choice_fields = list(choice_fields or ())  # exact fields scored as a choice
        self.finish: Counter = Counter()
        self.missing_ids: list[str] = []
        self.has_grounding = False
        self.has_icl = False  # some cached row carries retrieved example ids (advanced_icl)
        self.grounding_info: dict | None = None
        self.lang_names: list[str] = []
        self.n = 0  # records scored
        nt, ne, nf = len(text_fields), len(exact_fields), len(fields)
        self._shapes = {"present": (), "key_hi": (), "key_lo": (), "lang": (), "parsed": (),
                        "valid": (), **{t: (nt,) for t in ROUGE_TYPES}, "bert": (nt,),
                        "bleu": (nt,), "entity": (nt, 3), "na": (nf, 2), "exact": (ne,),
                        "grounding": (nf, len(GROUNDING_COUNTS))}
        self._slices, width = {}, 0
        for name, shape in self._shapes.items():
            size = int(np.prod(shape))
            self._slices[name] = slice(width, width + size)
            width += size
        self.width = width
        # Unbuffered: reads and writes are plain seeks; the file is deleted when closed.
        self._file = tempfile.TemporaryFile(buffering=0)
        self._file.truncate(self.n_gold * width * 8)  # never-written rows read as 0: absent

    def new_row(self, record_id: str, lang: str, parsed: bool) -> np.ndarray:
        """A record's row: nan (not scored) but for its identity and parse flag."""
        row = np.full(self.width, np.nan)
        key = id_hash(record_id)
        if lang not in self.lang_names:
            self.lang_names.append(lang)
        for name, value in (("present", 1.0), ("key_hi", key >> 32), ("key_lo", key & 0xFFFFFFFF),
                            ("lang", self.lang_names.index(lang)), ("parsed", float(parsed))):
            row[self._slices[name]] = value
        return row

    def put(self, row: np.ndarray, name: str, values: Any) -> None:
        row[self._slices[name]] = np.asarray(values, dtype=float).reshape(-1)

    def get(self, row: np.ndarray, name: str) -> np.ndarray:
        return row[self._slices[name]].reshape(self._shapes[name])

    def write(self, position: int, row: np.ndarray) -> None:
        self._file.seek(position * self.width * 8)
        self._file.write(row.astype(np.float64).tobytes())
        self.n += 1

    def rows(self, start: int, stop: int) -> dict[str, Any]:
        """The arrays of gold positions start..stop-1 (absent records have present False)."""
        count = max(0, min(stop, self.n_gold) - start)
        buf = bytearray(count * self.width * 8)
        self._file.seek(start * self.width * 8)
        got = self._file.readinto(buf) if count else 0
        if got != len(buf):
            raise OSError(f"short read from the scores file: {got} of {len(buf)} bytes")
        return self._unpack(np.frombuffer(buf, dtype=np.float64).reshape(count, self.width))

    def _unpack(self, data: np.ndarray) -> dict[str, Any]:
        m = data.shape[0]
        a: dict[str, Any] = {name: data[:, sl].reshape((m, *self._shapes[name]))
                             for name, sl in self._slices.items()}
        a["present"] = a["present"] == 1.0
        a["keys"] = ((a.pop("key_hi").astype(np.uint64) << np.uint64(32))
                     | a.pop("key_lo").astype(np.uint64))
        for name, has in (("bert", self.has_bert), ("bleu", self.has_bleu),
                          ("entity", self.has_entities), ("grounding", self.has_grounding)):
            if not has:
                a[name] = None
        if a["grounding"] is not None and not self.has_icl:
            a["grounding"] = a["grounding"].copy()
            a["grounding"][..., -1] = np.nan  # no examples: the copy check does not apply
        return a

    def chunks(self, size: int = EVAL_CHUNK) -> Iterator[tuple[int, dict[str, Any]]]:
        """(first position, arrays) for consecutive slices of the gold positions."""
        for start in range(0, self.n_gold, size):
            yield start, self.rows(start, start + size)

    def arrays(self) -> dict[str, Any]:
        """The numbers of the scored records as float arrays, in gold order (read whole)."""
        parts = [take(a, a["present"]) for _, a in self.chunks()]
        if not parts:
            return take(self._unpack(np.zeros((0, self.width))), np.zeros(0, dtype=bool))
        return {k: (None if parts[0][k] is None else np.concatenate([p[k] for p in parts]))
                for k in parts[0]}

    @property
    def ids(self) -> list[str]:
        """The scored records' ids, in gold order."""
        present = (a["present"] for _, a in self.chunks())
        flags = (bool(p) for chunk in present for p in chunk)
        return [rid for rid, here in zip(self.gold, flags, strict=True) if here]

    def close(self) -> None:
        self._file.close()


def take(a: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    """The given records (a boolean mask or positions) of an arrays dict."""
    return {k: (None if v is None else v[rows]) for k, v in a.items()}


def _grounding_row(groundings: dict[str, list], fields: list[str]) -> list[tuple[float, ...]]:
    row = []
    for f in fields:
        gs = groundings.get(f, [])
        counts = Counter(g.status for g in gs)
        row.append((*(float(counts[s]) for s in GROUNDING_COUNTS[:4]),
                    float(sum(g.example_id is not None for g in gs))))
    return row


def _gold_lookup(gold) -> Callable[[str], tuple[int, dict] | None]:
    """rid -> (position in file order, record) or None, for a SplitIndex or a plain mapping."""
    if hasattr(gold, "position_and_record"):
        return gold.position_and_record
    positions = {rid: k for k, rid in enumerate(gold)}
    return lambda rid: (positions[rid], gold[rid]) if rid in positions else None


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
    out = RunScores(gold, text_fields, exact_fields, list(task.field_names),
                    bert is not None, entity_backend is not None, bleu, list(choice))
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
            example: dict[str, Any] = {"id": rid, "lang": lang, "parsed": ok,
                                       "parse_path": row_parse_path(row),
                                       "finish_reason": finish}
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
                groundings = grounder.ground(rec[task.input_key], row.get("parsed"),
                                             example_ids or ())
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
    out.missing_ids = sorted(rid for rid, here in zip(gold, seen.tolist(), strict=True)
                             if not here)
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
    return {name: _share_counts(g[:, list(cols)].sum(axis=1), total)
            for name, (_, cols) in GROUNDING_SHARES.items()}


def _grounding_sums(g: np.ndarray) -> np.ndarray:
    """(n, ..., 5) grounding counts -> (..., 5) sums over the records with counts (the ICL
    column stays nan in a run without examples)."""
    kept = ~np.isnan(g[..., :4]).any(axis=-1, keepdims=True)
    return np.where(kept, g, 0.0).sum(axis=0)


def _grounding_summary(sums: np.ndarray, ci: dict[str, dict]) -> dict[str, Any]:
    """Counts and shares from summed (5,) grounding counts, with the given CIs."""
    items = int(sums[:4].sum())
    icl = None if np.isnan(sums[4]) else int(sums[4])
    out: dict[str, Any] = {"items": items,
                           **{k: int(sums[i]) for i, k in enumerate(GROUNDING_COUNTS[:4])},
                           "icl_copied": icl}
    for k in (*GROUNDING_COUNTS[:4], "icl_copied"):
        out[f"share_{k}"] = (None if out[k] is None or not items else out[k] / items)
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
    labels = {"rouge1": "ROUGE-1 (macro)", "rouge2": "ROUGE-2 (macro)",
              "rougeL": "ROUGE-L (macro)"}
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
_CATEGORY_METRICS = {"rougeL": "rougeL", "bertscore_f1": "bert", "bleu": "bleu",
                     "entity_f1": "entity"}


def _category_specs(scores: RunScores, a: dict, metrics: dict[str, str],
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


def summarize(scores: RunScores, policies: Policies, entity_backend: str | None = None,
              bert_info: dict | None = None, n_boot: int = 1000, seed: int = 1234,
              alpha: float = 0.05, lang: str | None = None) -> dict:
    """The report's metrics of one run with bootstrap CIs (resampling records); with `lang`,
    of that language's records only.

    Overall ROUGE and BERTScore are macro averages over categories (each category's mean over
    the records where it is scored); entity P/R/F1 overall is micro (summed counts), with the
    macro F1 beside it. Every headline metric has a CI in `headline`; per-category values have
    theirs under `ci`. One streamed pass over the run's rows (`stats.Bootstrap`).
    """
    boot = stats.Bootstrap(n_boot, seed, alpha)
    all_metrics = {t: t for t in ROUGE_TYPES} | {m: k for m, k in _CATEGORY_METRICS.items()
                                                 if m != "rougeL"}
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
            "overall": _grounding_summary(grounding_text,
                                          {name: headline[name] for name in GROUNDING_SHARES}),
            "per_category": {f: _grounding_summary(grounding_sums[i],
                                                   {m: boot.ci((f, m)) for m in _CATEGORY_SHARES})
                             for i, f in enumerate(scores.fields)},
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
        "per_language_rougeL": dict(sorted(
            (scores.lang_names[k], v[0] / v[1] if v[1] else None) for k, v in lang_rouge.items())),
        "per_category": per_category,
        "policies": policies.describe(),
        "bootstrap": boot_settings(n_boot, seed, alpha),
        "entity_backend": entity_backend,
        "bertscore": bert_info,
        "grounding": grounding,
    }


def boot_settings(n_boot: int, seed: int, alpha: float) -> dict[str, Any]:
    """How the CIs were made, as the reports state it."""
    return {"n_boot": n_boot, "seed": seed, "alpha": alpha, "unit": "record",
            "resampling": "Poisson(1) weights per record, keyed by seed and record id",
            "interval": "percentile"}


def _aligned_chunks(runs: dict[str, RunScores]) -> Iterator[tuple[int, dict[str, dict]]]:
    """(first position, run -> arrays) over the gold positions, the runs side by side."""
    first = next(iter(runs.values()))
    for name, s in runs.items():
        if s.n_gold != first.n_gold:
            raise ValueError(f"run {name} was scored against another gold split "
                             f"({s.n_gold} records, not {first.n_gold})")
    for start in range(0, first.n_gold, EVAL_CHUNK):
        yield start, {name: s.rows(start, start + EVAL_CHUNK) for name, s in runs.items()}


def compare_runs(runs: dict[str, RunScores], baseline: str, n_boot: int = 1000,
                 seed: int = 1234, alpha: float = 0.05, lang: str | None = None) -> dict:
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
    labels = {name: {m: sp[0] for m, sp in _headline_specs(s, empty[name]).items()}
              for name, s in runs.items()}
    categories = {name: list(_category_specs(s, empty[name], _CATEGORY_METRICS))
                  for name, s in runs.items()}
    n_common = 0
    for _, parts in _aligned_chunks(runs):
        common = np.logical_and.reduce([_lang_mask(runs[name], a, lang)
                                        for name, a in parts.items()])
        if not common.any():
            continue
        n_common += int(common.sum())
        sub = {name: take(a, common) for name, a in parts.items()}
        w = boot.weights(sub[baseline]["keys"])
        head = {name: _headline_specs(runs[name], a) for name, a in sub.items()}
        cats = {name: _category_specs(runs[name], a, _CATEGORY_METRICS)
                for name, a in sub.items()}
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
                    boot.add_paired(("diff", name, *key), kind, cats[baseline][key][1], values,
                                    w)
    headline = {name: {m: {"label": label, **boot.ci(("run", name, m))}
                       for m, label in labels[name].items()} for name in runs}
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
        diffs[name] = {"overall": {m: boot.diff(("diff", name, m)) for m in labels[name]
                                   if m in labels[baseline]},
                       "per_category": by_category}
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
                entry: dict[str, Any] = {"parsed": bool(a["parsed"][i]),
                                         "rougeL": _mean(a["rougeL"][i])}
                if a["bert"] is not None:
                    entry["bertscore_f1"] = _mean(a["bert"][i])
                if a["entity"] is not None:
                    c = a["entity"][i]
                    entry["entity"] = None if np.isnan(c).all() else _counts_dict(
                        np.nansum(c, axis=0))
                if a["grounding"] is not None:  # counts over all fields, to find unsupported
                    g = a["grounding"][i]
                    entry["grounding"] = None if np.isnan(g[:, :4]).all() else {
                        k: (None if np.isnan(v) else int(v))
                        for k, v in zip(GROUNDING_COUNTS, g.sum(axis=0).tolist(), strict=True)}
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
