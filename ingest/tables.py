"""Tables flattened by conversion, rewritten as one self-describing line per row.

A table row means nothing without its header, so each row becomes
``caption｜row label：header value；header value…``, e.g.
``鹿城区创新型城区建设重点指标任务分解表｜新增孵化面积（万平方米）：2022年 30万平方米；2023年 60万平方米；2024年 120万平方米``.

Two flattened shapes are recognised (DOCX tables go through :func:`format_table_rows` directly):

* tab-separated rows, one row per line (``序号\\t指 标\\t2022 年…``);
* one cell per line, each cell starting with a tab, rows separated by blank lines, a cell's
  overflow on following lines without a tab.
"""

from __future__ import annotations

import re
from typing import Sequence

CAPTION_MAX_CHARS = 50
HEADER_CELL_MAX_CHARS = 40
MAX_ROW_LINE_CHARS = 600  # a longer row is written as several lines, each with its caption and label
SERIAL_HEADER = "序号"
MAX_LABEL_CHARS = 80
SHORT_LABEL_CHARS = 30
ROW_MARK = "｜"  # every row line carries it: chunking and quoting recognise rows by it
UNTITLED_TABLE = "表格"
_LABEL_HEADERS = (re.compile("名称"), re.compile(r"^指标$|指标(?!类型|属性)"), re.compile("平台|项目"))
_INNER_SPACE = re.compile(r"(?<=[^\x00-\x7f])[ \u3000]+(?=[^\x00-\x7f])")
_LABEL_UNIT = re.compile(r"[（(]([^（）()\d\s]{1,6})[）)]$")
_BARE_FIGURE = re.compile(r"^(\d+(?:\.\d+)?)(以上|以下|左右)?$")
_SECTION_MARK = re.compile(r"^(?:[一二三四五六七八九十]{1,3}、|[（(][一二三四五六七八九十]{1,3}[）)]|第[一二三四五六七八九十]{1,3}部分)")


def _tidy_cell(cell: str) -> str:
    return _INNER_SPACE.sub("", cell.strip())


def with_unit(cell: str, label: str) -> str:
    """Write the unit a row label gives in brackets after a bare figure of that row.

    A value read out of its table should still say what it counts: ``560`` in the row
    ``高新技术企业数（家）`` is ``560家``, ``3.3`` in a ``（%）`` row is ``3.3%``.

    Example:
        >>> with_unit("560", "高新技术企业数（家）"), with_unit("62以上", "比重#（%）")
        ('560家', '62%以上')
        >>> with_unit("[0.22]", "比重（%）"), with_unit("7", "每万人高价值发明专利拥有量 (件)"), with_unit("30", "新增孵化面积")
        ('[0.22]', '7件', '30')
    """
    unit, figure = _LABEL_UNIT.search(label.strip()), _BARE_FIGURE.match(cell)
    if not unit or not figure:
        return cell
    return f"{figure.group(1)}{unit.group(1)}{figure.group(2) or ''}"


