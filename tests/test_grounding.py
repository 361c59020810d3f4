"""Source grounding: statuses, offsets (German text included), the ICL copy flag, and what
evaluate.py writes about it."""

import json

import numpy as np
import pytest
from conftest import ROOT, run_script

from elmtex.config import ConfigError
from elmtex.entities import ItemsBackend
from elmtex.grounding import (
    DEFAULT_THRESHOLD,
    EXACT,
    FUZZY,
    NONE,
    NORMALIZED,
    Grounder,
    Grounding,
    example_text,
    fold_with_offsets,
    ground_fields,
    ground_item,
    load_example_texts,
    mark_icl_copies,
)
from elmtex.io import load_split
from elmtex.scoring import Policies, score_records
from elmtex.summaries import summarize

REPORT = (
    "A 54-year-old man presented with chest pain and  Shortness of\nbreath. Troponin "
    "was elevated; aspirin 100mg daily was started. He had painful swelling."
)


def _span(report, g):
    return report[g.start : g.end]


def test_exact_match_with_offsets():
    g = ground_item(REPORT, "chest pain")
    assert g.status == EXACT and g.score == 1.0 and g.example_id is None
    assert (g.start, g.end) == (REPORT.index("chest pain"), REPORT.index("chest pain") + 10)
    # a whole-word occurrence wins over an earlier one inside a word ("painful")
    report = "painful joints; pain at rest"
    g = ground_item(report, "pain")
    assert g.status == EXACT and g.start == report.index("pain at") and _span(report, g) == "pain"
    # inside a word only: still exact (the first occurrence), unless the item is very short
    assert ground_item("painful", "pain").start == 0
    assert ground_item("A 45-year-old woman", "5").status == NONE
    assert ground_item("A 5-year-old girl", "5").start == 2


def test_case_and_whitespace_insensitive_match_maps_to_the_original_text():
    g = ground_item(REPORT, "shortness of breath")
    assert g.status == NORMALIZED and g.score == 1.0
    assert _span(REPORT, g) == "Shortness of\nbreath"
    g = ground_item(REPORT, "TROPONIN")
    assert g.status == NORMALIZED and _span(REPORT, g) == "Troponin"
    # surrounding punctuation of the item does not count
    g = ground_item(REPORT, "Chest pain.")
    assert g.status == NORMALIZED and _span(REPORT, g) == "chest pain"


def test_german_offsets_are_code_point_offsets():
    report = (
        "Die 67-jährige Patientin klagte über Übelkeit, Schwäche und Müdigkeit; "
        "Größe 1,62 m. Diagnose: akute Pankreatitis."
    )
    for item in ("Übelkeit", "Schwäche", "Müdigkeit", "akute Pankreatitis", "Größe"):
        g = ground_item(report, item)
        assert g.status == EXACT and _span(report, g) == item
    g = ground_item(report, "übelkeit")
    assert g.status == NORMALIZED and _span(report, g) == "Übelkeit"
    g = ground_item(report, "MÜDIGKEIT")
    assert g.status == NORMALIZED and _span(report, g) == "Müdigkeit"


def test_every_gold_item_of_the_german_demo_set_is_found_where_it_stands(task):
    backend = ItemsBackend(task)
    n = 0
    for rec in load_split(ROOT / "data/demo", ["de"], "test", task, 10):
        report = rec["report"]
        for value in rec["summary"].values():
            for item in backend.entities(value):
                exact = ground_item(report, item)
                assert exact.status == EXACT and _span(report, exact) == item
                upper = ground_item(report, item.upper())
                assert upper.status in (EXACT, NORMALIZED), item
                assert _span(report, upper).casefold() == item.casefold()
                n += 1
    assert n > 50


def test_casefold_that_changes_length_keeps_offsets_right():
    report = "Die Straße vor dem Fuß war glatt. İzmir-Reise; danach Übelkeit und Schwindel."
    folded, origin = fold_with_offsets(report)
    assert len(folded) > len(report)  # ß -> ss, İ -> i + combining dot
    assert all(0 <= o < len(report) for o in origin) and origin == sorted(origin)
    g = ground_item(report, "STRASSE")
    assert g.status == NORMALIZED and _span(report, g) == "Straße"
    g = ground_item(report, "fuss")
    assert g.status == NORMALIZED and _span(report, g) == "Fuß"
    # after two length-changing characters the offsets are still those of the original text
    g = ground_item(report, "übelkeit und schwindel")
    assert g.status == NORMALIZED and _span(report, g) == "Übelkeit und Schwindel"
    # half of a folded character is not a match: "fus" is not in "Fuß" up to case
    assert ground_item(report, "fus").status != NORMALIZED


