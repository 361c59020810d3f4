"""Error analysis on hand-made gold/prediction pairs: misplaced items, per-language splits,
parse paths, age/gender as values, costs and the grid placement (English and German)."""

from __future__ import annotations

import json

import pytest

from elmtex.costs import manifest_path_of, record_peak_memory, run_costs
from elmtex.error_analysis import analyse_run, compare_analyses
from elmtex.misplaced import NONE, confusion, gold_totals, record_counts, summarise_table
from elmtex.normalise import normalise_age, normalise_gender, value_match
from elmtex.parsing import parse_json_object, parse_path

FIELDS = ["signs_symptoms", "diagnosis", "pharmacological_therapy"]


def _summary(task, **values):
    out = {f: "N/A" for f in task.field_names}
    out.update(values)
    return out


# Misplaced items -----------------------------------------------------------------------------

def test_confusion_counts_misplaced_spurious_and_missed():
    gold = {"signs_symptoms": ["fever", "cough"], "diagnosis": ["pneumonia"],
            "pharmacological_therapy": ["amoxicillin 500 mg"]}
    # "pneumonia" put under symptoms, "amoxicillin 500 mg" under diagnosis, "rash" is made up,
    # "cough" is missed everywhere, "fever" is right.
    pred = {"signs_symptoms": ["fever", "pneumonia", "rash"],
            "diagnosis": ["amoxicillin 500 mg"], "pharmacological_therapy": []}
    t = confusion(gold, pred, FIELDS, 0.5)
    # rows: predicted category; columns: gold category, then (none)
    assert t.tolist() == [[1, 1, 0, 1],
                          [0, 0, 1, 0],
                          [0, 0, 0, 0]]
    c = record_counts(t, gold_totals(gold, FIELDS))
    assert c == {"predicted": 4, "correct": 1, "misplaced": 2, "spurious": 1, "gold": 4,
                 "gold_elsewhere": 2, "gold_nowhere": 1}
    s = summarise_table(t, gold_totals(gold, FIELDS), FIELDS)
    assert s["by_predicted"]["signs_symptoms"]["shares"] == {
        "signs_symptoms": 1 / 3, "diagnosis": 1 / 3, NONE: 1 / 3}
    assert s["by_gold"]["signs_symptoms"]["found_under"] == {"signs_symptoms": 1, NONE: 1}
    assert s["by_gold"]["diagnosis"]["found_under"] == {"signs_symptoms": 1}


def test_confusion_german_and_own_category_first():
    # "Fieber" is gold in both symptoms and diagnosis (odd but possible); predicted once under
    # diagnosis it matches there (own category first), leaving the symptom's copy missed.
    gold = {"signs_symptoms": ["Fieber", "Husten"], "diagnosis": ["Fieber"],
            "pharmacological_therapy": ["Ibuprofen 400 mg"]}
    pred = {"signs_symptoms": ["Ibuprofen 400mg"], "diagnosis": ["fieber"],
            "pharmacological_therapy": []}
    t = confusion(gold, pred, FIELDS, 0.5)
    assert t.tolist() == [[0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    c = record_counts(t, gold_totals(gold, FIELDS))
    assert (c["misplaced"], c["gold_nowhere"], c["gold"]) == (1, 2, 4)


def test_analyse_run_shares_per_language_and_paired_difference(task):
    text_fields = [f for f in task.field_names if f not in ("age", "gender")]
    gold = {
        "en-1": {"id": "en-1", "lang": "en", "report": "r", "summary": _summary(
            task, signs_symptoms="fever; cough", diagnosis="pneumonia", age="67",
            gender="male")},
        "de-1": {"id": "de-1", "lang": "de", "report": "r", "summary": _summary(
            task, signs_symptoms="Fieber", diagnosis="Pneumonie", age="58",
            gender="männlich")},
    }
    icl = [  # en: 1 of 3 predicted misplaced; de: 1 of 2
        {"id": "en-1", "raw": '{"a": 1}', "parsed": _summary(
            task, signs_symptoms="fever; pneumonia", diagnosis="cough", age="67 years",
            gender="Male"), "prompt_tokens": 100, "completion_tokens": 20, "latency_s": 4.0,
         "batch_size": 2},
        {"id": "de-1", "raw": 'Antwort: {"a": 1}', "parsed": _summary(
            task, signs_symptoms="Fieber", diagnosis="N/A", pharmacological_therapy="Pneumonie",
            age="58 Jahre", gender="Mann"), "prompt_tokens": 300, "completion_tokens": 40,
         "latency_s": 4.0, "batch_size": 2},
        {"id": "not-in-gold", "raw": "{}", "parsed": {}},
    ]
    a = analyse_run(task, gold, icl, text_fields, 0.5, {"backend": "transformers",
                                                         "dtype": "float32"}, n_boot=200)
    s = a.summary
    assert s["n_records"] == 2
    # en: fever right, pneumonia (diagnosis) under symptoms, cough (symptom) under diagnosis.
    # de: Fieber right, Pneumonie (diagnosis) under therapy.
    assert s["counts"] == {"predicted": 5, "correct": 2, "misplaced": 3, "spurious": 0,
                           "gold": 5, "gold_elsewhere": 3, "gold_nowhere": 0}
    assert s["overall"]["misplaced_share"]["value"] == pytest.approx(3 / 5)
    assert s["per_language"]["en"]["misplaced_share"]["value"] == pytest.approx(2 / 3)
    assert s["per_language"]["de"]["misplaced_share"]["value"] == pytest.approx(1 / 2)
    assert s["parse_paths"] == {"plain": 1, "fence": 0, "embedded": 1, "failed": 0}
    assert s["overall"]["strict_parse_rate"]["value"] == 0.5
    assert s["overall"]["lenient_parse_rate"]["value"] == 1.0
    # "67" vs "67 years" and "männlich" vs "Mann": wrong as strings, right as values.
    assert s["overall"]["age_strict"]["value"] == 0.0
    assert s["overall"]["age_normalised"]["value"] == 1.0
    assert s["overall"]["gender_strict"]["value"] == 0.5  # "male" == "Male" after casefold
    assert s["overall"]["gender_normalised"]["value"] == 1.0
    cm = s["confusion"]["by_predicted"]
    assert cm["pharmacological_therapy"]["counts"] == {"diagnosis": 1}
    costs = s["costs"]
    assert costs["prompt_tokens_per_record"] == 200
    assert costs["generated_tokens_per_record"] == 30
    assert costs["seconds_per_record"] == 2.0  # each 4 s call shared by a batch of 2
    assert costs["records_per_s"] == 0.5
    assert costs["engine"] == "transformers" and costs["dtype"] == "float32"

    perfect = [{"id": r["id"], "raw": json.dumps(r["summary"]), "parsed": r["summary"]}
               for r in gold.values()]
    b = analyse_run(task, gold, perfect, text_fields, 0.5, n_boot=200)
    assert b.summary["overall"]["misplaced_share"]["value"] == 0.0
    cmp = compare_analyses({"icl": a, "ft": b}, "icl", n_boot=200)
    d = cmp["diffs"]["ft"]
    assert cmp["n_common"] == 2
    assert d["overall"]["misplaced_share"]["diff"] == pytest.approx(-3 / 5)
    assert d["per_language"]["de"]["misplaced_share"]["diff"] == pytest.approx(-1 / 2)
    assert d["per_language"]["en"]["strict_parse_rate"]["diff"] == 0.0
    assert d["per_language"]["de"]["strict_parse_rate"]["diff"] == 1.0


# Parse paths ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, path", [
    ('{"age": "67"}', "plain"),
    ('  {"age": "67"}\n', "plain"),
    ('```json\n{"age": "67"}\n```', "fence"),
    ('Here is the summary:\n```\n{"alter": "67 Jahre"}\n```\nHope this helps.', "fence"),
    ('Beispiel: {"age": "58 years"} und Antwort', "embedded"),
    ('```json\n{"age": "67"', "failed"),
    ("no json at all", "failed"),
    ("", "failed"),
    ("[1, 2]", "failed"),
])
def test_parse_path(text, path):
    assert parse_path(text) == path
    # the lenient parser accepts exactly the non-failed paths
    assert (parse_json_object(text)[0] is not None) == (path != "failed")


