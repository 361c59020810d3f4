import json
import os

import pytest

from elmtex.io import (
    DataError,
    JsonlAppender,
    load_split,
    read_jsonl,
    read_records,
    repair_torn_tail,
)


def good_record(task, rid="r1", **over):
    rec = {
        "id": rid,
        "lang": "en",
        "report": "A 40-year-old man with cough.",
        "summary": {f: "N/A" for f in task.field_names},
    }
    rec.update(over)
    return rec


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_malformed_jsonl_names_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    write_lines(p, ['{"a": 1}', "", '{"a": 2', '{"a": 3}'])
    with pytest.raises(DataError) as e:
        list(read_jsonl(p))
    assert f"{p}:3" in str(e.value)


def test_non_object_line(tmp_path):
    p = tmp_path / "x.jsonl"
    write_lines(p, ["[1, 2]"])
    with pytest.raises(DataError, match=":1: expected a JSON object"):
        list(read_jsonl(p))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"report": ""}, "'report' is empty"),
        ({"report": 5}, "'report' must be a string"),
        ({"id": ""}, "'id' must be a non-empty string"),
        ({"summary": "text"}, "must be an object"),
    ],
)
def test_record_problems_are_clear(tmp_path, task, change, message):
    p = tmp_path / "d.jsonl"
    write_lines(p, [json.dumps(good_record(task)), json.dumps(good_record(task, "r2", **change))])
    with pytest.raises(DataError) as e:
        read_records(p, task)
    assert f"{p}:2" in str(e.value) and message in str(e.value)


def test_missing_and_mistyped_fields(tmp_path, task):
    rec = good_record(task)
    del rec["summary"]["diagnosis"]
    rec["summary"]["age"] = 40
    p = tmp_path / "d.jsonl"
    write_lines(p, [json.dumps(rec)])
    with pytest.raises(DataError) as e:
        read_records(p, task)
    assert "'diagnosis' is missing" in str(e.value)
    assert "'age' must be a string" in str(e.value)


def test_duplicate_ids(tmp_path, task):
    p = tmp_path / "d.jsonl"
    write_lines(p, [json.dumps(good_record(task)), json.dumps(good_record(task))])
    with pytest.raises(DataError, match="duplicate id 'r1'"):
        read_records(p, task)


def test_missing_file_is_clear(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        list(read_jsonl(tmp_path / "nope.jsonl"))


def test_repair_torn_tail(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "ra')
    assert repair_torn_tail(p) is True
    assert p.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    assert repair_torn_tail(p) is False
    single = tmp_path / "s.jsonl"
    single.write_bytes(b'{"id": "torn')
    assert repair_torn_tail(single) and single.read_bytes() == b""


def test_appender_writes_whole_lines_and_appends(tmp_path):
    p = tmp_path / "sub" / "c.jsonl"
    with JsonlAppender(p) as out:
        out.write_many([{"id": "a", "t": "Übelkeit"}])
    with JsonlAppender(p) as out:
        out.write_many([{"id": "b"}])
    rows = [r for _, r in read_jsonl(p)]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["t"] == "Übelkeit"
    assert "Übelkeit" in p.read_text(encoding="utf-8")  # stored as UTF-8, not \\u escapes
    assert oct(os.stat(p).st_mode)[-3:] == "644"


def test_shipped_demo_splits_are_valid(task):
    from elmtex import ROOT

    for lang in ("en", "de"):
        for split, n in (("train", 300), ("val", 40), ("test", 40)):
            assert len(read_records(ROOT / "data/demo" / lang / f"{split}.jsonl", task)) >= n
    recs = load_split(ROOT / "data/demo", ["en", "de"], "test", task, limit=3)
    assert [r["lang"] for r in recs] == ["en"] * 3 + ["de"] * 3
