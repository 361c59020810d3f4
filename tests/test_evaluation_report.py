"""Confidence intervals of macro averages, run comparisons, and evaluate.py's outputs."""

import json
import math
import re

import numpy as np
import pytest
from bootstrap_reference import (
    bootstrap_macro_ci,
    bootstrap_macro_f1_ci,
    paired_bootstrap_macro_diff,
    paired_bootstrap_macro_f1_diff,
)
from conftest import ROOT, run_script

from elmtex.config import ConfigError
from elmtex.entities import ItemsBackend
from elmtex.io import load_split
from elmtex.scoring import Policies, score_records
from elmtex.stats import bootstrap_ci
from elmtex.summaries import compare_runs, paired_examples, summarize


def _macro_reference(rows):
    """Macro average the slow, obvious way: per column mean over non-nan, then mean."""
    cols = []
    for j in range(len(rows[0])):
        vals = [r[j] for r in rows if not math.isnan(r[j])]
        if vals:
            cols.append(sum(vals) / len(vals))
    return sum(cols) / len(cols) if cols else None


def _macro_f1_reference(rows):
    f1s = []
    for j in range(len(rows[0])):
        tp, fp, fn = (sum(r[j][k] for r in rows) for k in range(3))
        if 2 * tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else None


def _values(n=40, fields=5, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.random((n, fields))
    v[rng.random((n, fields)) < 0.3] = np.nan  # fields not scored (gold N/A)
    v[3] = np.nan  # a skipped record
    return v


def test_macro_ci_equals_the_generic_bootstrap():
    v = _values()
    fast = bootstrap_macro_ci(v, n_boot=300, seed=7)
    # None drops a record and keeps the others' keys (their positions), as nan does
    kept = [None if np.isnan(r).all() else list(r) for r in v]
    ref = bootstrap_ci(kept, _macro_reference, n_boot=300, seed=7)
    assert fast["n"] == ref["n"] == 39  # the all-nan record is dropped
    for k in ("value", "low", "high"):
        assert fast[k] == pytest.approx(ref[k])
    assert fast["low"] < fast["value"] < fast["high"]


def test_macro_f1_ci_equals_the_generic_bootstrap():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=(30, 4, 3)).astype(float)
    counts[:, 2, :] = 0  # a category with nothing to find and nothing found: left out
    fast = bootstrap_macro_f1_ci(counts, n_boot=200, seed=3)
    ref = bootstrap_ci([r.tolist() for r in counts], _macro_f1_reference, n_boot=200, seed=3)
    for k in ("value", "low", "high"):
        assert fast[k] == pytest.approx(ref[k])


def test_paired_macro_differences():
    a = _values(seed=2)
    same = paired_bootstrap_macro_diff(a, a.copy(), n_boot=200)
    assert same["diff"] == 0 and same["low"] == 0 and same["high"] == 0 and same["p_value"] == 1
    better = paired_bootstrap_macro_diff(a, np.where(np.isnan(a), np.nan, a + 0.2), n_boot=200)
    assert better["diff"] == pytest.approx(0.2) and better["low"] > 0 and better["p_value"] < 0.01
    # a record skipped in one run is dropped from both
    b = a.copy()
    b[5] = np.nan
    assert paired_bootstrap_macro_diff(a, b, n_boot=50)["n"] == 38
    with pytest.raises(ValueError, match="aligned"):
        paired_bootstrap_macro_diff(a, a[:-1])
    counts = np.ones((10, 3, 3))
    assert paired_bootstrap_macro_f1_diff(counts, counts, n_boot=50)["diff"] == 0


def test_empty_and_undefined_macros():
    assert bootstrap_macro_ci(np.full((4, 3), np.nan))["value"] is None
    assert bootstrap_macro_ci([])["n"] == 0
    assert bootstrap_macro_f1_ci(np.zeros((5, 2, 3)))["value"] is None  # nothing anywhere


# Whole runs ----------------------------------------------------------------------------------


def _gold(task, n=12):
    gold = {}
    for i in range(n):
        s = {f: "N/A" for f in task.field_names}
        s.update(
            diagnosis=f"disease {i}; hypertension",
            signs_symptoms="fever; cough",
            age=f"{30 + i} years",
            gender="female" if i % 2 else "male",
        )
        gold[f"r{i}"] = {
            "id": f"r{i}",
            "lang": "en" if i % 3 else "de",
            "report": "x",
            "summary": s,
        }
    return gold


