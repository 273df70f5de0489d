"""Cutting passages into answer units (sentences, table rows, list items) and units into clauses."""

from __future__ import annotations

import re

from ingest.pipeline import CARD_MARK
from ingest.tables import ROW_MARK

_UNIT_END = re.compile(r"[。！？!?]+[”’」』]?|\n+")
_CLAUSE_END = re.compile(r"[，；,;：:]")
LONG_UNIT_CHARS = 160


def is_row_line(text: str) -> bool:
    """Whether ``text`` is a table row line (``caption｜label：fields``) or its first piece.

    Example:
        >>> is_row_line("表1｜省级众创空间：2025年 8家"), is_row_line("到2025年达到8家。")
        (True, False)
    """
    return ROW_MARK in text and "：" in text


def row_head(text: str, start: int) -> str:
    """For a unit starting at ``start`` inside a table row line of ``text`` but after the row's
    label, the row's ``caption｜label：`` (every cell of a row is about its label); '' otherwise.

    Example:
        >>> row = "表3：项目清单｜工业废水项目：属性 新兴产业；内容 项目依托石碧院士团队。"
        >>> row_head(row, row.index("内容")), row_head(row, 0)
        ('表3：项目清单｜工业废水项目：', '')
    """
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    mark = line.find(ROW_MARK)
    colon = line.find("：", mark + 1) if mark >= 0 else -1
    if colon < 0 or start - line_start <= colon:
        return ""
    return line[:colon + 1]


def split_units(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence-like units, returned as ``(start, end)`` spans.

    A line is never joined with the next (table rows and list items stay apart); a very long
    sentence is further cut at ``；`` (but not a document card, whose fields are read whole).

    Example:
        >>> t = "到2025年达到30家。力争进入前列；\\n表｜高新技术企业：2025年 560"
        >>> [t[s:e] for s, e in split_units(t)]
        ['到2025年达到30家。', '力争进入前列；', '表｜高新技术企业：2025年 560']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _UNIT_END.finditer(text):
        end = match.end() if not match.group(0).startswith("\n") else match.start()
        spans.extend(_split_long(text, start, end))
        start = match.end()
    spans.extend(_split_long(text, start, len(text)))
    return with_items(with_continuations([(s, e) for s, e in spans if text[s:e].strip()], text), text)


_OPEN_END = re.compile(r"[，；,;]\s*$")  # a line that stops mid-sentence
# A point's short label ("一是科技服务业规模质效全面跃升。"), alone or after a lead-in: the next sentence says it.
_POINT_LABEL = re.compile(r"(?:^|[：:])\s*[一二三四五六七八九十]是[^。；，,;]{2,24}。\s*$")
_ASIDE_LINE = re.compile(r"^\s*[（(][^（()）]{2,}[)）][。；;]?\s*$")  # a note on the sentence before: （责任单位：…）


def with_continuations(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    r"""Join a line that stops mid-sentence (at ``，`` or ``；``) with the line that goes on with the
    sentence, up to ``LONG_UNIT_CHARS``: a layout's line break (a PDF's) does not end a sentence. An
    enumerated item (``（二）…``) and a table row stay apart. A note in brackets after a sentence
    ("（责任单位：市科委、市药品监管局）") is joined to it: it says who does what the sentence says; and a
    point's short label ("一是规模全面跃升。") to the sentence that says it.

    Example:
        >>> t = "定价的，可以免予评估；\n协议定价的，应当公示价格。\n（一）甲；\n（二）乙。"
        >>> [t[s:e] for s, e in with_continuations(split_units(t), t)]
        ['定价的，可以免予评估；\n协议定价的，应当公示价格。', '（一）甲；', '（二）乙。']
        >>> t = "优先开展甲认证。\n（责任单位：海关、市科委）\n支持乙。"
        >>> [t[s:e] for s, e in with_continuations(split_units(t), t)]
        ['优先开展甲认证。\n（责任单位：海关、市科委）', '支持乙。']
        >>> t = "体现在3个方面：一是规模全面跃升。营收从1017亿元增加到1472亿元。二是质效提升。"
        >>> [t[s:e] for s, e in with_continuations(split_units(t), t)]
        ['体现在3个方面：一是规模全面跃升。营收从1017亿元增加到1472亿元。', '二是质效提升。']
    """
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined:
            last_start, last_end = joined[-1]
            line = text[last_start:last_end]
            following = text[start:end]
            apart = _ITEM_START.match(line) or is_row_line(line) or is_row_line(following) or line.startswith(CARD_MARK)
            goes_on = (_OPEN_END.search(line) and "\n" in text[last_end:start] or _POINT_LABEL.search(line)) \
                and not _ITEM_START.match(following)
            if not apart and end - last_start <= LONG_UNIT_CHARS and (goes_on or _ASIDE_LINE.match(following)):
                joined[-1] = (last_start, end)
                continue
        joined.append((start, end))
    return joined


_LEAD_IN = re.compile(r"[：:]\s*$")
_ITEM_START = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、]|[一二三四五六七八九十]{1,3}、)")
LEAD_IN_WITH_ITEMS_CHARS = 300


def with_items(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    r"""Join a lead-in ("国家设立下列国家科学技术奖：") with the enumerated items that follow it
    ("（一）…；（二）…"), up to ``LEAD_IN_WITH_ITEMS_CHARS``: the lead-in alone answers nothing.

    Example:
        >>> t = "第二条 国家设立下列奖：\n（一）甲奖；\n（二）乙奖。\n第三条 其他。"
        >>> [t[s:e] for s, e in split_units(t)]
        ['第二条 国家设立下列奖：\n（一）甲奖；\n（二）乙奖。', '第三条 其他。']
    """
    joined: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        j = i + 1
        if _LEAD_IN.search(text[start:end]):
            while j < len(spans) and _ITEM_START.match(text[spans[j][0]:spans[j][1]]) \
                    and spans[j][1] - start <= LEAD_IN_WITH_ITEMS_CHARS:
                end = spans[j][1]
                j += 1
        joined.append((start, end))
        i = j
    return joined


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    if end - start <= LONG_UNIT_CHARS or text.startswith(CARD_MARK, start):
        return [(start, end)]
    spans, piece_start = [], start
    for match in re.finditer("；", text[start:end]):
        cut = start + match.end()
        spans.append((piece_start, cut))
        piece_start = cut
    spans.append((piece_start, end))
    return [(s, e) for s, e in spans if e > s]


def split_clauses(text: str) -> list[tuple[int, int]]:
    """Split a unit at commas, semicolons and colons, keeping the punctuation with its clause.

    Example:
        >>> t = "到2025年，高能级创新平台累计数达到30家，进入前列。"
        >>> [t[s:e] for s, e in split_clauses(t)]
        ['到2025年，', '高能级创新平台累计数达到30家，', '进入前列。']
    """
    spans, start = [], 0
    for match in _CLAUSE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]
