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
    gold = {
        "signs_symptoms": ["fever", "cough"],
        "diagnosis": ["pneumonia"],
        "pharmacological_therapy": ["amoxicillin 500 mg"],
    }
    # "pneumonia" put under symptoms, "amoxicillin 500 mg" under diagnosis, "rash" is made up,
    # "cough" is missed everywhere, "fever" is right.
    pred = {
        "signs_symptoms": ["fever", "pneumonia", "rash"],
        "diagnosis": ["amoxicillin 500 mg"],
        "pharmacological_therapy": [],
    }
    t = confusion(gold, pred, FIELDS, 0.5)
    # rows: predicted category; columns: gold category, then (none)
    assert t.tolist() == [[1, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]
    c = record_counts(t, gold_totals(gold, FIELDS))
    assert c == {
        "predicted": 4,
        "correct": 1,
        "misplaced": 2,
        "spurious": 1,
        "gold": 4,
        "gold_elsewhere": 2,
        "gold_nowhere": 1,
    }
    s = summarise_table(t, gold_totals(gold, FIELDS), FIELDS)
    assert s["by_predicted"]["signs_symptoms"]["shares"] == {
        "signs_symptoms": 1 / 3,
        "diagnosis": 1 / 3,
        NONE: 1 / 3,
    }
    assert s["by_gold"]["signs_symptoms"]["found_under"] == {"signs_symptoms": 1, NONE: 1}
    assert s["by_gold"]["diagnosis"]["found_under"] == {"signs_symptoms": 1}


def test_confusion_german_and_own_category_first():
    # "Fieber" is gold in both symptoms and diagnosis (odd but possible); predicted once under
    # diagnosis it matches there (own category first), leaving the symptom's copy missed.
    gold = {
        "signs_symptoms": ["Fieber", "Husten"],
        "diagnosis": ["Fieber"],
        "pharmacological_therapy": ["Ibuprofen 400 mg"],
    }
    pred = {
        "signs_symptoms": ["Ibuprofen 400mg"],
        "diagnosis": ["fieber"],
        "pharmacological_therapy": [],
    }
    t = confusion(gold, pred, FIELDS, 0.5)
    assert t.tolist() == [[0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    c = record_counts(t, gold_totals(gold, FIELDS))
    assert (c["misplaced"], c["gold_nowhere"], c["gold"]) == (1, 2, 4)


def test_analyse_run_shares_per_language_and_paired_difference(task):
    text_fields = [f for f in task.field_names if f not in ("age", "gender")]
    gold = {
        "en-1": {
            "id": "en-1",
            "lang": "en",
            "report": "r",
            "summary": _summary(
                task, signs_symptoms="fever; cough", diagnosis="pneumonia", age="67", gender="male"
            ),
        },
        "de-1": {
            "id": "de-1",
            "lang": "de",
            "report": "r",
            "summary": _summary(
                task, signs_symptoms="Fieber", diagnosis="Pneumonie", age="58", gender="männlich"
            ),
        },
    }
    icl = [  # en: 1 of 3 predicted misplaced; de: 1 of 2
        {
            "id": "en-1",
            "raw": '{"a": 1}',
            "parsed": _summary(
                task,
                signs_symptoms="fever; pneumonia",
                diagnosis="cough",
                age="67 years",
                gender="Male",
            ),
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "latency_s": 4.0,
            "batch_size": 2,
        },
        {
            "id": "de-1",
            "raw": 'Antwort: {"a": 1}',
            "parsed": _summary(
                task,
                signs_symptoms="Fieber",
                diagnosis="N/A",
                pharmacological_therapy="Pneumonie",
                age="58 Jahre",
                gender="Mann",
            ),
            "prompt_tokens": 300,
            "completion_tokens": 40,
            "latency_s": 4.0,
            "batch_size": 2,
        },
        {"id": "not-in-gold", "raw": "{}", "parsed": {}},
    ]
    a = analyse_run(
        task,
        gold,
        icl,
        text_fields,
        0.5,
        {"backend": "transformers", "dtype": "float32"},
        n_boot=200,
    )
    s = a.summary
    assert s["n_records"] == 2
    # en: fever right, pneumonia (diagnosis) under symptoms, cough (symptom) under diagnosis.
    # de: Fieber right, Pneumonie (diagnosis) under therapy.
    assert s["counts"] == {
        "predicted": 5,
        "correct": 2,
        "misplaced": 3,
        "spurious": 0,
        "gold": 5,
        "gold_elsewhere": 3,
        "gold_nowhere": 0,
    }
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

    perfect = [
        {"id": r["id"], "raw": json.dumps(r["summary"]), "parsed": r["summary"]}
        for r in gold.values()
    ]
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


@pytest.mark.parametrize(
    "text, path",
    [
        ('{"age": "67"}', "plain"),
        ('  {"age": "67"}\n', "plain"),
        ('```json\n{"age": "67"}\n```', "fence"),
        ('Here is the summary:\n```\n{"alter": "67 Jahre"}\n```\nHope this helps.', "fence"),
        ('Beispiel: {"age": "58 years"} und Antwort', "embedded"),
        ('```json\n{"age": "67"', "failed"),
        ("no json at all", "failed"),
        ("", "failed"),
        ("[1, 2]", "failed"),
    ],
)
def test_parse_path(text, path):
    assert parse_path(text) == path
    # the lenient parser accepts exactly the non-failed paths
    assert (parse_json_object(text)[0] is not None) == (path != "failed")


# Age and gender as values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("67", (67.0, "years")),
        ("67 years", (67.0, "years")),
        ("67-year-old", (67.0, "years")),
        ("67 J.", (67.0, "years")),
        ("67 Jahre", (67.0, "years")),
        ("67 yrs", (67.0, "years")),
        ("4 months", (4.0, "months")),
        ("4 Monate", (4.0, "months")),
        ("4-month-old", (4.0, "months")),
        ("3 weeks", (3.0, "weeks")),
        ("10 Tage", (10.0, "days")),
        ("1,5 Jahre", (1.5, "years")),
        ("N/A", "n/a"),
        ("adult", "adult"),
    ],
)
def test_normalise_age(text, value):
    assert normalise_age(text) == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("male", "male"),
        ("Male", "male"),
        ("M", "male"),
        ("männlich", "male"),
        ("Mann", "male"),
        ("man", "male"),
        ("Junge", "male"),
        ("female", "female"),
        ("weiblich", "female"),
        ("Frau", "female"),
        ("W", "female"),
        ("woman", "female"),
        ("Mädchen", "female"),
        ("a 58-year-old woman", "female"),
        ("divers", "other"),
        ("unknown", "unknown"),
    ],
)
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
    assert (
        run_costs([], json.loads(manifest_path_of(cache).read_text()))["peak_rss_bytes"]
        == peak["peak_rss_bytes"]
    )


