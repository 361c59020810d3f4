import pytest
from rouge_score import rouge_scorer

from elmtex.scoring import Policies, UnicodeRougeTokenizer, make_rouge_scorer, score_records
from elmtex.summaries import summarize


def score_run(
    task, gold, cached, policies, entity_backend=None, bert=None, n_boot=1000, seed=1234
) -> dict:
    """score_records then summarize, as evaluate.py chains them: one run's metrics."""
    scores = score_records(task, gold, cached, policies, entity_backend=entity_backend, bert=bert)
    return summarize(
        scores,
        policies,
        getattr(entity_backend, "name", None),
        bert.describe() if bert is not None else None,
        n_boot,
        seed,
    )


@pytest.mark.parametrize(
    "gold, pred",
    [
        ("acute myocardial infarction; hypertension", "myocardial infarction"),
        ("Troponin T 0.45 ng/mL; CRP 87 mg/L", "troponin 0.45 ng/ml, crp 87"),
        ("coronary angiography", "percutaneous coronary intervention with stenting"),
        ("a b c", "c b a"),
    ],
)
def test_rouge_equals_rouge_score_on_ascii(gold, pred):
    ours = make_rouge_scorer(True).score(gold, pred)
    ref = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(
        gold, pred
    )
    for t in ("rouge1", "rouge2", "rougeL"):
        assert ours[t].fmeasure == pytest.approx(ref[t].fmeasure)


def test_tokenizer_keeps_german_and_units():
    tok = UnicodeRougeTokenizer(use_stemmer=True)
    assert tok.tokenize("Übelkeit und Größe 5 µg") == ["übelkeit", "und", "größe", "5", "µg"]
    # the library's default would reduce these to fragments
    default = rouge_scorer.RougeScorer(["rouge1"]).score("Übelkeit", "belkeit")["rouge1"]
    assert default.fmeasure == 1.0
    ours = make_rouge_scorer().score("Übelkeit", "belkeit")["rouge1"]
    assert ours.fmeasure == 0.0


def _gold(task, rid, lang="en", **fields):
    s = {f: "N/A" for f in task.field_names}
    s.update(fields)
    return rid, {"id": rid, "lang": lang, "report": "x", "summary": s}


def _row(rid, parsed):
    return {"id": rid, "parsed": parsed, "finish_reason": "stop"}


def test_score_run_policies(task):
    gold = dict(
        [
            _gold(task, "a", diagnosis="asthma", age="40 years"),
            _gold(task, "b", diagnosis="pneumonia; sepsis"),
        ]
    )
    rows = [
        _row("a", {"diagnosis": "asthma", "age": "40 years", "life_style": "smoker"}),
        _row("b", None),
    ]
    m = score_run(task, gold, rows, Policies("empty", "exclude"))
    assert m["parse_rate"] == 0.5
    diag = m["per_category"]["diagnosis"]
    assert diag["n_scored"] == 2 and diag["rouge1"] == pytest.approx(0.5)  # 1.0 and 0.0
    assert "age" not in m["per_category"]["age"].keys() - {"na"}  # no text metric for age
    assert m["per_category"]["age"].get("rouge1") is None
    # life_style: gold N/A everywhere -> excluded from text metrics
    assert m["per_category"]["life_style"]["n_scored"] == 0
    # N/A agreement: record a predicted "smoker" where gold was N/A -> a missed N/A
    assert m["per_category"]["life_style"]["na"]["recall"] == 0.0

    skipped = score_run(task, gold, rows, Policies("skip", "exclude"))
    assert skipped["per_category"]["diagnosis"]["rouge1"] == pytest.approx(1.0)
    assert skipped["skipped_unparseable"] == 1

    matched = score_run(task, gold, rows[:1], Policies("empty", "match"))
    # life_style: gold N/A, predicted "smoker" -> 0; family_history: both N/A (missing -> "")
    assert matched["per_category"]["life_style"]["rouge1"] == 0.0
    assert matched["per_category"]["family_history"]["rouge1"] == 0.0  # "" is not N/A
    both = score_run(
        task, gold, [_row("a", {f: "N/A" for f in task.field_names})], Policies("empty", "match")
    )
    assert both["per_category"]["family_history"]["rouge1"] == 1.0


def test_missing_ids_and_foreign_rows(task):
    gold = dict([_gold(task, "a", diagnosis="asthma"), _gold(task, "b", diagnosis="x")])
    m = score_run(task, gold, [_row("a", {}), _row("zzz", {})], Policies())
    assert m["n_records"] == 1 and m["missing_ids"] == ["b"]


def test_bad_policy_names():
    with pytest.raises(ValueError, match="unparseable"):
        Policies(unparseable="drop")
    with pytest.raises(ValueError, match="gold_na"):
        Policies(gold_na="ignore")


def test_entities_exact_match_and_schema_validity(task):
    from elmtex.entities import ItemsBackend

    gold = dict(
        [
            _gold(task, "a", diagnosis="asthma; COPD", age="40 years", gender="male"),
            _gold(task, "b", diagnosis="pneumonia", age="N/A", gender="female"),
        ]
    )
    pred_a = {f: "N/A" for f in task.field_names}
    pred_a.update(diagnosis="Asthma; heart failure", age="40 Years", gender="male")
    rows = [_row("a", pred_a), _row("b", {"diagnosis": ["pneumonia"], "gender": "male"})]
    m = score_run(task, gold, rows, Policies(), entity_backend=ItemsBackend(task))
    ent = m["per_category"]["diagnosis"]["entity"]
    assert (ent["tp"], ent["fp"], ent["fn"]) == (2, 1, 1)  # asthma, pneumonia | heart f. | COPD
    assert m["overall"]["entity_micro"]["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert m["per_category"]["age"]["exact_match"] == 0.5  # "40 Years" matches; "" is not N/A
    assert m["per_category"]["gender"]["exact_match"] == 0.5
    assert m["schema_valid_rate"] == 0.5  # b lacks fields and has a list


def test_bertscore_in_score_run_equals_the_scorer_on_the_same_pairs(task):
    from elmtex.bertscore import FieldBertScorer

    bert = FieldBertScorer("all-minilm-l6-v2")
    gold = dict(
        [
            _gold(task, "a", diagnosis="acute appendicitis", signs_symptoms="fever"),
            _gold(task, "b", lang="de", diagnosis="akute Appendizitis"),
        ]
    )
    rows = [
        _row("a", {"diagnosis": "appendicitis", "signs_symptoms": "N/A"}),
        _row("b", {"diagnosis": "Blinddarmentzündung"}),
    ]
    m = score_run(task, gold, rows, Policies(), bert=bert)
    direct = bert.score_pairs(
        ["appendicitis", "Blinddarmentzündung"], ["acute appendicitis", "akute Appendizitis"]
    )
    assert m["per_category"]["diagnosis"]["bertscore_f1"] == pytest.approx(sum(direct) / 2)
    assert m["per_category"]["signs_symptoms"]["bertscore_f1"] == 0.0  # predicted N/A
    assert m["bertscore"]["hash"] == bert.hash and not m["bertscore"]["rescaled"]
