"""Source grounding: where each predicted item stands in its report.

Every item of a prediction (a field value split the way the entity metric splits it) is looked
up in the report, in this order, and the first step that finds it decides its status:

1. `exact`: the item as written is a substring of the report.
2. `normalized`: the same after folding both sides: Unicode compatibility decomposition (NFKD)
   with case folding (so "ß" matches "SS" and "µ" matches "μ"), every dash or minus sign as
   "-", runs of whitespace as one space, invisible format characters (soft hyphen, zero-width
   space) dropped; the item also loses surrounding quotes and ,;:!? and periods ("daily." is
   found in "daily,"). Each folded character remembers the report character it came from, so
   the span maps back to exact offsets in the original report even where folding changes
   lengths ("Straße" -> "strasse"); a match must start and end on whole report characters.
3. `fuzzy`: the best window of whole report words, scored by difflib's character similarity
   (`SequenceMatcher.ratio`, 2 * matching characters / total characters) between the item's
   folded words and the window's folded words, each joined by one space; punctuation between
   words is ignored ("chest-pain" vs "chest pain" scores 1.0). Windows are n-d..n+d words long
   (n = the item's words, d = max(1, n // 4)) and contain at least one word that shares its
   first or last four characters (or, if shorter, the whole word) with a word of the item;
   the MAX_WINDOWS windows with the most such words are scored. Every number of the item must
   stand in the window too ("day 11" is no support for "day 5"; "10,3" and "10.3" agree).
   The item is `fuzzy` if the best score reaches the threshold, else `none`.
4. `none`: not found ("unsupported by the report"); the score is the best similarity of a
   window that could have reached the threshold by difflib's cheap upper bounds (others are
   not scored, which keeps this step fast), 0.0 if there was none.

Within steps 1 and 2 the first occurrence that starts and ends at word boundaries wins, else
the first occurrence inside a word ("pain" in "painful" is still exact), except for items
shorter than MIN_INWORD characters, which must stand as whole words ("5" is not in "45").
Offsets are code-point offsets (Python `str` indices): `report[start:end]` is the matched text.

DEFAULT_THRESHOLD = 0.9: an item of 20 characters may differ from the report in about two
characters (an inflection, "akute"/"akuter", a dropped letter, "100mg"/"100 mg"), while a
different word of similar spelling stays below it ("married"/"carried" and
"electrocardiography"/"echocardiography" score 0.86). Measured on the demo test split: of
items taken from other records' gold and absent from the report, 0.0% (en) and 0.1% (de) pass
as fuzzy (0.4% and 0.2% at 0.85); gold items with one letter dropped are found in 99.3% and
99.8%, with an inflected ending in 100%, with one of three or more words dropped in about half.
Raise it to 1.0 to accept only word-for-word matches up to punctuation.

ICL copies: `mark_icl_copies` sets `example_id` on an item that is `none` in its own report but
found (exact or normalized) in one of the retrieved in-context examples as the prompt showed
it, its report or its gold answer: a value the model probably copied from its prompt's
examples. (On the demo data every gold item stands in its report; on the released data the
gold summaries paraphrase, so an item can be in an example's answer and not in its report.)
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from elmtex.config import ConfigError
from elmtex.entities import ItemsBackend, normalise_item
from elmtex.io import read_jsonl
from elmtex.task import Task

EXACT, NORMALIZED, FUZZY, NONE = "exact", "normalized", "fuzzy", "none"
STATUSES = (EXACT, NORMALIZED, FUZZY, NONE)
DEFAULT_THRESHOLD = 0.9
MIN_INWORD = 4  # shorter items only match whole words
MAX_WINDOWS = 400  # report windows scored per item in the fuzzy step (the most promising ones)

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
# Stripped from both ends of an item before the normalized step (as in entities.normalise_item).
_STRIP = " .,;:!?\"'`\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a"
_FOLD_CACHE: dict[str, str] = {}
EXAMPLE_SEPARATOR = "\n|\n"  # between an example's report and its answer's items


@dataclass(frozen=True)
class Grounding:
    item: str
    status: str  # exact | normalized | fuzzy | none
    start: int | None  # code-point offsets into the report: report[start:end] is the span
    end: int | None
    score: float  # 1.0 for exact/normalized; similarity for fuzzy; best similarity for none
    example_id: str | None = None  # ICL check: an ungrounded item found in this example

    @property
    def grounded(self) -> bool:
        return self.status != NONE

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "example_id": self.example_id,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Grounding:
        return cls(
            d["item"],
            d["status"],
            d.get("start"),
            d.get("end"),
            float(d["score"]),
            d.get("example_id"),
        )


def _fold_char(c: str) -> str:
    """The folded form of one character ("" for invisible format characters)."""
    f = _FOLD_CACHE.get(c)
    if f is None:
        if c.isspace():
            f = " "
        elif unicodedata.category(c) == "Cf":  # soft hyphen, zero-width space, ...
            f = ""
        else:
            # Unicode's compatibility caseless match: NFKD(casefold(NFKD(c))).
            f = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", c).casefold())
            f = "".join(
                "-" if "\u2010" <= ch <= "\u2015" or ch == "\u2212" else " " if ch.isspace() else ch
                for ch in f
            )
        if len(_FOLD_CACHE) < 100_000:
            _FOLD_CACHE[c] = f
    return f


def fold(text: str) -> str:
    """Case-, width- and whitespace-insensitive form of a text (runs of space become one)."""
    return fold_with_offsets(text)[0].strip(" ")


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character
    it came from (a run of whitespace becomes one space that points at the run's start)."""
    out: list[str] = []
    origin: list[int] = []
    space = False
    for i, c in enumerate(text):
        for ch in _fold_char(c):
            if ch == " ":
                if space:
                    continue
                space = True
            else:
                space = False
            out.append(ch)
            origin.append(i)
    return "".join(out), origin


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_" or unicodedata.category(c).startswith("M")