def test_run_costs_without_timings():
    c = run_costs([{"id": "a"}], None)
    assert c["records"] == 1 and c["seconds_per_record"] is None and c["records_per_s"] is None


# evaluate.py end to end: language split, misplaced share, report files, grid ------------------


def _cache(path, rows, manifest):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path.with_name(path.name[: -len(".jsonl")] + ".manifest.json").write_text(json.dumps(manifest))


def test_evaluate_reports_languages_misplaced_items_costs_and_the_grid(tmp_path, task):
    from conftest import ROOT, run_script

    from elmtex.io import load_split

    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, 3)
    cache = tmp_path / "cache"

    def rows(swap: bool):
        out = []
        for r in recs:
            s = dict(r["summary"])
            if swap:  # the diagnosis written under signs_symptoms, nothing under diagnosis
                s["signs_symptoms"], s["diagnosis"] = s["diagnosis"], "N/A"
            out.append(
                {
                    "id": r["id"],
                    "finish_reason": "stop",
                    "parsed": s,
                    "raw": "Answer: " + json.dumps(s) if swap else json.dumps(s),
                    "parse_error": None,
                    "prompt_tokens": 500,
                    "completion_tokens": 100,
                    "latency_s": 6.0,
                    "batch_size": 3,
                }
            )
        return out

    model = {"name_or_path": "models/qwen"}
    tuned = tmp_path / "qwen-ft"
    tuned.mkdir()
    (tuned / "merged.json").write_text(json.dumps({"base_model": "models/qwen"}))
    _cache(
        cache / "run-a.jsonl",
        rows(True),
        {"method": "naive", "model": model, "backend": "transformers", "dtype": "float32"},
    )
    _cache(
        cache / "run-b.jsonl",
        rows(False),
        {
            "method": "naive",
            "model": {"name_or_path": str(tuned), "merged_json_sha256": "x"},
            "backend": "transformers",
            "dtype": "float32",
            "peak_memory": {"peak_rss_bytes": 2**31, "peak_cuda_bytes": None},
        },
    )
    args = [
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
    ]
    proc = run_script("evaluate.py", "--runs", "run-a", "run-b", *args)
    assert "misplaced-item share: overall" in proc.stdout and " DE " in proc.stdout
    a = json.loads((tmp_path / "results/run-a/metrics.json").read_text())
    assert set(a["per_language"]) == {"en", "de"}
    assert a["per_language"]["de"]["n_records"] == 3
    ea = a["error_analysis"]
    diagnoses = sum(len(task.items(r["summary"]["diagnosis"])) for r in recs)
    assert ea["counts"]["misplaced"] >= diagnoses > 0
    assert ea["confusion"]["by_predicted"]["signs_symptoms"]["counts"]["diagnosis"] >= diagnoses
    assert ea["overall"]["strict_parse_rate"]["value"] == 0.0  # prose around every answer
    assert ea["overall"]["lenient_parse_rate"]["value"] == 1.0
    assert ea["costs"]["seconds_per_record"] == 2.0
    examples = [json.loads(x) for x in (tmp_path / "results/run-a/per_example.jsonl").open()]
    assert {e["parse_path"] for e in examples} == {"embedded"}
    md = (tmp_path / "results/run-a/report.md").read_text()
    assert "#### Headline metrics by language" in md and "| | overall | DE | EN |" in md
    assert "#### Predicted items: predicted category (rows) x gold category (columns)" in md
    out = tmp_path / "results/compare-run-a-vs-run-b"
    cmp = json.loads((out / "metrics.json").read_text())
    assert set(cmp["per_language"]) == {"en", "de"}
    assert cmp["per_language"]["en"]["n_common"] == 3
    d = cmp["error_analysis"]["diffs"]["run-b"]
    assert d["overall"]["misplaced_share"]["diff"] < 0
    assert d["per_language"]["de"]["strict_parse_rate"]["diff"] == 1.0
    html = (out / "report.html").read_text()
    assert "Accuracy-cost frontier" in html and "Misplaced items: predicted x gold" in html
    assert "Cost beside accuracy" in html and "2.00 GiB" in html

    grid = run_script("evaluate.py", "--grid", "--runs", "run-a", "run-b", *args)
    g = (tmp_path / "results/grid/grid.md").read_text()
    assert "| | naive | fine-tuned |" in g
    assert g.count("| qwen |") == 1  # both runs in one row: the tuned model placed by manifest
    assert "qwen / fine-tuned = run-b" in grid.stdout
    assert (tmp_path / "results/grid/grid.html").read_text().startswith("<!doctype html>")


