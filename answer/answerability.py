"""Answerability checks that read the library itself: is the document a question is about in it, and
is a place it asks about written about at all. Each returns the refusal that says what is missing."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from ingest.types import Document

DOCUMENT_KINDS_FILE = Path(__file__).resolve().parent / "data" / "document_kinds.txt"


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
