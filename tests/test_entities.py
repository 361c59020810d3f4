import sys
import types

import pytest

from elmtex.config import ConfigError, UserError
from elmtex.entities import (
    EntityBackend,
    EntityBackendUnavailable,
    ItemsBackend,
    MatchCounts,
    UmlsBackend,
    macro_f1,
    make_entity_backend,
    match_items,
    micro,
    normalise_item,
    token_f1,
)


def counts(gold, pred, threshold=0.5):
    c, _ = match_items(gold, pred, threshold)
    return (c.tp, c.fp, c.fn)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Aspirin 100mg daily.", "aspirin 100 mg daily"),
        ("  Troponin   T\t0.45ng/mL ", "troponin t 0.45 ng/ml"),
        ("CRP 2,4mg/dl", "crp 2,4 mg/dl"),  # German decimal comma stays
        ("EF 35 %", "ef 35%"),
        ('"fever"', "fever"),
        ("Übelkeit", "übelkeit"),
        ("T2DM", "t2dm"),  # a digit inside a word is not a number with a unit
        ("3rd cycle", "3rd cycle"),  # ordinals are not units
        ("5\u2013FU", "5-fu"),  # en dash
        ("...", ""),
    ],
)
def test_normalise_item(raw, expected):
    assert normalise_item(raw) == expected


def test_micro_sign_and_mu_are_equal():
    micro_sign, mu = "5 \u00b5g", "5 \u03bcg"
    assert normalise_item(micro_sign) == normalise_item(mu) == "5 \u03bcg"
    assert counts([micro_sign], ["5\u03bcg"]) == (1, 0, 0)


def test_exact_match():
    c, pairs = match_items(["hypertension"], ["hypertension"])
    assert (c.tp, c.fp, c.fn) == (1, 0, 0)
    assert pairs == [(0, 0, 1.0)]
    assert (c.precision, c.recall, c.f1) == (1.0, 1.0, 1.0)


def test_case_whitespace_punctuation_and_units():
    assert counts(["Aspirin 100mg daily."], ["aspirin  100 mg DAILY"]) == (1, 0, 0)
    _, pairs = match_items(["Aspirin 100mg daily."], ["aspirin 100 mg daily"])
    assert pairs == [(0, 0, 1.0)]


def test_partial_overlap_above_threshold():
    # gold tokens: acute, myocardial, infarction (3); pred: myocardial, infarction (2)
    # common = 2 -> token F1 = 2*2 / (3+2) = 0.8 >= 0.5: a match
    c, pairs = match_items(["acute myocardial infarction"], ["myocardial infarction"])
    assert (c.tp, c.fp, c.fn) == (1, 0, 0)
    assert pairs[0][2] == pytest.approx(0.8)


def test_partial_overlap_below_threshold():
    # gold: percutaneous, coronary, intervention, with, stenting (5); pred: coronary,
    # angiography (2); common = 1 -> token F1 = 2*1 / (5+2) = 2/7 ~ 0.286 < 0.5: no match
    gold, pred = ["percutaneous coronary intervention with stenting"], ["coronary angiography"]
    assert token_f1(normalise_item(gold[0]), normalise_item(pred[0])) == pytest.approx(2 / 7)
    assert counts(gold, pred) == (0, 1, 1)
    # ... but it matches at a threshold of 0.25
    assert counts(gold, pred, threshold=0.25) == (1, 0, 0)


def test_threshold_boundary_is_inclusive():
    # "chest pain" vs "pain": common 1, F1 = 2*1/(2+1) = 2/3; "left chest pain" vs "pain":
    # F1 = 2/(3+1) = 0.5 exactly, which still matches at 0.5
    assert counts(["left chest pain"], ["pain"]) == (1, 0, 0)
    assert counts(["left chest pain"], ["pain"], threshold=0.51) == (0, 1, 1)


def test_duplicates_are_counted():
    # one gold item, predicted twice: 1 TP + 1 FP
    assert counts(["fever"], ["fever", "Fever."]) == (1, 1, 0)
    # listed twice in gold, predicted once: 1 TP + 1 FN
    assert counts(["fever", "fever"], ["fever"]) == (1, 0, 1)
    # twice on both sides: two TPs
    assert counts(["fever", "fever"], ["fever", "fever"]) == (2, 0, 0)


def test_one_to_one():
    # both predictions resemble the single gold item; only one may take it
    c, pairs = match_items(["type 2 diabetes"], ["diabetes type 2", "type 2 diabetes mellitus"])
    assert (c.tp, c.fp, c.fn) == (1, 1, 0)
    assert len(pairs) == 1


def test_greedy_takes_best_pair_first():
    # sims: g0 "chest pain" ~ p0 "pain" = 2/3, g0 ~ p1 "chest pain" = 1.0,
    #       g1 "back pain" ~ p0 = 2/3, g1 ~ p1 = 0.5.
    # Greedy: (g0, p1, 1.0) first, then (g1, p0, 2/3). Taking (g0, p0) first (index order)
    # would leave g1 with p1 at 0.5.
    c, pairs = match_items(["chest pain", "back pain"], ["pain", "chest pain"])
    assert (c.tp, c.fp, c.fn) == (2, 0, 0)
    assert pairs[0] == (0, 1, 1.0)
    assert pairs[1][:2] == (1, 0) and pairs[1][2] == pytest.approx(2 / 3)


