"""Answerability, decided after the best unit is chosen.

Rules that read the library itself (is the document a question is about in it; is a place it asks
about written about at all), each returning the refusal that says what is missing; and a calibrated
confidence: a logistic model over named features of the question and its best unit (how much of the
question the unit and its passage hold, the strongest question term they lack, question terms the
library never uses…), fitted by ``python -m eval tune`` with its threshold chosen so that at most 3%
of answerable training questions are refused. Its weights live in ``answer/data/answerability.json``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping, Sequence

from answer.extractive import Unit, has_figure
from answer.question import QuestionProfile
from ingest.types import Document

DATA = Path(__file__).resolve().parent / "data"
DOCUMENT_KINDS_FILE = DATA / "document_kinds.txt"
QUESTION_WORDS_FILE = DATA / "question_words.txt"
ANSWERABILITY_FILE = DATA / "answerability.json"
_CJK_TERM = re.compile(r"^[\u4e00-\u9fff]{2,}$")

ANSWERABILITY_FEATURES: dict[str, str] = {
    "best_score": "the best unit's score",
    "best_coverage": "share of the question's term weight in the best unit (half in its heading/title)",
    "best_bigrams": "share of the question's character bigrams in the best unit",
    "passage_missing": "share of the question's term weight absent from the best unit's whole passage and title",
    "strongest_missing": "the heaviest question term absent from that passage, over the heaviest term",
    "unknown_terms": "question terms the library never uses (not words of asking), up to 3, over 3",
    "figure_missing": "a figure is asked for and the best unit states none",
    "margin": "the best unit's score minus the best score of another passage",
}


def _word_list(path: Path) -> frozenset[str]:
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """Words of asking (answer/data/question_words.txt): not evidence that a question is off the library."""
    return _word_list(QUESTION_WORDS_FILE)


def answerability_features(
    profile: QuestionProfile,
    units: Sequence[Unit],
    weights: Mapping[str, float],
    question_terms: Sequence[str],
    idf: Callable[[str], float],
    documents: Mapping[str, Document],
) -> dict[str, float]:
    """The named features (:data:`ANSWERABILITY_FEATURES`) of a question and its best unit."""
    unknown = [t for t in dict.fromkeys(question_terms)
               if _CJK_TERM.match(t) and not idf(t) and not any(w in t for w in question_words())]
    features = dict.fromkeys(ANSWERABILITY_FEATURES, 0.0)
    features["unknown_terms"] = min(len(unknown), 3) / 3
    if not units:
        features["passage_missing"] = features["strongest_missing"] = 1.0
        return features
    best = units[0]
    document = documents.get(best.hit.chunk.doc_id)
    passage = f"{document.title if document else ''} {best.hit.chunk.heading_path} {best.hit.chunk.text}".lower()
    total, heaviest = sum(weights.values()), max(weights.values(), default=0.0)
    missing = [w for t, w in weights.items() if t.lower() not in passage]
    other = next((u.score for u in units[1:] if u.hit.chunk.chunk_id != best.hit.chunk.chunk_id), 0.0)
    features.update({
        "best_score": best.score,
        "best_coverage": best.features.get("coverage", best.coverage),
        "best_bigrams": best.features.get("bigram_coverage", 0.0),
        "passage_missing": sum(missing) / total if total else 1.0,
        "strongest_missing": max(missing, default=0.0) / heaviest if heaviest else 1.0,
        "figure_missing": float(profile.asks_amount and not has_figure(best.text)),
        "margin": best.score - other,
    })
    return features


@dataclass(frozen=True)
class AnswerabilityModel:
    """A logistic model of "the best unit answers the question", and the probability below which to refuse."""

    weights: Mapping[str, float]
    intercept: float
    threshold: float

    def confidence(self, features: Mapping[str, float]) -> float:
        """The probability that the question is answered (0–1).

        Example:
            >>> AnswerabilityModel({"best_coverage": 4.0}, -2.0, 0.2).confidence({"best_coverage": 0.5})
            0.5
        """
        z = self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def load_answerability(path: str | Path | None = None) -> AnswerabilityModel | None:
    """The fitted answerability model (``None`` when the file does not exist: the rules alone decide).

    Raises:
        ValueError: the file exists but is malformed; the message names it and the fix.
    """
    path = Path(path) if path else ANSWERABILITY_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AnswerabilityModel({k: float(v) for k, v in data["weights"].items()}, float(data["intercept"]),
                                  float(data["threshold"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: cannot read the answerability model ({exc}); delete it or run `python -m eval tune --write …`") from exc


@lru_cache(maxsize=1)
def document_kind_words() -> tuple[str, ...]:
    """The words a document's title ends with (answer/data/document_kinds.txt), longest first."""
    lines = DOCUMENT_KINDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(sorted({w.strip() for w in lines if w.strip() and not w.startswith("#")}, key=len, reverse=True))


