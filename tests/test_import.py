import json
from pathlib import Path

from conftest import run_script

from elmtex.importing import convert_file, guess_split_lang
from elmtex.io import read_records


def _raw(task, **over):
    rec = {
        "report": "A 52-year-old woman with dyspnoea.",
        "summary": {f: "N/A" for f in task.field_names},
    }
    rec["summary"]["age"] = 52
    rec.update(over)
    return rec


def test_guess_split_lang():
    assert guess_split_lang(Path("test_en.json")) == ("test", "en")
    assert guess_split_lang(Path("train_de.jsonl")) == ("train", "de")
    assert guess_split_lang(Path("train.json")) == ("train", None)
    assert guess_split_lang(Path("dev-en.json")) == ("val", "en")


def test_convert_json_array_with_skips(tmp_path, task):
    bad_summary = _raw(task)
    del bad_summary["summary"]["diagnosis"]
    data = [
        _raw(task, patient_id="P1"),
        _raw(task, patient_uid="7665777-1", PMID="33492400"),
        _raw(task, report="  "),
        bad_summary,
        _raw(task, summary=json.dumps({f: "N/A" for f in task.field_names})),
        "not a record",
        _raw(task, patient_id="P1"),
    ]
    p = tmp_path / "test_en.json"
    p.write_text(json.dumps(data))
    recs, reasons, examples = convert_file(p, task, "en", "test")
    assert [r["id"] for r in recs] == ["P1", "7665777-1", "en-test-000004"]
    assert recs[0]["summary"]["age"] == "52"
    assert reasons["'report' is empty"] == 1
    assert reasons["duplicate id"] == 1
    assert reasons["not a JSON object"] == 1
    assert any("lacks fields ['diagnosis']" in k for k in reasons)
    assert examples[0].startswith(f"{p} item 2")


def test_import_script_end_to_end(tmp_path, task):
    src = tmp_path / "train_de.jsonl"
    src.write_text("\n".join(json.dumps(_raw(task, patient_id=f"D{i}")) for i in range(3)) + "\n")
    out = tmp_path / "out"
    proc = run_script("scripts/import_elmtex.py", str(src), "--out", str(out))
    assert "3 records written, 0 skipped" in proc.stdout
    recs = read_records(out / "de" / "train.jsonl", task)
    assert [r["lang"] for r in recs] == ["de"] * 3


def test_import_script_needs_split_and_lang(tmp_path):
    src = tmp_path / "records.json"
    src.write_text("[]")
    proc = run_script("scripts/import_elmtex.py", str(src), check=False)
    assert proc.returncode != 0 and "--split" in proc.stderr
    assert "Traceback" not in proc.stderr
