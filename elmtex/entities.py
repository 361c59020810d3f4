"""Entity-level precision, recall and F1 of one field: gold entities against predicted ones.

Two backends share one interface (`EntityBackend`): `entities(text, lang)` turns a field value
into entities and `compare(gold, pred)` counts true positives, false positives and false
negatives (`MatchCounts`).

`items` (offline, the default): the entities of a field are its items, `task.items(value)`
(the value split at the task's separator, "; "; N/A or empty gives none). Items are compared
after `normalise_item`, by these rules:

- Normalisation: Unicode NFKC, casefold, every dash or minus sign written as "-", whitespace
  collapsed to one space, a space inserted between a number and the unit or word glued to it
  ("5mg" -> "5 mg", "0.45ng/mL" -> "0.45 ng/ml"; English ordinals such as "3rd" are left
  alone), spaces before "%" removed ("5 %" -> "5%"), and quotes and ,;:!? and periods
  stripped from both ends (so a trailing period goes). A decimal comma stays ("2,4 mg": German
  writing is not rewritten). No words are removed (no article or stop-word stripping).
  Non-ASCII letters are kept: "Übelkeit" -> "übelkeit"; casefold turns "ß" into "ss". The
  micro sign (U+00B5) and the Greek mu (U+03BC) both become the Greek mu, so "µg" written
  either way is the same item.
- An item with nothing left after normalisation (e.g. "-", "...") is not an item. In the
  `items` backend an item that normalises like the task's N/A value ("n/a", "N/A.") is none.
- Similarity of two normalised items: 1.0 if they are equal, else their token F1, where tokens
  are `re.findall(r"\\w+", item)` (so "0.45 ng/ml" has tokens 0, 45, ng, ml) and the overlap
  is counted as multisets: token F1 = 2 * |common| / (|gold tokens| + |pred tokens|).
- Two items match if their similarity is >= the threshold (default 0.5; must lie in (0, 1]).
- Matching is one-to-one: all gold x predicted pairs at or above the threshold are taken
  greedily from the highest similarity down, ties broken by the lower gold index and then the
  lower predicted index (deterministic); each gold and each predicted item is used at most
  once. TP = matched pairs, FP = unmatched predicted items, FN = unmatched gold items.
- Duplicates count: each copy of an item in gold or prediction is a separate item. A predicted
  item repeated twice against one gold copy is 1 TP + 1 FP; a gold item listed twice and
  predicted once is 1 TP + 1 FN.

`umls` (the study's metric, needs scispaCy and a model that cannot be installed offline): the
entities are the UMLS concepts (CUIs) of scispaCy's entity mentions, each mention taking its
linker's top candidate, and gold and prediction are compared as SETS of CUIs by exact equality
(repeated concepts count once). The similarity threshold does not apply.

Scores (`MatchCounts`): precision = TP/(TP+FP), None when nothing was predicted; recall =
TP/(TP+FN), None when there was nothing to find; F1 = 2TP/(2TP+FP+FN), the harmonic mean of
the two where both are defined, 0 when one side is empty and the other not, and None when
both are empty. Both empty means "nothing to find, nothing found": counts (0, 0, 0), which add
nothing to micro sums and leave macro means alone. `micro` sums counts; `macro_f1` averages
the defined F1s of the categories.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from elmtex.config import ConfigError, UserError
from elmtex.task import Task

BACKEND_NAMES = ("items", "umls")
DEFAULT_THRESHOLD = 0.5

# scispaCy release whose models the install hint names; the model wheels are published with the
# scispaCy releases (not on PyPI) and must match the library's minor version.
SCISPACY_VERSION = "0.5.4"
SCISPACY_MODEL_URL = (
    "https://s3-us-west-2.amazonaws.com/ai2-s2-scispacy/releases/"
    "v{version}/{model}-{version}.tar.gz"
)

_TOKEN = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# U+2010..U+2015 (hyphens and dashes) and U+2212 (minus sign) all become "-".
_DASHES = re.compile("[\u2010-\u2015\u2212]")
# A number that starts a token, glued to a following letter: "5mg", "0.45ng", "2,4mg". The
# look-behind keeps "t2dm" and "hba1c" whole; ordinals ("1st", "3rd") are not units.
_NUMBER_UNIT = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)(?=[^\W\d_])(?!(?:st|nd|rd|th)\b)")
_SPACE_PERCENT = re.compile(r"(?<=\d) +%")
_STRIP_CHARS = " .,;:!?\"'`\u00ab\u00bb\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2039\u203a"


def normalise_item(text: str) -> str:
    """The comparable form of one item (rules in the module docstring)."""
    s = unicodedata.normalize("NFKC", text).casefold()
    # NFKC already maps U+00B5 to U+03BC; casefold does too. Kept explicit because it is a rule.
    s = s.replace("\u00b5", "\u03bc")
    s = _DASHES.sub("-", s)
    s = _SPACE.sub(" ", s).strip()
    s = _NUMBER_UNIT.sub(r"\1 ", s)
    s = _SPACE_PERCENT.sub("%", s)
    return s.strip(_STRIP_CHARS)


def tokens(normalised: str) -> list[str]:
    return _TOKEN.findall(normalised)


def token_f1(a: str, b: str) -> float:
    """Multiset token F1 of two normalised items; 0.0 when either has no tokens."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    common = sum((Counter(ta) & Counter(tb)).values())
    # 2c/(|a|+|b|) equals 2PR/(P+R) and gives bit-identical floats for equal ratios, so ties
    # in the greedy matching are real ties.
    return 2 * common / (len(ta) + len(tb))


