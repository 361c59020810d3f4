"""Schema-constrained decoding: the schema from the task, the whitespace guard, the real SmolLM2
test model held to the schema (its unconstrained naive output is rarely valid JSON), and the
requests the vllm and openai backends send."""

import json
import re

import pytest
from conftest import ROOT, TEST_MODEL, ChatServer, run_script, small_run_args

from elmtex.backends import (
    GenerationSettings,
    OpenAIBackend,
    TransformersBackend,
    openai_request_body,
    vllm_sampling_kwargs,
    vllm_structured_outputs_config,
)
from elmtex.config import load_config
from elmtex.constrained import (
    VALUE_PATTERN,
    decisive_generation,
    llguidance_grammar,
    llguidance_tokenizer,
    schema_from_config,
    task_json_schema,
)
from elmtex.io import read_jsonl
from elmtex.runs import run_name
from elmtex.task import load_task

STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def assert_fits(task, raw: str, whitespace: str = "spaced") -> dict:
    """`raw` is one JSON object of the task's schema, and the whitespace guard held: between
    JSON tokens one space after each colon and comma (`spaced`) or none (`compact`), inside
    values single spaces between words."""
    obj = json.loads(raw)
    assert task.validate_gold(obj) == [], raw
    assert list(obj) == task.field_names  # llguidance keeps the schema's property order
    if whitespace != "none":
        layout = STRING_LITERAL.sub('""', raw)
        allowed = r"(?<=[:,]) (?=\S)" if whitespace == "spaced" else "(?!)"
        assert not re.search(r"\s", re.sub(allowed, "", layout)), raw
        if whitespace == "spaced":
            assert layout.count(" ") == layout.count(":") + layout.count(","), raw
        values = [v for val in obj.values() for v in (val if isinstance(val, list) else [val])]
        assert all(re.fullmatch(VALUE_PATTERN, v) for v in values), values
    return obj


@pytest.fixture(scope="module")
def list_task(tmp_path_factory):
    """A second task with a list-valued field, as tests/test_task_and_prompts.py builds one."""
    d = tmp_path_factory.mktemp("ae-task")
    (d / "ae.txt").write_text(
        "=== system ===\nAnswer as JSON like {{ skeleton }}\n=== user ===\n{{ report }}\n"
    )
    (d / "ae.yaml").write_text(f"""
name: adverse_events
prompts:
  naive: {d / "ae.txt"}
fields:
  - name: drug_name
    type: str
    description: the suspected drug
  - name: adverse_events
    type: list
""")
    return load_task(d / "ae.yaml")


# --- The schema --------------------------------------------------------------------------------


def test_schema_of_the_elmtex_task(task):
    schema = task_json_schema(task)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert list(schema["properties"]) == task.field_names == schema["required"]
    assert len(schema["properties"]) == 15
    for f in task.fields:
        assert schema["properties"][f.name] == {
            "type": "string",
            "pattern": VALUE_PATTERN,
            "description": f.description,
        }
    assert schema["x-guidance"] == {
        "whitespace_flexible": False,
        "item_separator": ", ",
        "key_separator": ": ",
    }
    assert task_json_schema(task, "compact")["x-guidance"] == {"whitespace_flexible": False}
    json.dumps(schema)  # plain JSON, as the vLLM request needs it


def test_schema_of_a_task_with_a_list_field(list_task):
    schema = task_json_schema(list_task)
    assert schema["title"] == "adverse_events"
    assert schema["properties"]["drug_name"] == {
        "type": "string",
        "pattern": VALUE_PATTERN,
        "description": "the suspected drug",
    }
    assert schema["properties"]["adverse_events"] == {
        "type": "array",
        "items": {"type": "string", "pattern": VALUE_PATTERN},
    }
    assert schema["required"] == ["drug_name", "adverse_events"]


def test_schema_without_the_guard_and_a_bad_mode(task):
    schema = task_json_schema(task, "none")
    assert "x-guidance" not in schema
    assert all(p["type"] == "string" and "pattern" not in p for p in schema["properties"].values())
    with pytest.raises(ValueError, match="json_whitespace"):
        task_json_schema(task, "pretty")
    # The guard is the same in every mode but none: the value pattern.
    assert task_json_schema(task, "compact")["properties"] == task_json_schema(task)["properties"]


