"""``python -m eval tune``: fit the answer scorer's weights on Q&A suites, leave-documents-out.

For every answerable question the answerer's candidate units are collected with their named
features (:data:`answer.scoring.FEATURES`) and labelled by whether they hold a gold answer. A
pairwise logistic regression (scikit-learn) learns to rank answer units above the others, as
corrections to the hand weights; scaled so that term coverage keeps weight 1 (the other answer
rules compare scores as ratios), its coefficients become the scorer's weights. The refusal threshold is the lowest best-unit score that still wrongly refuses at most
``MAX_WRONG_REFUSALS`` of the answerable training questions.

Figures are leave-documents-out: questions are grouped by their main document, and the weights used
to rank a question's units were fitted without any question on that document.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from answer.engine import Answerer
from answer.answerability import ANSWERABILITY_FEATURES, AnswerabilityModel
from answer.scoring import FEATURES, ScorerWeights
from answer.types import AnswerError
from eval.qa import QACase
from eval.textmatch import normalize_for_match

MAX_WRONG_REFUSALS = 0.03
# The answerability model refuses on top of the rules (which already refuse ~1–2% of answerable questions):
# its own share of wrong refusals is held lower so that the total stays within MAX_WRONG_REFUSALS.
MAX_MODEL_WRONG_REFUSALS = 0.01
FOLDS = 5
REGULARISATION_C = 0.1  # chosen leave-documents-out among 0.05–3 (0.1: best on devcorpus and CMRC)
PAIR_POSITIVES = 3  # per question: its best-scored answer units …
PAIR_NEGATIVES = 15  # … against its best-scored other units (the ones that compete)
MAX_UNITS = 60  # the best units by the current weights: what the answer is chosen from


@dataclass(frozen=True)
class QuestionUnits:
    """One question's candidate units as feature rows, with labels (holds a gold answer)."""

    suite: str
    case_id: str
    group: str  # the main document: what leave-documents-out holds out
    answerable: bool
    features: np.ndarray  # (units, len(FEATURES))
    labels: np.ndarray  # (units,) bool
    confidence_features: np.ndarray = field(default_factory=lambda: np.zeros(len(ANSWERABILITY_FEATURES)))


