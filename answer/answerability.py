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
from answer.subject import attribute_terms, character_coverage
from answer.question import QuestionProfile
from answer.types import ScoringTrace
from index.places import place_table
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
    "best_implied_coverage": ("share of the question's term weight that the best unit's document title holds or the "
                              "unit itself states (a two-character term half per character)"),
}


def _word_list(path: Path) -> frozenset[str]:
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """Words of asking (answer/data/question_words.txt): not evidence that a question is off the library."""
    return _word_list(QUESTION_WORDS_FILE)


def states_new_figure(text: str, question: str) -> bool:
    """Whether ``text`` states a figure other than the numbers the question itself gives (a 第2996号 or
    a 2018 of the question's own is no answer to 多少).

    Example:
        >>> states_new_figure("对第2996号建议的答复", "第2996号建议中有多少个网站？"), states_new_figure("有31个网站", "第2996号建议中有多少个？")
        (False, True)
    """
    for number in set(re.findall(r"\d+(?:\.\d+)?", question)):
        text = re.sub(rf"(?<![\d.]){re.escape(number)}(?![\d.])", "", text)
    return has_figure(text)


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
        "figure_missing": float(profile.asks_amount and not states_new_figure(best.text, profile.text)),
        "margin": best.score - other,
        "best_implied_coverage": implied_coverage(best.subject, document.title if document else "", weights),
    })
    return features


def implied_coverage(text: str, title: str, weights: Mapping[str, float]) -> float:
    """Share of the question's term weight held by ``title`` (the subject a unit leaves unsaid) or
    stated by ``text`` itself (:func:`answer.subject.character_coverage`).

    Example:
        >>> implied_coverage("身长可达30厘米", "蓝斑石鲈", {"石鲈": 5.0, "身长": 5.0}), implied_coverage("身长可达30厘米", "红鲷", {"石鲈": 5.0, "身长": 5.0})
        (1.0, 0.5)
    """
    total = sum(weights.values())
    if not total:
        return 0.0
    rest = attribute_terms(weights, title)
    return (total - sum(rest.values()) + character_coverage(text, rest) * sum(rest.values())) / total


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


PLACE_DOCUMENT_GAP = 20  # characters between a place and the kind word of the document it names
_DOCUMENT_END = r"(?=的|中|里|规定|提出|要求|明确|对|是|有|自|从|什么|何时|哪|[？?。，,]|$)"
LIBRARY_PLACE_CHARS = 300  # a document is a place's when its title, issuer or opening names the place


def missing_place_document(question: str, documents: Mapping[str, Document]) -> str:
    """A document the question names by place and kind without 《》 (上海市嘉定区“十四五”科技创新规划)
    when no document of the library is that place's (its title, issuer or opening never names it); ''
    otherwise.

    Example:
        >>> docs = {"a": Document("a", "a", "宁波市科技创新规划", "宁波市人民政府印发。", "0")}
        >>> missing_place_document("湖州市“十四五”科技创新规划的主要目标是什么？", docs)
        '湖州市“十四五”科技创新规划'
        >>> missing_place_document("宁波市科技创新规划的主要目标是什么？", docs), missing_place_document("湖州有多少家企业？", docs)
        ('', '')
    """
    if "《" in question:
        return ""  # a 《title》 is missing_named_document's
    kinds = "|".join(re.escape(k) for k in document_kind_words() if len(k) >= 2)
    table = place_table()
    openings = ""
    for start, end, key in table.find(question):
        named = re.match(rf"[^，。？?！!、；;：:,\s《》]{{0,{PLACE_DOCUMENT_GAP}}}?(?:{kinds}){_DOCUMENT_END}", question[end:])
        if not named:
            continue
        openings = openings or "\n".join(f"{d.title} {d.meta.get('发文机关', '')} {d.text[:LIBRARY_PLACE_CHARS]}"
                                          for d in documents.values())
        if not any(name in openings for name in table.names_of(key)):
            return question[start:end + named.end()]
    return ""


_ROW_PREFIX = re.compile(r"^[^｜\n]*｜([^：\n]*)：")
_EMPTY_CELL = re.compile(r"^[—－\-–/／\s]*$|^无$")


def row_cells(row_line: str) -> tuple[str, dict[str, str]]:
    """A table row line's label and its cells by column header.

    Example:
        >>> row_cells("指标表｜顶尖人才（人）：2020年基数 --；2025年目标 10人")
        ('顶尖人才（人）', {'2020年基数': '--', '2025年目标': '10人'})
    """
    match = _ROW_PREFIX.match(row_line)
    if not match:
        return "", {}
    cells = {}
    for field in row_line[match.end():].split("；"):
        header, _, value = field.strip().partition(" ")
        if header:
            cells[header] = value.strip()
    return match.group(1), cells


