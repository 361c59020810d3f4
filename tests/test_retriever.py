"""The in-context example retriever: the real service (waitress + Flask) over the demo training
split with the real MiniLM model and real FAISS indexes, plus direct tests of its pieces."""

import copy
import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import requests
from conftest import ROOT, start_retriever

from elmtex.config import load_config
from elmtex.hardware import resolve_dtype
from elmtex.io import load_split, read_records, write_jsonl
from elmtex.retrieval import (
    Embedder,
    Retriever,
    RetrieverError,
    effective_index_settings,
    embedding_fingerprint,
    index_fingerprint,
    model_identity,
    normalise_text,
    records_digest,
    select_hits,
)

DEMO = ROOT / "data" / "demo"
EMBEDDING = re.compile(r"\] embedding \d+ records")  # the log line of a (re-)embedding
MAX_K = load_config()["retriever"]["max_k"]


def retrieve(service, report, k=3, lang="en", **extra):
    resp = requests.post(
        service.url + "/retrieve",
        timeout=30,
        json={"report": report, "k": k, "lang": lang, **extra},
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def ids_of(result):
    return [e["id"] for e in result["examples"]]


@pytest.fixture(scope="module")
def train(task):
    return {lang: read_records(DEMO / lang / "train.jsonl", task) for lang in ("en", "de")}


# --- the running service -----------------------------------------------------------------------


def test_health(retriever_service):
    resp = requests.get(retriever_service.url + "/health", timeout=10)
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["languages"] == {"en": 300, "de": 300}  # the whole split: data.limit is 20
    assert body["model"] == "all-minilm-l6-v2" and body["dim"] == 384
    assert body["max_seq_length"] == 512 and body["dtype"] == resolve_dtype("auto", "cpu")  # auto
    assert body["index"]["type"] == "flat" and body["split"] == "train"
    assert body["query_prefix"] == body["passage_prefix"] == ""
    assert set(body["fingerprints"]) == {"en", "de"}
    for lang, fp in body["fingerprints"].items():  # the index file the service opened
        assert len(list((retriever_service.index_dir / lang).glob(f"index-flat-{fp[:16]}.*")))


def test_response_shape_and_order(retriever_service, train):
    rec = train["en"][0]
    result = retrieve(retriever_service, rec["report"], k=5, exclude_ids=[rec["id"]])
    by_id = {r["id"]: r for r in train["en"]}
    assert len(result["examples"]) == 5
    for ex in result["examples"]:
        assert set(ex) == {"id", "report", "summary", "score"}
        assert ex["report"] == by_id[ex["id"]]["report"]
        assert ex["summary"] == by_id[ex["id"]]["summary"]  # the gold object, field order kept
        assert list(ex["summary"]) == list(by_id[ex["id"]]["summary"])
    scores = [ex["score"] for ex in result["examples"]]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0001 for s in scores)
    t = result["timing"]
    assert set(t) == {"embed_ms", "queue_ms", "search_ms", "total_ms"}
    assert t["embed_ms"] > 0 and t["search_ms"] > 0 and t["queue_ms"] >= 0
    assert t["total_ms"] >= t["embed_ms"] + t["queue_ms"] + t["search_ms"]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_neighbours_share_the_specialty(retriever_service, task, train, lang):
    """Test-split reports get training neighbours of their own specialty far more often than
    chance (the chance that a random training record has the query's specialty)."""
    counts = Counter(r["meta"]["specialty"] for r in train[lang])
    share = {s: c / len(train[lang]) for s, c in counts.items()}
    spec_of = {r["id"]: r["meta"]["specialty"] for r in train[lang]}
    queries = load_split(DEMO, [lang], "test", task)
    k, same, chance = 5, 0, 0.0
    for q in queries:
        got = ids_of(retrieve(retriever_service, q["report"], k=k, lang=lang))
        assert len(got) == k and set(got) <= set(spec_of)  # training records only
        same += sum(spec_of[i] == q["meta"]["specialty"] for i in got)
        chance += share.get(q["meta"]["specialty"], 0.0)
    observed, chance = same / (k * len(queries)), chance / len(queries)
    assert len(counts) >= 10 and chance < 0.15
    print(f"{lang}: same specialty {observed:.3f}, chance {chance:.3f}")
    assert observed >= 3 * chance, (observed, chance)  # MiniLM: en about 0.8, de 0.5