def holds_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` holds one of ``answers`` (after the eval's normalisation).

    Example:
        >>> holds_answer("到2025年达到 4400 家", ["4400家"]), holds_answer("达到30家", ["40家"])
        (True, False)
    """
    normal = normalize_for_match(text)
    return any(normalize_for_match(a) and normalize_for_match(a) in normal for a in answers)


def collect(suite: str, cases: Sequence[QACase], answerer: Answerer, corpus: str = "") -> list[QuestionUnits]:
    """Every question's candidate units with features and labels, each question asked over the documents
    it is asked over in the suite. Questions are grouped by ``corpus`` and main document, so that suites
    over one corpus (cmrc, cmrc_negative) hold out a document's questions together."""
    names = list(FEATURES)
    rows = []
    for case in cases:
        try:
            _, profile, _, _, terms, units = answerer.candidates(case.question, case.history,
                                                                 case.searched_docs(answerer.documents))
        except AnswerError:
            continue
        confidence = answerer.confidence_features(profile, terms, units)
        units = units[:MAX_UNITS]
        features = np.array([[u.features.get(n, 0.0) for n in names] for u in units], dtype=float).reshape(-1, len(names))
        labels = np.array([case.answerable and holds_answer(u.subject, case.answers) for u in units], dtype=bool)
        main_doc = (case.docs or case.exclude_docs or (case.id,))[0]  # a negative is about the paragraph it lacks
        rows.append(QuestionUnits(suite, case.id, f"{corpus or suite}:{main_doc}",
                                  case.answerable, features, labels,
                                  np.array([confidence[n] for n in ANSWERABILITY_FEATURES], dtype=float)))
    return rows


def fit_weights(questions: Sequence[QuestionUnits], hand: ScorerWeights, only: Sequence[str] = ()) -> ScorerWeights:
    """Weights fitted on ``questions`` to rank each question's answer units above its other units, and a
    refusal threshold.

    Pairwise logistic regression (a linear RankNet): every (answer unit, other unit) pair of a question
    is one example, the difference of their features, with the hand weights' score difference as one
    more input, so the fit learns corrections to the hand weights rather than starting from nothing.
    The result is scaled so that term coverage keeps the hand weight (answer rules compare scores as ratios).
    With ``only``, just those features are fitted and every other keeps its hand weight.
    """
    from sklearn.linear_model import LogisticRegression

    prior = _vector(hand)
    differences, suites = [], []
    for question in questions:
        if not (question.answerable and question.labels.any() and not question.labels.all()):
            continue
        scores = question.features @ prior
        positives = question.features[question.labels][np.argsort(-scores[question.labels])][:PAIR_POSITIVES]
        negatives = question.features[~question.labels][np.argsort(-scores[~question.labels])][:PAIR_NEGATIVES]
        differences.append((positives[:, None, :] - negatives[None, :, :]).reshape(-1, len(FEATURES)))
        suites += [question.suite] * len(differences[-1])
    x = np.vstack(differences)
    # Every suite weighs the same in the fit, however many pairs its questions give (CMRC has the most).
    pairs_per_suite = {name: suites.count(name) for name in set(suites)}
    balance = np.array([len(suites) / (len(pairs_per_suite) * pairs_per_suite[name]) for name in suites])
    fitted = [i for i, name in enumerate(FEATURES) if not only or name in only]
    inputs = np.hstack([(x @ prior)[:, None], x[:, fitted]])
    y = np.r_[np.ones(len(inputs)), np.zeros(len(inputs))]
    model = LogisticRegression(C=REGULARISATION_C, fit_intercept=False, max_iter=5000).fit(
        np.vstack([inputs, -inputs]), y, sample_weight=np.r_[balance, balance])
    vector = model.coef_[0][0] * prior
    vector[fitted] += model.coef_[0][1:]
    if only:  # the hand weights stay as they are; the fitted ones are put on their scale
        vector = vector / model.coef_[0][0] if model.coef_[0][0] > 0 else prior
    coverage_at = list(FEATURES).index("coverage")
    scale = hand.weights.get("coverage", 1.0) / vector[coverage_at] if vector[coverage_at] > 0 else 1.0
    weights = {name: round(float(value * scale), 4) for name, value in zip(FEATURES, vector)}
    if only:  # the answerability model decides refusals; the score floor stays where the kept weights put it
        return ScorerWeights(weights, hand.abstain_threshold)
    return ScorerWeights(weights, refusal_threshold(questions, ScorerWeights(weights, 0.0)))


def _vector(scorer: ScorerWeights) -> np.ndarray:
    return np.array([scorer.weights.get(name, 0.0) for name in FEATURES])


def refusal_threshold(questions: Sequence[QuestionUnits], scorer: ScorerWeights) -> float:
    """The highest best-unit score that wrongly refuses at most ``MAX_WRONG_REFUSALS`` of the
    answerable questions whose units hold the answer."""
    best = sorted(_best_score(q, scorer) for q in questions if q.answerable and q.labels.any())
    if not best:
        return 0.0
    allowed = int(MAX_WRONG_REFUSALS * len(best))  # these many lowest are refused: at most the share allowed
    return math.floor(float(best[allowed]) * 10_000) / 10_000


def _scores(question: QuestionUnits, scorer: ScorerWeights) -> np.ndarray:
    return question.features @ _vector(scorer) if len(question.features) else np.zeros(0)


def _best_score(question: QuestionUnits, scorer: ScorerWeights) -> float:
    scores = _scores(question, scorer)
    return float(scores.max()) if len(scores) else float("-inf")


def top_unit_right(question: QuestionUnits, scorer: ScorerWeights) -> bool:
    """Whether the unit ``scorer`` ranks first holds the answer."""
    scores = _scores(question, scorer)
    return bool(len(scores)) and bool(question.labels[int(np.argmax(scores))])


def evaluate(questions: Sequence[QuestionUnits], scorer: ScorerWeights) -> dict[str, float | int]:
    """Over answerable questions: the answer unit ranked first (``ranked_first``), and so while not
    refused (``top_unit_right``); refusals (best score under the threshold) of answerable and
    unanswerable questions."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    refused = lambda q: _best_score(q, scorer) < scorer.abstain_threshold  # noqa: E731
    return {
        "answerable": len(answerable),
        "top_unit_right": _share(sum(top_unit_right(q, scorer) and not refused(q) for q in answerable), len(answerable)),
        "ranked_first": _share(sum(top_unit_right(q, scorer) for q in answerable), len(answerable)),
        "reachable": _share(sum(q.labels.any() for q in answerable), len(answerable)),
        "wrongly_refused": _share(sum(refused(q) for q in answerable), len(answerable)),
        "unanswerable": len(unanswerable),
        "refused_unanswerable": _share(sum(refused(q) for q in unanswerable), len(unanswerable)),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def leave_documents_out(questions: Sequence[QuestionUnits], hand: ScorerWeights, folds: int = FOLDS,
                        only: Sequence[str] = ()) -> dict[str, dict]:
    """Per suite: the hand weights, and weights fitted without the question's document (k folds of
    documents), each evaluated on the held-out questions only."""
    groups = sorted({q.group for q in questions})
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    held_out_scorers = {}
    for fold in range(folds):
        training = [q for q in questions if fold_of[q.group] != fold]
        held_out_scorers[fold] = fit_weights(training, hand, only)
    results: dict[str, dict] = {}
    for suite in sorted({q.suite for q in questions}):
        mine = [q for q in questions if q.suite == suite]
        fitted = {"answerable": 0, "unanswerable": 0}
        parts = [evaluate([q for q in mine if fold_of[q.group] == fold], held_out_scorers[fold]) for fold in range(folds)]
        for key in ("answerable", "unanswerable"):
            fitted[key] = sum(p[key] for p in parts)
        for key, base in (("top_unit_right", "answerable"), ("ranked_first", "answerable"), ("reachable", "answerable"),
                          ("wrongly_refused", "answerable"),
                          ("refused_unanswerable", "unanswerable")):
            fitted[key] = _share(round(sum(p[key] * p[base] for p in parts)), fitted[base])
        results[suite] = {"hand": evaluate(mine, hand), "fitted (leave-documents-out)": fitted}
    return results


def fit_answerability(questions: Sequence[QuestionUnits]) -> AnswerabilityModel:
    """A logistic model of "answerable" over the questions' confidence features, with the refusal threshold
    set so that at most ``MAX_MODEL_WRONG_REFUSALS`` of the answerable training questions are refused."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([q.confidence_features for q in questions])
    y = np.array([q.answerable for q in questions])
    model = LogisticRegression(C=REGULARISATION_C * 10, max_iter=5000, class_weight="balanced").fit(x, y)
    fitted = AnswerabilityModel(dict(zip(ANSWERABILITY_FEATURES, map(float, model.coef_[0]))), float(model.intercept_[0]), 0.0)
    answerable = sorted(_confidence(q, fitted) for q in questions if q.answerable)
    threshold = answerable[int(MAX_MODEL_WRONG_REFUSALS * len(answerable))] if answerable else 0.0
    return AnswerabilityModel(fitted.weights, fitted.intercept, math.floor(threshold * 10_000) / 10_000)


def _confidence(question: QuestionUnits, model: AnswerabilityModel) -> float:
    return model.confidence(dict(zip(ANSWERABILITY_FEATURES, question.confidence_features)))


def answerability_leave_documents_out(questions: Sequence[QuestionUnits], folds: int = FOLDS) -> dict[str, dict]:
    """Per suite, with models fitted without the question's document: unanswerable questions refused,
    answerable ones wrongly refused, and the curve of both over thresholds."""
    groups = sorted({q.group for q in questions})
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    models = {f: fit_answerability([q for q in questions if fold_of[q.group] != f]) for f in range(folds)}
    results = {}
    for suite in sorted({q.suite for q in questions}):
        mine = [(q, _confidence(q, models[fold_of[q.group]]), models[fold_of[q.group]].threshold)
                for q in questions if q.suite == suite]
        answerable = [(c, t) for q, c, t in mine if q.answerable]
        unanswerable = [(c, t) for q, c, t in mine if not q.answerable]
        curve = [{"threshold": t, "wrongly_refused": _share(sum(c < t for c, _ in answerable), len(answerable)),
                  "refused_unanswerable": _share(sum(c < t for c, _ in unanswerable), len(unanswerable))}
                 for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
        results[suite] = {
            "answerable": len(answerable), "unanswerable": len(unanswerable),
            "wrongly_refused": _share(sum(c < t for c, t in answerable), len(answerable)),
            "refused_unanswerable": _share(sum(c < t for c, t in unanswerable), len(unanswerable)),
            "curve": curve,
        }
    return results


def format_answerability_table(report: Mapping[str, dict]) -> str:
    """The model's refusals per suite (leave-documents-out), then its curve over thresholds."""
    lines = [f"{'suite':<10} {'answerable':>10} {'wrongly refused':>16} {'unanswerable':>13} {'refused':>8}"]
    for suite, r in report.items():
        lines.append(f"{suite:<10} {r['answerable']:>10} {r['wrongly_refused']:>16.1%} {r['unanswerable']:>13} "
                     f"{r['refused_unanswerable']:>8.1%}")
    lines.append("curve (threshold: wrongly refused / unanswerable refused): ")
    for suite, r in report.items():
        points = "  ".join(f"{p['threshold']:.1f}: {p['wrongly_refused']:.0%}/{p['refused_unanswerable']:.0%}" for p in r["curve"])
        lines.append(f"  {suite:<10} {points}")
    return "\n".join(lines)


def write_answerability(path: Path, model: AnswerabilityModel, note: str, report: Mapping[str, dict]) -> None:
    """Write the answerability model the answerer reads, with how it was fitted and its figures."""
    data = {"note": note, "threshold": model.threshold, "intercept": model.intercept,
            "weights": {name: round(model.weights.get(name, 0.0), 4) for name in ANSWERABILITY_FEATURES},
            "leave_documents_out": report}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_units(path: Path, questions: Sequence[QuestionUnits]) -> None:
    """Save collected candidate units (one .npz) so that fitting can be repeated without re-asking."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, q in enumerate(questions):
        arrays[f"f{i}"], arrays[f"l{i}"], arrays[f"c{i}"] = q.features, q.labels, q.confidence_features
    meta = [[q.suite, q.case_id, q.group, q.answerable] for q in questions]
    names = {"features": list(FEATURES), "confidence": list(ANSWERABILITY_FEATURES), "questions": meta}
    np.savez_compressed(path, meta=json.dumps(names), **arrays)


def read_units(path: Path) -> list[QuestionUnits]:
    """Read units saved by :func:`write_units`.

    Raises:
        ValueError: saved with other features than :data:`FEATURES` (delete the file and collect again).
    """
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        if meta["features"] != list(FEATURES) or meta.get("confidence") != list(ANSWERABILITY_FEATURES):
            raise ValueError(f"{path} was collected with other features; delete it and run `python -m eval tune` again")
        return [QuestionUnits(suite, case_id, group, answerable, data[f"f{i}"], data[f"l{i}"], data[f"c{i}"])
                for i, (suite, case_id, group, answerable) in enumerate(meta["questions"])]


def write_weights(path: Path, scorer: ScorerWeights, note: str, report: Mapping[str, dict]) -> None:
    """Write the weights file the answerer reads, with how it was fitted and the figures."""
    data = {"note": note, "abstain_threshold": scorer.abstain_threshold,
            "weights": {name: scorer.weights.get(name, 0.0) for name in FEATURES}, "leave_documents_out": report}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def format_tune_table(report: Mapping[str, dict]) -> str:
    """One line per suite and weighting: top-unit accuracy, wrong refusals, unanswerable refused."""
    lines = [f"{'suite':<10} {'weights':<30} {'answerable':>10} {'answer unit ranked 1st':>23} {'… and not refused':>18} "
             f"{'wrongly refused':>16} {'unanswerable refused':>21}"]
    for suite, rows in report.items():
        for name, r in rows.items():
            lines.append(f"{suite:<10} {name:<30} {r['answerable']:>10} {r['ranked_first']:>23.1%} {r['top_unit_right']:>18.1%} "
                         f"{r['wrongly_refused']:>16.1%} {r['refused_unanswerable']:>21.1%}")
    return "\n".join(lines)
