"""From corpus files to :class:`Document` objects: load, clean, read metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ingest.cleaning import clean_text
from ingest.loaders import SUPPORTED_SUFFIXES, read_raw_text
from ingest.metadata import SIDECAR_SUFFIX, extract_metadata, read_sidecar
from ingest.types import CorpusError, Document

PIPELINE_VERSION = 2  # bump when cleaning, tables or metadata change what documents contain


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
    """List the document files of a corpus folder (recursively), sidecars and hidden files excluded.

    Raises:
        CorpusError: the folder does not exist.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; create it and put documents in it")
    return sorted(
        path
        for path in corpus_dir.rglob("*")
        if path.is_file()
        and not path.name.endswith(SIDECAR_SUFFIX)
        and not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    )


def load_document(path: Path, corpus_dir: Path) -> Document:
    """Load, clean and describe one corpus file.

    Raises:
        CorpusError: the file cannot be read, is empty after cleaning, or its sidecar is bad.
    """
    raw, data = read_raw_text(path)
    text = clean_text(raw)
    if not text.strip():
        raise CorpusError(f"{path.name}: nothing is left after cleaning; check the file's content")
    meta = {**extract_metadata(text), **read_sidecar(path)}
    title = meta.pop("title", "") or path.stem
    return Document(
        doc_id=path.relative_to(corpus_dir).as_posix(),
        path=str(path),
        title=title,
        text=text,
        sha256=file_sha256(data),
        meta=meta,
    )


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
