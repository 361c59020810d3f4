"""The openai backend over several servers (replicas of one model): two real OpenAI-compatible
servers on 127.0.0.1 (conftest.ChatServer, each in front of its own real SmolLM2), requests
spread round-robin, a failing server's retries going to the other."""

import json

import pytest
from conftest import ChatServer, run_script, small_run_args

from elmtex.backends import GenerationSettings, OpenAIBackend, TransformersBackend

pytestmark = pytest.mark.slow

CONVS = [[{"role": "user", "content": f"Name a colour, number {i}."}] for i in range(4)]


@pytest.fixture(scope="module")
def servers(test_model_dir):
    pair = [
        ChatServer(TransformersBackend(str(test_model_dir), dtype="auto", device="cpu"))
        for _ in range(2)
    ]
    yield pair
    for s in pair:
        s.close()


@pytest.fixture(autouse=True)
def fresh(servers):
    for s in servers:
        s.requests.clear()
        s.fail_next = 0


def test_requests_are_spread_round_robin(servers):
    a, b = servers
    client = OpenAIBackend([a.url, b.url], "smollm2", concurrency=4, max_retries=0)
    out = client.generate(CONVS, GenerationSettings(max_new_tokens=3))
    assert all(g.finish_reason in ("stop", "length") and g.text for g in out)
    assert len(a.requests) == 2 and len(b.requests) == 2
    sent = sorted(r["messages"][0]["content"] for r in a.requests + b.requests)
    assert sent == sorted(c[0]["content"] for c in CONVS)  # each conversation once


def test_a_refused_request_is_retried_on_the_other_server(servers):
    a, b = servers
    a.fail_next = 1  # the first request a gets answers 503
    client = OpenAIBackend(
        [a.url, b.url], "smollm2", concurrency=2, max_retries=1, backoff_s=30.0
    )  # no wait: the retry goes to the other server at once
    out = client.generate(CONVS[:2], GenerationSettings(max_new_tokens=3))
    assert [g.finish_reason != "error" for g in out] == [True, True]
    assert len(a.requests) == 1 and len(b.requests) == 2


def test_a_dead_server_costs_a_retry_not_the_request(servers):
    _, b = servers
    client = OpenAIBackend(
        ["http://127.0.0.1:9/v1", b.url], "smollm2", concurrency=2, max_retries=1, timeout_s=5
    )
    out = client.generate(CONVS, GenerationSettings(max_new_tokens=3))
    assert all(g.finish_reason != "error" for g in out)
    assert len(b.requests) == 4


def test_every_server_failing_is_an_error_naming_them(servers):
    a, b = servers
    a.fail_next = b.fail_next = 5
    client = OpenAIBackend([a.url, b.url], "smollm2", max_retries=1, backoff_s=0.01)
    (g,) = client.generate(CONVS[:1], GenerationSettings(max_new_tokens=3))
    assert g.finish_reason == "error" and "HTTP 503" in g.error
    assert len(a.requests) == 1 and len(b.requests) == 1


def test_naive_stage_with_a_list_of_servers_in_the_config(tmp_path, servers):
    a, b = servers
    args = small_run_args(tmp_path, "replicas", limit=1, max_new_tokens=4)
    args += ["--set", "backend.name=openai", "--set", f"backend.openai.base_url=[{a.url}, {b.url}]"]
    run_script("cache_results_naive.py", *args)
    rows = [json.loads(line) for line in (tmp_path / "cache" / "replicas.jsonl").open()]
    assert len(rows) == 2 and len(a.requests) == 1 and len(b.requests) == 1
    manifest = json.loads((tmp_path / "cache" / "replicas.manifest.json").read_text())
    assert manifest["config"]["backend"]["openai"]["base_url"] == [a.url, b.url]


def test_a_bad_list_of_servers_is_a_config_error(tmp_path):
    proc = run_script("cache_results_naive.py", "--set", "backend.openai.base_url=[]", check=False)
    assert proc.returncode == 1 and "non-empty list of strings" in proc.stderr
    assert "Traceback" not in proc.stderr
