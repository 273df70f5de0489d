"""Steering retrieval by what a question names: a place, a kind of document, a 文号.

Each document gets a place (the most local one its title or issuer names) and a kind. A
question that names a place or kind multiplies the scores of matching documents.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Collection, Mapping

from ingest.types import Document
from index.places import place_table

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
# Words that make the place after them a location or destination, not the subject.
_LOCATION_MARK = re.compile(r"(位于|地处|坐落于?|落户于?|落地|设在|设于|设立|赴|到|至|前往|对接|面向|来自)$")
LOCATION_MARK_CHARS = 3


def document_place(document: Document) -> str:
    """The most local place a document's title or issuer names ('' if none).

    Example:
        >>> document_place(Document("d", "d", "温州市鹿城区人民政府关于印发…的通知", "", "0"))
        '鹿城'
    """
    return _most_local(f"{document.title} {document.meta.get('发文机关', '')}")


@lru_cache(maxsize=1024)
def _most_local(label: str) -> str:
    table = place_table()
    found = table.find(label)
    if not found:
        return ""
    return min(found, key=lambda f: (-table.places[f[2]].level, f[0]))[2]


def question_places(question: str) -> set[str]:
    """Places a question names, in Chinese or English (a place written as its subdivision's address
    prefix, 宁波市鄞州区, counts as the subdivision).

    Example:
        >>> sorted(question_places("宁波和Hangzhou分别…")), sorted(question_places("宁波市鄞州区的目标"))
        (['宁波', '杭州'], ['鄞州'])
    """
    return place_table().named(question)


def names_as_subject(text: str, places: Collection[str]) -> bool:
    """Whether ``text`` names one of ``places`` other than as a location or destination (a mention
    right after 位于, 在, 赴, 对接 … is where something is, not what the text is about), as the
    prefix of its own subdivision's address (浙江 in 浙江省湖州市) or as a level (湖州市级中心). A place not in the table counts
    when ``text`` contains it.

    Example:
        >>> names_as_subject("永嘉县省级高新园区", {"永嘉"}), names_as_subject("乐清市", {"温岭"})
        (True, False)
        >>> names_as_subject("科创园位于北京市海淀区。", {"北京"}), names_as_subject("主动对接北京全球科创中心", {"北京"})
        (False, False)
        >>> names_as_subject("浙江省湖州市科技创新促进条例", {"浙江"}), names_as_subject("浙江省科技厅", {"浙江"})
        (False, True)
        >>> names_as_subject("建设湖州市级技术创新中心2家", {"湖州"})  # a level: the document's own place decides
        False
    """
    table = place_table()
    wanted = set(places)
    lowered = text.lower()
    if not any(name.lower() in lowered for place in wanted for name in table.names_of(place)):
        return False  # the common case, without scanning
    found = table.find(text)
    for position, (start, end, key) in enumerate(found):
        following = found[position + 1] if position + 1 < len(found) else None
        if following and following[0] == end and key in table.places[following[2]].parents:
            continue  # 浙江省湖州市: an address prefix
        if (key in wanted and not _LOCATION_MARK.search(text[max(0, start - LOCATION_MARK_CHARS):start])
                and not _names_a_level(text, end, table.names_of(key)[0])):
            return True
    return any(place not in table.places and place.lower() in lowered for place in wanted)


def _names_a_level(text: str, end: int, full_name: str) -> bool:
    """Whether the place mention ending at ``end`` is the level of what follows (湖州市级技术创新中心, 湖州市级
    财政: the place's own 市/县/区 and 级), not its subject; 德清县省级高新园区 is 德清's park of provincial level.

    Example:
        >>> _names_a_level("建设湖州市级中心", 4, "湖州市"), _names_a_level("建设湖州市级中心", 5, "湖州市"), _names_a_level("德清县省级园区", 3, "德清县")
        (True, True, False)
    """
    return text[end:end + 1] == "级" or (text[end:end + 1] == full_name[-1:] and text[end + 1:end + 2] == "级")


def place_names(place: str) -> tuple[str, ...]:
    """Every name ``place`` is written as (full name, short form, pinyin); ``(place,)`` if unknown.

    Example:
        >>> place_names("鄞州"), place_names("宁波")
        (('鄞州区', '鄞州'), ('宁波市', '宁波', 'ningbo'))
    """
    return place_table().names_of(place)


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
