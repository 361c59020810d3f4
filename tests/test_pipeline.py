"""Integration: the real stage scripts on the real SmolLM2 test model and demo records."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_script, small_run_args

from elmtex.io import read_jsonl

pytestmark = pytest.mark.slow


def cached_rows(path):
    return [row for _, row in read_jsonl(path)]


def test_naive_then_evaluate(tmp_path, test_model_dir, task):
    args = small_run_args(tmp_path, "smoke", limit=2)
    proc = run_script("cache_results_naive.py", *args)
    assert "# config in effect" in proc.stdout  # the config is printed at start
    cache = tmp_path / "cache" / "smoke.jsonl"
    rows = cached_rows(cache)
    assert len(rows) == 4 and {r["lang"] for r in rows} == {"en", "de"}
    for r in rows:
        assert r["run"] == "smoke" and r["method"] == "naive"
        assert isinstance(r["raw"], str) and r["finish_reason"] in ("stop", "length")
        assert (r["parsed"] is None) != (r["parse_error"] is None)  # exactly one of them
        assert r["prompt_tokens"] > 100 and 0 < r["completion_tokens"] <= 48
    manifest = json.loads((tmp_path / "cache" / "smoke.manifest.json").read_text())
    assert manifest["config"]["model"]["name_or_path"] == "smollm2-135m-instruct"
    assert manifest["model"]["gguf_sha256"]
    assert manifest["packages"]["transformers"] and manifest["packages"]["torch"]
    assert "commit" in manifest["code"]
    # Unconstrained runs keep the fingerprint they had before constrained decoding existed.
    assert set(manifest["decisive"]["generation"]) == {
        "max_new_tokens",
        "temperature",
        "top_p",
        "seed",
    }

    # A rerun finds everything done and generates nothing.
    again = run_script("cache_results_naive.py", *args)
    assert "'skipped': 4, 'written': 0" in again.stdout
    assert len(cached_rows(cache)) == 4

    ev = run_script("evaluate.py", *args)
    assert "JSON parse rate" in ev.stdout and "ROUGE-L" in ev.stdout
    out = tmp_path / "results" / "smoke"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_records"] == 4
    assert metrics["parse_rate"] == sum(r["parsed"] is not None for r in rows) / 4
    assert set(metrics["per_category"]) == set(task.field_names)
    assert (out / "per_category.csv").read_text().startswith("category,rouge1,rouge2,rougeL")
    for name in (
        "report.md",
        "config.yaml",
        "report.html",
        "per_category_entity_f1.png",
        "parse_rates.png",
    ):
        assert (out / name).stat().st_size > 0, name
    examples = [json.loads(line) for line in (out / "per_example.jsonl").read_text().splitlines()]
    assert sorted(e["id"] for e in examples) == sorted(r["id"] for r in rows)
    assert metrics["headline"]["rougeL"]["value"] == metrics["overall"]["rougeL"]


def test_changed_settings_refuse_to_mix(tmp_path, test_model_dir):
    args = small_run_args(tmp_path, "mix", limit=1, max_new_tokens=8)
    run_script("cache_results_naive.py", *args)
    proc = run_script(
        "cache_results_naive.py", *args, "--set", "generation.max_new_tokens=9", check=False
    )
    assert proc.returncode == 1
    assert "run.name" in proc.stderr and "Traceback" not in proc.stderr
    assert (
        run_script(
            "cache_results_naive.py", *args, "--set", "generation.max_new_tokens=9", "--overwrite"
        ).returncode
        == 0
    )


def test_unknown_key_on_the_command_line_is_one_clear_line(tmp_path):
    proc = run_script("cache_results_naive.py", "--set", "generation.max_tokens=5", check=False)
    assert proc.returncode == 1
    assert "generation.max_new_tokens" in proc.stderr and "Traceback" not in proc.stderr


def test_kill_and_resume_loses_nothing(tmp_path, test_model_dir):
    """kill -9 mid-run, then rerun: whole lines only, finished records kept, none twice."""
    args = small_run_args(tmp_path, "killed", limit=3, max_new_tokens=24, batch_size=1)
    cache = tmp_path / "cache" / "killed.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cache_results_naive.py"), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if cache.exists() and cache.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = cache.read_bytes()
    assert data.endswith(b"\n")  # no torn line
    before = {r["id"]: r for r in cached_rows(cache)}
    assert 2 <= len(before) < 6

    proc2 = run_script("cache_results_naive.py", *args)
    assert f"'skipped': {len(before)}" in proc2.stdout
    after = cached_rows(cache)
    ids = [r["id"] for r in after]
    assert len(ids) == len(set(ids)) == 6
    assert {r["id"]: r for r in after if r["id"] in before} == before  # untouched


def test_torn_tail_from_a_crash_is_repaired(tmp_path, test_model_dir):
    args = small_run_args(tmp_path, "torn", limit=1, max_new_tokens=8)
    run_script("cache_results_naive.py", *args)
    cache = tmp_path / "cache" / "torn.jsonl"
    first_line = cache.read_bytes().split(b"\n")[0]
    with cache.open("ab") as fh:
        fh.write(first_line[: len(first_line) // 2])  # what a power cut mid-write leaves
    proc = run_script("cache_results_naive.py", *args)
    assert "incomplete last line" in proc.stderr
    assert len(cached_rows(cache)) == 2 and cache.read_bytes().endswith(b"\n")
