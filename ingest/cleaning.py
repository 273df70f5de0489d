"""Cleaning rules for text converted from PDF, DOCX and HTML. Each rule is a pure function.

:func:`clean_text` applies them in order: line-level rules, then re-joining of broken lines,
then tables rewritten as self-describing rows (:mod:`ingest.tables`), then blank-line collapse.
"""

from __future__ import annotations

import re

from ingest.infobox import box_key, join_info_box_lines
from ingest.normalize import fix_radicals, remove_inline_page_footers
from ingest.structure import is_heading_line
from ingest.tables import rewrite_tables_with_sources

_BOOKMARK = re.compile(r"\[bookmark:[^\]\n]{0,200}\]")  # bounded: openers that never close stay linear
_BOLD = re.compile(r"\*\*")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+", re.M)
_PAGE_FOOTER = re.compile(r"^[ \t\u3000]*[—–\-－]{1,2}[ \t\u3000]*\d{1,4}[ \t\u3000]*[—–\-－]{1,2}[ \t\u3000]*$")
_CJK = "\u4e00-\u9fff"
_SPACE_BEFORE_DIGIT = re.compile(rf"(?<=[{_CJK}（(])[ \u3000]+(?=\d)")
_SPACE_AFTER_DIGIT = re.compile(rf"(?<=\d)[ \u3000]+(?=[{_CJK}%％）)])")
_SENTENCE_END = tuple("。！？；：!?;:）)】")
_BLOCK_LINES = ("抄送", "联系人", "附件", "主送")
_ENDS_WITH_DATE = re.compile(r"\d{1,2}\s*日\s*(印发)?\s*$")
_TITLE_ENDINGS = ("通知", "答复函", "规划", "文件", "方案", "意见")
_DATED_ENTRY_END = re.compile(r"(?:通过|批准|发布|公布|修订|修正)[）)]?$")  # a law's 通过/修订 history line
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def normalize_newlines(text: str) -> str:
    """Turn CRLF/CR into LF and drop zero-width characters and the BOM.

    Example:
        >>> normalize_newlines("\\ufeff甲\\r\\n乙\\r丙")
        '甲\\n乙\\n丙'
    """
    return _ZERO_WIDTH.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def remove_bookmarks(text: str) -> str:
    """Remove ``[bookmark: _Toc…]`` markers left by DOCX conversion.

    Example:
        >>> remove_bookmarks("[bookmark: _Toc1][bookmark: _Toc2]一、总体要求")
        '一、总体要求'
    """
    return _BOOKMARK.sub("", text)


def remove_markdown_bold(text: str) -> str:
    """Remove markdown ``**`` emphasis marks and ``#`` heading marks.

    Example:
        >>> remove_markdown_bold("# 规划\\n——**六提升**：达3.3%")
        '规划\\n——六提升：达3.3%'
    """
    return _MARKDOWN_HEADING.sub("", _BOLD.sub("", text))


def remove_page_footers(text: str) -> str:
    """Drop lines that are only a page number between dashes, like ``— 3 —`` or ``- 12 -``.

    Example:
        >>> remove_page_footers("甲\\n— 3 —\\n乙")
        '甲\\n乙'
    """
    return "\n".join(line for line in text.split("\n") if not _PAGE_FOOTER.match(line))


def normalize_number_spacing(text: str) -> str:
    """Remove spaces between Chinese characters and numbers (``2022 年`` → ``2022年``).

    Tabs are left alone: they separate table cells.

    Example:
        >>> normalize_number_spacing("2022 年排名第 68位，增长 15 %")
        '2022年排名第68位，增长15%'
    """
    return _SPACE_AFTER_DIGIT.sub("", _SPACE_BEFORE_DIGIT.sub("", text))


def strip_line_padding(text: str) -> str:
    """Strip spaces at both ends of each line, keeping leading tabs (they mark table cells).

    Example:
        >>> strip_line_padding("  甲  \\n\\t乙 ")
        '甲\\n\\t乙'
    """
    lines = []
    for line in text.split("\n"):
        body = line.strip(" \u3000\u00a0")
        lines.append(body.rstrip() if body.startswith("\t") else body.strip())
    return "\n".join(lines)