def _rows(task, gold, good: bool, unparseable=()):
    rows = []
    for rid, rec in gold.items():
        pred = dict(rec["summary"]) if good else {f: "N/A" for f in task.field_names}
        if not good:
            pred["diagnosis"] = "hypertension"
        rows.append(
            {"id": rid, "finish_reason": "stop", "parsed": None if rid in unparseable else pred}
        )
    return rows


def test_summarize_and_compare(task):
    gold = _gold(task)
    backend = ItemsBackend(task)
    good = score_records(task, gold, _rows(task, gold, True), Policies(), entity_backend=backend)
    bad = score_records(
        task, gold, _rows(task, gold, False, unparseable={"r1"}), Policies(), entity_backend=backend
    )
    m = summarize(good, Policies(), "items", n_boot=200)
    assert m["headline"]["rougeL"]["value"] == m["overall"]["rougeL"] == 1.0
    assert m["headline"]["entity_micro_f1"]["value"] == m["overall"]["entity_micro"]["f1"] == 1.0
    assert m["per_category"]["diagnosis"]["ci"]["entity_f1"]["low"] == 1.0
    mb = summarize(bad, Policies(), "items", n_boot=200)
    assert mb["parse_rate"] == pytest.approx(11 / 12)
    assert 0 < mb["headline"]["entity_micro_f1"]["value"] < 1

    c = compare_runs({"good": good, "bad": bad}, "good", n_boot=200)
    assert c["runs"] == ["good", "bad"] and c["n_common"] == 12
    d = c["diffs"]["bad"]
    assert d["overall"]["parse_rate"]["diff"] == pytest.approx(-1 / 12)
    assert d["overall"]["entity_micro_f1"]["high"] < 0  # clearly worse
    assert d["per_category"]["diagnosis"]["entity_f1"]["diff"] < 0
    assert d["per_category"]["age"]["exact_match"]["diff"] == -1.0
    assert "good" not in c["diffs"]
    # headline values in a comparison equal the run's own when the records are the same
    assert c["headline"]["bad"]["rougeL"]["value"] == pytest.approx(mb["overall"]["rougeL"])

    same = compare_runs({"a": good, "b": good}, "a", n_boot=100)
    assert all(
        v["diff"] == 0 for v in same["diffs"]["b"]["overall"].values() if v["diff"] is not None
    )
    with pytest.raises(ConfigError, match="baseline"):
        compare_runs({"a": good}, "zzz")

    # records that only one run has are left out of the comparison
    fewer = score_records(task, gold, _rows(task, gold, True)[:8], Policies())
    c2 = compare_runs({"good": good, "fewer": fewer}, "good", n_boot=50)
    assert c2["n_common"] == 8 and c2["n_per_run"] == {"good": 12, "fewer": 8}
    paired = list(paired_examples({"good": good, "bad": bad}))
    assert [p["id"] for p in paired] == list(gold)
    assert paired[1]["runs"]["bad"]["parsed"] is False and paired[1]["runs"]["good"]["parsed"]


def test_skip_policy_drops_unparseable_records_from_paired_text_metrics(task):
    gold = _gold(task, 6)
    skip = Policies(unparseable="skip")
    a = score_records(task, gold, _rows(task, gold, True), skip)
    b = score_records(task, gold, _rows(task, gold, True, unparseable={"r0", "r2"}), skip)
    c = compare_runs({"a": a, "b": b}, "a", n_boot=50)
    assert c["diffs"]["b"]["overall"]["rougeL"]["n"] == 4  # r0 and r2 left out of both
    assert c["diffs"]["b"]["overall"]["rougeL"]["diff"] == 0
    assert c["diffs"]["b"]["overall"]["parse_rate"]["n"] == 6  # parse rate counts every answer


def _write_cache(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _demo_rows(task, limit, damage):
    """Cached answers for the first `limit` demo test records per language: the gold answer,
    with `damage(i, summary)` applied."""
    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, limit)
    rows = []
    for i, r in enumerate(recs):
        pred = damage(i, dict(r["summary"]))
        rows.append(
            {
                "id": r["id"],
                "finish_reason": "stop",
                "parsed": pred,
                "raw": "",
                "parse_error": None if pred is not None else "not JSON",
            }
        )
    return rows


