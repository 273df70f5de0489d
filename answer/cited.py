"""Which sentence of a citation's passage an answer rests on, and which of its words to highlight.

A citation may span a whole passage (a chunk of about 300 characters); a person checking the
answer wants the one sentence that says it. :func:`cited_sentences` finds, for each citation of an
:class:`~answer.types.Answer`, the sentence holding the words the answer quotes from it, marks the
figures the lead sentence states, and writes a table row as it reads (pure functions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from answer.lead import answer_pieces, figure_spans, lead_sentence, plain_text
from answer.types import Answer, Citation
from ingest.pipeline import CARD_MARK
from ingest.tables import ROW_MARK

_SENTENCE_END = "。！？!?\n"
SHORT_QUOTE_CHARS = 220  # a citation this short is itself the cited sentence
MIN_FRAGMENT_CHARS = 4


@dataclass(frozen=True)
class CitedSentence:
    """The sentence of a citation's passage the answer rests on: its span in the document
    (``start``/``end``), its ``text``, and the ``marks`` (offsets in ``text``) to highlight."""

    start: int
    end: int
    text: str
    marks: tuple[tuple[int, int], ...] = ()


def _fragments(quoted: str) -> list[str]:
    text = quoted.replace(CARD_MARK, "")
    if ROW_MARK in text:
        text = text.rsplit(ROW_MARK, 1)[-1]
    whole = [text.strip()]
    clauses = sorted((c.strip() for c in re.split(r"[，,；;：:]", text)), key=len, reverse=True)
    return [f for f in whole + clauses if len(f) >= MIN_FRAGMENT_CHARS]


def cited_sentence(citation: Citation, quoted: str = "", figures: Sequence[str] = ()) -> CitedSentence:
    """The sentence of ``citation``'s passage that holds the quoted words (the whole quote when it
    is short and does not hold them), with the answer's ``figures`` it states, or else the quoted
    words, marked.

    Example:
        >>> c = Citation(1, "a.txt", "规划", "", "坚持创新。到2025年，平台数达到30家，进入前列。其他。", 100, 129)
        >>> s = cited_sentence(c, "到2025年，平台数达到30家", ["30家"])
        >>> s.text, (s.start, s.end), [s.text[a:b] for a, b in s.marks]
        ('到2025年，平台数达到30家，进入前列。', (105, 126), ['30家'])
    """
    quote = citation.quote
    found = -1
    length = 0
    for fragment in _fragments(quoted) if quoted else []:
        found = quote.find(fragment)
        if found >= 0:
            length = len(fragment)
            break
    if found < 0:
        if len(quote) <= SHORT_QUOTE_CHARS or not quote:
            start, end = 0, len(quote)
        else:
            start, end = _sentence_around(quote, _first_body_sentence(quote))
    else:
        start, end = _sentence_around(quote, found, found + length)
    while start < end and quote[start].isspace():
        start += 1
    while end > start and quote[end - 1].isspace():
        end -= 1
    if quote.startswith(CARD_MARK, start):  # the filing card: its fields, without the card's mark
        start += len(CARD_MARK)
    text = quote[start:end]
    if ROW_MARK in text and "：" in text:  # a table row, as read
        text = plain_text(text)
        found = -1
    marks = sorted({(m.start(), m.end()) for f in dict.fromkeys(figures) if f
                    for m in re.finditer(re.escape(f), text)})
    if not marks and found >= 0:
        marks = [(found - start, found - start + length)]
    return CitedSentence(citation.start + start, citation.start + end, text, tuple(marks))


def _first_body_sentence(quote: str) -> int:
    at = 0
    if quote.startswith(CARD_MARK):
        at = quote.find("\n") + 1 if "\n" in quote else 0
    while at < len(quote) and quote[at].isspace():
        at += 1
    return at


def _sentence_around(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """The sentence of ``text`` holding ``text[start:end]``: from after the last sentence end before
    it to the next one after it (its punctuation kept)."""
    end = start if end is None else end
    begin = max(text.rfind(ch, 0, start) for ch in _SENTENCE_END) + 1
    stops = [i for i in (text.find(ch, max(end - 1, start)) for ch in _SENTENCE_END) if i >= 0]
    stop = min(stops) + 1 if stops else len(text)
    if text[stop - 1:stop] == "\n":
        stop -= 1
    return begin, max(stop, end)


def cited_sentences(answer: Answer, citations: tuple[Citation, ...] | None = None) -> dict[int, CitedSentence]:
    """For each citation number, its cited sentence (the quoted piece found in its passage), the
    lead's bold figures (else the piece's figures) marked; a table row is written as read.

    Example:
        >>> c = Citation(1, "a.txt", "规划", "", "前文。高新技术企业数量达到4400家。后文。", 0, 22)
        >>> a = Answer("高新技术企业多少家？", "高新技术企业数量达到4400家[1]", (c,), (), False, 1.0)
        >>> cited_sentences(a)[1].text
        '高新技术企业数量达到4400家。'
    """
    quoted: dict[int, str] = {}
    figures: dict[int, list[str]] = {}
    lead = lead_sentence(answer)
    for i, piece in enumerate(answer_pieces(answer.text)):
        shown = piece.plain
        found = [shown[s:e] for s, e in figure_spans(shown, answer.question)]
        if i == 0 and lead.strong:
            found = [re.sub(r"\s*\(.*\)$", "", lead.text[s:e]) for s, e in lead.strong]
        for n in piece.refs:
            quoted.setdefault(n, piece.text)
            figures.setdefault(n, []).extend(found)
    chosen = answer.citations if citations is None else citations
    return {c.n: cited_sentence(c, quoted.get(c.n, ""), figures.get(c.n, ())) for c in chosen}


__all__ = ["CitedSentence", "cited_sentence", "cited_sentences"]