def test_never_returns_the_query_itself(retriever_service, train):
    for lang in ("en", "de"):
        for rec in train[lang][:8]:
            text = rec["report"]
            # Without exclusion the record would be its own best match (a slightly changed
            # text is not excluded and finds it first), so the checks below can fail.
            assert ids_of(retrieve(retriever_service, text + " Ok.", k=1, lang=lang)) == [rec["id"]]
            by_id = retrieve(retriever_service, text, k=4, lang=lang, exclude_ids=[rec["id"]])
            by_text = retrieve(retriever_service, text, k=4, lang=lang)
            respaced = retrieve(
                retriever_service, "  " + " \n ".join(text.split()) + "\n", k=4, lang=lang
            )
            for result in (by_id, by_text, respaced):
                assert rec["id"] not in ids_of(result) and len(result["examples"]) == 4
                assert all(ex["report"] != text for ex in result["examples"])
            assert ids_of(by_id) == ids_of(by_text)


def test_exclude_ids_still_gives_exactly_k(retriever_service, train):
    query = train["en"][5]["report"] + " Further details were not available."
    top = ids_of(retrieve(retriever_service, query, k=10))
    assert len(top) == 10
    result = retrieve(retriever_service, query, k=7, exclude_ids=top[:3] + ["no-such-id"])
    assert ids_of(result) == top[3:10]
    # Ids of the other language or unknown ids exclude nothing.
    assert (
        ids_of(retrieve(retriever_service, query, k=3, exclude_ids=[train["de"][0]["id"]]))
        == top[:3]
    )


def test_languages_are_separate(retriever_service, train):
    en_ids = {r["id"] for r in train["en"]}
    de_ids = {r["id"] for r in train["de"]}
    german_text = train["de"][3]["report"]
    # A German report asked for in English gets English records only, and the other way round.
    assert set(ids_of(retrieve(retriever_service, german_text, k=MAX_K, lang="en"))) <= en_ids
    got = ids_of(retrieve(retriever_service, train["en"][3]["report"], k=MAX_K, lang="de"))
    assert set(got) <= de_ids and len(got) == MAX_K
    # A German record's own text, asked for in German, is excluded; in English it never was.
    assert train["de"][3]["id"] not in ids_of(
        retrieve(retriever_service, german_text, k=MAX_K, lang="de")
    )