def format_table_rows(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Render table rows as lines that carry the caption and column headers.

    The label column is the first whose header names a name (``名称``), else an indicator
    (``指标``), else a platform or project, else the first column that is not ``序号``. A ``单位`` column is folded
    into the label; a unit the label gives in brackets is written after each bare figure
    (:func:`with_unit`); the ``序号`` comes last. Empty cells are left out; a repeated header row is
    skipped. A section row (one cell merged across the table, ``一、知识产权保护方面（共5项）``) is not
    a row: it names the section of the rows under it, written after the caption. A row longer than
    :data:`MAX_ROW_LINE_CHARS` becomes several lines, each starting with the caption and label.

    Example:
        >>> format_table_rows("分解表", ["序号", "指 标", "2022 年"], [["8", "新增孵化面积（万平方米）", "30"]])
        ['分解表｜新增孵化面积（万平方米）：2022 年 30万平方米；序号 8']
    """
    return [rendered for rendered, _ in rows_with_sources(caption, header, rows)]


def rows_with_sources(
    caption: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> list[tuple[str, str]]:
    """Like :func:`format_table_rows`, paired with each row's cells as written (space-separated).

    Example:
        >>> rows_with_sources("表", ["指标", "2025年"], [["高新技术企业数", "560"]])
        [('表｜高新技术企业数：2025年 560', '高新技术企业数 560')]
    """
    header = [_tidy_cell(h) for h in header]
    label_col = next(
        (i for pattern in _LABEL_HEADERS for i, h in enumerate(header) if pattern.search(h)),
        next((i for i, h in enumerate(header) if h != "序号"), 0),
    )
    unit_col = next((i for i, h in enumerate(header) if h == "单位"), None)
    serial_cols = [i for i, h in enumerate(header) if h == SERIAL_HEADER]
    lines: list[tuple[str, str]] = []
    section = ""
    for row in rows:
        cells = [_tidy_cell(c) for c in row] + [""] * (len(header) - len(row))
        if cells[: len(header)] == header:
            continue
        written = " ".join(c.strip() for c in row if c.strip())
        if len(header) >= 2 and is_section_row(cells):
            section = next(c for c in cells if c)  # Word repeats a merged cell in every column it spans
            continue
        label = cells[label_col] if label_col < len(cells) else ""
        if unit_col is not None and cells[unit_col]:
            label = f"{label}（{cells[unit_col]}）"
        parts = [
            f"{header[i]} {with_unit(cell, label)}" if header[i] else with_unit(cell, label)
            for i, cell in enumerate(cells[: len(header)])
            if cell and i not in (label_col, unit_col) and i not in serial_cols
        ]
        parts += [c for c in cells[len(header):] if c]
        parts += [f"{SERIAL_HEADER} {cells[i]}" for i in serial_cols if cells[i] and i != label_col]
        if len(label) > MAX_LABEL_CHARS:  # a long description in the label column: keep it whole as a cell
            parts.insert(0, f"{header[label_col]} {label}".strip())
            label = label[:SHORT_LABEL_CHARS] + "…"
        prefix = f"{' '.join(filter(None, [caption or UNTITLED_TABLE, section]))}{ROW_MARK}{label}"
        lines.extend((line, written) for line in _row_lines(prefix, parts))
    return lines


def is_section_row(cells: Sequence[str]) -> bool:
    """A row that is one cell merged across the table (Word repeats it in every column), or a lone
    first cell that is a numbered heading: a section label, not data.

    Example:
        >>> is_section_row(["一、知识产权保护方面（共5项）"] * 4), is_section_row(["二、人才方面", "", ""])
        (True, True)
        >>> is_section_row(["1", "专利质押", "市知识产权局"]), is_section_row(["总计", "", ""])
        (False, False)
    """
    filled = [c for c in cells if c.strip()]
    if len(filled) >= 2:
        return len(set(filled)) == 1 and len(filled) == len(cells)
    return bool(filled) and bool(cells[0].strip()) and bool(_SECTION_MARK.match(cells[0].strip()))


def _row_lines(prefix: str, parts: list[str]) -> list[str]:
    if not parts:
        return [prefix]
    budget = max(MAX_ROW_LINE_CHARS - len(prefix) - 1, MAX_ROW_LINE_CHARS // 2)
    lines, current = [], []
    for part in (piece for part in parts for piece in _cell_pieces(part, budget)):
        if current and len(prefix) + len("；".join(current + [part])) + 1 > MAX_ROW_LINE_CHARS:
            lines.append(f"{prefix}：{'；'.join(current)}")
            current = []
        current.append(part)
    lines.append(f"{prefix}：{'；'.join(current)}")
    return lines


def _cell_pieces(part: str, budget: int) -> list[str]:
    """Cut a cell longer than ``budget`` after its sentences (。；), each piece after the first
    repeating the cell's header.

    Example:
        >>> _cell_pieces("时限 第一阶段验收；第二阶段验收。", 12)
        ['时限 第一阶段验收', '时限 第二阶段验收。']
    """
    if len(part) <= budget:
        return [part]
    header = part.split(" ", 1)[0] + " " if " " in part[:HEADER_CELL_MAX_CHARS] else ""
    sentences = re.findall(r"[^。；;]+[。；;]?", part[len(header):])
    pieces, current = [], ""
    for sentence in sentences:
        if current and len(header) + len(current) + len(sentence) > budget:
            pieces.append(header + current.rstrip("；;"))
            current = ""
        current += sentence
    return pieces + [header + current] if current else pieces


def _cells(line: str) -> list[str]:
    return line.split("\t")


def _is_tab_row(line: str) -> bool:
    cells = _cells(line)
    return len(cells) >= 3 or (len(cells) == 2 and all(c.strip() for c in cells))


def _is_cell_line(line: str) -> bool:
    return line.startswith("\t") and len(_cells(line)) == 2


def _caption_before(out: list[str]) -> str:
    for line in reversed(out[-4:]):
        if line.strip():
            text = line.strip()
            if "\t" not in text and len(text) <= CAPTION_MAX_CHARS and not text.endswith("。"):
                return text
            return ""
    return ""


def _take_tab_rows(lines: list[str], i: int) -> tuple[list[list[str]], int]:
    rows: list[list[str]] = []
    while i < len(lines):
        if _is_tab_row(lines[i]):
            rows.append(_cells(lines[i]))
            i += 1
            continue
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j > i and j < len(lines) and _is_tab_row(lines[j]):
            i = j
            continue
        break
    return rows, i


def _take_cell_groups(lines: list[str], i: int) -> tuple[list[list[str]], int]:
    groups: list[list[str]] = []
    while i < len(lines) and _is_cell_line(lines[i]):
        group: list[str] = []
        while i < len(lines) and lines[i].strip():
            if _is_cell_line(lines[i]) or not group:
                group.append(lines[i].strip())
            else:
                group[-1] += lines[i].strip()
            i += 1
        groups.append(group)
        while i < len(lines) and not lines[i].strip():
            i += 1
    return groups, i


def _fill_merged_first_column(rows: list[list[str]]) -> list[list[str]]:
    filled, previous = [], ""
    for row in rows:
        if row and not row[0].strip() and previous:
            row = [previous, *row[1:]]
        previous = row[0].strip() if row else previous
        filled.append(row)
    return filled


def rewrite_tables(text: str) -> str:
    """Rewrite every flattened table in ``text`` as self-describing row lines.

    Lines outside tables are kept as they are. Each table is surrounded by blank lines.

    Example:
        >>> print(rewrite_tables("表1：目标\\n指标名称\\t单位\\t2025年\\n高新技术企业数\\t家\\t560"))
        表1：目标
        <BLANKLINE>
        表1：目标｜高新技术企业数（家）：2025年 560家
        <BLANKLINE>
    """
    return rewrite_tables_with_sources(text)[0]


def rewrite_tables_with_sources(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Like :func:`rewrite_tables`, also returning ``(row line, row as written)`` pairs.

    The written form lets a reader (or an evaluation quote) find the row as the source shows it.
    """
    sources: list[tuple[str, str]] = []
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        is_row, is_cell = _is_tab_row(line), _is_cell_line(line)
        if is_row:
            rows, end = _take_tab_rows(lines, i)
            header, body = rows[0], _fill_merged_first_column(rows[1:])
        elif is_cell and i + 1 < len(lines) and lines[i + 1].strip():
            groups, end = _take_cell_groups(lines, i)
            header, body = groups[0], groups[1:]
            if len(header) < 2 or max(len(cell) for cell in header) > HEADER_CELL_MAX_CHARS:
                out.append(line.strip())  # a tab-indented paragraph, not a table
                i += 1
                continue
        else:
            out.append(line)
            i += 1
            continue
        if not body:  # a lone row or cell is prose that happens to start with a tab
            out.extend(l.strip() for l in lines[i:end])
            i = end
            continue
        pairs = rows_with_sources(_caption_before(out), header, body)
        sources.extend(pairs)
        out.extend(["", *(rendered for rendered, _ in pairs), ""])
        i = end
    return "\n".join(out), sources