def _at_word_boundaries(text: str, start: int, end: int) -> bool:
    left = start == 0 or not (_is_word_char(text[start - 1]) and _is_word_char(text[start]))
    right = end == len(text) or not (_is_word_char(text[end - 1]) and _is_word_char(text[end]))
    return left and right


def _anchor_keys(word: str) -> set[str]:
    return {word[:4], word[-4:]} if len(word) > 4 else {word}


class ReportIndex:
    """One report prepared for grounding many items (folding and word splitting done once)."""

    def __init__(self, report: str):
        self.report = report
        self._folded: tuple[str, list[int]] | None = None
        self._words: list[tuple[int, int, str]] | None = None

    @property
    def folded(self) -> tuple[str, list[int]]:
        if self._folded is None:
            self._folded = fold_with_offsets(self.report)
        return self._folded

    @property
    def words(self) -> list[tuple[int, int, str]]:
        """(start, end, folded word) of every word of the report."""
        if self._words is None:
            self._words = [
                (m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(self.report)
            ]
        return self._words

    def find_exact(self, item: str) -> tuple[int, int] | None:
        if not item:
            return None
        first = None
        pos = self.report.find(item)
        while pos >= 0:
            span = (pos, pos + len(item))
            if _at_word_boundaries(self.report, *span):
                return span
            first = first or span
            pos = self.report.find(item, pos + 1)
        return first if len(item) >= MIN_INWORD else None

    def find_normalized(self, item: str) -> tuple[int, int] | None:
        needle = fold(item).strip(_STRIP)
        if not needle:
            return None
        text, origin = self.folded
        first = None
        pos = text.find(needle)
        while pos >= 0:
            end = pos + len(needle)
            # Only whole report characters: not the second "s" of a folded "ß".
            if (pos == 0 or origin[pos - 1] != origin[pos]) and (
                end == len(text) or origin[end] != origin[end - 1]
            ):
                span = (origin[pos], origin[end - 1] + 1)
                if _at_word_boundaries(self.report, *span):
                    return span
                first = first or span
            pos = text.find(needle, pos + 1)
        return first if len(needle) >= MIN_INWORD else None

    def find_fuzzy(self, item: str, floor: float = 0.0) -> tuple[float, tuple[int, int] | None]:
        """The best similarity of the item to a window of report words that holds every number
        of the item, and that window's span (None when no window qualifies). Windows whose
        similarity cannot reach `floor` (by difflib's cheap upper bounds) are not scored."""
        item_words = [fold(w) for w in _WORD.findall(item)]
        words = self.words
        if not item_words or not words:
            return 0.0, None
        keys = set().union(*(_anchor_keys(w) for w in item_words))
        anchors = [p for p, (_, _, w) in enumerate(words) if _anchor_keys(w) & keys]
        if not anchors:
            return 0.0, None
        n = len(item_words)
        d = max(1, n // 4)
        lengths = range(max(1, n - d), n + d + 1)
        # Windows with more anchor words first (counted with prefix sums), so that a good score
        # is found early and the cheap upper bounds below skip most of the rest; at most
        # MAX_WINDOWS are scored, which bounds the time a long item in a long report takes.
        anchor_set = set(anchors)
        prefix = [0]
        for p in range(len(words)):
            prefix.append(prefix[-1] + (p in anchor_set))
        windows = (
            (prefix[s + length] - prefix[s], -s, -length)
            for length in lengths
            for s in range(len(words) - length + 1)
            if prefix[s + length] > prefix[s]
        )
        ordered = [(-s, -length) for _, s, length in heapq.nlargest(MAX_WINDOWS, windows)]
        matcher = SequenceMatcher(None, autojunk=False)
        item_text = " ".join(item_words)
        matcher.set_seq2(item_text)
        # Numbers must agree: "day 11" is no support for "day 5", however similar the text.
        numbers = Counter(_DIGITS.findall(item_text))
        best, best_span = 0.0, None
        for s, length in ordered:
            window = " ".join(w for _, _, w in words[s : s + length])
            matcher.set_seq1(window)
            bound = max(best, floor)
            if (
                matcher.real_quick_ratio() < bound
                or matcher.quick_ratio() < bound
                or (numbers and numbers - Counter(_DIGITS.findall(window)))
            ):
                continue
            score = matcher.ratio()
            if score > best:
                best, best_span = score, (words[s][0], words[s + length - 1][1])
                if best == 1.0:
                    break
        return best, best_span

    def ground(self, item: str, threshold: float = DEFAULT_THRESHOLD) -> Grounding:
        span = self.find_exact(item)
        if span is not None:
            return Grounding(item, EXACT, span[0], span[1], 1.0)
        span = self.find_normalized(item)
        if span is not None:
            return Grounding(item, NORMALIZED, span[0], span[1], 1.0)
        score, span = self.find_fuzzy(item, floor=threshold)
        if span is not None and score >= threshold:
            return Grounding(item, FUZZY, span[0], span[1], score)
        return Grounding(item, NONE, None, None, score)

    def contains(self, item: str) -> bool:
        """Whether the item stands in the report exactly or after folding."""
        return self.find_exact(item) is not None or self.find_normalized(item) is not None


def check_threshold(threshold: float) -> float:
    if not 0 < threshold <= 1:
        raise ConfigError(f"The grounding threshold must lie in (0, 1], got {threshold!r}.")
    return float(threshold)


def ground_item(report: str, item: str, threshold: float = DEFAULT_THRESHOLD) -> Grounding:
    """Where one item stands in the report (see the module docstring for the steps)."""
    return ReportIndex(report).ground(item, check_threshold(threshold))


def field_items(task: Task, value: Any) -> list[str]:
    """A field value's items exactly as the entity metric counts them (N/A gives none)."""
    return [x for x in ItemsBackend(task).entities(value) if normalise_item(x)]


def ground_fields(
    task: Task, report: str, prediction: dict | None, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, list[Grounding]]:
    """The grounding of every item of every task field in the prediction that is not N/A or
    empty, in task field order; fields without items are left out."""
    threshold = check_threshold(threshold)
    if not isinstance(prediction, dict):
        return {}
    index = ReportIndex(report)
    # Coerced like the metrics do: a number becomes its text, a list in a str field is joined.
    coerced = task.coerce_prediction(prediction)
    out: dict[str, list[Grounding]] = {}
    for f in task.field_names:
        if f not in prediction:
            continue
        items = field_items(task, coerced[f])
        if items:
            out[f] = [index.ground(x, threshold) for x in items]
    return out


def mark_icl_copies(
    groundings: dict[str, list[Grounding]],
    examples: Iterable[tuple[str, str | ReportIndex]],
) -> dict[str, list[Grounding]]:
    """`groundings` with `example_id` set on each `none` item that stands (exact or normalized)
    in one of the in-context examples, given as (id, text or ReportIndex) in the order they
    were retrieved (the text: `example_text`); the first such example is named."""
    indexes = [
        (eid, ex if isinstance(ex, ReportIndex) else ReportIndex(ex)) for eid, ex in examples
    ]
    if not indexes:
        return groundings
    out = {}
    for f, gs in groundings.items():
        marked = []
        for g in gs:
            if g.status == NONE and g.example_id is None:
                hit = next((eid for eid, ix in indexes if ix.contains(g.item)), None)
                if hit is not None:
                    g = replace(g, example_id=hit)
            marked.append(g)
        out[f] = marked
    return out


def example_text(task: Task, record: Mapping[str, Any]) -> str:
    """What an in-context example shows the model: its report, then its gold answer's items,
    each on a line of its own between bars (folding turns line breaks into spaces, and the bars
    keep a match from running across two values)."""
    answer = record.get(task.output_key)
    items = []
    if isinstance(answer, Mapping):
        items = [x for f in task.field_names for x in field_items(task, answer.get(f))]
    return EXAMPLE_SEPARATOR.join([record[task.input_key], *items])


def load_example_texts(
    data_dir: str | Path, langs: Iterable[str], split: str, task: Task, ids: Iterable[str]
) -> dict[str, str]:
    """`example_text` of the given record ids from <data_dir>/<lang>/<split>.jsonl (the split
    the retriever indexed), streamed so that only the wanted records are kept; ids not found
    are simply absent."""
    wanted = set(ids)
    out: dict[str, str] = {}
    for lang in langs:
        path = Path(data_dir) / lang / f"{split}.jsonl"
        if not wanted or not path.exists():
            continue
        for _, rec in read_jsonl(path):
            rid = rec.get("id")
            if rid in wanted and isinstance(rec.get(task.input_key), str):
                out[rid] = example_text(task, rec)
                wanted.discard(rid)
    return out


class Grounder:
    """Grounds the predictions of a run, record by record, with the ICL copy check when the
    texts of the retrieved examples are given (`load_example_texts`). Prepared example texts are
    kept in a small LRU cache (examples recur across records; memory stays bounded)."""

    def __init__(
        self,
        task: Task,
        threshold: float = DEFAULT_THRESHOLD,
        example_texts: Mapping[str, str] | None = None,
        cache_size: int = 256,
    ):
        self.task = task
        self.threshold = check_threshold(threshold)
        self.example_texts = example_texts or {}
        self._cache: OrderedDict[str, ReportIndex] = OrderedDict()
        self._cache_size = cache_size

    def _example(self, eid: str) -> ReportIndex | None:
        index = self._cache.get(eid)
        if index is not None:
            self._cache.move_to_end(eid)
            return index
        text = self.example_texts.get(eid)
        if text is None:
            return None
        index = self._cache[eid] = ReportIndex(text)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return index

    def ground(
        self, report: str, prediction: dict | None, example_ids: Iterable[str] = ()
    ) -> dict[str, list[Grounding]]:
        groundings = ground_fields(self.task, report, prediction, self.threshold)
        if example_ids and any(g.status == NONE for gs in groundings.values() for g in gs):
            examples = [(eid, ix) for eid in example_ids if (ix := self._example(eid)) is not None]
            groundings = mark_icl_copies(groundings, examples)
        return groundings

    def describe(self) -> dict[str, Any]:
        return {
            "fuzzy_threshold": self.threshold,
            "statuses": list(STATUSES),
            "example_texts": len(self.example_texts),
        }