@pytest.mark.slow
def test_the_naive_stage_records_parse_paths_and_peak_memory(tmp_path, test_model_dir):
    from conftest import run_script, small_run_args

    from elmtex.parsing import PARSE_PATHS

    run_script(
        "cache_results_naive.py", *small_run_args(tmp_path, "paths", limit=1, max_new_tokens=16)
    )
    rows = [json.loads(line) for line in (tmp_path / "cache/paths.jsonl").open()]
    assert len(rows) == 2
    for r in rows:
        assert r["parse_path"] in PARSE_PATHS and r["parse_path"] == parse_path(r["raw"])
    manifest = json.loads((tmp_path / "cache/paths.manifest.json").read_text())
    assert manifest["peak_memory"]["peak_rss_bytes"] > 200 * 2**20  # torch and a model loaded
    cuda = manifest["peak_memory"]["peak_cuda_bytes"]
    assert cuda is None or cuda > 0  # None on a CPU machine


# Per-language metrics and the grid's placement -------------------------------------------------


def test_summarize_and_compare_per_language(task):
    from elmtex.analysis_report import compare_by_language, language_split
    from elmtex.entities import ItemsBackend
    from elmtex.scoring import Policies, score_records

    gold = {
        "en-1": {
            "id": "en-1",
            "lang": "en",
            "report": "r",
            "summary": _summary(task, signs_symptoms="fever; cough", diagnosis="pneumonia"),
        },
        "de-1": {
            "id": "de-1",
            "lang": "de",
            "report": "r",
            "summary": _summary(task, signs_symptoms="Fieber; Husten", diagnosis="Pneumonie"),
        },
    }
    # English all right (3 tp); German: one symptom right, one made up, diagnosis missing
    good = [{"id": i, "parsed": r["summary"]} for i, r in gold.items()]
    half = [good[0], {"id": "de-1", "parsed": _summary(task, signs_symptoms="Fieber; Ausschlag")}]
    backend = ItemsBackend(task)
    scores = {
        name: score_records(task, gold, rows, Policies(), entity_backend=backend)
        for name, rows in (("good", good), ("half", half))
    }
    split = language_split(scores["half"], Policies(), "items", None, 100, 1234, 0.05)
    assert set(split) == {"de", "en"}
    assert split["en"]["headline"]["entity_micro_f1"]["value"] == 1.0
    # de: tp 1, fp 1 (Ausschlag), fn 2 (Husten, Pneumonie): F1 = 2 / (2 + 1 + 2)
    assert split["de"]["headline"]["entity_micro_f1"]["value"] == pytest.approx(2 / 5)
    assert split["de"]["n_records"] == 1
    assert split["de"]["per_category"]["diagnosis"]["entity"]["fn"] == 1
    by_lang = compare_by_language(scores, "good", 100, 1234, 0.05)
    assert by_lang["en"]["diffs"]["half"]["overall"]["entity_micro_f1"]["diff"] == 0.0
    assert by_lang["de"]["diffs"]["half"]["overall"]["entity_micro_f1"]["diff"] == pytest.approx(
        2 / 5 - 1
    )
    assert by_lang["de"]["n_common"] == 1