def test_config_switches_it_on_and_renames_the_run():
    off = load_config()
    assert off["generation"]["constrained"] is False and schema_from_config(off) is None
    assert GenerationSettings.from_config(off).json_schema is None
    on = load_config(ROOT / "configs/experiments/constrained_cpu_demo.yaml")
    settings = GenerationSettings.from_config(on)
    assert settings.json_schema == task_json_schema(load_task(on["task"]))
    assert run_name(off, "naive") == "naive-qwen2.5-coder-0.5b-instruct-demo-test"
    assert run_name(on, "naive") == "naive_constrained-qwen2.5-coder-0.5b-instruct-demo-test"
    # The GPU recipe keeps its base settings and adds the constraint.
    gpu = load_config(ROOT / "configs/experiments/gpu_llama31_8b_naive_constrained.yaml")
    assert gpu["backend"]["name"] == "vllm" and gpu["generation"]["constrained"] is True
    assert gpu["generation"]["temperature"] == 0.1


def test_decisive_generation_keeps_old_fingerprints():
    g = {"max_new_tokens": 512, "temperature": 0.0, "top_p": 1.0, "seed": 1234}
    assert decisive_generation({**g, "constrained": False, "json_whitespace": "spaced"}) == g
    on = {**g, "constrained": True, "json_whitespace": "spaced"}
    assert decisive_generation(on) == on


# --- The whitespace guard, in llguidance's token masks --------------------------------------


@pytest.fixture(scope="module")
def accepts(test_model_dir):
    """accepts(schema, text): whether the grammar of `schema` lets the test model write `text`,
    token by token."""
    import llguidance
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(test_model_dir)
    ll = llguidance_tokenizer(tok, len(tok), [tok.eos_token_id])

    def check(schema: dict, text: str) -> bool:
        matcher = llguidance.LLMatcher(ll, llguidance_grammar(schema), log_level=0)
        ids = tok(text, add_special_tokens=False).input_ids
        return matcher.validate_tokens(ids) == len(ids)

    return check


def test_the_guard_refuses_free_whitespace(task, accepts):
    answer = {f: "N/A" for f in task.field_names}
    answer["signs_symptoms"] = "Übelkeit; Fieber 38,5 °C"
    spaced_text = json.dumps(answer, ensure_ascii=False)  # json.dumps's own layout
    compact_text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    indented = json.dumps(answer, ensure_ascii=False, indent=2)
    spaced, compact, free = (task_json_schema(task, w) for w in ("spaced", "compact", "none"))
    assert accepts(spaced, spaced_text) and accepts(compact, compact_text)
    assert all(accepts(free, t) for t in (spaced_text, compact_text, indented))
    # Each guard allows its one layout between JSON tokens: no newline, no second space.
    for layout, schema in (
        (spaced_text, compact),
        (compact_text, spaced),
        (indented, spaced),
        (indented, compact),
    ):
        assert not accepts(schema, layout)
    for runaway in (
        '{ "life_style"',
        '{"life_style":  "',
        '{"life_style": "N/A",  "',
        '{"life_style": "N/A",\n',
        "{" + " " * 40,
    ):
        assert not accepts(spaced, runaway), runaway
        assert accepts(free, runaway), runaway
    # Both guards: none but single spaces inside values.
    for value in ("a  b", "\\n", " a", "a "):
        assert not accepts(spaced, '{"life_style": "' + value + '"'), value
        assert not accepts(compact, '{"life_style":"' + value + '"'), value
        assert accepts(free, '{"life_style": "' + value + '"'), value
    # None lets the answer leave the schema.
    for wrong in (
        '{"diagnosis"',
        '{"life_style": ["a"]',
        '{"life_style":["a"]',
        spaced_text[:-1] + ', "extra": "x"}',
    ):
        assert not any(accepts(s, wrong) for s in (spaced, compact, free)), wrong


# --- Generation with the real test model ----------------------------------------------------


@pytest.fixture(scope="module")
def backend(test_model_dir):
    return TransformersBackend(str(test_model_dir), dtype="float32", device="cpu")


@pytest.mark.slow
def test_constrained_stage_parses_every_record(tmp_path, test_model_dir, task):
    """The naive stage, constrained, on two demo test records (en, de) in one batch of two: the
    German answer ends by itself (about 160 tokens); in the English one the test model repeats
    a sentence inside a value until the token budget closes the answer. Both parse, fit the
    schema and keep the whitespace guard. (Unconstrained, the test model's answers rarely parse
    at all.)"""
    args = small_run_args(tmp_path, "constrained", limit=1, max_new_tokens=640, batch_size=2)
    proc = run_script("cache_results_naive.py", *args, "--set", "generation.constrained=true")
    assert "'parse_failures': 0" in proc.stdout
    rows = [row for _, row in read_jsonl(tmp_path / "cache" / "constrained.jsonl")]
    assert len(rows) == 2 and {r["batch_size"] for r in rows} == {2}
    assert sorted(r["finish_reason"] for r in rows) == ["budget", "stop"]
    for r in rows:
        assert r["parse_error"] is None and r["completion_tokens"] <= 640
        assert assert_fits(task, r["raw"]) == r["parsed"]
    manifest = json.loads((tmp_path / "cache" / "constrained.manifest.json").read_text())
    assert manifest["decisive"]["generation"]["constrained"] is True
    # The same run name without the constraint would mix answers: refused.
    again = run_script("cache_results_naive.py", *args, check=False)
    assert again.returncode == 1 and "run.name" in again.stderr


