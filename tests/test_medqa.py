"""Medical question answering (configs/tasks/medqa_*.yaml): the shipped synthetic set, robust
multiple-choice parsing, BLEU and accuracy in the evaluation, the passage index of the real
retriever service with BM25 reranking, and the unchanged pipeline plus the RAG and judge stages
on the real test model (retrieval, caching, judging, resuming, agreement in evaluate.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests
from conftest import ROOT, TEST_MODEL, run_script, start_retriever

import elmtex.synth.medqa as qd
from elmtex.config import ConfigError
from elmtex.io import load_split, read_jsonl
from elmtex.judge import agreement, judge_score
from elmtex.passages import BM25Reranker, load_passages, passage_text
from elmtex.qa import parse_choice, sentence_bleu
from elmtex.scoring import Policies, score_records
from elmtex.summaries import per_record_metrics, summarize
from elmtex.task import load_task

OPEN_CONFIG = "configs/experiments/medqa_open_cpu.yaml"
LETTERS = ["A", "B", "C", "D"]


@pytest.fixture(scope="module")
def mc_task():
    return load_task("configs/tasks/medqa_mc.yaml")


@pytest.fixture(scope="module")
def open_task():
    return load_task("configs/tasks/medqa_open.yaml")


# --- the shipped data ------------------------------------------------------------------------


def test_shipped_files_are_what_the_generator_writes(tmp_path):
    run_script("scripts/make_qa_data.py", "--out", str(tmp_path))
    rels = [
        "medqa_passages.jsonl",
        *(f"medqa_{f}/en/{s}.jsonl" for f in ("open", "mc") for s in ("train", "test")),
    ]
    for rel in rels:
        assert (ROOT / "data" / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel
    assert qd.generate_questions() == qd.generate_questions()
    assert qd.generate_questions(seed=7) != qd.generate_questions()


def test_every_answer_stands_in_its_passage_and_mc_options_are_sound(open_task, mc_task):
    passages = {p["id"]: p for p in load_passages(ROOT / "data" / "medqa_passages.jsonl")}
    assert len(passages) == 2 * len(qd.FACTS)
    for split in ("train", "test"):
        opens = load_split(ROOT / "data" / "medqa_open", ["en"], split, open_task)
        mcs = load_split(ROOT / "data" / "medqa_mc", ["en"], split, mc_task)  # validates
        assert len(opens) == len(mcs) > 40
        for o, m in zip(opens, mcs, strict=True):
            answer = o["gold"]["answer"]
            assert answer in passages[o["passage_ids"][0]]["text"]
            assert m["options"][m["gold"]["answer"]] == answer
            assert len(set(m["options"].values())) == 4
            assert m["question"].startswith(o["question"])  # the same question, plus options
            # the condition is named in the question and in its passage's title
            assert o["meta"]["condition"].lower() in o["question"].lower()
            assert o["meta"]["condition"].lower() in passages[o["passage_ids"][0]]["title"].lower()
    letters = [
        r["gold"]["answer"] for r in load_split(ROOT / "data" / "medqa_mc", ["en"], "test", mc_task)
    ]
    assert set(letters) == set(LETTERS)  # the right answer is not always in one place


def test_a_choice_outside_the_choices_is_refused_with_file_and_line(tmp_path, mc_task):
    rec = json.loads((ROOT / "data/medqa_mc/en/test.jsonl").read_text().splitlines()[0])
    rec["gold"]["answer"] = "E"
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "test.jsonl").write_text(json.dumps(rec) + "\n")
    with pytest.raises(Exception, match=r"test.jsonl:1.*one of \['A', 'B', 'C', 'D'\]"):
        load_split(tmp_path, ["en"], "test", mc_task)
    bad = tmp_path / "task.yaml"
    bad.write_text("name: x\nfields:\n  - name: answer\n    type: choice\n")
    with pytest.raises(ConfigError, match="choices"):
        load_task(bad)


# --- parsing and scoring -----------------------------------------------------------------------

OPTIONS = {"A": "metformin", "B": "insulin therapy", "C": "type 1 diabetes", "D": "diabetes"}


@pytest.mark.parametrize(
    "said, expected",
    [
        ("B", "B"),
        ("b", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        ("**B**", "B"),
        ("[C]", "C"),
        ("B) insulin therapy", "B"),
        ("C. type 1 diabetes", "C"),
        ("D: diabetes", "D"),
        ("Answer: A", "A"),
        ("The correct answer is (D).", "D"),
        ("I would pick option c", "C"),
        ('{"answer": "B', "B"),  # a broken JSON answer, read from the raw text
        ("Metformin", "A"),
        ("It is insulin therapy.", "B"),
        ("type 1 diabetes", "C"),  # not also "diabetes": whole option texts, the longer one wins
        ("I think (C) fits best", "C"),
        ("A serious complication is sepsis.", None),  # an article, not a choice
        ("metformin or insulin therapy", None),  # two options named
        ("The answer is A or B", None),
        ("", None),
        (None, None),
        ("E", None),
    ],
)
def test_parse_choice(said, expected):
    assert parse_choice(said, LETTERS, OPTIONS) == expected


def test_parse_choice_takes_any_choice_set():
    assert parse_choice("Yes, because ...", ["yes", "no", "maybe"]) == "yes"
    assert parse_choice("answer: maybe", ["yes", "no", "maybe"]) == "maybe"


def test_sentence_bleu_orders_answers_by_overlap():
    ref = "oral iron supplementation"
    exact, partial, wrong = (
        sentence_bleu(p, ref)
        for p in ("oral iron supplementation", "iron supplementation by mouth", "blood transfusion")
    )
    assert exact == pytest.approx(1.0)
    assert 0.0 < partial < exact and wrong < partial and wrong < 0.1


def test_choice_accuracy_and_bleu_in_the_evaluation(mc_task, open_task):
    gold = {
        r["id"]: r for r in load_split(ROOT / "data/medqa_mc", ["en"], "test", mc_task, limit=4)
    }
    ids = list(gold)
    right = [gold[i]["gold"]["answer"] for i in ids]
    wrong = LETTERS[(LETTERS.index(right[3]) + 1) % 4]
    rows = [
        {"id": ids[0], "parsed": {"answer": right[0].lower()}, "raw": ""},
        {"id": ids[1], "parsed": None, "raw": f"The answer is ({right[1]})"},  # no JSON
        {"id": ids[2], "parsed": {"answer": gold[ids[2]]["options"][right[2]]}, "raw": ""},
        {"id": ids[3], "parsed": {"answer": wrong}, "raw": ""},
    ]
    scores = score_records(mc_task, gold, rows, Policies(exclude_fields=()))
    assert scores.text_fields == [] and scores.exact_fields == ["answer"]
    m = summarize(scores, Policies(exclude_fields=()), n_boot=50)
    assert m["per_category"]["answer"]["exact_match"] == pytest.approx(0.75)
    assert m["headline"]["exact_answer"]["label"] == "answer accuracy"
    assert m["parse_rate"] == pytest.approx(0.75)
    assert per_record_metrics(scores)["answer accuracy"].tolist() == [1, 1, 1, 0]

    gold = {
        r["id"]: r for r in load_split(ROOT / "data/medqa_open", ["en"], "test", open_task, limit=2)
    }
    ids = list(gold)
    rows = [
        {"id": ids[0], "parsed": {"answer": gold[ids[0]]["gold"]["answer"]}},
        {"id": ids[1], "parsed": {"answer": "something else entirely"}},
    ]
    scores = score_records(open_task, gold, rows, Policies(exclude_fields=()), bleu=True)
    m = summarize(scores, Policies(exclude_fields=()), n_boot=50)
    bleu = per_record_metrics(scores)["BLEU"]
    assert bleu[0] == pytest.approx(1.0) and bleu[1] < 0.1
    assert m["overall"]["bleu"] == pytest.approx(bleu.mean())


def test_judge_scores_and_agreement():
    assert [
        judge_score(p)
        for p in (
            {"score": "4"},
            {"score": 5},
            {"score": 3.0},
            {"score": "2/5"},
            {"score": "6"},
            {"score": True},
            {"score": "good"},
            {},
            None,
        )
    ] == [4, 5, 3, 2, None, None, None, None, None]
    judge = np.array([1, 2, 3, 4, 5, np.nan])
    a = agreement(
        judge,
        {
            "same": np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.9]),
            "reverse": np.array([5.0, 4, 3, 2, 1, 0]),
            "constant": np.ones(6),
        },
    )
    assert a["same"]["spearman"] == pytest.approx(1.0) and a["same"]["n"] == 5
    assert a["reverse"]["kendall"] == pytest.approx(-1.0)
    assert a["constant"]["spearman"] is None  # no ranks to correlate, said so, not nan


# --- retrieval of passages -------------------------------------------------------------------


def test_bm25_prefers_the_passage_with_the_query_terms():
    texts = [
        "Gout is caused by urate crystals.",
        "Asthma is treated with inhaled steroids.",
        "Urate crystals in gout are seen under polarised light.",
    ]
    bm25 = BM25Reranker(texts)
    s = bm25.scores("What is seen under polarised light in gout?", [0, 1, 2])
    assert s[2] > s[0] > s[1] == 0.0


@pytest.fixture(scope="module")
def qa_service(tmp_path_factory):
    """The real retriever service over the free-text QA training split and the passages."""
    d = tmp_path_factory.mktemp("qa-retriever")
    service = start_retriever(
        d / "index",
        "task=configs/tasks/medqa_open.yaml",
        "data.dir=data/medqa_open",
        "data.langs=[en]",
        "retriever.passages.path=data/medqa_passages.jsonl",
        "retriever.dtype=auto",
        log_dir=d,
    )
    try:
        yield service
    finally:
        service.stop()


def test_passage_service_retrieves_and_reranks(qa_service):
    health = requests.get(qa_service.url + "/health", timeout=10).json()
    assert health["passages"]["count"] == 76 and health["passages"]["reranker"] == "bm25"
    q = "Which investigation confirms the diagnosis of gout?"
    dense = requests.post(
        qa_service.url + "/passages", json={"query": q, "k": 5}, timeout=30
    ).json()["passages"]
    assert len(dense) == 5 and [p["dense_rank"] for p in dense] == [1, 2, 3, 4, 5]
    assert all(p["rerank_score"] is None for p in dense)
    reranked = requests.post(
        qa_service.url + "/passages", json={"query": q, "k": 5, "rerank_to": 2}, timeout=30
    ).json()
    ps = reranked["passages"]
    assert len(ps) == 2 and {p["id"] for p in ps} <= {p["id"] for p in dense}
    assert ps[0]["rerank_score"] >= ps[1]["rerank_score"]
    assert ps[0]["id"].startswith("p-gout-")  # the condition's own passage comes first
    # The passages' own texts, titles included, are what is indexed.
    collection = {p["id"]: p for p in load_passages(ROOT / "data/medqa_passages.jsonl")}
    assert ps[0]["text"] == collection[ps[0]["id"]]["text"]
    assert passage_text(collection[ps[0]["id"]]).startswith(collection[ps[0]["id"]]["title"])
    for body, message in (
        ({"query": q, "k": 3, "rerank_to": 4}, "rerank_to"),
        ({"query": "", "k": 3}, "query"),
        ({"query": q}, "'k' is missing"),
        ({"query": q, "k": 3, "lang": "en"}, "unknown key"),
    ):
        r = requests.post(qa_service.url + "/passages", json=body, timeout=30)
        assert r.status_code == 400 and message in r.json()["error"], body


# --- the stages, end to end on the test model --------------------------------------------------


def test_rag_and_judge_stages_then_evaluation(qa_service, tmp_path, test_model_dir):
    common = [
        "--config",
        OPEN_CONFIG,
        "--set",
        f"model.name_or_path={TEST_MODEL}",
        "--set",
        "data.limit=3",
        "--set",
        "backend.batch_size=3",
        "--set",
        f"run.cache_dir={tmp_path / 'cache'}",
        "--set",
        f"run.results_dir={tmp_path / 'results'}",
        "--set",
        f"icl.url={qa_service.url}",
    ]
    rag = "rag-smollm2-135m-instruct-medqa_open-test"
    out = run_script("cache_results_rag.py", *common, "--set", "generation.max_new_tokens=24")
    assert "3 records, k=5 passages each, reranked to 2" in out.stdout
    rows = [row for _, row in read_jsonl(tmp_path / "cache" / f"{rag}.jsonl")]
    assert len(rows) == 3
    gold = {
        r["id"]: r
        for r in load_split(
            ROOT / "data/medqa_open", ["en"], "test", load_task("configs/tasks/medqa_open.yaml"), 3
        )
    }
    for row in rows:
        assert len(row["rag_passage_ids"]) == row["rag_retrieved"] == 2  # 5 reranked to 2
        # BM25 puts one of the question's condition's passages into the prompt
        condition = gold[row["id"]]["passage_ids"][0].rsplit("-", 1)[0]
        assert any(p.startswith(condition) for p in row["rag_passage_ids"])

    # The judge: the test model grades the 3 answers, constrained to the judgment's schema.
    out = run_script("judge.py", *common, "--runs", rag, "--set", "judge.max_new_tokens=40")
    judged = [row for _, row in read_jsonl(tmp_path / "cache" / f"judge-{rag}.jsonl")]
    assert len(judged) == 3 and all(r["judged_run"] == rag for r in judged)
    assert all(set(r["parsed"]) == {"rationale", "score"} for r in judged)
    assert all(judge_score(r["parsed"]) is not None for r in judged)
    assert all(r["judge_context_ids"] == gold[r["id"]]["passage_ids"] for r in judged)
    # Resumable: a rerun has nothing left to judge.
    out = run_script("judge.py", *common, "--runs", rag, "--set", "judge.max_new_tokens=40")
    assert "'skipped': 3, 'written': 0" in out.stdout
    # Another judge prompt refuses to mix its judgments into the same cache.
    other = tmp_path / "judge.txt"
    other.write_text((ROOT / "prompts/judge.txt").read_text() + "\nBe strict.\n")
    out = run_script(
        "judge.py", *common, "--runs", rag, "--set", f"judge.prompt={other}", check=False
    )
    assert out.returncode != 0 and "--overwrite" in out.stderr

    out = run_script("evaluate.py", *common, "--runs", rag)
    metrics = json.loads((tmp_path / "results" / rag / "metrics.json").read_text())
    assert metrics["overall"]["bleu"] is not None
    j = metrics["judge"]
    assert j["n_judged"] == 3 and sum(j["score_counts"].values()) == 3 - j["n_invalid"]
    assert set(j["agreement"]) == {"ROUGE-L", "BLEU", "BERTScore F1"}
    assert "LLM as judge" in out.stdout
