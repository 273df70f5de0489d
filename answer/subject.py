"""What a question asks about a document's subject: the terms its title lacks, and definitions.

An encyclopaedia page or a plan names its subject in the title and then often leaves it unsaid
(体长可达50公分 on the page of one fish; 到2025年达到… in a city's plan): the question's other terms
(体长, the measure) are what the answering sentence must state.
"""

from __future__ import annotations

import re
from typing import Mapping

ARTICLE_LEAD = 8  # a definition may follow a short lead ("第五条 ", "（一）")
HALF_THERE = 0.5  # a two-character term's credit per character found (颜色 → 色)


def attribute_terms(weights: Mapping[str, float], title: str) -> dict[str, float]:
    """The question's terms that its document's ``title`` lacks: what the question asks about the
    title's subject (体重, 叶柄, 用途 of a page about one animal or plant; the measure in a plan).

    Example:
        >>> attribute_terms({"尤金": 5.0, "袋鼠": 5.0, "体重": 5.9}, "尤金袋鼠")
        {'体重': 5.9}
    """
    lowered = title.lower()
    return {t: w for t, w in weights.items() if t.lower() not in lowered}


def character_coverage(text: str, weights: Mapping[str, float]) -> float:
    """Share of the term weight ``weights`` found in ``text``; a two-character term missing whole is
    half there per character found: 体重 in "约8公斤重", 颜色 in "体呈银灰色".

    Example:
        >>> character_coverage("本鱼体呈银灰色", {"身体": 4.0, "颜色": 4.0})
        0.5
    """
    total = sum(weights.values())
    if not total:
        return 0.0
    lowered = text.lower()
    return sum(w * (1.0 if t.lower() in lowered else HALF_THERE * (len(t) == 2) * sum(ch in lowered for ch in t.lower()))
               for t, w in weights.items()) / total


_DEFINING = re.compile(r"^\s*[（(][^）)]{0,40}[）)]\s*[，,]?\s*(?:是|指|系|为|即)|^\s*[，,]?\s*(?:是|指|系|即|又称|也称|简称)")


def defines(text: str, subject: str) -> bool:
    """Whether ``text`` opens by defining ``subject``: "X是…", "X（…）是…", "X，是…", "X指…".

    Example:
        >>> defines("乡里制，是中国古代农村社会基层组织体系", "乡里制"), defines("放线菌酮（）是一种物质", "放线菌酮")
        (True, True)
        >>> defines("碱可以破坏放线菌酮", "放线菌酮"), defines("第五条 概念验证平台是有组织开展概念验证活动的载体", "概念验证平台")
        (False, True)
    """
    lowered, subject = text.lower(), subject.lower()
    at = lowered.find(subject)
    return 0 <= at <= ARTICLE_LEAD and bool(_DEFINING.match(lowered[at + len(subject):]))
