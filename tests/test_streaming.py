"""The streaming readers and compact stores that keep memory flat at 60,000 records:
io.SplitRecords / iter_split, io.SplitIndex (gold by id, read from disk) and rowstore.RowStore."""

import json

import numpy as np
import pytest
from conftest import ROOT

from elmtex.io import DataError, SplitIndex, SplitRecords, iter_split, load_split
from elmtex.rowstore import RowStore

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
        "demo-de-test-0001", "demo-de-test-0002"]


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
    with pytest.raises(DataError, match=r"test\.jsonl:3: duplicate id 'demo-en-test-0001' "
                                        r"\(first on line 1\)"):
        SplitIndex(tmp_path, ["en"], "test", task)


def test_row_store_behaves_like_the_list_it_replaces():
    rows = [[(1, 0, 2), (0.5, float("nan"), 3)] for _ in range(5000)]  # past one block
    store, plain = RowStore(), []
    for i, row in enumerate(rows):
        row = [(i, *row[0][1:]), row[1]]
        store.append(row)
        plain.append(row)
    store[4097][1][0] = 7.0  # item assignment through the row view
    plain[4097][1] = (7.0, *plain[4097][1][1:])
    assert len(store) == 5000
    np.testing.assert_array_equal(np.asarray(store, dtype=float), np.asarray(plain, dtype=float))
    assert np.asarray(RowStore()).shape == (0,)
    flat = RowStore()
    for x in (1.0, 0.0, float("nan")):
        flat.append(x)
    assert np.asarray(flat).shape == (3,) and flat[-1] != flat[-1]
    with pytest.raises(ValueError, match="shape"):
        flat.append([1.0, 2.0])
