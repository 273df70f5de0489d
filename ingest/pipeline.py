"""From corpus files to :class:`Document` objects: load, clean, read metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.cleaning import clean_text_with_sources
from ingest.loaders import SUPPORTED_SUFFIXES, read_raw_text
from ingest.kinds import read_filing
from ingest.metadata import MAX_META_CHARS, SIDECAR_SUFFIX, read_sidecar
from ingest.types import CARD_MARK, CorpusError, Document
PIPELINE_VERSION = 11  # bump when cleaning, tables or metadata change what documents contain


@dataclass(frozen=True)
class CorpusScan:
    """The outcome of reading a corpus folder: the good documents and the files that failed."""

    documents: tuple[Document, ...]
    errors: tuple[CorpusError, ...]


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Example:
        >>> file_sha256(b"")[:8]
        'e3b0c442'
    """
    return hashlib.sha256(data).hexdigest()


def corpus_files(corpus_dir: Path) -> list[Path]:
    """List the document files of a corpus folder (recursively), sidecars, hidden files and links excluded.

    Raises:
        CorpusError: the folder does not exist.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; create it and put documents in it")
    return sorted(
        path
        for path in corpus_dir.rglob("*")
        if path.is_file()
        and not path.is_symlink()  # a link could publish any server file (issue #19): never followed
        and not path.name.endswith(SIDECAR_SUFFIX)
        and not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    )


def load_document(path: Path, corpus_dir: Path) -> Document:
    """Load, clean and describe one corpus file.

    Raises:
        CorpusError: the file cannot be read, is empty after cleaning, or its sidecar is bad.
    """
    raw, data = read_raw_text(path)
    text, source_rows = clean_text_with_sources(raw)
    if not text.strip():
        raise CorpusError(f"{path.name}: nothing is left after cleaning; check the file's content")
    filing = read_filing(text)
    meta = {**filing.meta, **read_sidecar(path)}
    # A runaway first line ("关于……的通知" of a whole page) would be repeated in every chunk.
    title = (meta.pop("title", "") or path.stem)[:MAX_META_CHARS]
    return Document(
        doc_id=path.relative_to(corpus_dir).as_posix(),
        path=str(path),
        title=title,
        text=f"{document_card(title, meta)}\n\n{text}",
        sha256=file_sha256(data),
        meta=meta,
        source_rows=tuple(source_rows),
        kind=filing.kind,
    )


def document_card(title: str, meta: dict[str, str]) -> str:
    """The first line of every document: its title and filing fields, searchable in one place.

    Example:
        >>> document_card("温岭市规划", {"文号": "温发改〔2021〕170号", "文种": "规划"})
        '【文件信息】标题：温岭市规划；文号：温发改〔2021〕170号；文种：规划。'
    """
    fields = [f"标题：{title}", *(f"{key}：{value}" for key, value in meta.items() if value)]
    return f"{CARD_MARK}{'；'.join(fields)}。"


def scan_corpus(corpus_dir: Path) -> CorpusScan:
    """Load every file of ``corpus_dir``; a bad file is recorded in ``errors``, the rest still load."""
    documents, errors = [], []
    for path in corpus_files(corpus_dir):
        try:
            documents.append(load_document(path, corpus_dir))
        except CorpusError as exc:
            errors.append(exc)
    return CorpusScan(tuple(documents), tuple(errors))


__all__ = ["PIPELINE_VERSION", "CorpusScan", "SUPPORTED_SUFFIXES", "corpus_files", "file_sha256", "load_document", "scan_corpus"]