def test_fuzzy_match_and_threshold():
    report = "Bei Aufnahme bestand der Verdacht auf akuter Pankreatitis mit Fieber."
    g = ground_item(report, "akute Pankreatitis")
    assert g.status == FUZZY and DEFAULT_THRESHOLD <= g.score < 1
    assert _span(report, g) == "akuter Pankreatitis"
    strict = ground_item(report, "akute Pankreatitis", threshold=0.99)
    assert strict.status == NONE and strict.start is None and strict.score < 0.99
    assert ground_item(report, "akute Pankreatitis", threshold=0.95).score == g.score
    g = ground_item(REPORT, "aspirin 100 mg daily")  # "100mg" in the report
    assert g.status == FUZZY and _span(REPORT, g) == "aspirin 100mg daily"
    g = ground_item("chest-pain on exertion", "chest pain")  # punctuation between words
    assert g.status == FUZZY and g.score == 1.0 and g.start == 0 and g.end == 10


def test_unsupported_items():
    g = ground_item(REPORT, "myocardial infarction")
    assert g.status == NONE and g.start is None and g.end is None
    assert 0 <= g.score < DEFAULT_THRESHOLD
    g = ground_item(REPORT, "elevated troponin")  # reordered words: not a fuzzy match
    assert g.status == NONE and g.score < DEFAULT_THRESHOLD
    # similar text, different numbers: no support ("10,3" and "10.3" are the same number)
    report = "Discharged home on day 5. Serum uric acid 10.3 mg/dL."
    assert ground_item(report, "discharge home on day 11").status == NONE
    assert ground_item(report, "discharged home on day").status == NORMALIZED
    g = ground_item(report, "serum uric acid 10,3 mg/dl")
    assert g.status == FUZZY and _span(report, g) == "Serum uric acid 10.3 mg/dL"
    assert ground_item(report, "serum uric acid 8.7 mg/dl").status == NONE
    # a different word of similar spelling stays below the default threshold
    assert ground_item("He carried a bag.", "married").status == NONE
    assert ground_item("Echocardiography was normal.", "electrocardiography").status == NONE
    assert ground_item(REPORT, "--").status == NONE
    with pytest.raises(ConfigError, match="threshold"):
        ground_item(REPORT, "chest pain", threshold=0)


def test_ground_fields_skips_na_and_splits_like_the_entity_metric(task):
    pred = {f: "N/A" for f in task.field_names}
    pred.update(
        signs_symptoms="chest pain; dyspnoea; N/A",
        diagnosis="",
        pharmacological_therapy=["Aspirin 100mg daily", "heparin"],
        age=54,
        not_a_field="chest pain",
    )
    del pred["gender"]
    out = ground_fields(task, REPORT, pred)
    assert list(out) == ["signs_symptoms", "pharmacological_therapy", "age"]
    assert (
        [g.item for g in out["signs_symptoms"]]
        == ItemsBackend(task).entities(pred["signs_symptoms"])
        == ["chest pain", "dyspnoea"]
    )
    assert [g.status for g in out["signs_symptoms"]] == [EXACT, NONE]
    assert [g.status for g in out["pharmacological_therapy"]] == [NORMALIZED, NONE]
    assert out["age"][0].item == "54" and out["age"][0].status == EXACT
    assert ground_fields(task, REPORT, None) == {}
    g = out["signs_symptoms"][0]
    assert Grounding.from_json(json.loads(json.dumps(g.to_json()))) == g


def _demo(task, split, limit, lang="en"):
    return load_split(ROOT / "data/demo", [lang], split, task, limit)


def _copied_item(task, test_rec, example):
    """A gold item of the example that its report has and the test report lacks."""
    for value in example["summary"].values():
        for item in ItemsBackend(task).entities(value):
            if len(item) > 6 and ground_item(test_rec["report"], item).status == NONE:
                return item
    raise AssertionError("no example item is missing from the test report")


