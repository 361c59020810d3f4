"""The adverse-event task (configs/tasks/adverse_events.yaml): the synthetic email generator,
the shipped data, and the unchanged stage scripts running the task from its config alone
(naive prompting with the real test model, then evaluate.py with per-field precision and
recall of drug names and adverse events)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import ROOT, run_script

import elmtex.synth.adverse_events as ae
from elmtex.io import load_split
from elmtex.task import load_task

DATA = ROOT / "data" / "adverse_events"
CONFIG = "configs/experiments/ae_cpu_demo.yaml"


@pytest.fixture(scope="module")
def ae_task():
    return load_task("configs/tasks/adverse_events.yaml")


def test_generator_is_deterministic_and_per_record():
    a = ae.generate_split("test", 5)
    assert a == ae.generate_split("test", 5)
    # A record does not depend on how many come before or after it.
    assert ae.generate_record("test", 3) == ae.generate_split("test", 10)[3]
    assert ae.generate_record("test", 3, seed=7) != a[3]


def test_shipped_files_are_what_the_generator_writes(tmp_path):
    run_script("scripts/make_ae_data.py", "--out", str(tmp_path))
    for split, n in ae.DEFAULT_SIZES.items():
        shipped = (DATA / "en" / f"{split}.jsonl").read_bytes()
        assert shipped == (tmp_path / "en" / f"{split}.jsonl").read_bytes(), split
        assert shipped.count(b"\n") == n


def test_records_fit_the_task_and_gold_stands_in_the_email(ae_task):
    records = load_split(DATA, ["en"], "train", ae_task)  # validates every record
    assert len(records) == 700
    variants = Counter(r["meta"]["variant"] for r in records)
    # Some name several drugs, some none, most one (module docstring: 1 in 5, 1 in 8).
    assert 0.12 < variants["several"] / 700 < 0.28 and 0.07 < variants["unnamed"] / 700 < 0.18
    names = {d[0] for d in ae.DRUGS}
    for r in records:
        gold, email = r["extraction"], r["email"]
        assert 1 <= len(gold["adverse_events"]) <= 4
        assert all(e in email for e in gold["adverse_events"])
        if r["meta"]["variant"] == "unnamed":
            assert gold["drug_name"] == "N/A"
            assert not any(n in email.lower() for n in names)
        else:
            assert gold["drug_name"] in email and gold["drug_name"].lower() in names
        if r["meta"]["variant"] == "several":  # another drug is named, and is not gold
            others = [n for n in names if n in email.lower() and n != gold["drug_name"].lower()]
            assert others, email


@pytest.mark.slow
def test_task_runs_through_the_unchanged_stages(tmp_path, test_model_dir):
    """Naive prompting and evaluation of the task from its config: only files differ from the
    ELMTEX runs. The test model answers constrained, so that every answer has the task's shape
    (a string and a list) and the scores are real."""
    args = [
        "--config",
        CONFIG,
        "--set",
        "model.name_or_path=smollm2-135m-instruct",
        "--set",
        "data.limit=3",
        "--set",
        "generation.max_new_tokens=60",
        "--set",
        "generation.constrained=true",
        "--set",
        "evaluate.bertscore.enabled=false",
        "--set",
        f"run.cache_dir={tmp_path / 'cache'}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
        "--set",
        "run.name=ae",
    ]
    run_script("cache_results_naive.py", *args)
    rows = [json.loads(line) for line in (tmp_path / "cache" / "ae.jsonl").open()]
    assert len(rows) == 3
    for row in rows:
        assert isinstance(row["parsed"]["drug_name"], str)
        assert isinstance(row["parsed"]["adverse_events"], list)
    run_script("evaluate.py", *args, "--runs", "ae")
    metrics = json.loads((tmp_path / "results" / "ae" / "metrics.json").read_text())
    assert metrics["n_records"] == 3 and metrics["parse_rate"] == 1.0
    per_category = metrics["per_category"]
    assert set(per_category) == {"drug_name", "adverse_events"}
    for f in per_category:  # the original study's figures: precision and recall per field
        entity = per_category[f]["entity"]
        assert {"precision", "recall", "f1", "tp", "fp", "fn"} <= set(entity)
    gold = load_split(DATA, ["en"], "test", load_task("configs/tasks/adverse_events.yaml"), 3)
    n_gold_events = sum(len(r["extraction"]["adverse_events"]) for r in gold)
    ev = per_category["adverse_events"]["entity"]
    assert ev["tp"] + ev["fn"] == n_gold_events  # every gold adverse event counted once
    assert metrics["grounding"]["overall"]["items"] > 0
