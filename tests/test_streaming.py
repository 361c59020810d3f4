"""The streaming readers and stores that keep memory flat at 60,000 records: io.SplitRecords /
iter_split, io.SplitIndex (gold by id, read from disk) and run_scores.RunScores (scores on disk by
gold position, bootstrapped in one streamed pass)."""

import json

import pytest
from conftest import ROOT

from elmtex.io import DataError, SplitIndex, SplitRecords, iter_split, load_split

DEMO = ROOT / "data/demo"


@pytest.mark.parametrize("limit", [None, 3, 0])
def test_split_index_is_the_dict_of_the_split(task, limit):
    want = {r["id"]: r for r in load_split(DEMO, ["en", "de"], "test", task, limit)}
    got = SplitIndex(DEMO, ["en", "de"], "test", task, limit)
    assert len(got) == len(want) and list(got) == list(want)
    assert all(got[i] == rec for i, rec in want.items())
    assert "demo-en-test-9999" not in got and got.get("x") is None
    with pytest.raises(KeyError):
        got["demo-en-test-9999"]


def test_split_records_streams_and_counts(task):
    keep = {"demo-en-test-0002", "demo-de-test-0003"}
    recs = SplitRecords(DEMO, ["en", "de"], "test", task, 3, keep=keep.__contains__)
    assert len(recs) == 2 and {r["id"] for r in recs} == keep
    assert [r["id"] for r in iter_split(DEMO, ["de"], "test", task, 2)] == [
        "demo-de-test-0001",
        "demo-de-test-0002",
    ]


def write_lines(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_split_index_names_bad_lines_and_duplicates(tmp_path, task):
    good = json.dumps(load_split(DEMO, ["en"], "test", task, 1)[0])
    write_lines(tmp_path / "en" / "test.jsonl", [good, "{not json"])
    with pytest.raises(DataError, match=r"en/test\.jsonl:2: not valid JSON"):
        SplitIndex(tmp_path, ["en"], "test", task)
    assert len(SplitIndex(tmp_path, ["en"], "test", task, 1)) == 1  # the limit stops before it
    write_lines(tmp_path / "en" / "test.jsonl", [good, "", good])
    with pytest.raises(
        DataError,
        match=r"test\.jsonl:3: duplicate id 'demo-en-test-0001' "
        r"\(first on line 1\)",
    ):
        SplitIndex(tmp_path, ["en"], "test", task)


def test_split_index_positions_are_file_order(task):
    got = SplitIndex(DEMO, ["en", "de"], "test", task)
    for k, rid in enumerate(got):
        position, rec = got.position_and_record(rid)
        assert position == k and rec["id"] == rid
    assert got.position_and_record("no-such-id") is None


def _cached_rows(task, gold):
    """Answers made from the gold: every third record loses its diagnosis, every fifth adds an
    item, one is no JSON."""
    rows = []
    for k, (rid, rec) in enumerate(gold.items()):
        pred = dict(rec["summary"])
        if k % 3 == 0:
            pred["diagnosis"] = "N/A"
        if k % 5 == 0:
            pred["signs_symptoms"] = pred["signs_symptoms"] + "; fatigue"
        rows.append({"id": rid, "finish_reason": "stop", "parsed": None if k == 4 else pred})
    return rows


def test_evaluation_does_not_depend_on_order_storage_or_gold_reader(task):
    """Scores sit on disk by gold position and the bootstrap weights are keyed by record id:
    the cache's order (a merge of shards, a resumed run) and the gold reader change nothing."""
    from elmtex.entities import ItemsBackend
    from elmtex.scoring import Policies, score_records
    from elmtex.summaries import compare_runs, summarize

    gold = {r["id"]: r for r in load_split(DEMO, ["en", "de"], "test", task)}
    rows = _cached_rows(task, gold)
    backend = ItemsBackend(task)

    def metrics(g, rs):
        return summarize(
            score_records(task, g, rs, Policies(), entity_backend=backend),
            Policies(),
            "items",
            n_boot=200,
        )

    base = metrics(gold, rows)
    shuffled = rows[1::2] + rows[::2]  # two shards, merged in another order
    assert metrics(gold, shuffled) == base
    assert metrics(SplitIndex(DEMO, ["en", "de"], "test", task), rows) == base
    # comparing against a run with fewer records uses the common records only, aligned by id
    full = score_records(task, gold, rows, Policies(), entity_backend=backend)
    part = score_records(task, gold, shuffled[:10], Policies(), entity_backend=backend)
    c = compare_runs({"full": full, "part": part}, "full", n_boot=100)
    assert c["n_common"] == 10 and c["n_per_run"] == {"full": len(rows), "part": 10}
    for m, d in c["diffs"]["part"]["overall"].items():  # the same answers on the same records
        assert d["diff"] in (0.0, None), m
        if d["diff"] == 0.0:
            assert d["low"] == d["high"] == 0.0
    assert full.ids == list(gold)  # gold order, whatever the cache order