GOOD = {"report": "Fever and cough.", "k": 2, "lang": "en"}


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, got array"),
        (b'"text"', "must be a JSON object, got string"),
        ({**GOOD, "report": 5}, "'report' must be a string, got integer"),
        ({**GOOD, "report": "  \n"}, "'report' is empty"),
        ({**GOOD, "k": "3"}, "'k' must be an integer, got string"),
        ({**GOOD, "k": 2.0}, "'k' must be an integer, got number"),
        ({**GOOD, "k": True}, "'k' must be an integer, got boolean"),
        ({**GOOD, "lang": ["en"]}, "'lang' must be a string"),
        ({"k": 2, "lang": "en"}, "'report' is missing"),
        ({"report": "x", "lang": "en"}, "'k' is missing"),
        ({"report": "x", "k": 2}, "'lang' is missing"),
        ({**GOOD, "lang": "fr"}, "unknown language 'fr'"),
        ({**GOOD, "k": 0}, f"'k' must be between 1 and {MAX_K}, got 0"),
        ({**GOOD, "k": -1}, f"'k' must be between 1 and {MAX_K}, got -1"),
        ({**GOOD, "k": MAX_K + 1}, f"'k' must be between 1 and {MAX_K}, got {MAX_K + 1}"),
        ({**GOOD, "exclude_ids": "demo-en-train-0001"}, "'exclude_ids' must be a list of strings"),
        ({**GOOD, "exclude_ids": [1]}, "'exclude_ids' must be a list of strings"),
        ({**GOOD, "exclude_id": ["demo-en-train-0001"]}, "unknown key(s) ['exclude_id']"),
    ],
)
def test_bad_requests_get_400_with_a_message(retriever_service, body, message):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp = requests.post(
        retriever_service.url + "/retrieve",
        data=data,
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/json"
    assert message in resp.json()["error"], resp.json()


def test_limits_and_routes(retriever_service):
    url = retriever_service.url
    # The largest allowed k works; exclude_ids may be null.
    result = retrieve(retriever_service, "Fever and cough.", k=MAX_K, exclude_ids=None)
    assert len(result["examples"]) == MAX_K
    max_body = load_config()["retriever"]["max_body_bytes"]
    big = json.dumps({**GOOD, "report": "x" * max_body})
    resp = requests.post(
        url + "/retrieve", data=big, timeout=30, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 413 and "413" in resp.json()["error"]
    for method, path, status in [
        ("get", "/retrieve", 405),
        ("post", "/health", 405),
        ("get", "/nowhere", 404),
        ("post", "/", 404),
    ]:
        resp = getattr(requests, method)(url + path, timeout=10)
        assert resp.status_code == status, (method, path)
        assert resp.headers["Content-Type"] == "application/json"
        assert str(status) in resp.json()["error"]
    assert "POST" in requests.get(url + "/retrieve", timeout=10).headers["Allow"]
    # The service still answers after all of that.
    assert requests.get(url + "/health", timeout=10).status_code == 200


def mtimes(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.suffix in (".npy", ".faiss")}


def test_restart_reuses_the_index_then_ivf_reuses_the_embeddings(retriever_service, tmp_path):
    """A second start on the same index dir embeds nothing; switching to IVF builds only the
    index, from the stored embeddings. Both stop cleanly on SIGTERM."""
    index_dir = tmp_path / "index"
    shutil.copytree(retriever_service.index_dir, index_dir)
    before = mtimes(index_dir)
    assert len(before) == 4, sorted(before)  # embeddings and index, per language
    query = "A 7 year old boy with a febrile seizure; EEG was normal."
    expected = ids_of(retrieve(retriever_service, query, k=5))

    second = start_retriever(index_dir, "retriever.dtype=auto")
    try:
        assert ids_of(retrieve(second, query, k=5)) == expected
    finally:
        assert second.stop() == 0
    log = second.log()
    assert log.count("reusing index") == 2 and not EMBEDDING.search(log)
    assert "stopped" in log
    assert mtimes(index_dir) == before

    ivf = start_retriever(index_dir, "retriever.dtype=auto", "retriever.index.type=ivf")
    try:
        health = requests.get(ivf.url + "/health", timeout=10).json()
        assert health["index"] == {"type": "ivf", "nlist": 20, "nprobe": 5}
        got = ids_of(retrieve(ivf, query, k=5))
        assert len(got) == 5 and got[0] == expected[0]
    finally:
        assert ivf.stop() == 0
    log = ivf.log()
    assert log.count("reusing embeddings") == 2 and log.count("built ivf index") == 2
    assert not EMBEDDING.search(log)


# --- reuse and rebuild, in process (the same code the service runs) ----------------------------


@pytest.fixture(scope="module")
def embedder():
    """The default config's model (float32), on the service's torch_threads (1): one query
    at a time, as the service embeds them, and steady on cores other processes share."""
    import torch

    cfg = load_config()["retriever"]
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg["torch_threads"] or threads)
    try:
        yield Embedder(
            cfg["embedding_model"],
            cfg["device"],
            cfg["batch_size"],
            max_seq_length=cfg["max_seq_length"],
        )
    finally:
        torch.set_num_threads(threads)


def small_config(tmp_path: Path, task, n: int = 12, **retriever) -> dict:
    """A config over the first n English demo training records, copied to tmp_path."""
    data = tmp_path / "data"
    if not (data / "en" / "train.jsonl").exists():
        write_jsonl(
            data / "en" / "train.jsonl", read_records(DEMO / "en" / "train.jsonl", task)[:n]
        )
    cfg = load_config(
        overrides=[
            f"data.dir={data}",
            "data.langs=[en]",
            f"retriever.index_dir={tmp_path / 'index'}",
        ]
    )
    for key, value in retriever.items():
        node = cfg["retriever"]
        *parents, last = key.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return cfg


def open_retriever(cfg, task, embedder):
    lines = []
    r = Retriever.from_config(cfg, task, log=lines.append, embedder=embedder)
    return r, "\n".join(lines)


def stored(tmp_path):
    return {p.name: t for p, t in mtimes(tmp_path / "index" / "en").items()}


def test_reuse_and_rebuild_decisions(tmp_path, task, embedder):
    cfg = small_config(tmp_path, task)
    _, log = open_retriever(cfg, task, embedder)
    assert "embedding 12 records" in log and "built flat index" in log
    first = stored(tmp_path)
    assert len(first) == 2

    # Same settings: nothing is embedded or built, nothing rewritten.
    r, log = open_retriever(cfg, task, embedder)
    assert "reusing index" in log and not EMBEDDING.search(log) and "built" not in log
    assert stored(tmp_path) == first
    # A different query prefix or nprobe changes no stored file either.
    cfg2 = small_config(tmp_path, task, query_prefix="query: ", index__nprobe=3)
    _, log = open_retriever(cfg2, task, copy.copy(embedder))
    assert "reusing index" in log and stored(tmp_path) == first

    # IVF: the stored embeddings are reused, only the index is built; the flat one goes.
    cfg_ivf = small_config(tmp_path, task, index__type="ivf", index__nlist=4, index__nprobe=2)
    _, log = open_retriever(cfg_ivf, task, embedder)
    assert "reusing embeddings" in log and "built ivf index" in log and "embedding 12" not in log
    ivf_files = stored(tmp_path)
    assert [n for n in ivf_files if n.endswith(".npy")] == [n for n in first if n.endswith(".npy")]
    assert any(n.startswith("index-ivf-") for n in ivf_files)
    assert not any(n.startswith("index-flat-") for n in ivf_files)

    # A new passage prefix changes every stored vector: embed again.
    prefixed = copy.copy(embedder)
    prefixed.passage_prefix = "passage: "
    _, log = open_retriever(cfg, task, prefixed)
    assert "embedding 12 records" in log and not set(stored(tmp_path)) & set(first)

    # Changed data (one report edited): embed again, and the new text is what is served.
    path = tmp_path / "data" / "en" / "train.jsonl"
    recs = read_records(path, task)
    recs[0]["report"] = "Completely new text about a sprained ankle after football. " * 3
    write_jsonl(path, recs)
    r, log = open_retriever(cfg, task, embedder)
    assert "embedding 12 records" in log
    got = r.retrieve("sprained ankle football", 1, "en")["examples"][0]
    assert got["id"] == recs[0]["id"] and got["report"] == recs[0]["report"]


def test_a_damaged_index_file_is_rebuilt(tmp_path, task, embedder):
    cfg = small_config(tmp_path, task, n=8)
    open_retriever(cfg, task, embedder)
    index_file = next((tmp_path / "index" / "en").glob("index-*.faiss"))
    index_file.write_bytes(b"garbage")
    r, log = open_retriever(cfg, task, embedder)
    assert "cannot read" in log and "reusing embeddings" in log and "built flat index" in log
    assert len(r.retrieve("chest pain", 3, "en")["examples"]) == 3


def test_ivf_search_and_clamping(tmp_path, task, embedder):
    cfg = small_config(tmp_path, task, n=40, index__type="ivf", index__nlist=8, index__nprobe=1)
    ivf, _ = open_retriever(cfg, task, embedder)
    flat, log = open_retriever(small_config(tmp_path, task, n=40), task, embedder)
    assert "reusing embeddings" in log  # the same vectors, only the index differs
    recs = read_records(tmp_path / "data" / "en" / "train.jsonl", task)
    agree = 0
    for rec in recs[:10]:
        a = ivf.retrieve(rec["report"], 3, "en")["examples"]
        b = flat.retrieve(rec["report"], 3, "en")["examples"]
        assert len(a) == 3 and rec["id"] not in [e["id"] for e in a]
        agree += a[0]["id"] == b[0]["id"]
        # IVF scores are exact inner products of the candidates it found.
        assert all(e["score"] <= b[0]["score"] + 1e-5 for e in a)
    assert agree >= 6
    # One probed list of about 5 vectors cannot hold 20 hits: the search widens to all lists.
    assert len(ivf.retrieve(recs[0]["report"], 20, "en", [recs[1]["id"]])["examples"]) == 20

    # More lists than vectors: nlist is clamped to the vector count, and the log says so.
    tiny = tmp_path / "tiny"
    cfg = small_config(tiny, task, n=5, index__type="ivf", index__nlist=20, index__nprobe=5)
    r, log = open_retriever(cfg, task, embedder)
    assert "only 5 vectors for nlist 20: IVF built with nlist 5" in log
    assert r.health()["index"] == {"type": "ivf", "nlist": 5, "nprobe": 5}
    assert len(r.retrieve("cough", 4, "en")["examples"]) == 4


# --- pieces ------------------------------------------------------------------------------------


def test_fingerprints_change_with_what_the_vectors_depend_on(tmp_path):
    ids, texts = ["a", "b"], ["first report", "second report"]
    base = records_digest(ids, texts)
    assert records_digest(list(ids), list(texts)) == base
    assert records_digest(["a", "c"], texts) != base
    assert records_digest(ids, ["first report", "second report!"]) != base
    assert records_digest(ids[::-1], texts[::-1]) != base  # positions are part of the index
    assert records_digest(["a b"], [""]) != records_digest(["a"], ["b"])  # no ambiguity

    model = {"name": "m", "files": {"model.safetensors": "0" * 64}}
    fp = embedding_fingerprint(base, model, "")
    assert embedding_fingerprint(base, model, "passage: ") != fp
    assert (
        embedding_fingerprint(base, {**model, "files": {"model.safetensors": "1" * 64}}, "") != fp
    )
    assert embedding_fingerprint(base, {**model, "dtype": "bfloat16"}, "") != fp
    assert index_fingerprint(fp, {"type": "flat"}) != index_fingerprint(
        fp, {"type": "ivf", "nlist": 20}
    )
    assert index_fingerprint(fp, {"type": "ivf", "nlist": 20}) != index_fingerprint(
        fp, {"type": "ivf", "nlist": 10}
    )


def test_model_identity_hashes_the_files_that_matter(tmp_path):
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "1_Pooling" / "config.json").write_text("{}")
    (folder / "README.md").write_text("docs")
    first = model_identity("m", folder)
    assert set(first["files"]) == {"model.safetensors", "1_Pooling/config.json"}
    (folder / "README.md").write_text("other docs")
    assert model_identity("m", folder) == first
    (folder / "model.safetensors").write_bytes(b"weightz")
    assert model_identity("m", folder) != first
    # A Hugging Face cache snapshot links to a blob named by its sha256: that name is used.
    blob = tmp_path / ("ab" * 32)
    blob.write_bytes(b"big")
    os.symlink(blob, folder / "pytorch_model.bin")
    assert model_identity("m", folder)["files"]["pytorch_model.bin"] == "ab" * 32