ADVERSE_EVENTS = [
    [
        {"role": "system", "content": "Answer in JSON with drug_name and adverse_events."},
        {"role": "user", "content": "After ibuprofen I got a rash and nausea."},
    ],
    [
        {"role": "system", "content": "Answer in JSON with drug_name and adverse_events."},
        {"role": "user", "content": "Metformin gave me stomach cramps."},
    ],
]


@pytest.mark.slow
def test_sampled_batch_with_a_list_field(backend, list_task):
    """Sampling (the mask comes before temperature and top-p) in a batch of two: each row
    follows its own matcher to a complete answer, and the list field is a JSON list."""
    settings = GenerationSettings(
        160, temperature=0.7, top_p=0.9, seed=7, json_schema=task_json_schema(list_task)
    )
    gens = backend.generate(ADVERSE_EVENTS, settings)
    assert len(gens) == 2
    for g in gens:
        assert g.finish_reason in ("stop", "budget"), g.text
        assert isinstance(assert_fits(list_task, g.text)["adverse_events"], list)


@pytest.mark.slow
def test_the_token_budget_closes_the_answer(backend, task, list_task):
    """With no more tokens than the closing reserve, every answer is closed from the first token
    on: nothing but empty values (lists included), and it parses and fits the schema; with a
    few tokens more, the same holds for what the model writes before the budget runs short."""
    from elmtex.constrained import closing_reserve

    for t in (task, list_task):
        schema = task_json_schema(t)
        budget = closing_reserve(schema, backend.tokenizer)
        for g in backend.generate(ADVERSE_EVENTS, GenerationSettings(budget, json_schema=schema)):
            assert g.finish_reason == "budget" and g.completion_tokens <= budget, g.text
            assert all(v in ("", []) for v in assert_fits(t, g.text).values()), g.text
    schema = task_json_schema(task)
    budget = closing_reserve(schema, backend.tokenizer) + 30
    for g in backend.generate(ADVERSE_EVENTS, GenerationSettings(budget, json_schema=schema)):
        assert g.finish_reason in ("stop", "budget") and g.completion_tokens <= budget, g.text
        assert_fits(task, g.text)


# --- vLLM and OpenAI-compatible requests ---------------------------------------------------


def test_vllm_request_uses_structured_outputs(task):
    schema = task_json_schema(task)
    kwargs = vllm_sampling_kwargs(GenerationSettings(64, 0.1, 1.0, 1234, schema))
    assert kwargs["structured_outputs"] == {"json": schema}
    assert "guided_json" not in kwargs and kwargs["max_tokens"] == 64
    assert "structured_outputs" not in vllm_sampling_kwargs(GenerationSettings(64))
    cfg = load_config(ROOT / "configs/experiments/gpu_llama31_8b_naive_constrained.yaml")
    assert vllm_structured_outputs_config(cfg) == {
        "backend": "guidance",
        "disable_any_whitespace": False,
    }
    compact = load_config(
        ROOT / "configs/experiments/gpu_llama31_8b_naive_constrained.yaml",
        ["generation.json_whitespace=compact"],
    )
    assert vllm_structured_outputs_config(compact)["disable_any_whitespace"] is True
    assert vllm_structured_outputs_config(load_config()) is None


def test_openai_request_sends_the_schema_as_response_format(task):
    schema = task_json_schema(task)
    conv = [{"role": "user", "content": "hi"}]
    body = openai_request_body("m", conv, GenerationSettings(32, json_schema=schema))
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "elmtex", "schema": schema},
    }
    assert "response_format" not in openai_request_body("m", conv, GenerationSettings(32))


@pytest.mark.slow
def test_openai_backend_constrained_through_a_server(backend, list_task):
    server = ChatServer(backend)
    try:
        client = OpenAIBackend(server.url, TEST_MODEL, concurrency=1)
        settings = GenerationSettings(160, json_schema=task_json_schema(list_task))
        (g,) = client.generate(ADVERSE_EVENTS[:1], settings)
        assert g.finish_reason == "stop", g.error or g.text
        assert_fits(list_task, g.text)
        assert (
            server.requests[0]["response_format"]["json_schema"]["schema"] == settings.json_schema
        )
    finally:
        server.close()
