"""The information box of government web pages (索引号, 主题分类, 发文机关, 成文日期, 标题, 发文字号,
发布日期…), read as key/value pairs, not as a table.

A page's box arrives either as table rows of alternating ``key：`` and value cells (HTML) or as
alternating ``key：`` and value lines (the page's text copied). Both become one ``key：value`` line
per pair, keys written without their padding spaces (``标　　题：`` → ``标题：``). The keys, and the
filing field each gives, are data: ``ingest/data/info_box_keys.txt``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

KEYS_FILE = Path(__file__).resolve().parent / "data" / "info_box_keys.txt"
MIN_PAIRS = 3  # fewer key/value lines are a salutation or a note, not a box
MAX_VALUE_CHARS = 120
_PADDING = re.compile(r"[ \t\u3000\u00a0]+")
_KEY_LINE = re.compile(r"^([^：:\n]{2,12})[：:]$")
_PAIR_LINE = re.compile(r"^([^：:\n]{2,12})[：:](.*)$")


@lru_cache(maxsize=4)
def info_box_keys(path: Path = KEYS_FILE) -> dict[str, str]:
    """Map each box key (without spaces) to the filing field it gives (``""``: none).

    Example:
        >>> info_box_keys()["发文字号"], info_box_keys()["标题"], info_box_keys()["主题分类"]
        ('文号', 'title', '主题分类')
    """
    keys: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, field = line.partition("\t")
            keys[key.strip()] = field.strip()
    return keys


def box_key(cell: str) -> str | None:
    """The key a cell or line names (``索 引 号：`` → ``索引号``), or None when it is not a box key.

    Example:
        >>> box_key("标\u3000\u3000题："), box_key("石英代表："), box_key("发布日期")
        ('标题', None, None)
    """
    match = _KEY_LINE.match(cell.strip())
    if not match:
        return None
    key = _PADDING.sub("", match.group(1))
    return key if key in info_box_keys() else None


def key_value_lines(rows: Sequence[Sequence[str]]) -> list[str] | None:
    """Render table rows of ``key：`` / value cells as ``key：value`` lines; None if they are not a box.

    Example:
        >>> key_value_lines([["索 引 号：", "000014349/2006-00211", "主题分类：", "其他"],
        ...                  ["发文机关：", "国务院办公厅", "成文日期：", "2006年09月07日"]])
        ['索引号：000014349/2006-00211', '主题分类：其他', '发文机关：国务院办公厅', '成文日期：2006年09月07日']
    """
    lines: list[str] = []
    for row in rows:
        cells = [c.strip() for c in row if c.strip()]
        i = 0
        while i < len(cells):
            key = box_key(cells[i])
            if key is None:
                return None
            value = cells[i + 1] if i + 1 < len(cells) and box_key(cells[i + 1]) is None else ""
            if value:
                lines.append(f"{key}：{value}")
            i += 2 if value else 1
    return lines if len(lines) >= MIN_PAIRS else None


def join_info_box_lines(text: str) -> str:
    r"""Rewrite a box copied as text (``key：`` line, value line, …) as ``key：value`` lines.

    Only a run of at least :data:`MIN_PAIRS` known keys is rewritten; a key with no value is dropped.

    Example:
        >>> join_info_box_lines("索 引 号：\n000014349/2006-00213\n发文机关：\n国务院办公厅\n成文日期：\n2006年10月18日\n正文")
        '索引号：000014349/2006-00213\n发文机关：国务院办公厅\n成文日期：2006年10月18日\n正文'
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        pairs, j = _pairs_from(lines, i)
        if len(pairs) >= MIN_PAIRS:
            out.extend(f"{key}：{value}" for key, value in pairs if value)
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def _pairs_from(lines: list[str], i: int) -> tuple[list[tuple[str, str]], int]:
    pairs: list[tuple[str, str]] = []
    while True:
        while i < len(lines) and not lines[i].strip():
            i += 1
        key = box_key(lines[i]) if i < len(lines) else None
        if key is None:
            return pairs, i
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        value = lines[j].strip() if j < len(lines) else ""
        if not value or box_key(value) is not None or len(value) > MAX_VALUE_CHARS:
            pairs.append((key, ""))
            i += 1
            continue
        pairs.append((key, value))
        i = j + 1


def read_info_box(text: str) -> dict[str, str]:
    r"""The filing fields an info box gives (``key：value`` lines of known keys), first value wins.

    Example:
        >>> read_info_box("发文字号：国办函〔2006〕82号\n标题：国务院办公厅对第4626号提案的答复\n主题分类：其他")
        {'文号': '国办函〔2006〕82号', 'title': '国务院办公厅对第4626号提案的答复', '主题分类': '其他'}
    """
    fields: dict[str, str] = {}
    keys = info_box_keys()
    found = 0
    for line in text.split("\n"):
        match = _PAIR_LINE.match(line.strip())
        if not match:
            continue
        key, value = _PADDING.sub("", match.group(1)), match.group(2).strip()
        if key in keys and value:
            found += 1
            if keys[key]:
                fields.setdefault(keys[key], value)
    return fields if found >= MIN_PAIRS else {}
