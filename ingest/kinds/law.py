"""A law, regulation, 办法 or 细则 published as itself: 第X编/章/节/条, its own name as title, the
通过/批准/发布/修订 lines under the title, the 施行 clause (本条例自…起施行). An amending decision
(关于修改〈…〉的决定) named in those lines is history, not the title; a law has no 主送."""

from __future__ import annotations

import re
from typing import Mapping

from ingest.kinds import DocumentKind
from ingest.metadata import title_block
from ingest.normalize import search_form
from ingest.structure import MIN_ARTICLES, law_part

_LAW_WORDS = ("实施细则", "实施办法", "条例", "细则", "办法", "规定", "规则", "章程", "准则", "法")
_DATE = r"(\d{4}年\d{1,2}月\d{1,2}日|[〇零○一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)"
_HISTORY = re.compile(rf"^{_DATE}[ \t\u3000]*(.*?)(通过|批准|发布|公布|修订|修正)[）)]?[ \t\u3000]*$")
_ORDER = re.compile(r"^(.*?)令第[\d一二三四五六七八九十百零〇]+号")
_HEAD_LINES = 20


def _is_law(text: str) -> bool:
    lines = text.split("\n")
    if sum(1 for line in lines if (part := law_part(line)) and part[0] == "条") < MIN_ARTICLES:
        return False
    title = re.sub(r"[（(][^（）()]*[）)]$", "", title_block(text))
    return title.endswith(_LAW_WORDS) and "印发" not in title


def history_lines(text: str) -> list[tuple[str, str, str]]:
    r"""``(date, organ or instrument, verb)`` of the lines under a law's title, before its first part.

    Example:
        >>> history_lines("某条例\n2019年10月29日 某市人大常委会第二十七次会议通过\n第一章 总则")
        [('2019年10月29日', '某市人大常委会第二十七次会议', '通过')]
    """
    found = []
    for line in text.split("\n")[:_HEAD_LINES]:
        if law_part(line):
            break
        match = _HISTORY.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2).strip(), match.group(3)))
    return found


def _law_fields(text: str, found: Mapping[str, str]) -> dict[str, str]:
    title = title_block(text) or found.get("title", "")
    fields = {"title": title, "主送": ""}
    bare = re.sub(r"[（(][^（）()]*[）)]$", "", title)
    fields["文种"] = next((word for word in _LAW_WORDS if bare.endswith(word)), found.get("文种", ""))
    history = history_lines(text)
    for date, organ, verb in history:
        line = f"{date} {organ}{verb}"
        if verb in ("通过", "发布", "公布") and "成文日期" not in fields:
            fields["成文日期"] = search_form(date)
            order = _ORDER.match(organ)
            fields["发文机关"] = order.group(1) if order else organ
            if order:
                fields["文号"] = order.group(0)
            fields["通过" if verb == "通过" else "发布"] = line
        elif verb == "批准":
            fields["批准"] = line
        else:
            fields["修订"] = line  # the latest revision is listed last
    return fields


KIND = DocumentKind("law", "法律法规/办法/细则", 40, _is_law, _law_fields)
