"""The answer scorer's weights file, and fitting it leave-documents-out (``python -m eval tune``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from answer.scoring import FEATURES, ScorerWeightsError, load_weights
from eval.suites import write_cmrc_suite
from eval.qa import load_qa_set
from eval.tune import QuestionUnits, evaluate, fit_weights, leave_documents_out

NAMES = list(FEATURES)


def test_the_shipped_weights_name_only_known_features_and_a_threshold():
    scorer = load_weights()
    assert set(scorer.weights) <= set(FEATURES) and scorer.weights["coverage"] > 0
    assert isinstance(scorer.abstain_threshold, float)


@pytest.mark.parametrize("content, problem", [
    ("{", "cannot read"),
    ('{"weights": {"coverage": 1}}', "cannot read"),
    ('{"weights": {"shoe_size": 1}, "abstain_threshold": 0.3}', "unknown features"),
    ('{"weights": {"coverage": "high"}, "abstain_threshold": 0.3}', "cannot read"),
])
def test_a_bad_weights_file_is_refused_by_name(tmp_path, content, problem):
    path = tmp_path / "w.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScorerWeightsError, match=problem) as error:
        load_weights(path)
    assert str(path) in str(error.value) and "eval tune" in str(error.value)


def synthetic_questions(seed: int = 0, per_group: int = 8, groups: int = 6) -> list[QuestionUnits]:
    """Questions whose answer unit is the one with the highest bigram coverage; coverage is noise."""
    rng = np.random.default_rng(seed)
    questions = []
    for g in range(groups):
        for q in range(per_group):
            features = np.zeros((10, len(NAMES)))
            features[:, NAMES.index("coverage")] = rng.uniform(0.2, 1.0, 10)
            features[:, NAMES.index("bigram_coverage")] = rng.uniform(0.0, 0.5, 10)
            answer = int(rng.integers(10))
            features[answer, NAMES.index("bigram_coverage")] = 0.9
            labels = np.zeros(10, bool)
            labels[answer] = True
            questions.append(QuestionUnits("s", f"{g}-{q}", f"s:doc{g}", True, features, labels))
    return questions


def test_fitting_learns_the_feature_that_picks_the_answer():
    hand = load_weights()
    questions = synthetic_questions()
    fitted = fit_weights(questions, hand)
    assert fitted.weights["bigram_coverage"] > 1.0  # coverage is scaled to 1; the real signal outweighs it
    assert evaluate(questions, fitted)["top_unit_right"] > evaluate(questions, hand)["top_unit_right"]
    assert evaluate(questions, fitted)["wrongly_refused"] <= 0.03  # the threshold is chosen for that


def test_leave_documents_out_reports_hand_and_held_out_fitted_figures():
    report = leave_documents_out(synthetic_questions(), load_weights(), folds=3)
    row = report["s"]
    assert row["fitted (leave-documents-out)"]["answerable"] == row["hand"]["answerable"] == 48
    assert row["fitted (leave-documents-out)"]["top_unit_right"] > row["hand"]["top_unit_right"]


def test_cmrc_paragraphs_become_documents_and_questions(tmp_path):
    data = {"data": [{"title": "跑跑", "paragraphs": [{"id": "P1", "context": "甲是乙。生命数耗完即算为踢爆。", "qas": [
        {"id": "P1_Q0", "question": "生命数耗完即算为什么？", "answers": [{"text": "踢爆", "answer_start": 13}]},
        {"id": "P1_Q1", "question": "", "answers": [{"text": "甲", "answer_start": 0}]}]}]}]}
    write_cmrc_suite(data, tmp_path / "corpus", tmp_path / "qa.jsonl", 0)
    assert (tmp_path / "corpus" / "P1.txt").read_text(encoding="utf-8").startswith("跑跑\n\n甲是乙。")
    cases = load_qa_set(tmp_path / "qa.jsonl")
    assert [(c.id, c.answers, c.evidence, c.docs) for c in cases] == [
        ("P1_Q0", ("踢爆",), ("生命数耗完即算为踢爆。",), ("P1.txt",))]
    assert json.loads((tmp_path / "qa.jsonl").read_text(encoding="utf-8").splitlines()[0])["answer_mode"] == "any"


def test_answerability_model_is_fitted_with_few_wrong_refusals_and_read_back(tmp_path):
    from answer.answerability import ANSWERABILITY_FEATURES, load_answerability
    from eval.tune import fit_answerability, write_answerability

    rng = np.random.default_rng(1)
    names = list(ANSWERABILITY_FEATURES)
    questions = []
    for i in range(200):
        answerable = i % 4 != 0
        row = np.zeros(len(names))
        row[names.index("best_coverage")] = rng.uniform(0.5, 1.0) if answerable else rng.uniform(0.0, 0.6)
        questions.append(QuestionUnits("s", str(i), f"s:d{i % 7}", answerable, np.zeros((1, len(FEATURES))),
                                       np.array([answerable]), row))
    model = fit_answerability(questions)
    assert model.weights["best_coverage"] > 0
    confidences = [model.confidence(dict(zip(names, q.confidence_features))) for q in questions]
    wrongly = sum(c < model.threshold for c, q in zip(confidences, questions) if q.answerable)
    refused = sum(c < model.threshold for c, q in zip(confidences, questions) if not q.answerable)
    assert wrongly <= 0.01 * 150 + 1 and refused > 10
    path = tmp_path / "a.json"
    write_answerability(path, model, "test", {})
    read = load_answerability(path)
    assert read.threshold == model.threshold and read.weights == pytest.approx(model.weights, abs=1e-4)
    assert load_answerability(tmp_path / "none.json") is None
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="a.json"):
        load_answerability(path)


def test_fitting_only_some_features_keeps_the_others_and_the_floor():
    hand = load_weights()
    fitted = fit_weights(synthetic_questions(), hand, only=("bigram_coverage",))
    assert fitted.weights["bigram_coverage"] > 0
    assert {k: v for k, v in fitted.weights.items() if k != "bigram_coverage"} == pytest.approx(
        {k: v for k, v in hand.weights.items() if k != "bigram_coverage"}, abs=1e-3)
    assert fitted.abstain_threshold == hand.abstain_threshold