def empty_year_cell(row_line: str, years: Sequence[str]) -> tuple[str, str, str]:
    """``(label, year, cell)`` when the row's cells for a year the question asks are all empty ("—", "--"):
    the table does not give that year's figure. ``('', '', '')`` when it does, or names no such column.

    Example:
        >>> empty_year_cell("指标表｜顶尖人才（人）：2020年基数 --；2025年目标 10人", ["2020"])
        ('顶尖人才（人）', '2020', '--')
        >>> empty_year_cell("指标表｜顶尖人才（人）：2020年基数 --；2025年目标 10人", ["2025"])
        ('', '', '')
    """
    label, cells = row_cells(row_line)
    for year in years:
        values = [v for h, v in cells.items() if year in h]
        if values and all(_EMPTY_CELL.match(v) for v in values):
            return label, year, values[0]
    return "", "", ""


# Contact fields a filing card never carries: asked for, they are answered only if the document writes them.
_WRITTEN_ONLY_FIELDS = {"传真": ("传真",), "电子邮箱": ("邮箱", "电子邮件", "@"), "网址": ("网址", "http", "www.")}


def unstated_fields(asked: Sequence[str], documents: Sequence[Document]) -> list[str]:
    """The contact fields asked for (传真, 电子邮箱, 网址) that none of ``documents`` writes anywhere.

    Example:
        >>> d = Document("a", "a", "答复", "联系人：王小军，电话：88960000", "0")
        >>> unstated_fields(["联系人", "电子邮箱"], [d]), unstated_fields(["联系人"], [d])
        (['电子邮箱'], [])
    """
    return [field for field in asked if field in _WRITTEN_ONLY_FIELDS and documents
            and not any(word in d.text for d in documents for word in _WRITTEN_ONLY_FIELDS[field])]


_HEADER_CORE = re.compile(r"[\[［（(].*$")


def empty_asked_cell(row_line: str, question: str) -> tuple[str, str, str]:
    """``(label, column, cell)`` when the question names a column of the row (its header without the bracketed
    part, two characters or more) whose cell is empty; ``('', '', '')`` otherwise.

    Example:
        >>> empty_asked_cell("指标表｜R&D比重（%）：2025年目标 3.0%；年均增长[累计提高] --", "R&D比重的年均增长是多少？")
        ('R&D比重（%）', '年均增长', '--')
        >>> empty_asked_cell("指标表｜R&D比重（%）：2025年目标 3.0%；年均增长[累计提高] --", "2025年目标是多少？")
        ('', '', '')
    """
    label, cells = row_cells(row_line)
    for header, value in cells.items():
        core = _HEADER_CORE.sub("", header).strip()
        if len(core) >= 2 and not re.search(r"\d", core) and core in question and _EMPTY_CELL.match(value):
            return label, core, value
    return "", "", ""


_NUMBERED = re.compile(r"第?(\d{2,})号")


def missing_numbered_document(question: str, documents: Mapping[str, Document]) -> str:
    """A numbered proposal, suggestion or file the question names (第413号, 413号建议) that no document
    mentions ('' when every one is mentioned or none is named).

    Example:
        >>> docs = {"a": Document("a", "a", "关于第412号建议的答复", "第412号建议收悉", "0")}
        >>> missing_numbered_document("对第413号建议的答复文号是什么？", docs), missing_numbered_document("412号建议", docs)
        ('第413号', '')
    """
    for number in _NUMBERED.findall(question):
        pattern = re.compile(rf"(?<!\d){number}号")
        if not any(pattern.search(d.text) or pattern.search(d.title) for d in documents.values()):
            return f"第{number}号"
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


TRACE_UNIT_CHARS = 80


def scoring_trace(weights: Mapping[str, float], units: Sequence[Unit], confidence: float | None) -> ScoringTrace | None:
    """Which features chose the best unit (weight × value, largest first), with the model's confidence."""
    if not units:
        return None
    best = units[0]
    contributions = sorted(((name, weights.get(name, 0.0) * value) for name, value in best.features.items()),
                           key=lambda item: -abs(item[1]))
    return ScoringTrace(best.text[:TRACE_UNIT_CHARS], best.score, tuple(c for c in contributions if c[1]), confidence)


def unconfident_refusal(question: str, weights: Mapping[str, float], units: Sequence[Unit], title: str = "") -> str:
    """The refusal when the model doubts the best unit answers: it names the heaviest question terms
    the best passage and its document's ``title`` lack (a term the title holds is not what is missing).

    Example:
        >>> unconfident_refusal("火灾死亡人数的目标？", {"火灾": 3.0, "死亡人数": 2.0}, [])
        '资料中没有找到关于“火灾、死亡人数”的内容，无法回答“火灾死亡人数的目标”。'
    """
    subject = question.strip("？?。 ")
    passage = f"{title} {units[0].hit.chunk.heading_path} {units[0].hit.chunk.text}".lower() if units else ""
    absent = sorted((t for t in weights if t.lower() not in passage), key=lambda t: -weights[t])[:2]
    if absent:
        return f"资料中没有找到关于“{'、'.join(absent)}”的内容，无法回答“{subject}”。"
    return f"资料中未找到能直接回答“{subject}”的内容。"