def test_icl_copy_flag_on_a_cached_row(task):
    test_rec = _demo(task, "test", 1)[0]
    examples = _demo(task, "train", 3)
    copied = _copied_item(task, test_rec, examples[1])
    # the first retrieved example whose report has the item is named
    source = next(
        e["id"] for e in examples if ground_item(e["report"], copied).status in (EXACT, NORMALIZED)
    )
    pred = {f: "N/A" for f in task.field_names}
    own = next(x for v in test_rec["summary"].values() for x in ItemsBackend(task).entities(v))
    pred["diagnosis"] = f"{own}; {copied}; Zebra-Syndrom Typ IX"
    row = {
        "id": test_rec["id"],
        "finish_reason": "stop",
        "parsed": pred,
        "icl_example_ids": [e["id"] for e in examples],
    }
    reports = load_example_texts(
        ROOT / "data/demo", ["en", "de"], "train", task, row["icl_example_ids"] + ["no-such-id"]
    )
    assert set(reports) == set(row["icl_example_ids"])

    gs = Grounder(task, example_texts=reports).ground(
        test_rec["report"], pred, row["icl_example_ids"]
    )["diagnosis"]
    assert [g.status for g in gs] == [EXACT, NONE, NONE]
    assert [g.example_id for g in gs] == [None, source, None]
    # mark_icl_copies directly: a grounded item is never flagged
    again = mark_icl_copies({"diagnosis": gs}, [(e["id"], e["report"]) for e in examples])
    assert again["diagnosis"] == gs

    gold = {test_rec["id"]: test_rec}
    seen = []
    scores = score_records(
        task,
        gold,
        [row],
        Policies(),
        on_example=seen.append,
        grounder=Grounder(task, example_texts=reports),
    )
    fields = seen[0]["fields"]
    assert [g["example_id"] for g in fields["diagnosis"]["grounding"]] == [None, source, None]
    assert fields["signs_symptoms"]["grounding"] == []  # N/A
    assert seen[0]["icl_example_ids"] == row["icl_example_ids"]
    m = summarize(scores, Policies(), n_boot=50)["grounding"]
    assert m["overall"]["items"] == 3 and m["overall"]["icl_copied"] == 1
    assert m["overall"]["share_none"] == pytest.approx(2 / 3)
    assert m["per_category"]["diagnosis"]["exact"] == 1
    # without retrieved examples (a naive run) the copy share is undefined, not 0
    naive = dict(row)
    del naive["icl_example_ids"]
    m = summarize(
        score_records(task, gold, [naive], Policies(), grounder=Grounder(task)),
        Policies(),
        n_boot=50,
    )
    assert m["grounding"]["overall"]["icl_copied"] is None
    assert m["headline"]["icl_copied"]["value"] is None
    assert m["headline"]["ungrounded"]["value"] == pytest.approx(2 / 3)


def test_icl_copy_check_sees_the_examples_gold_answer_too(task):
    """On the released data gold summaries paraphrase: an item the model took from an
    example's answer need not stand in that example's report. The check reads both, item by
    item, so that no match runs across two values."""
    test_rec = _demo(task, "test", 1)[0]
    example = dict(_demo(task, "train", 1)[0])
    paraphrase = "Ausgeprägte Zebra-Streifen-Dermatose"  # in neither report
    example["summary"] = {**example["summary"], "diagnosis": f"{paraphrase}; Zweite Diagnose"}
    text = example_text(task, example)
    assert text.startswith(example["report"])
    assert ground_item(example["report"], paraphrase).status == NONE

    pred = {f: "N/A" for f in task.field_names}
    pred["diagnosis"] = f"{paraphrase}; Dermatose Zweite"  # the second spans two answer lines
    gs = Grounder(task, example_texts={example["id"]: text}).ground(
        test_rec["report"], pred, [example["id"]]
    )["diagnosis"]
    assert [(g.status, g.example_id) for g in gs] == [(NONE, example["id"]), (NONE, None)]


