"""Data types of ingestion: a loaded document and the chunks cut from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


class CorpusError(Exception):
    """A corpus file cannot be read or understood; the message names the file and the fix."""


@dataclass(frozen=True)
class Document:
    """One source file, cleaned, with tables rewritten as self-describing rows.

    Attributes:
        doc_id: the file name inside the corpus folder, e.g. ``002_0e0d43181225949b.txt``.
        path: path of the file as read.
        title: the document's title (from the text or the sidecar file).
        text: the cleaned text; chunk spans index into it.
        sha256: hash of the raw file bytes.
        meta: what a clerk files it under: 发文机关, 文号, 成文日期, 文种.
        source_rows: ``(row line, row as written in the source)`` for every table row in
            ``text``, so a reader can match a row against the original document.
        kind: the document kind recognised (``law``, ``notice``, ``reply``, ``plan``, ``generic``;
            see :mod:`ingest.kinds`).
    """

    doc_id: str
    path: str
    title: str
    text: str
    sha256: str
    meta: Mapping[str, str] = field(default_factory=dict)
    source_rows: tuple[tuple[str, str], ...] = ()
    kind: str = "generic"


CARD_MARK = "【文件信息】"  # starts the filing card, the first line of every document's text
CHUNK_KINDS = ("text", "card", "article", "table_row")


@dataclass(frozen=True)
class Chunk:
    """A retrievable span of a document: ``document.text[start:end] == text``.

    Attributes:
        heading_path: the headings in force, outermost first (``第三章 … > 第四十三条``).
        kind: what the span is: ``text`` (prose), ``card`` (the document's filing card, one per
            document), ``article`` (inside an article of a law or regulation), ``table_row``.
        chapter: for a law's article, its 编/章/节 headings (``第三章 科技创新引导``).
        article: for a law's article, its number as written (``第四十三条``).
        search_text: ``text`` with dates and counts in digits (``二〇〇六年`` → ``2006年``) when that
            differs from ``text``; what search indexes. Quotes always come from ``text``.
    """

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    heading_path: str = ""
    kind: str = "text"
    chapter: str = ""
    article: str = ""
    search_text: str = ""