def test_ties_break_by_gold_then_pred_index():
    # every pair has similarity 1.0 (same token multiset): gold 0 takes pred 0
    c, pairs = match_items(["a b", "b a"], ["b a", "a b"])
    assert [(i, j) for i, j, _ in pairs] == [(0, 0), (1, 1)]
    # with one prediction, the lower gold index wins the tie
    _, pairs = match_items(["fever", "fever"], ["fever"])
    assert pairs == [(0, 0, 1.0)]


def test_german_unicode_items(task):
    backend = ItemsBackend(task)
    g = backend.entities("Übelkeit; Erbrechen", "de")
    p = backend.entities("übelkeit", "de")
    assert g == ["Übelkeit", "Erbrechen"]
    c = backend.compare(g, p)
    assert (c.tp, c.fp, c.fn) == (1, 0, 1)
    assert (c.precision, c.recall) == (1.0, 0.5)
    assert c.f1 == pytest.approx(2 / 3)
    # a German word with an umlaut is not matched to its ASCII fragment
    assert counts(["Übelkeit"], ["belkeit"]) == (0, 1, 1)


def test_empty_and_na(task):
    backend = ItemsBackend(task)

    def field(gold, pred):
        c = backend.compare(backend.entities(gold, "en"), backend.entities(pred, "en"))
        return (c.tp, c.fp, c.fn), c

    (t, both_na) = field("N/A", "N/A")
    assert t == (0, 0, 0)
    assert both_na.precision is None and both_na.recall is None and both_na.f1 is None
    (t, c) = field("N/A", "fever")
    assert t == (0, 1, 0) and c.precision == 0.0 and c.recall is None and c.f1 == 0.0
    (t, c) = field("fever", "")
    assert t == (0, 0, 1) and c.precision is None and c.recall == 0.0 and c.f1 == 0.0
    # lower-case or punctuated N/A from a model is N/A too
    assert field("N/A", "n/a.")[0] == (0, 0, 0)
    # list-typed values work the same way
    assert field(["fever", "cough"], ["Fever"])[0] == (1, 0, 1)


def test_match_counts_scores_and_averages():
    c = MatchCounts(tp=2, fp=1, fn=3)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 5)
    assert c.f1 == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))
    assert micro([c, MatchCounts(1, 0, 0), MatchCounts()]) == MatchCounts(3, 1, 3)
    assert micro([]) == MatchCounts(0, 0, 0)
    per_cat = {"a": MatchCounts(1, 0, 0), "b": MatchCounts(0, 1, 1), "c": MatchCounts()}
    assert macro_f1(per_cat) == pytest.approx(0.5)  # (1.0 + 0.0) / 2; "c" has no F1
    assert macro_f1({"c": MatchCounts()}) is None


def test_make_entity_backend(task):
    b = make_entity_backend("items", task, 0.7)
    assert isinstance(b, ItemsBackend) and isinstance(b, EntityBackend)
    assert b.name == "items" and b.threshold == 0.7
    with pytest.raises(ConfigError, match="items, umls"):
        make_entity_backend("cui", task, 0.5)
    with pytest.raises(ConfigError, match="threshold"):
        make_entity_backend("items", task, 0.0)


def test_umls_backend_without_scispacy_says_how_to_install(monkeypatch):
    # None in sys.modules makes the import fail, whether or not spaCy happens to be installed
    for mod in ("spacy", "scispacy", "scispacy.linking"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(EntityBackendUnavailable) as err:
        UmlsBackend()
    msg = str(err.value)
    assert isinstance(err.value, UserError)
    assert "pip install scispacy==" in msg
    assert "en_core_sci_scibert" in msg and ".tar.gz" in msg
    assert "offline" in msg and "PyPI" in msg


def test_umls_backend_without_model_says_how_to_install(monkeypatch, task):
    spacy = types.ModuleType("spacy")

    def load(name):
        raise OSError(f"[E050] Can't find model '{name}'.")

    spacy.load = load
    monkeypatch.setitem(sys.modules, "spacy", spacy)
    monkeypatch.setitem(sys.modules, "scispacy", types.ModuleType("scispacy"))
    monkeypatch.setitem(sys.modules, "scispacy.linking", types.ModuleType("scispacy.linking"))
    with pytest.raises(EntityBackendUnavailable, match="en_core_sci_scibert' is not installed"):
        make_entity_backend("umls", task, 0.5)


def test_umls_compare_is_on_concept_sets():
    backend = UmlsBackend.__new__(UmlsBackend)  # compare needs no model
    c = backend.compare(["C0015967", "C0015967", "C0010200"], ["C0015967", "C0027497"])
    assert (c.tp, c.fp, c.fn) == (1, 1, 1)