def join_broken_lines(text: str) -> str:
    """Re-join lines that PDF extraction broke in the middle of a sentence.

    A line is joined to the next non-empty line when it does not end a sentence and the next
    line is not a heading, a table row or a list item. Blank lines between the two pieces
    (PDF pages put one after every line) are dropped. Paragraph breaks after a finished
    sentence are kept as single blank lines.

    Example:
        >>> join_broken_lines("您在市人大会议期间所提的建议中就重视并加强\\n\\n26县高新区提出了建议。\\n\\n一、加强培育。")
        '您在市人大会议期间所提的建议中就重视并加强26县高新区提出了建议。\\n\\n一、加强培育。'
    """
    out: list[list[str]] = []  # output lines, each the pieces joined into it; [] is a blank line
    for line in text.split("\n"):
        if not line.strip():
            if out and out[-1]:
                out.append([])
            continue
        previous = _last_text_line(out)
        if previous is not None and _continues(_ends_of(out[previous]), line):
            out[previous].append(line)
            del out[previous + 1:]
            continue
        out.append([line])
    return "\n".join("".join(pieces) for pieces in out).strip("\n")


def _ends_of(pieces: list[str]) -> str:
    """What :func:`_continues` needs of a joined line, without building it (joining stays linear).

    The first piece decides how the line starts and that it is 20 characters or more (only such
    lines are joined to); the last piece decides how it ends (a joined piece is 20 characters or
    more, or ends in a sentence mark or ，、). No piece holds a tab.

    Example:
        >>> _ends_of(["甲" * 25, "乙乙", "丙丙"])[-3:]
        '甲丙丙'
    """
    return pieces[0] if len(pieces) == 1 else pieces[0] + pieces[-1]


def _last_text_line(out: list[list[str]]) -> int | None:
    for i in range(len(out) - 1, max(-1, len(out) - 3), -1):
        if out[i]:
            return i
    return None


def _continues(previous: str, line: str) -> bool:
    if "\t" in previous or "\t" in line or line.startswith("\t"):
        return False
    if previous.endswith(_SENTENCE_END) or is_heading_line(line):
        return False
    if line.startswith(("——", "注：", "附件")) or previous.endswith(_TITLE_ENDINGS):
        return False
    if box_key(line.partition("：")[0] + "：") is not None or _DATED_ENTRY_END.search(previous):
        return False  # an information box's key：value line; a law's dated 通过/修订 entry
    if previous.startswith(_BLOCK_LINES) or _ENDS_WITH_DATE.search(line):
        return False  # signature block: 抄送, 联系人, and the 印发 line
    if len(line) < 20 and not line.endswith(_SENTENCE_END + ("，", "、")):
        return False  # a name, date or signature line, not the tail of a broken sentence
    # Short lines that do not end a sentence are titles, names or captions, not broken prose.
    return len(previous) >= 20


def collapse_blank_lines(text: str) -> str:
    """Collapse runs of blank lines into one.

    Example:
        >>> collapse_blank_lines("甲\\n\\n\\n\\n乙")
        '甲\\n\\n乙'
    """
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def clean_lines(text: str) -> str:
    """Apply every line-level rule: what must happen before tables are recognised.

    Example:
        >>> clean_lines("[bookmark: _Toc1]**一、总体** \\r\\n— 2 —\\n2022 年")
        '一、总体\\n2022年'
    """
    for rule in (
        normalize_newlines,
        fix_radicals,
        remove_bookmarks,
        remove_markdown_bold,
        remove_page_footers,
        remove_inline_page_footers,
        normalize_number_spacing,
        strip_line_padding,
        join_info_box_lines,
    ):
        text = rule(text)
    return text


def clean_text(raw: str) -> str:
    r"""Turn converted text into the clean text that chunks and citations refer to.

    Example:
        >>> clean_text("[bookmark: _Toc1]一、总体要求\n\n到 2025 年，全市国家高新技术企业数量力争\n\n达到 560 家。\n— 4 —")
        '一、总体要求\n\n到2025年，全市国家高新技术企业数量力争达到560家。'
    """
    return clean_text_with_sources(raw)[0]


def clean_text_with_sources(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """Like :func:`clean_text`, also returning each table row line with the row as written."""
    text, sources = rewrite_tables_with_sources(join_broken_lines(clean_lines(raw)))
    return collapse_blank_lines(text), sources