def _write_cache(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def test_evaluate_writes_grounding_into_every_output(tmp_path, task):
    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, 3)
    train = _demo(task, "train", 2)
    ref, icl = [], []
    for i, r in enumerate(recs):
        ref.append({"id": r["id"], "finish_reason": "stop", "parsed": r["summary"], "raw": ""})
        pred = dict(r["summary"])
        if i == 0:  # one item copied from an example, one made up
            pred["diagnosis"] = f"{_copied_item(task, r, train[0])}; Zebra-Syndrom Typ IX"
        icl.append(
            {
                "id": r["id"],
                "finish_reason": "stop",
                "parsed": pred,
                "raw": "",
                "icl_example_ids": [e["id"] for e in train],
            }
        )
    cache = tmp_path / "cache"
    _write_cache(cache / "ref.jsonl", ref)
    _write_cache(cache / "icl.jsonl", icl)
    proc = run_script(
        "evaluate.py",
        "--runs",
        "ref",
        "icl",
        "--set",
        "data.limit=3",
        "--set",
        f"run.cache_dir={cache}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
        "--set",
        "evaluate.bootstrap.n_boot=100",
        "--set",
        "evaluate.bertscore.enabled=false",
    )
    results = tmp_path / "results"

    examples = [json.loads(x) for x in (results / "icl/per_example.jsonl").read_text().splitlines()]
    first = {r["id"]: r for r in examples}[recs[0]["id"]]
    diag = first["fields"]["diagnosis"]["grounding"]
    assert [(g["status"], g["example_id"]) for g in diag] == [(NONE, train[0]["id"]), (NONE, None)]
    for ex, rec in zip(examples, recs, strict=True):
        for f, fe in ex["fields"].items():
            for g in fe["grounding"]:
                if g["status"] != NONE:  # offsets index the report (German ones included)
                    span = rec["report"][g["start"] : g["end"]]
                    assert span.casefold() == g["item"].casefold() or g["status"] == FUZZY, f

    ref_m = json.loads((results / "ref/metrics.json").read_text())["grounding"]
    assert ref_m["fuzzy_threshold"] == DEFAULT_THRESHOLD
    assert ref_m["overall"]["share_grounded_exact"] == 1.0  # demo gold stands verbatim
    assert ref_m["overall"]["icl_copied"] is None
    icl_m = json.loads((results / "icl/metrics.json").read_text())
    assert icl_m["grounding"]["overall"]["none"] == 2
    assert icl_m["grounding"]["overall"]["icl_copied"] == 1
    assert icl_m["grounding"]["per_category"]["diagnosis"]["none"] == 2
    assert icl_m["headline"]["ungrounded"]["value"] > 0

    md = (results / "icl/report.md").read_text()
    assert "#### Source grounding per category" in md and "| diagnosis | " in md
    assert "| items copied from ICL examples |" in md
    compare = (results / "compare-ref-vs-icl/report.md").read_text()
    assert "| items grounded exactly | 1.000 [1.000, 1.000] |" in compare
    assert "#### items unsupported by the report per category" in compare
    # the printed comparison (the main job's last output) names the grounding rates
    tail = proc.stdout[proc.stdout.rindex("Records:") :]
    for label in (
        "items grounded exactly",
        "items grounded fuzzily",
        "items unsupported by the report",
        "items copied from ICL examples",
    ):
        assert f"| {label} |" in tail
    html = (results / "compare-ref-vs-icl/report.html").read_text()
    assert "items unsupported by the report" in html and "grounding rates" in html


def test_grounding_can_be_switched_off(tmp_path, task):
    recs = load_split(ROOT / "data/demo", ["en"], "test", task, 2)
    cache = tmp_path / "cache"
    _write_cache(
        cache / "ref.jsonl",
        [{"id": r["id"], "finish_reason": "stop", "parsed": r["summary"]} for r in recs],
    )
    run_script(
        "evaluate.py",
        "--runs",
        "ref",
        "--set",
        "data.limit=2",
        "--set",
        "data.langs=[en]",
        "--set",
        f"run.cache_dir={cache}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
        "--set",
        "evaluate.bootstrap.n_boot=50",
        "--set",
        "evaluate.bertscore.enabled=false",
        "--set",
        "evaluate.grounding.enabled=false",
    )
    m = json.loads((tmp_path / "results/ref/metrics.json").read_text())
    assert m["grounding"] is None and "ungrounded" not in m["headline"]
    ex = json.loads((tmp_path / "results/ref/per_example.jsonl").read_text().splitlines()[0])
    assert "grounding" not in ex["fields"]["diagnosis"]


def test_grounding_counts_stream_in_chunks_and_follow_the_skip_policy(task):
    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, 3)
    gold = {r["id"]: r for r in recs}
    rows = [{"id": r["id"], "finish_reason": "stop", "parsed": dict(r["summary"])} for r in recs]
    rows[1]["parsed"]["diagnosis"] = "Zebra-Syndrom Typ IX"
    rows[2]["parsed"] = None  # unparseable
    grounder = Grounder(task)
    small = score_records(task, gold, rows, Policies(), chunk_size=2, grounder=grounder)
    whole = score_records(task, gold, rows, Policies(), chunk_size=256, grounder=grounder)
    np.testing.assert_array_equal(small.arrays()["grounding"], whole.arrays()["grounding"])
    empty = summarize(whole, Policies(), n_boot=50)["grounding"]["overall"]
    skip = summarize(
        score_records(task, gold, rows, Policies(unparseable="skip"), grounder=grounder),
        Policies(unparseable="skip"),
        n_boot=50,
    )
    # an unparseable answer has no items either way; skipped, it is not a resampled record
    assert skip["grounding"]["overall"]["items"] == empty["items"]
    assert empty["none"] == 1 and empty["ci"]["ungrounded"]["n"] == 6
    assert skip["grounding"]["overall"]["ci"]["ungrounded"]["n"] == 5