def names_a_document(title: str) -> bool:
    """Whether a 《…》 title is a document's (ends with a document kind), not a book's or a film's.

    Example:
        >>> names_a_document("上海市科研失信行为调查处理办法"), names_a_document("迦楼罗及诸天密言经")
        (True, False)
    """
    return title.rstrip("）)0-9（(—-年 ").endswith(document_kind_words())

# 《X》 as the subject of the question: at its start, or followed by 的/中/里/规定/提出/要求/… .
_SUBJECT_TITLE = re.compile(r"(?:^|[，,：:]|按照|根据|依照)《([^《》]{4,60})》(?:[（(][^（）()]{0,30}[）)])?(?=的|中|里|规定|提出|要求|明确|对|是|有|自|从|什么|何时|哪)")
_SPACE = re.compile(r"\s+")


def library_titles(document: Document) -> set[str]:
    """Every title a document answers to: its own, a title it quotes in 《》, and what it issues (印发文件).

    Example:
        >>> d = Document("a", "a", "关于印发《甲办法》的通知", "", "0", meta={"印发文件": "甲办法"})
        >>> sorted(library_titles(d))
        ['关于印发《甲办法》的通知', '甲办法']
    """
    titles = {document.title, *re.findall(r"《([^《》]+)》", document.title)}
    if document.meta.get("印发文件"):
        titles.add(document.meta["印发文件"])
    return {_SPACE.sub("", t) for t in titles if t}


def missing_named_document(question: str, documents: Mapping[str, Document]) -> str:
    """The title of a document the question is about (《…》 as its subject) that is not in the library ('' if none).

    Example:
        >>> docs = {"a": Document("a", "a", "关于印发《甲市专家库管理办法》的通知", "", "0")}
        >>> missing_named_document("《乙市专家库管理办法》的有效期是多久？", docs)
        '乙市专家库管理办法'
        >>> missing_named_document("《甲市专家库管理办法》的有效期是多久？", docs), missing_named_document("专家库有效期多久？", docs)
        ('', '')
    """
    known = set().union(*(library_titles(d) for d in documents.values())) if documents else set()
    for title in _SUBJECT_TITLE.findall(question.strip()):
        if not names_a_document(title):
            continue
        squeezed = _SPACE.sub("", title)
        if not any(squeezed == k or squeezed in k for k in known):
            return title
    return ""


def place_refusal(place_names: list[str], subject: str, documents: Mapping[str, Document]) -> str:
    """Why a question about ``place_names`` is refused, blaming the right thing: no document mentions the
    place at all, or the documents mention it but none of the passages found answers the question about it.

    Example:
        >>> docs = {"a": Document("a", "a", "甲市规划", "甲市到2025年建成平台。", "0")}
        >>> place_refusal(["乙市"], "乙市的目标", docs)
        '资料库中没有关于乙市的文件或内容，无法回答“乙市的目标”。'
        >>> place_refusal(["甲市"], "甲市的人口", docs)
        '资料中提到了甲市，但没有找到能回答“甲市的人口”的内容。'
    """
    names = "、".join(place_names)
    if any(name in d.text or name in d.title for name in place_names for d in documents.values()):
        return f"资料中提到了{names}，但没有找到能回答“{subject}”的内容。"
    return f"资料库中没有关于{names}的文件或内容，无法回答“{subject}”。"