def test_select_hits_and_normalisation():
    scores = np.array([0.9, 0.8, 0.7, 0.6, -1e38], dtype=np.float32)
    positions = np.array([4, 2, 7, 1, -1])
    assert [p for p, _ in select_hits(scores, positions, {2}, 2)] == [4, 7]
    assert [p for p, _ in select_hits(scores, positions, {4, 2, 7}, 3)] == [1]
    assert select_hits(scores, positions, set(), 9)[-1] == (1, pytest.approx(0.6))
    assert normalise_text(" A\tb\n\nc  ") == normalise_text("A b c") == "A b c"
    assert normalise_text("Übelkeit") == normalise_text("U\u0308belkeit")  # NFC


def test_index_settings():
    assert effective_index_settings("flat", 20, 5, 10) == ({"type": "flat"}, None)
    assert effective_index_settings("ivf", 20, 5, 60000) == (
        {"type": "ivf", "nlist": 20, "nprobe": 5},
        None,
    )
    settings, note = effective_index_settings("ivf", 20, 5, 3)
    assert settings == {"type": "ivf", "nlist": 3, "nprobe": 3} and "nlist 3" in note
    with pytest.raises(ValueError, match="index.type"):
        effective_index_settings("hnsw", 20, 5, 100)


def test_the_gpu_experiment_config_sets_the_studys_retriever():
    cfg = load_config("configs/experiments/gpu_e5_retriever.yaml")["retriever"]
    assert cfg["embedding_model"] == "intfloat/multilingual-e5-large"
    assert (cfg["query_prefix"], cfg["passage_prefix"]) == ("query: ", "passage: ")
    assert cfg["index"] == {"type": "ivf", "nlist": 20, "nprobe": 5}


def test_an_unknown_hub_model_is_a_one_line_error_offline():
    with pytest.raises(RetrieverError) as info:
        Embedder("no-such/model")
    message = str(info.value)
    assert message.startswith("cannot load embedding model 'no-such/model'")
    assert message.endswith("set HF_HUB_OFFLINE=0 to download a hub model)")
    assert "\n" not in message  # one line, whatever the hub client's text was