# Age and gender as values ---------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("67", (67.0, "years")), ("67 years", (67.0, "years")), ("67-year-old", (67.0, "years")),
    ("67 J.", (67.0, "years")), ("67 Jahre", (67.0, "years")), ("67 yrs", (67.0, "years")),
    ("4 months", (4.0, "months")), ("4 Monate", (4.0, "months")),
    ("4-month-old", (4.0, "months")), ("3 weeks", (3.0, "weeks")), ("10 Tage", (10.0, "days")),
    ("1,5 Jahre", (1.5, "years")), ("N/A", "n/a"), ("adult", "adult"),
])
def test_normalise_age(text, value):
    assert normalise_age(text) == value


@pytest.mark.parametrize("text, value", [
    ("male", "male"), ("Male", "male"), ("M", "male"), ("männlich", "male"), ("Mann", "male"),
    ("man", "male"), ("Junge", "male"), ("female", "female"), ("weiblich", "female"),
    ("Frau", "female"), ("W", "female"), ("woman", "female"), ("Mädchen", "female"),
    ("a 58-year-old woman", "female"), ("divers", "other"), ("unknown", "unknown"),
])
def test_normalise_gender(text, value):
    assert normalise_gender(text) == value


def test_value_match():
    assert value_match("age", "67", "67 years")
    assert value_match("age", "58 Jahre", "58 years")
    assert not value_match("age", "4 months", "4 years")
    assert not value_match("age", "67", "N/A")
    assert value_match("age", "N/A", "n/a")
    assert value_match("gender", "männlich", "Mann")
    assert value_match("gender", "female", "weiblich")
    assert not value_match("gender", "male", "female")
    assert value_match("diagnosis", "Pneumonie", "pneumonie.")  # no normaliser: strict form


# Costs ---------------------------------------------------------------------------------------

def test_peak_memory_goes_into_the_manifest(tmp_path):
    cache = tmp_path / "naive-x.jsonl"
    cache.write_text("")
    assert manifest_path_of(cache).name == "naive-x.manifest.json"
    record_peak_memory(cache)  # no manifest: nothing written
    assert not manifest_path_of(cache).exists()
    manifest_path_of(cache).write_text(json.dumps({"run": "naive-x"}))
    record_peak_memory(cache)
    peak = json.loads(manifest_path_of(cache).read_text())["peak_memory"]
    assert peak["peak_rss_bytes"] > 10 * 2**20
    assert run_costs([], json.loads(manifest_path_of(cache).read_text()))["peak_rss_bytes"] == \
        peak["peak_rss_bytes"]


def test_run_costs_without_timings():
    c = run_costs([{"id": "a"}], None)
    assert c["records"] == 1 and c["seconds_per_record"] is None and c["records_per_s"] is None
