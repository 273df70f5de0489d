"""Headings of Chinese policy documents and the heading path of any offset in a text.

Levels, outermost first: ``一、`` and ``附件N`` (1), ``（一）`` (2), ``专栏N：`` (3),
``1.`` (4), ``（1）`` (5).

A text with articles (``第一条 …`` lines, at least :data:`MIN_ARTICLES`) is structured as a law from
its first ``第X编/章/节/条`` line on: ``第X编`` (1), ``第X章`` (2), ``第X节`` (3), ``第X条`` (4), and the
enumerations inside an article (``一、`` ``（一）`` ``1.`` …) four levels deeper, so an item stays
inside its article and the next article closes it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_NUM = "一二三四五六七八九十"
_HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^[{_NUM}]{{1,3}}、")),
    (1, re.compile(r"^附件\s*\d{0,2}\s*[：:]?\s*(?=$|[^\s，。])")),
    (2, re.compile(rf"^[（(][{_NUM}]{{1,3}}[）)]")),
    (3, re.compile(r"^专栏\s*\d{1,2}")),
    (4, re.compile(r"^\d{1,2}[.．、](?!\d)")),
    (5, re.compile(r"^[（(]\d{1,2}[）)]")),
)
_TITLE_STOP = re.compile(r"[。：:；;]")
MAX_TITLE_CHARS = 30
MIN_ARTICLES = 3
_LAW_NUM = "一二三四五六七八九十百千零〇两\\d"
LAW_UNITS = {"编": 1, "章": 2, "节": 3, "条": 4}
_LAW_HEADING = re.compile(rf"^第([{_LAW_NUM}]{{1,6}})(编|章|节|条)(?:[ \t\u3000\u00a0]+|$)")
_ITEM_SHIFT = 4  # an enumeration inside a law sits below 第X条


@dataclass(frozen=True)
class Heading:
    """A heading line found in a text: where it starts, its level and its short title.

    ``role`` is ``编``, ``章``, ``节`` or ``条`` for the parts of a law, else empty.
    """

    offset: int
    level: int
    title: str
    role: str = ""


def law_part(line: str) -> tuple[str, str] | None:
    """``(role, title)`` of a ``第X编/章/节/条`` line of a law, else None. An article's title is
    its number; a chapter's keeps its name with spaces collapsed.

    Example:
        >>> law_part("第四十三条 在科技创新工作中…"), law_part("第一章  总  则"), law_part("第十条规定的")
        (('条', '第四十三条'), ('章', '第一章 总 则'), None)
    """
    stripped = line.strip(" \u3000\u00a0")
    match = _LAW_HEADING.match(stripped)
    if not match:
        return None
    role = match.group(2)
    if role == "条":
        return role, stripped[: match.end(2)]
    if len(stripped) > MAX_TITLE_CHARS * 2 or stripped.endswith("。"):
        return None  # a sentence that starts with 第二章 is not a chapter heading
    return role, re.sub(r"[ \t\u3000\u00a0]+", " ", stripped)[:MAX_TITLE_CHARS]


def without_mark(title: str) -> str:
    """A heading's words without its numbering mark (``一、`` ``（三）`` ``1.`` ``附件2``).

    Example:
        >>> without_mark("五、保障措施"), without_mark("（三）推动两大新兴产业"), without_mark("附件1 重点指标")
        ('保障措施', '推动两大新兴产业', '重点指标')
    """
    for _, pattern in _HEADING_PATTERNS:
        mark = pattern.match(title)
        if mark:
            return title[mark.end():].strip()
    return title


def heading_level(line: str) -> int | None:
    """Return the heading level of ``line`` (1 = outermost), or ``None`` if it is not a heading.

    Example:
        >>> heading_level("（二）发展形势"), heading_level("1.高能级平台建设有序推进。"), heading_level("2022年")
        (2, 4, None)
    """
    stripped = line.lstrip(" \u3000")
    if "\t" in line or len(stripped) < 2:
        return None
    part = law_part(stripped)
    if part:
        return LAW_UNITS[part[0]]
    for level, pattern in _HEADING_PATTERNS:
        if pattern.match(stripped):
            return level
    return None


def is_heading_line(line: str) -> bool:
    """Tell whether ``line`` starts with a heading marker.

    Example:
        >>> is_heading_line("专栏3：省级高新区培育行动"), is_heading_line("一是企业投入")
        (True, False)
    """
    return heading_level(line) is not None


def heading_title(line: str) -> str:
    """Shorten a heading line to its title: up to the first 。/：/；, at most 30 characters.

    Example:
        >>> heading_title("1.高能级平台建设有序推进。“十三五”期间，有序开展")
        '1.高能级平台建设有序推进'
    """
    if line.strip().startswith("专栏"):  # "专栏3：省级高新区培育行动" keeps its name
        return line.strip()[:MAX_TITLE_CHARS]
    title = _TITLE_STOP.split(line.strip(), maxsplit=1)[0].strip()
    if len(title) < 3:
        title = line.strip()
    return title[:MAX_TITLE_CHARS]


def find_headings(text: str) -> list[Heading]:
    """List every heading line of ``text`` with its offset, level and title, in order.

    Example:
        >>> [(h.level, h.title) for h in find_headings("一、总则\\n正文\\n（一）目标\\n")]
        [(1, '一、总则'), (2, '（一）目标')]
    """
    lines = text.split("\n")
    parts = [law_part(line) if "\t" not in line else None for line in lines]
    is_law = sum(1 for part in parts if part and part[0] == "条") >= MIN_ARTICLES
    in_law = False
    headings = []
    offset = 0
    for line, part in zip(lines, parts):
        if is_law and part:
            in_law = True
            headings.append(Heading(offset, LAW_UNITS[part[0]], part[1], part[0]))
        else:
            level = heading_level(line) if not part else None
            if level is not None:
                in_law = in_law and not line.lstrip(" \u3000").startswith("附件")  # an attachment ends the law
                headings.append(Heading(offset, level + (_ITEM_SHIFT if in_law else 0), heading_title(line)))
        offset += len(line) + 1
    return headings


class HeadingPaths:
    """The heading path in force at any offset of a text, each path computed once.

    Build it once per document and ask :meth:`at` for every chunk: a lookup is a bisection,
    so a text with tens of thousands of headings stays fast.

    Example:
        >>> paths = HeadingPaths(find_headings("一、总则\\n（一）目标\\n正文\\n二、任务\\n"))
        >>> paths.at(0), paths.at(12), paths.at(16)
        ('一、总则', '一、总则 > （一）目标', '二、任务')
    """

    def __init__(self, headings: list[Heading]) -> None:
        self._offsets: list[int] = []
        self._paths: list[str] = []
        self._stacks: list[tuple[Heading, ...]] = []
        stack: list[Heading] = []
        for heading in headings:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
            self._offsets.append(heading.offset)
            self._paths.append(" > ".join(h.title for h in stack))
            self._stacks.append(tuple(stack))

    def at(self, offset: int) -> str:
        """The path of the last heading at or before ``offset`` (``""`` before the first)."""
        i = bisect.bisect_right(self._offsets, offset) - 1
        return self._paths[i] if i >= 0 else ""

    def stack_at(self, offset: int) -> tuple[Heading, ...]:
        """The headings in force at ``offset``, outermost first (what :meth:`at` joins)."""
        i = bisect.bisect_right(self._offsets, offset) - 1
        return self._stacks[i] if i >= 0 else ()


def heading_path_at(headings: list[Heading], offset: int) -> str:
    """Return the heading path in force at ``offset``, like ``一、… > （二）… > 专栏3``.

    For many offsets of one text, build a :class:`HeadingPaths` once instead.

    Example:
        >>> hs = find_headings("一、总则\\n（一）目标\\n正文\\n二、任务\\n")
        >>> heading_path_at(hs, 12), heading_path_at(hs, 16)
        ('一、总则 > （一）目标', '二、任务')
    """
    return HeadingPaths(headings).at(offset)


def top_level_spans(text: str, headings: list[Heading]) -> list[tuple[int, int]]:
    """Split ``text`` into ``(start, end)`` spans at its level-1 headings and a law's parts
    (``第X章``, ``第X条``…), so no chunk holds two articles.

    Example:
        >>> t = "前言\\n一、甲\\n正文\\n二、乙\\n"
        >>> [t[s:e] for s, e in top_level_spans(t, find_headings(t))]
        ['前言\\n', '一、甲\\n正文\\n', '二、乙\\n']
    """
    cuts = sorted({0, *(h.offset for h in headings if h.level == 1 or h.role), len(text)})
    return [(s, e) for s, e in zip(cuts, cuts[1:]) if e > s]
