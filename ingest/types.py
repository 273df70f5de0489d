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
    """

    doc_id: str
    path: str
    title: str
    text: str
    sha256: str
    meta: Mapping[str, str] = field(default_factory=dict)
    source_rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A retrievable span of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    heading_path: str = ""
