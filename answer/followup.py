"""Turning a follow-up question into a stand-alone one, using the earlier questions.

"温州到2025年科技型中小企业要达到多少家？" then "那温岭呢？" becomes
"温岭到2025年科技型中小企业要达到多少家？": the place (or year) the follow-up names replaces the
one the previous question named. A follow-up that names nothing new is searched together with the
previous question.
"""

from __future__ import annotations

import re
from typing import Sequence

from index.steering import place_names, question_places

_FOLLOWUP_CUES = re.compile(
    r"^(那|那么|那个|还有|另外|再|它|其|他们|这个|那该|and|what about|how about)|(呢|吗)[？?]?$|呢[，,]", re.I
)
_YEAR = re.compile(r"(?<!\d)20\d{2}(?=年|\b)")
_QUESTION_WORDS = re.compile(
    r"多少|什么|哪些|哪个|哪几|哪|几|如何|怎么|怎样|是否|是|的|了|吗|呢|吧|要|有|在|为|请问|分别|各|其中|达到|目标|年|\d+|[^\w]"
)
SUBJECTLESS_CHARS = 12
OWN_PREDICATE_CHARS = 8  # a follow-up naming a place with this much of its own to ask keeps its words


def _replace_places(previous: str, new_places: set[str]) -> str | None:
    old_places = question_places(previous)
    if not old_places or not new_places or old_places == new_places:
        return None
    rewritten = previous
    replacement = "和".join(sorted(new_places))
    for place in old_places:
        for name in place_names(place):
            rewritten = re.sub(re.escape(name), replacement, rewritten, count=1, flags=re.I)
            if rewritten != previous:
                return rewritten
    return None


def _replace_year(previous: str, question: str) -> str | None:
    new_years, old_years = _YEAR.findall(question), _YEAR.findall(previous)
    if len(new_years) == 1 and len(old_years) == 1 and new_years != old_years:
        return previous.replace(old_years[0], new_years[0], 1)
    return None


def is_followup(question: str) -> bool:
    """Tell whether a question leans on the conversation before it: it says so (那…呢), or it
    names too little to stand alone (no place, a few content characters).

    Example:
        >>> is_followup("那温岭呢？"), is_followup("2020年的基数是多少？"), is_followup("温岭到2025年科技型中小企业要达到多少家？")
        (True, True, False)
    """
    stripped = question.strip()
    if _FOLLOWUP_CUES.search(stripped):
        return True
    content = _QUESTION_WORDS.sub("", stripped)
    return not question_places(stripped) and len(content) <= SUBJECTLESS_CHARS


def _own_words(question: str, places: set[str]) -> str:
    """What a question asks beyond its question words, cues and the places it names."""
    content = _QUESTION_WORDS.sub("", _FOLLOWUP_CUES.sub("", question.strip()))
    for place in places:
        for name in place_names(place):
            content = re.sub(re.escape(name), "", content, flags=re.I)
    return content


def rewrite_followup(question: str, history: Sequence[str]) -> str:
    """Return a stand-alone version of ``question`` given the earlier questions ``history``.

    Example:
        >>> rewrite_followup("那温岭呢？", ["温州到2025年科技型中小企业要达到多少家？"])
        '温岭到2025年科技型中小企业要达到多少家？'
        >>> rewrite_followup("2023年呢？", ["鹿城区2022年新增孵化面积是多少？"])
        '鹿城区2023年新增孵化面积是多少？'
        >>> rewrite_followup("那鹿城到2024年呢？", ["温州到2025年孵化器要达到多少家？"])
        '鹿城到2024年孵化器要达到多少家？'
        >>> rewrite_followup("乐清、瑞安两个省级高新园区呢，在全省排第几？", ["2022年温州国家高新区在全国排第几位？"])
        '2022年乐清、瑞安两个省级高新园区呢，在全省排第几？'
    """
    earlier = [h.strip() for h in history if h and h.strip()]
    if not earlier or not is_followup(question):
        return question
    previous = earlier[-1]
    places = question_places(question)
    if places and len(_own_words(question, places)) >= OWN_PREDICATE_CHARS:
        years = [y for y in _YEAR.findall(previous) if y not in question]
        return "".join(f"{y}年" for y in years) + question.strip()
    rewritten = _replace_places(previous, places) or previous
    rewritten = _replace_year(rewritten, question) or rewritten
    if rewritten != previous:
        return rewritten
    cleaned = _FOLLOWUP_CUES.sub("", question.strip()).strip(" ，,？?")
    return f"{previous} {cleaned}".strip() if cleaned else previous
