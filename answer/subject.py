"""What a question asks about a document's subject: the terms its title lacks, and definitions.

An encyclopaedia page or a plan names its subject in the title and then often leaves it unsaid
(身长可达30厘米 on the page of one fish; 到2025年达到… in a city's plan): the question's other terms
(身长, the measure) are what the answering sentence must state.
"""

from __future__ import annotations

import re
from typing import Mapping

ARTICLE_LEAD = 8  # a definition may follow a short lead ("第五条 ", "（一）")
HALF_THERE = 0.5  # a two-character term's credit per character found (颜色 → 色)


def attribute_terms(weights: Mapping[str, float], title: str) -> dict[str, float]:
    """The question's terms that its document's ``title`` lacks: what the question asks about the
    title's subject (体重, 花色, 用途 of a page about one animal or plant; the measure in a plan).

    Example:
        >>> attribute_terms({"蓝斑": 5.0, "石鲈": 5.0, "体重": 5.9}, "蓝斑石鲈")
        {'体重': 5.9}
    """
    lowered = title.lower()
    return {t: w for t, w in weights.items() if t.lower() not in lowered}


def character_coverage(text: str, weights: Mapping[str, float]) -> float:
    """Share of the term weight ``weights`` found in ``text``; a two-character term missing whole is
    half there per character found: 体重 in "重约5千克", 颜色 in "通体呈暗绿色".

    Example:
        >>> character_coverage("通体呈暗绿色", {"身体": 4.0, "颜色": 4.0})
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
        >>> defines("里坊制，是古代城市的居住管理制度", "里坊制"), defines("硼砂（）是一种矿物", "硼砂")
        (True, True)
        >>> defines("酸可以溶解硼砂", "硼砂"), defines("第五条 联合攻关体是由企业牵头组建的创新组织", "联合攻关体")
        (False, True)
    """
    lowered, subject = text.lower(), subject.lower()
    at = lowered.find(subject)
    return 0 <= at <= ARTICLE_LEAD and bool(_DEFINING.match(lowered[at + len(subject):]))