def similarity(a: str, b: str) -> float:
    """Similarity of two normalised items: 1.0 if equal, else token F1."""
    return 1.0 if a == b else token_f1(a, b)


@dataclass
class MatchCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    def __add__(self, other: MatchCounts) -> MatchCounts:
        return MatchCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def _check_threshold(threshold: float) -> float:
    if not 0 < threshold <= 1:
        raise ConfigError(f"The entity match threshold must lie in (0, 1], got {threshold!r}.")
    return float(threshold)


def match_items(
    gold: Sequence[str],
    pred: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[MatchCounts, list[tuple[int, int, float]]]:
    """One-to-one greedy matching of gold items to predicted items.

    Returns the counts and the matched pairs (gold index, predicted index, similarity), in the
    order they were taken; indices refer to the lists as given. Items that normalise to
    nothing are skipped (neither counted nor matched).
    """
    threshold = _check_threshold(threshold)
    g = [(i, n) for i, n in enumerate(map(normalise_item, gold)) if n]
    p = [(j, n) for j, n in enumerate(map(normalise_item, pred)) if n]
    candidates = []
    for i, gn in g:
        for j, pn in p:
            sim = similarity(gn, pn)
            if sim >= threshold:
                candidates.append((-sim, i, j))
    candidates.sort()  # highest similarity first, then lower gold index, then lower pred index
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for neg_sim, i, j in candidates:
        if i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        pairs.append((i, j, -neg_sim))
    tp = len(pairs)
    return MatchCounts(tp=tp, fp=len(p) - tp, fn=len(g) - tp), pairs


@runtime_checkable
class EntityBackend(Protocol):
    name: str

    def entities(self, text: str | list[str], lang: str) -> list[str]:
        """The entities of one field value (none for N/A or empty)."""
        ...

    def compare(self, gold_entities: list[str], pred_entities: list[str]) -> MatchCounts: ...


class ItemsBackend:
    """Entities are the field's items, matched by normalised text similarity (offline)."""

    name = "items"

    def __init__(self, task: Task, threshold: float = DEFAULT_THRESHOLD):
        self.task = task
        self.threshold = _check_threshold(threshold)
        self._na = normalise_item(task.na_value)

    def entities(self, text: str | list[str], lang: str = "") -> list[str]:
        # lang is unused: the normalisation is the same for every language.
        return [x for x in self.task.items(text) if normalise_item(x) != self._na]

    def compare(self, gold_entities: list[str], pred_entities: list[str]) -> MatchCounts:
        return match_items(gold_entities, pred_entities, self.threshold)[0]


class EntityBackendUnavailable(UserError):
    """An entity backend whose libraries or model are not installed; the message says how."""


def _umls_install_hint(model: str) -> str:
    url = SCISPACY_MODEL_URL.format(version=SCISPACY_VERSION, model=model)
    return (
        "The 'umls' entity backend needs scispaCy and its model: "
        f"pip install scispacy=={SCISPACY_VERSION} && pip install {url} "
        "(the model wheel comes from the scispaCy releases, not from PyPI). On first use the "
        "UMLS linker also downloads its knowledge base (about 1 GB) into ~/.scispacy. No "
        "scispaCy model ships on PyPI, so this backend cannot run offline here; use "
        "the 'items' backend instead."
    )


class UmlsBackend:
    """The study's metric: scispaCy entity mentions linked to UMLS concepts, compared as sets.

    The scispaCy models are English; German text runs through the same pipeline (`lang` is not
    used), so concept recall on German reports is expected to be poor.
    """

    name = "umls"

    def __init__(
        self,
        model: str = "en_core_sci_scibert",
        linker: str = "umls",
        task: Task | None = None,
        resolve_abbreviations: bool = True,
    ):
        self.model = model
        self.linker = linker
        self.task = task
        try:  # lazily: neither library is a requirement of the project
            import scispacy.linking  # noqa: F401  (registers the "scispacy_linker" factory)
            import spacy
        except ImportError as e:
            raise EntityBackendUnavailable(
                f"{_umls_install_hint(model)} (import failed: {e})"
            ) from e
        try:
            self.nlp = spacy.load(model)
        except OSError as e:
            raise EntityBackendUnavailable(
                f"scispaCy model '{model}' is not installed. {_umls_install_hint(model)}"
            ) from e
        try:
            self.nlp.add_pipe(
                "scispacy_linker",
                config={"resolve_abbreviations": resolve_abbreviations, "linker_name": linker},
            )
        except OSError as e:  # the knowledge base download failed (offline)
            raise EntityBackendUnavailable(
                f"The scispaCy '{linker}' linker could not load its knowledge base ({e}). "
                f"{_umls_install_hint(model)}"
            ) from e

    def entities(self, text: str | list[str], lang: str = "") -> list[str]:
        """The top-candidate CUI of every linked mention, in text order (unlinked ones are
        dropped)."""
        if self.task is not None:
            items = self.task.items(text)
            text = self.task.item_separator.join(items)
        elif isinstance(text, list):
            text = "; ".join(text)
        if not text.strip():
            return []
        doc = self.nlp(text)
        # kb_ents holds (CUI, score) candidates above the linker's threshold, best first.
        return [ent._.kb_ents[0][0] for ent in doc.ents if ent._.kb_ents]

    def compare(self, gold_entities: list[str], pred_entities: list[str]) -> MatchCounts:
        g, p = set(gold_entities), set(pred_entities)
        return MatchCounts(tp=len(g & p), fp=len(p - g), fn=len(g - p))


def make_entity_backend(
    name: str,
    task: Task,
    threshold: float = DEFAULT_THRESHOLD,
) -> EntityBackend:
    """The backend called `name`; `threshold` applies to `items` only."""
    if name == "items":
        return ItemsBackend(task, threshold)
    if name == "umls":
        return UmlsBackend(task=task)
    raise ConfigError(f"Unknown entity backend {name!r}; valid names: {', '.join(BACKEND_NAMES)}.")


def micro(counts: Iterable[MatchCounts]) -> MatchCounts:
    """Summed counts (micro average: every entity counts once)."""
    total = MatchCounts()
    for c in counts:
        total = total + c
    return total


def macro_f1(per_category: dict[str, MatchCounts]) -> float | None:
    """Mean of the categories' F1 where defined (a category with nothing to find and nothing
    found is left out); None when no category has an F1."""
    scores = [c.f1 for c in per_category.values() if c.f1 is not None]
    return sum(scores) / len(scores) if scores else None
