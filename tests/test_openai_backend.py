"""The openai backend against a real OpenAI-compatible HTTP server on 127.0.0.1.

The server (conftest.ChatServer) is a small Flask app in front of the real SmolLM2 test model
(what `vllm serve` is on a GPU box); it can be told to fail its first requests to exercise
retries."""

import json

import pytest
from conftest import ChatServer, run_script, small_run_args

from elmtex.backends import GenerationSettings, OpenAIBackend, TransformersBackend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(test_model_dir):
    s = ChatServer(TransformersBackend(str(test_model_dir), dtype="auto", device="cpu"))
    yield s
    s.close()


def test_generate_and_retry_after_503(server):
    client = OpenAIBackend(server.url, "smollm2", concurrency=2, max_retries=3, backoff_s=0.01)
    server.fail_next = 2
    convs = [
        [{"role": "user", "content": "Say hello."}],
        [{"role": "user", "content": "Name a colour."}],
    ]
    out = client.generate(convs, GenerationSettings(max_new_tokens=6))
    assert [g.finish_reason in ("stop", "length") for g in out] == [True, True]
    assert all(g.text and g.completion_tokens <= 6 and g.prompt_tokens > 0 for g in out)
    assert len(server.requests) >= 4  # two refused, then both answered
    assert server.requests[-1]["max_tokens"] == 6 and server.requests[-1]["model"] == "smollm2"


def test_gives_up_without_raising_after_retries(server):
    client = OpenAIBackend(server.url, "smollm2", max_retries=1, backoff_s=0.01)
    server.fail_next = 2
    (g,) = client.generate([[{"role": "user", "content": "hi"}]], GenerationSettings(4))
    assert g.finish_reason == "error" and "HTTP 503" in g.error
    server.fail_next = 0


def test_unreachable_server_is_an_error_generation():
    client = OpenAIBackend("http://127.0.0.1:9/v1", "m", max_retries=1, backoff_s=0.01, timeout_s=2)
    (g,) = client.generate([[{"role": "user", "content": "hi"}]], GenerationSettings(4))
    assert g.finish_reason == "error" and "ConnectionError" in g.error


def test_naive_stage_through_the_server(tmp_path, server):
    args = small_run_args(tmp_path, "served", limit=1, max_new_tokens=16)
    args += [
        "--set",
        "backend.name=openai",
        "--set",
        f"backend.openai.base_url={server.url}",
        "--set",
        "backend.openai.backoff_s=0.01",
    ]
    server.fail_next = 1
    run_script("cache_results_naive.py", *args)
    rows = [json.loads(line) for line in (tmp_path / "cache" / "served.jsonl").open()]
    assert len(rows) == 2 and all(r["model"] == "smollm2-135m-instruct" for r in rows)


def test_failed_requests_are_not_cached_and_exit_nonzero(tmp_path):
    args = small_run_args(tmp_path, "down", limit=1, max_new_tokens=4)
    args += [
        "--set",
        "backend.name=openai",
        "--set",
        "backend.openai.base_url=http://127.0.0.1:9/v1",
        "--set",
        "backend.openai.max_retries=0",
    ]
    proc = run_script("cache_results_naive.py", *args, check=False)
    assert proc.returncode == 1 and "rerun this command" in proc.stdout
    cache = tmp_path / "cache" / "down.jsonl"
    assert not cache.exists() or cache.read_text() == ""
