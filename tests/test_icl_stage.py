"""The in-context learning stage: the advanced prompt, context fitting with the real SmolLM2
tokenizer, the retriever client, and cache_results_advanced_icl.py end to end against the real
retriever service (the `retriever_service` fixture of conftest.py).

The stage runs go through a small counting proxy in front of the real service, so a test can
see exactly which records were retrieved for."""

import json
import threading

import pytest
import requests
from conftest import ROOT, free_port, run_script, small_run_args
from flask import Flask, Response, request
from werkzeug.serving import make_server

from elmtex import icl
from elmtex.backends import OpenAIBackend, TransformersBackend
from elmtex.config import UserError, load_config
from elmtex.io import read_jsonl, read_records
from elmtex.prompts import PromptTemplate
from elmtex.task import load_task

# --------------------------------------------------------------------------- helpers


def demo_records(task, lang, split):
    return read_records(ROOT / "data" / "demo" / lang / f"{split}.jsonl", task)


def as_retrieved(rec, score):
    """A dataset record in the shape /retrieve returns it."""
    return {"id": rec["id"], "report": rec["report"], "summary": rec["summary"], "score": score}


@pytest.fixture(scope="module")
def template(task):
    return PromptTemplate(task.prompt_path("advanced_icl"))


@pytest.fixture(scope="module")
def backend(test_model_dir):
    return TransformersBackend(str(test_model_dir), dtype="auto", device="cpu")


