"""A table row's figure found again in its document's own words.

Plans give their targets twice: in the indicator table and in the text (``全市高新技术企业达到4400家``).
An answer that quotes the row also cites the sentence, so a reader can check the figure in the prose
the table summarises. Pure functions over the row line and the document text.
"""

from __future__ import annotations

import re
from typing import Collection

from ingest.tables import ROW_MARK

MIN_LABEL_OVERLAP = 0.4  # share of the row label's character pairs the sentence must contain
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])(%?)")
_SENTENCE = re.compile(r"[^。；;！!？?\n]+[。；;！!？?]?")
_CLAUSE = re.compile(r"[，,、：:]")
_LABEL_NOISE = re.compile(r"[（(][^）)]*[）)]|[#＃\s]")
_YEAR = re.compile(r"^(19|20)\d\d$")


def row_label(row: str) -> str:
    """The indicator a table row line is about: between the caption mark and the first colon,
    without its unit and marks.

    Example:
        >>> row_label("主要指标｜高新技术企业数量#（家）：2020年基数 2404家；2025年目标 4400家")
        '高新技术企业数量'
    """
    label = row.split(ROW_MARK, 1)[-1].split("：", 1)[0]
    return _LABEL_NOISE.sub("", label)


def row_figures(row: str, years: Collection[str] = ()) -> set[str]:
    """The figures a row gives (``'4400'``, ``'3.5%'``), only those of the ``years`` asked when
    a field names one; years themselves are not figures.

    Example:
        >>> row = "表1｜科技型中小企业数（家）：2020年 1283家；2025年 1800家；备注 提升"
        >>> sorted(row_figures(row, ["2025"])), sorted(row_figures(row))
        (['1800'], ['1283', '1800'])
    """
    fields = row.split("：", 1)[-1].split("；")
    asked = [f for f in fields if any(y in f.split(" ", 1)[0] for y in years)] or fields
    figures = set()
    for field in asked:
        value = field.split(" ", 1)[1] if " " in field else field
        for number, percent in _NUMBER.findall(value):
            if not _YEAR.match(number):
                figures.add(number + percent)
    return figures


def label_overlap(label: str, sentence: str) -> float:
    """Share of the label's adjacent character pairs that occur in the sentence (spaces ignored).

    Example:
        >>> label_overlap("高新技术企业数量", "全市高新技术企业达到4400家")
        0.7142857142857143
    """
    squeezed = re.sub(r"\s", "", sentence)
    pairs = {label[i:i + 2] for i in range(len(label) - 1)}
    return sum(p in squeezed for p in pairs) / len(pairs) if pairs else 0.0


def states_figure(sentence: str, figures: Collection[str]) -> bool:
    """Whether the sentence states one of the figures (a percentage only as a percentage).

    Example:
        >>> states_figure("比重达 3.5%", {"3.5%"}), states_figure("增长12%以上", {"12"}), states_figure("达到560家", {"56"})
        (True, False, False)
    """
    squeezed = re.sub(r"\s", "", sentence)
    return any(number + percent in figures for number, percent in _NUMBER.findall(squeezed))


def corroborating_sentence(row: str, text: str, years: Collection[str] = (), start: int = 0) -> tuple[int, int] | None:
    """The span of the sentence of ``text`` (from ``start``) with a clause that states the row's
    figure for the same indicator (best label overlap first); None when the text has none.

    Example:
        >>> text = "到2025年，全市高新技术企业达到4400家、科技型中小企业达到16000家。\\n主要指标｜高新技术企业数量#（家）：2025年目标 4400家"
        >>> s, e = corroborating_sentence(text.splitlines()[1], text, ["2025"])
        >>> text[s:e]
        '到2025年，全市高新技术企业达到4400家、科技型中小企业达到16000家。'
        >>> corroborating_sentence("表｜高新技术产业投资增速（%）：2025年 12%", "高新技术产业投资增速达到25%，产业增加值年均增长12%。")
    """
    label, figures = row_label(row), row_figures(row, years)
    if not label or not figures:
        return None
    best: tuple[float, int, int] | None = None
    for match in _SENTENCE.finditer(text, start):
        sentence = match.group(0)
        if ROW_MARK in sentence or not states_figure(sentence, figures):
            continue
        clauses = [c for c in _CLAUSE.split(sentence) if states_figure(c, figures)]
        overlap = max(label_overlap(label, c) for c in clauses) if clauses else 0.0
        if overlap >= MIN_LABEL_OVERLAP and (best is None or overlap > best[0]):
            lead = len(sentence) - len(sentence.lstrip())
            best = (overlap, match.start() + lead, match.end())
    return best[1:] if best else None


__all__ = ["corroborating_sentence", "label_overlap", "row_figures", "row_label", "states_figure"]