def test_evaluate_compares_runs_and_writes_a_self_contained_report(tmp_path, task):
    cache = tmp_path / "cache"

    def drop_some(i, s):
        if i % 4 == 0:
            return None
        s["diagnosis"] = "N/A" if i % 3 == 0 else s["diagnosis"]
        return s

    _write_cache(cache / "ref.jsonl", _demo_rows(task, 6, lambda i, s: s))
    _write_cache(cache / "worse.jsonl", _demo_rows(task, 6, drop_some))
    args = [
        "--set",
        "data.limit=6",
        "--set",
        f"run.cache_dir={cache}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
        "--set",
        "evaluate.bootstrap.n_boot=200",
    ]
    proc = run_script("evaluate.py", "--runs", "worse", "ref", "--baseline", "ref", *args)
    out = tmp_path / "results" / "compare-ref-vs-worse"
    assert f"comparison written to {out}" in proc.stdout
    comparison = json.loads((out / "metrics.json").read_text())
    assert comparison["runs"] == ["ref", "worse"] and comparison["n_common"] == 12
    assert comparison["headline"]["ref"]["entity_micro_f1"]["value"] == 1.0
    assert comparison["diffs"]["worse"]["overall"]["parse_rate"]["diff"] == pytest.approx(-3 / 12)
    assert comparison["headline"]["ref"]["bertscore_f1"]["value"] == pytest.approx(1.0, abs=1e-5)
    for name in (
        "per_category.csv",
        "report.md",
        "config.yaml",
        "per_example.jsonl",
        "per_category_entity_f1.png",
        "per_category_rougeL.png",
        "parse_rates.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert (out / "per_category_entity_f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    # self-contained: every image inlined, nothing fetched from elsewhere
    # 4 plots, and a misplaced-items heat-map per run (no timings cached: no frontier plot)
    assert html.count("data:image/png;base64,") == 6
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "worse − ref" in html and "diagnosis" in html
    md = (out / "report.md").read_text()
    assert "| entity F1 (micro) | 1.000 [1.000, 1.000] |" in md
    csv_lines = (out / "per_category.csv").read_text().splitlines()
    assert csv_lines[0].startswith("run,category,metric,value,low,high,n,diff_vs_baseline")
    for run in ("ref", "worse"):
        assert (tmp_path / "results" / run / "report.html").exists()
        assert (
            len((tmp_path / "results" / run / "per_example.jsonl").read_text().splitlines()) == 12
        )

    bad = run_script(
        "evaluate.py", "--runs", "ref", "worse", "--baseline", "nope", *args, check=False
    )
    assert bad.returncode == 1 and "baseline 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = run_script("evaluate.py", "--runs", "ref", "ghost", *args, check=False)
    assert missing.returncode == 1 and "No cache for run 'ghost'" in missing.stderr


def test_chunked_streaming_gives_the_same_scores(task):
    from elmtex.bertscore import FieldBertScorer

    gold = _gold(task, 7)
    rows = _rows(task, gold, True)
    for i, r in enumerate(rows):
        if i % 2:
            r["parsed"] = dict(r["parsed"], diagnosis="hypertension; asthma")
    bert = FieldBertScorer("all-minilm-l6-v2")
    seen = []
    small = score_records(
        task,
        gold,
        rows,
        Policies(),
        entity_backend=ItemsBackend(task),
        bert=bert,
        chunk_size=2,
        on_example=seen.append,
    )
    whole = score_records(
        task, gold, rows, Policies(), entity_backend=ItemsBackend(task), bert=bert, chunk_size=256
    )
    a, b = small.arrays(), whole.arrays()
    for key in ("rougeL", "bert", "entity"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-6)
    assert [e["id"] for e in seen] == list(gold)
    j = small.text_fields.index("diagnosis")
    assert seen[1]["fields"]["diagnosis"]["bertscore_f1"] == pytest.approx(a["bert"][1, j])


def test_column_labels_drop_the_shared_words():
    from elmtex.report_tables import short_names

    runs = [
        "naive-qwen2.5-coder-0.5b-instruct-demo-test",
        "advanced_icl-qwen2.5-coder-0.5b-instruct-demo-test",
    ]
    assert list(short_names(runs).values()) == ["naive", "advanced_icl"]
    tuned = "naive-qwen2.5-coder-0.5b-instruct-ft-demo-test"  # words all three share go too
    assert list(short_names([*runs, tuned]).values()) == ["naive", "advanced_icl", "naive-ft"]
    assert list(short_names([runs[0], tuned]).values()) == [  # "naive" alone would be empty
        "naive-qwen2.5-coder-0.5b-instruct",
        "naive-qwen2.5-coder-0.5b-instruct-ft",
    ]
    assert short_names(["ref", "worse"]) == {"ref": "ref", "worse": "worse"}
    assert short_names(["a-b-c", "c"]) == {"a-b-c": "a-b-c", "c": "c"}
