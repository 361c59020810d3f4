"""Sharded caching: two shards as two concurrent real processes of cache_results_naive.py, merged,
equal one unsharded run; the merge's refusals; the shard spec and SLURM array environment."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, run_script

from elmtex.config import ConfigError, load_config
from elmtex.io import SplitRecords, read_jsonl, write_json, write_jsonl
from elmtex.sharding import (
    Shard,
    ShardError,
    merge_shards,
    parse_shard,
    shard_from_env,
    shard_number_of,
)
from elmtex.task import load_task

# Fields that say when and how a row was made, not what the model answered.
TIMING = ("latency_s", "created_at", "batch_size")


def answers(path):
    return {
        row["id"]: {k: v for k, v in row.items() if k not in TIMING} for _, row in read_jsonl(path)
    }


@pytest.mark.slow
def test_two_concurrent_shards_merge_to_the_unsharded_run(tmp_path, test_model_dir):
    # One record per language: by the sha256 of the demo ids, the German one is shard 1 of 2,
    # the English one shard 2. Batch 1, so batch composition cannot change an answer.
    common = [
        "--set",
        "model.name_or_path=smollm2-135m-instruct",
        "--set",
        "data.limit=1",
        "--set",
        "backend.batch_size=1",
        "--set",
        "generation.max_new_tokens=8",
        "--set",
        "run.name=sharded",
    ]
    sharded = [*common, "--set", f"run.cache_dir={tmp_path / 'shards'}"]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
    }
    script = str(ROOT / "cache_results_naive.py")
    # Shard 1 from --shard; shard 2 as task 2 of a SLURM array --array=1-2 (no --shard).
    slurm = {
        "SLURM_ARRAY_TASK_ID": "2",
        "SLURM_ARRAY_TASK_MIN": "1",
        "SLURM_ARRAY_TASK_MAX": "2",
        "SLURM_ARRAY_TASK_COUNT": "2",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, script, *sharded, "--shard", "1/2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [sys.executable, script, *sharded],
            cwd=ROOT,
            env={**env, **slurm},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, f"{out}\n{err}"
    assert "shard 1/2 (from --shard)" in outs[0][0]
    assert "shard 2/2 (from SLURM array)" in outs[1][0]
    shard_dir = tmp_path / "shards"
    for n in (1, 2):
        rows = answers(shard_dir / f"sharded.shard-000{n}-of-0002.jsonl")
        assert list(rows) == [f"demo-{'de' if n == 1 else 'en'}-test-0001"]
        manifest = json.loads(
            (shard_dir / f"sharded.shard-000{n}-of-0002.manifest.json").read_text()
        )
        assert manifest["shard"] == {"number": n, "count": 2, "assignment": "sha256(id) mod count"}

    merged = run_script("scripts/merge_shards.py", *sharded)
    assert "sharded: 2 shards, 2 rows" in merged.stdout

    whole = [*common, "--set", f"run.cache_dir={tmp_path / 'whole'}"]
    run_script("cache_results_naive.py", *whole)
    expected = answers(tmp_path / "whole" / "sharded.jsonl")
    assert len(expected) == 2
    assert answers(shard_dir / "sharded.jsonl") == expected

    merged_manifest = json.loads((shard_dir / "sharded.manifest.json").read_text())
    whole_manifest = json.loads((tmp_path / "whole" / "sharded.manifest.json").read_text())
    assert merged_manifest["fingerprint"] == whole_manifest["fingerprint"]
    assert "shard" not in merged_manifest
    assert [m["file"] for m in merged_manifest["merged_from"]] == [
        "sharded.shard-0001-of-0002.jsonl",
        "sharded.shard-0002-of-0002.jsonl",
    ]

    # The merged cache is an ordinary one: the unsharded stage finds every record done.
    again = run_script("cache_results_naive.py", *sharded, "--shard", "off")
    assert "'skipped': 2, 'written': 0" in again.stdout


# --- the merge's refusals, on shard files written as the stage writes them --------------------


@pytest.fixture()
def split_ids(task):
    return [r["id"] for r in SplitRecords(ROOT / "data/demo", ["en", "de"], "test", task, 3)]


def write_shards(
    cache_dir, ids, count=2, run="r", fingerprint="abc", rows_for=None, skip_manifest=(), limit=3
):
    """Shard files and manifests of `run` as cache_results_*.py writes them."""
    cfg = load_config(None, [f"data.limit={limit}"])
    for n in range(1, count + 1):
        stem = cache_dir / f"{run}{Shard(n, count).suffix()}"
        own = [i for i in ids if shard_number_of(i, count) == n]
        rows = rows_for(n, own) if rows_for else [{"id": i, "raw": "{}", "parsed": {}} for i in own]
        write_jsonl(stem.with_name(stem.name + ".jsonl"), rows)
        if n in skip_manifest:
            continue
        write_json(
            stem.with_name(stem.name + ".manifest.json"),
            {
                "run": run,
                "method": "naive",
                "fingerprint": fingerprint,
                "decisive": {"fp": fingerprint},
                "backend": "transformers",
                "model": {"name_or_path": "m"},
                "config": cfg,
                "shard": {**Shard(n, count).describe()},
                "created_at": "now",
            },
        )


def test_merge_streams_rows_and_writes_an_ordinary_manifest(tmp_path, split_ids):
    write_shards(tmp_path, split_ids, count=3)
    result = merge_shards(tmp_path, "r")
    assert result["rows"] == 6 and result["shards"] == 3
    merged = [row["id"] for _, row in read_jsonl(tmp_path / "r.jsonl")]
    assert sorted(merged) == sorted(split_ids)
    manifest = json.loads((tmp_path / "r.manifest.json").read_text())
    assert manifest["fingerprint"] == "abc" and "shard" not in manifest
    assert len(manifest["merged_from"]) == 3
    assert merge_shards(tmp_path, "r")["rows"] == 6  # merging again replaces its own merge


def test_merge_refuses_a_missing_shard_file(tmp_path, split_ids):
    write_shards(tmp_path, split_ids, count=3)
    (tmp_path / "r.shard-0002-of-0003.jsonl").unlink()
    with pytest.raises(ShardError, match=r"missing shard files .*r\.shard-0002-of-0003\.jsonl"):
        merge_shards(tmp_path, "r")


def test_merge_refuses_a_missing_manifest(tmp_path, split_ids):
    write_shards(tmp_path, split_ids, skip_manifest=(2,))
    with pytest.raises(ShardError, match=r"r\.shard-0002-of-0002\.jsonl has no manifest"):
        merge_shards(tmp_path, "r")


def edit_manifest(path, change) -> None:
    m = json.loads(path.read_text())
    change(m)
    path.write_text(json.dumps(m))


def test_merge_refuses_shards_of_other_settings(tmp_path, split_ids):
    write_shards(tmp_path, split_ids)
    edit_manifest(
        tmp_path / "r.shard-0002-of-0002.manifest.json",
        lambda m: m.update(fingerprint="other", decisive={"fp": "other"}),
    )
    with pytest.raises(
        ShardError,
        match=r"r\.shard-0002-of-0002\.manifest\.json and .*"
        r"r\.shard-0001-of-0002\.manifest\.json differ in "
        r"'fingerprint'",
    ):
        merge_shards(tmp_path, "r")


def test_merge_refuses_shards_of_another_data_selection(tmp_path, split_ids):
    write_shards(tmp_path, split_ids)
    edit_manifest(
        tmp_path / "r.shard-0001-of-0002.manifest.json",
        lambda m: m["config"]["data"].update(limit=2),
    )
    with pytest.raises(ShardError, match="differ in config 'data'"):
        merge_shards(tmp_path, "r")


def test_merge_refuses_mixed_shard_counts(tmp_path, split_ids):
    write_shards(tmp_path, split_ids, count=2)
    write_shards(tmp_path, split_ids, count=3)
    with pytest.raises(ShardError, match=r"different shard counts: .*of-0002.*of-0003"):
        merge_shards(tmp_path, "r")


def test_merge_refuses_a_manifest_of_another_shard_number(tmp_path, split_ids):
    write_shards(tmp_path, split_ids)
    edit_manifest(
        tmp_path / "r.shard-0002-of-0002.manifest.json", lambda m: m["shard"].update(number=1)
    )
    with pytest.raises(ShardError, match="says shard 1/2, its file name says 2/2"):
        merge_shards(tmp_path, "r")


def test_merge_refuses_duplicate_ids(tmp_path, split_ids):
    def twice(n, own):
        rows = [{"id": i} for i in own]
        return rows + rows[:1] if n == 1 else rows

    write_shards(tmp_path, split_ids, rows_for=twice)
    first = [i for i in split_ids if shard_number_of(i, 2) == 1]
    again = len(first) + 1  # the line of the repeated row
    with pytest.raises(
        ShardError,
        match=rf"duplicate ids .*{first[0]} \(.*shard-0001-of-0002\."
        rf"jsonl:1, .*shard-0001-of-0002\.jsonl:{again}\)",
    ):
        merge_shards(tmp_path, "r")
    assert not (tmp_path / "r.jsonl").exists()


def test_merge_refuses_a_gap_naming_the_unfinished_shard(tmp_path, split_ids):
    write_shards(
        tmp_path,
        split_ids,
        rows_for=lambda n, own: [{"id": i} for i in (own[:-1] if n == 2 else own)],
    )
    gone = [i for i in split_ids if shard_number_of(i, 2) == 2][-1]
    with pytest.raises(
        ShardError,
        match=rf"1 ids of the split are in no shard file \(e\.g\. "
        rf"{gone}; unfinished: r\.shard-0002-of-0002\.jsonl\)",
    ):
        merge_shards(tmp_path, "r")
    assert merge_shards(tmp_path, "r", check_split=False)["rows"] == 5  # a data-less machine


def test_merge_refuses_ids_outside_the_split(tmp_path, split_ids):
    extra = next(f"x-{k}" for k in range(100) if shard_number_of(f"x-{k}", 2) == 1)
    write_shards(tmp_path, [*split_ids, extra])
    with pytest.raises(ShardError, match=rf"not in the split .*: {extra}"):
        merge_shards(tmp_path, "r")


def test_merge_refuses_a_row_in_the_wrong_shard(tmp_path, split_ids):
    wrong = [i for i in split_ids if shard_number_of(i, 2) == 2][0]
    line = sum(shard_number_of(i, 2) == 1 for i in split_ids) + 1
    write_shards(
        tmp_path,
        split_ids,
        rows_for=lambda n, own: [{"id": i} for i in (own + [wrong] if n == 1 else own)],
    )
    with pytest.raises(
        ShardError,
        match=rf"shard-0001-of-0002\.jsonl:{line}: id '{wrong}' "
        r"belongs to shard 2/2",
    ):
        merge_shards(tmp_path, "r")


def test_merge_refuses_a_torn_last_line(tmp_path, split_ids):
    write_shards(tmp_path, split_ids)
    with open(tmp_path / "r.shard-0002-of-0002.jsonl", "a") as fh:
        fh.write('{"id": "half')
    with pytest.raises(ShardError, match=r"shard-0002-of-0002\.jsonl ends in a torn line"):
        merge_shards(tmp_path, "r")


def test_merge_leaves_an_unrelated_cache_alone(tmp_path, split_ids):
    write_shards(tmp_path, split_ids)
    (tmp_path / "r.jsonl").write_text('{"id": "mine"}\n')
    with pytest.raises(ShardError, match="is not a merge of these shards"):
        merge_shards(tmp_path, "r")
    assert (tmp_path / "r.jsonl").read_text() == '{"id": "mine"}\n'
    assert merge_shards(tmp_path, "r", overwrite=True)["rows"] == 6


def test_merge_script_errors_in_one_line(tmp_path):
    proc = run_script(
        "scripts/merge_shards.py",
        "--set",
        f"run.cache_dir={tmp_path}",
        "--run",
        "nothing",
        check=False,
    )
    assert proc.returncode == 1
    assert "no shard files of run 'nothing'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_script("scripts/merge_shards.py", "--set", f"run.cache_dir={tmp_path}", check=False)
    assert proc.returncode == 1 and "name one with --run" in proc.stderr


# --- which records a shard takes; the shard spec; the SLURM array environment -----------------


def test_shards_partition_the_split_whatever_the_limit(task):
    for limit in (3, 40):
        records = SplitRecords(ROOT / "data/demo", ["en", "de"], "test", task, limit)
        ids = [r["id"] for r in records]
        for count in (1, 2, 3, 7):
            parts = [
                [r["id"] for r in Shard(n, count).select(records)] for n in range(1, count + 1)
            ]
            assert sorted(sum(parts, [])) == sorted(ids)  # disjoint, and together all of them
            # A record keeps its shard when the limit or the language order changes.
            other = SplitRecords(ROOT / "data/demo", ["de", "en"], "test", task, 40)
            for n, part in enumerate(parts, start=1):
                assert set(part) <= {r["id"] for r in Shard(n, count).select(other)}
    ae = load_task("configs/tasks/adverse_events.yaml")
    emails = SplitRecords(ROOT / "data/adverse_events", ["en"], "test", ae)
    sizes = [len(list(Shard(n, 4).select(emails))) for n in range(1, 5)]
    assert sum(sizes) == 70 and min(sizes) >= 10  # hashing spreads records evenly enough


@pytest.mark.parametrize(
    "spec, want",
    [("1/4", Shard(1, 4)), ("4/4", Shard(4, 4)), (" 2 / 3 ", Shard(2, 3)), ("off", None)],
)
def test_parse_shard(spec, want):
    assert parse_shard(spec) == want


@pytest.mark.parametrize(
    "spec, message",
    [
        ("0/4", r"1\.\.4 \(counted from 1\), got 0"),
        ("5/4", r"1\.\.4 \(counted from 1\), got 5"),
        ("1/0", "positive integer"),
        ("2", "--shard wants I/N"),
        ("a/b", "--shard wants"),
    ],
)
def test_bad_shard_specs_are_clear_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_shard(spec)


def array_env(task_id, low, high, count, step=None):
    env = {
        "SLURM_ARRAY_TASK_ID": str(task_id),
        "SLURM_ARRAY_TASK_MIN": str(low),
        "SLURM_ARRAY_TASK_MAX": str(high),
        "SLURM_ARRAY_TASK_COUNT": str(count),
    }
    if step is not None:
        env["SLURM_ARRAY_TASK_STEP"] = str(step)
    return env


@pytest.mark.parametrize(
    "env, want",
    [
        ({}, None),  # not an array job
        ({"SLURM_JOB_ID": "7"}, None),  # a plain SLURM job
        (array_env(0, 0, 3, 4), Shard(1, 4)),  # --array=0-3
        (array_env(3, 0, 3, 4), Shard(4, 4)),
        (array_env(1, 1, 4, 4), Shard(1, 4)),  # --array=1-4
        (array_env(4, 1, 4, 4), Shard(4, 4)),
        (array_env(12, 10, 13, 4), Shard(3, 4)),  # --array=10-13
        (array_env(8, 0, 12, 4, step=4), Shard(3, 4)),  # --array=0-12:4
        (array_env(5, 5, 5, 1), Shard(1, 1)),  # a one-task array
        (
            {k: v for k, v in array_env(2, 1, 4, 4).items() if k != "SLURM_ARRAY_TASK_MAX"},
            Shard(2, 4),
        ),  # MAX is optional
    ],
)
def test_shard_from_the_slurm_array_environment(env, want):
    assert shard_from_env(env) == want


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SLURM_ARRAY_TASK_ID": "1"}, "SLURM_ARRAY_TASK_COUNT is not"),
        (
            {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"},
            "SLURM_ARRAY_TASK_MIN is not",
        ),
        (array_env(7, 1, 7, 3), "has 3 tasks, not one per step"),  # --array=1,3,7
        (array_env(9, 0, 3, 4), "does not lie on the range 0-3:1"),
        (array_env(2, 0, 12, 4, step=4), "does not lie on the range 0-12:4"),
        ({**array_env(1, 0, 3, 4), "SLURM_ARRAY_TASK_COUNT": "four"}, "not an integer"),
    ],
)
def test_a_slurm_array_that_cannot_shard_is_refused(env, message):
    with pytest.raises(ShardError, match=message):
        shard_from_env(env)