class CountingProxy:
    """Forwards every request to the real service with requests and keeps the /retrieve
    bodies, so tests can see which records a stage run retrieved for."""

    def __init__(self, target: str):
        self.retrieve_bodies: list[dict] = []
        app = Flask("proxy")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def forward(path):
            if path == "retrieve":
                self.retrieve_bodies.append(request.get_json())
            r = requests.request(
                request.method,
                f"{target}/{path}",
                data=request.get_data(),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            return Response(r.content, r.status_code, mimetype="application/json")

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def retrieved_ids(self) -> list[str]:
        return [i for body in self.retrieve_bodies for i in body["exclude_ids"]]


@pytest.fixture
def proxy(retriever_service):
    p = CountingProxy(retriever_service.url)
    yield p
    p.server.shutdown()


# --------------------------------------------------------------------------- the prompt


def test_prompt_has_definitions_rules_and_examples_in_order(task, template):
    train = demo_records(task, "de", "train")[:3]
    report = demo_records(task, "de", "test")[0]["report"]
    examples = [as_retrieved(r, s) for r, s in zip(train, (0.9, 0.8, 0.7), strict=True)]
    system, user = icl.render_prompt(template, task, report, examples)
    assert system["role"] == "system" and user["role"] == "user"
    s = system["content"]
    for f in task.fields:  # one definition line per category, from the task file
        assert f.description and f"- {f.name}: {f.description}\n" in s
    assert '"N/A"' in s and '"; "' in s and "JSON object only" in s

    u = user["content"]
    positions = [u.index(f"### Example {i}") for i in (1, 2, 3)]
    assert positions == sorted(positions) and "### Example 4" not in u
    for i, rec in enumerate(train):
        block = u[positions[i] : positions[i + 1] if i < 2 else u.index("### Report to")]
        assert rec["report"] in block
        gold_json = block.split("JSON:\n", 1)[1].strip()
        assert json.loads(gold_json) == rec["summary"]
        assert list(json.loads(gold_json)) == task.field_names  # the task's key order
    assert "ä" in u or "ö" in u or "ü" in u  # German kept as is (ensure_ascii=False)
    assert "\\u00" not in u
    assert u.index("### Report to summarise") > positions[-1]
    assert u.endswith(report + "\n\nJSON:")


def test_prompt_without_examples_and_for_a_task_with_list_fields(tmp_path, template):
    (tmp_path / "ae.yaml").write_text(f"""
name: adverse_events
prompts:
  advanced_icl: {template.path}
fields:
  - name: drug_name
  - name: adverse_events
    type: list
    description: every unwanted effect the writer reports
""")
    t = load_task(tmp_path / "ae.yaml")
    system, user = icl.render_prompt(template, t, "Ibuprofen gave me a rash.", [])
    assert "- drug_name: drug name\n" in system["content"]  # no description: the name
    assert "- adverse_events: every unwanted effect" in system["content"]
    assert "adverse_events: a JSON list of strings" in system["content"]
    assert "Example" not in user["content"] and "Example" not in system["content"]
    assert user["content"].startswith("### Report to summarise")


# --------------------------------------------------------------------------- context fitting


def test_fit_drops_the_least_similar_examples_first(task, template, backend):
    train = demo_records(task, "en", "train")[:3]
    report = demo_records(task, "en", "test")[0]["report"]
    examples = [as_retrieved(r, s) for r, s in zip(train, (0.9, 0.8, 0.7), strict=True)]

    def render(exs):
        return icl.render_prompt(template, task, report, exs)

    sizes = [backend.count_prompt_tokens(render(examples[:n])) for n in range(4)]
    assert sizes == sorted(sizes) and sizes[0] > 300  # each example adds tokens

    fitted = icl.fit_examples(render, examples, None, backend.count_prompt_tokens)
    assert len(fitted.examples) == 3 and not fitted.dropped and fitted.prompt_tokens == sizes[3]

    fitted = icl.fit_examples(render, examples, sizes[3], backend.count_prompt_tokens)
    assert len(fitted.examples) == 3 and fitted.prompt_tokens == sizes[3]

    fitted = icl.fit_examples(render, examples, sizes[2] + 5, backend.count_prompt_tokens)
    assert [e["id"] for e in fitted.examples] == [r["id"] for r in train[:2]]
    assert [e["id"] for e in fitted.dropped] == [train[2]["id"]]  # the least similar
    assert fitted.prompt_tokens == sizes[2] and not fitted.over_budget

    fitted = icl.fit_examples(render, examples, sizes[1] - 1, backend.count_prompt_tokens)
    assert fitted.examples == [] and fitted.prompt_tokens == sizes[0]
    assert not fitted.over_budget and fitted.conversation == render([])

    fitted = icl.fit_examples(render, examples, sizes[0] - 1, backend.count_prompt_tokens)
    assert fitted.over_budget and fitted.examples == [] and len(fitted.dropped) == 3
    row = fitted.row_fields(retrieved=3, budget=sizes[0] - 1)
    assert row["icl_dropped"] == 3 and row["icl_over_budget"] is True
    assert row["icl_example_ids"] == [] and row["icl_prompt_tokens"] == sizes[0]


def test_budget_from_config_or_model_context(backend, test_model_dir):
    assert backend.context_length() == 8192  # SmolLM2's max_position_embeddings
    cfg = load_config(None, ["generation.max_new_tokens=100"])
    b = icl.prompt_budget(cfg, backend)
    assert b.tokens == 8192 - 100 and "8192" in b.reason
    cfg = load_config(None, ["icl.max_prompt_tokens=1234"])
    assert icl.prompt_budget(cfg, backend).tokens == 1234
    with pytest.raises(UserError, match="max_new_tokens"):
        icl.prompt_budget(load_config(None, ["generation.max_new_tokens=9000"]), backend)

    server = OpenAIBackend("http://127.0.0.1:9/v1", "served")
    cfg = load_config(None, [f"model.name_or_path={test_model_dir}"])
    b = icl.prompt_budget(cfg, server)
    assert b.tokens is None and "icl.max_prompt_tokens" in b.reason
    assert icl.token_counter(server, cfg, b) is None  # nothing to fit: no tokenizer loaded
    cfg = load_config(None, [f"model.name_or_path={test_model_dir}", "icl.max_prompt_tokens=2000"])
    b = icl.prompt_budget(cfg, server)
    count = icl.token_counter(server, cfg, b)
    conv = [{"role": "system", "content": "Sei knapp."}, {"role": "user", "content": "Übelkeit"}]
    assert b.tokens == 2000 and count(conv) == backend.count_prompt_tokens(conv)


# --------------------------------------------------------------------------- the client


def test_client_against_the_real_service(retriever_service, task):
    client = icl.RetrieverClient(retriever_service.url, timeout_s=60)
    health = client.health()
    assert icl.retriever_identity(health) and "status" not in icl.retriever_identity(health)
    train_ids = {r["id"] for r in demo_records(task, "de", "train")}
    own = demo_records(task, "de", "train")[5]
    got = client.retrieve(own["report"], 3, "de", exclude_ids=[own["id"]])
    assert len(got) == 3 and {e["id"] for e in got} <= train_ids - {own["id"]}
    assert [e["score"] for e in got] == sorted((e["score"] for e in got), reverse=True)
    assert set(got[0]["summary"]) == set(task.field_names)
    with pytest.raises(icl.RetrieverError, match="HTTP 400.*'k'"):
        client.retrieve("some report", 0, "de")


def test_unreachable_service_names_the_start_command():
    port = free_port()
    cmd = icl.retriever_start_command(
        "configs/x.yaml",
        [f"retriever.port={port}", "model.name_or_path=m", "data.langs=[en]", "data.limit=2"],
    )
    assert cmd == (
        f"python icl_retriever_app.py --config configs/x.yaml "
        f"--set retriever.port={port} --set 'data.langs=[en]'"
    )
    client = icl.RetrieverClient(f"http://127.0.0.1:{port}", 5, cmd)
    with pytest.raises(icl.RetrieverUnavailable) as e:
        client.health()
    assert cmd in str(e.value) and f"http://127.0.0.1:{port}/health" in str(e.value)


# --------------------------------------------------------------------------- the stage


def rows(path):
    return [row for _, row in read_jsonl(path)]


@pytest.mark.slow
def test_stage_end_to_end_and_resume(tmp_path, test_model_dir, task, proxy):
    base = small_run_args(tmp_path, "icl", max_new_tokens=8, batch_size=1)
    # k=1 keeps the CPU prefill short; k=3 prompts are covered above.
    args = [*base, "--set", f"icl.url={proxy.url}", "--set", "icl.k=1"]
    proc = run_script("cache_results_advanced_icl.py", *args, "--set", "data.limit=1")
    assert "context fitting budget: 8184 prompt tokens" in proc.stdout
    cache = tmp_path / "cache" / "icl.jsonl"
    first = rows(cache)
    assert sorted(r["id"] for r in first) == ["demo-de-test-0001", "demo-en-test-0001"]
    assert sorted(proxy.retrieved_ids()) == sorted(r["id"] for r in first)
    for r in first:
        train_ids = {t["id"] for t in demo_records(task, r["lang"], "train")}
        assert r["method"] == "advanced_icl" and r["finish_reason"] in ("stop", "length")
        assert r["icl_retrieved"] == 1 and r["icl_dropped"] == 0 and not r["icl_over_budget"]
        assert len(r["icl_example_ids"]) == 1 and set(r["icl_example_ids"]) <= train_ids
        assert r["id"] not in r["icl_example_ids"] and 0 < r["icl_example_scores"][0] <= 1
        assert r["icl_budget"] == 8184 and r["prompt_tokens"] == r["icl_prompt_tokens"]
    manifest = json.loads((tmp_path / "cache" / "icl.manifest.json").read_text())
    assert manifest["method"] == "advanced_icl"
    assert manifest["decisive"]["icl"] == {"k": 1, "budget": 8184}
    assert manifest["decisive"]["retriever"]["model"] == "all-minilm-l6-v2"
    assert "=== user ===" in manifest["decisive"]["prompt"]

    # Resume with one more English record: the finished ones are neither retrieved nor
    # generated again, and stay as they were.
    proxy.retrieve_bodies.clear()
    proc = run_script(
        "cache_results_advanced_icl.py", *args, "--set", "data.limit=2", "--set", "data.langs=[en]"
    )
    assert "'skipped': 1, 'written': 1" in proc.stdout
    assert proxy.retrieved_ids() == ["demo-en-test-0002"]
    after = rows(cache)
    assert [r["id"] for r in after] == [r["id"] for r in first] + ["demo-en-test-0002"]
    assert after[:2] == first


@pytest.mark.slow
def test_context_fitting_drops_least_similar_and_records_it(
    tmp_path, test_model_dir, task, template, backend, proxy
):
    rec = demo_records(task, "en", "test")[0]
    client = icl.RetrieverClient(proxy.url)
    retrieved = client.retrieve(rec["report"], 3, "en", [rec["id"]])
    proxy.retrieve_bodies.clear()
    two = backend.count_prompt_tokens(
        icl.render_prompt(template, task, rec["report"], retrieved[:2])
    )
    args = [
        *small_run_args(tmp_path, "fit", limit=1, max_new_tokens=4, batch_size=1),
        "--set",
        "data.langs=[en]",
        "--set",
        f"icl.url={proxy.url}",
        "--set",
        f"icl.max_prompt_tokens={two - 1}",
    ]
    proc = run_script("cache_results_advanced_icl.py", *args)
    assert f"{two - 1} prompt tokens (icl.max_prompt_tokens)" in proc.stdout
    assert "1 prompts had examples dropped" in proc.stdout
    (row,) = rows(tmp_path / "cache" / "fit.jsonl")
    assert row["icl_retrieved"] == 3 and row["icl_dropped"] == 2
    assert row["icl_example_ids"] == [retrieved[0]["id"]]  # the most similar one is kept
    assert row["icl_dropped_ids"] == [e["id"] for e in retrieved[1:]]
    assert row["icl_prompt_tokens"] <= two - 1 < two
    assert row["prompt_tokens"] == row["icl_prompt_tokens"]  # what was counted was sent
    assert not row["icl_over_budget"]


def test_no_service_is_a_clear_error_before_the_model_loads(tmp_path):
    port = free_port()
    args = [*small_run_args(tmp_path, "down"), "--set", f"retriever.port={port}"]
    proc = run_script("cache_results_advanced_icl.py", *args, check=False, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"python icl_retriever_app.py --set retriever.port={port}" in proc.stderr
    assert f"http://127.0.0.1:{port}/health" in proc.stderr
    assert "context fitting budget" not in proc.stdout  # stopped before loading the model
    assert not (tmp_path / "cache" / "down.jsonl").exists()
