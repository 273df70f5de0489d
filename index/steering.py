"""Steering retrieval by what a question names: a place, a kind of document, a 文号.

Each document gets a place (the most local one its title or issuer names) and a kind. A
question that names a place or kind multiplies the scores of matching documents.
"""

from __future__ import annotations

import re
from typing import Mapping

from ingest.types import Document

# Most local first: a document is "of" the first place its title or issuer names.
PLACES: dict[str, tuple[str, ...]] = {
    "鹿城": ("鹿城", "lucheng"),
    "温岭": ("温岭", "wenling"),
    "乐清": ("乐清", "yueqing"),
    "瑞安": ("瑞安", "ruian"),
    "龙港": ("龙港", "longgang"),
    "龙湾": ("龙湾", "longwan"),
    "瓯海": ("瓯海", "ouhai"),
    "永嘉": ("永嘉", "yongjia"),
    "平阳": ("平阳", "pingyang"),
    "苍南": ("苍南", "cangnan"),
    "洞头": ("洞头", "dongtou"),
    "文成": ("文成", "wencheng"),
    "泰顺": ("泰顺", "taishun"),
    "玉环": ("玉环", "yuhuan"),
    "台州": ("台州", "taizhou"),
    "温州": ("温州", "wenzhou"),
    # Beyond the bureaus' own area: named so that a question about them is not answered from ours.
    "杭州": ("杭州", "hangzhou"),
    "宁波": ("宁波", "ningbo"),
    "嘉兴": ("嘉兴", "jiaxing"),
    "湖州": ("湖州", "huzhou"),
    "绍兴": ("绍兴", "shaoxing"),
    "金华": ("金华", "jinhua"),
    "衢州": ("衢州", "quzhou"),
    "舟山": ("舟山", "zhoushan"),
    "丽水": ("丽水", "lishui"),
    "上海": ("上海", "shanghai"),
    "北京": ("北京", "beijing"),
    "深圳": ("深圳", "shenzhen"),
    "苏州": ("苏州", "suzhou"),
    "南京": ("南京", "nanjing"),
}
KINDS: dict[str, tuple[str, ...]] = {
    "答复函": ("答复", "建议", "提案", "代表", "委员", "reply", "proposal"),
    "规划": ("规划", "十四五", "五年", "five-year", "plan"),
    "行动计划": ("行动计划", "三年", "行动方案", "action plan", "three-year"),
}
PLACE_BOOST = 1.3
KIND_BOOST = 1.15
NUMBER_BOOST = 2.0
_DOC_NUMBER = re.compile(r"〔(\d{4})〕(\d{1,4})号")
_QUOTED_TITLE = re.compile(r"《([^《》]{4,})》")
MIN_NAMED_TITLE_CHARS = 8


def document_place(document: Document) -> str:
    """The most local place a document's title or issuer names ('' if none).

    Example:
        >>> document_place(Document("d", "d", "温州市鹿城区人民政府关于印发…的通知", "", "0"))
        '鹿城'
    """
    label = f"{document.title} {document.meta.get('发文机关', '')}"
    return next((place for place in PLACES if place in label), "")


def question_places(question: str) -> set[str]:
    """Places a question names, in Chinese or English.

    Example:
        >>> sorted(question_places("温州和Wenling分别…"))
        ['温岭', '温州']
    """
    lowered = question.lower()
    return {place for place, names in PLACES.items() if any(name in lowered for name in names)}


def documents_named(question: str, documents: Mapping[str, Document]) -> list[str]:
    """Ids of the documents whose title (or the title a notice quotes in 《》) the question spells out.

    Example:
        >>> docs = {"a": Document("a", "a", "温州市科技创新“十四五”规划", "", "0"),
        ...         "b": Document("b", "b", "关于印发《温岭市科技创新发展“十四五”规划》的通知", "", "0")}
        >>> documents_named("温州市科技创新“十四五”规划的文号是多少？", docs), documents_named("温岭市科技创新发展“十四五”规划哪天印发？", docs)
        (['a'], ['b'])
        >>> documents_named("科技创新规划的文号？", docs)
        []
    """
    squeezed = re.sub(r"\s+", "", question)
    named = []
    for doc_id, document in documents.items():
        titles = [document.title, *_QUOTED_TITLE.findall(document.title)]
        if any(len(t) >= MIN_NAMED_TITLE_CHARS and re.sub(r"\s+", "", t) in squeezed for t in titles):
            named.append(doc_id)
    return named


def document_affinity(question: str, documents: Mapping[str, Document]) -> dict[str, float]:
    """Score multiplier per document id for ``question`` (1.0 = no preference).

    Example:
        >>> docs = {"a": Document("a", "a", "温岭市规划", "", "0"), "b": Document("b", "b", "鹿城区行动计划", "", "0")}
        >>> document_affinity("温岭的目标是多少", docs)
        {'a': 1.3, 'b': 1.0}
    """
    lowered = question.lower()
    places = question_places(question)
    kinds = {kind for kind, cues in KINDS.items() if any(cue in lowered for cue in cues)}
    numbers = set(_DOC_NUMBER.findall(question))
    affinity = {}
    for doc_id, document in documents.items():
        factor = 1.0
        if places and document_place(document) in places:
            factor *= PLACE_BOOST
        if kinds and document.meta.get("文种") in kinds:
            factor *= KIND_BOOST
        if numbers and set(_DOC_NUMBER.findall(document.meta.get("文号", ""))) & numbers:
            factor *= NUMBER_BOOST
        affinity[doc_id] = factor
    return affinity
