import json

import pytest

from elmtex.config import ConfigError
from elmtex.prompts import PromptTemplate
from elmtex.task import load_task


def test_elmtex_task_has_15_string_fields(task):
    assert len(task.fields) == 15 and all(f.type == "str" for f in task.fields)
    assert task.field_names[0] == "life_style" and task.field_names[-1] == "gender"
    assert task.na_value == "N/A" and task.item_separator == "; "


def test_items_and_na(task):
    assert task.items("N/A") == []
    assert task.items("fever; cough;  rash ") == ["fever", "cough", "rash"]
    assert task.items("fever;cough") == ["fever", "cough"]
    assert task.is_na(" N/A ") and not task.is_na("")


def test_coerce_prediction(task):
    pred = task.coerce_prediction(
        {"diagnosis": ["asthma", "COPD"], "age": 45, "signs_symptoms": [], "extra": "ignored"}
    )
    assert pred["diagnosis"] == "asthma; COPD"
    assert pred["age"] == "45"
    assert pred["signs_symptoms"] == "N/A"  # an empty list means nothing found
    assert pred["gender"] == ""  # missing is empty, not N/A
    assert set(pred) == set(task.field_names)
    assert all(v == "" for v in task.coerce_prediction(None).values())


def test_naive_prompt_renders_fields_skeleton_and_report(task):
    tpl = PromptTemplate(task.prompt_path("naive"))
    msgs = tpl.render(task, "Ein 45-jähriger Mann mit Übelkeit.")
    assert [m["role"] for m in msgs] == ["system", "user"]
    system = msgs[0]["content"]
    for name in task.field_names:
        assert name in system
    skeleton = json.loads(system[system.index("{") :])
    assert list(skeleton) == task.field_names and set(skeleton.values()) == {""}
    assert '"N/A"' in system and "not a list" in system
    assert msgs[1]["content"] == "Ein 45-jähriger Mann mit Übelkeit."


def test_unknown_placeholder_is_an_error(tmp_path, task):
    p = tmp_path / "p.txt"
    p.write_text("=== user ===\n{{ reprot }}\n")
    with pytest.raises(ConfigError, match="reprot"):
        PromptTemplate(p).render(task, "x")


def test_prompt_without_sections_is_an_error(tmp_path):
    p = tmp_path / "p.txt"
    p.write_text("Just text {{ report }}\n")
    with pytest.raises(ConfigError, match="=== user ==="):
        PromptTemplate(p)


def test_a_second_task_needs_only_yaml_and_a_prompt(tmp_path):
    """Other fields, a list-valued field: no code change, just files."""
    (tmp_path / "ae.txt").write_text(
        "=== system ===\nExtract {% for f in fields %}{{ f.name }} ({{ f.type }}) {% endfor %}"
        "as JSON like {{ skeleton }}\n=== user ===\nEmail: {{ report }}\n"
    )
    (tmp_path / "ae.yaml").write_text(f"""
name: adverse_events
input_key: email
output_key: answer
prompts:
  naive: {tmp_path / "ae.txt"}
fields:
  - name: drug_name
    type: str
  - name: adverse_events
    type: list
""")
    t = load_task(tmp_path / "ae.yaml")
    assert t.skeleton() == {"drug_name": "", "adverse_events": []}
    msgs = PromptTemplate(t.prompt_path("naive")).render(t, "Ibuprofen gave me a rash.")
    assert "adverse_events (list)" in msgs[0]["content"]
    assert msgs[1]["content"] == "Email: Ibuprofen gave me a rash."
    assert t.validate_gold({"drug_name": "ibuprofen", "adverse_events": ["rash"]}) == []
    assert t.validate_gold({"drug_name": "x", "adverse_events": "rash"})
    assert t.coerce_prediction({"drug_name": "ibuprofen", "adverse_events": "rash; itch"}) == {
        "drug_name": "ibuprofen",
        "adverse_events": ["rash", "itch"],
    }


def test_bad_task_file(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("name: x\nfields:\n  - name: a\n    type: int\n")
    with pytest.raises(ConfigError, match="type"):
        load_task(p)