def test_grid_places_runs_from_their_manifests(tmp_path):
    from elmtex.config import UserError
    from elmtex.grid import build_grid, grid_markdown, place_run

    tuned = tmp_path / "my-model-ft"
    tuned.mkdir()
    (tuned / "merged.json").write_text(json.dumps({"base_model": "/x/models/llama-8b"}))
    base = {"name_or_path": "/x/models/llama-8b"}
    manifests = {  # names that say nothing: placement comes from the manifests
        "r1": {"method": "naive", "model": base},
        "r2": {"method": "advanced_icl", "model": base},
        "r3": {
            "method": "naive",
            "model": {"name_or_path": str(tuned), "merged_json_sha256": "ab"},
        },
        "r4": {"method": "rag", "model": {"name_or_path": "models/qwen"}},
        "r5": {"method": "naive", "model": base, "config": {"generation": {"constrained": True}}},
    }
    placed = {r: place_run(m) for r, m in manifests.items()}
    assert placed == {
        "r1": ("llama-8b", "naive"),
        "r2": ("llama-8b", "ICL"),
        "r3": ("llama-8b", "fine-tuned"),
        "r4": ("qwen", "RAG"),
        "r5": ("llama-8b", "naive (constrained)"),
    }

    def metrics(v):
        return {
            "headline": {
                "entity_micro_f1": {
                    "label": "entity F1 (micro)",
                    "value": v,
                    "low": v - 0.1,
                    "high": v + 0.1,
                    "n": 8,
                }
            },
            "per_category": {
                "diagnosis": {
                    "entity": {"f1": v},
                    "ci": {"entity_f1": {"low": 0.0, "high": 1.0, "n": 8}},
                }
            },
        }

    grid = build_grid(placed, {r: metrics(0.1 * k) for k, r in enumerate(placed, 1)})
    assert grid["methods"] == ["naive", "naive (constrained)", "ICL", "RAG", "fine-tuned"]
    assert grid["models"] == ["llama-8b", "qwen"]
    md = grid_markdown(grid)
    assert (
        "| llama-8b | 0.100 [0.000, 0.200] | 0.500 [0.400, 0.600] | 0.200 [0.100, 0.300] "
        "| - | 0.300 [0.200, 0.400] |" in md
    )
    assert "| diagnosis | 0.100 [0.000, 1.000] |" in md
    with pytest.raises(UserError, match="both are naive of llama-8b"):
        build_grid({"a": placed["r1"], "b": placed["r1"]}, {"a": metrics(0.1), "b": metrics(0.2)})
