"""How one file is understood: metadata, heading tree, tables as rows, chunks with their paths."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import split_into_chunks
from ingest.pipeline import load_document
from ingest.structure import find_headings
from ingest.tables import ROW_MARK

PREVIEW_CHARS = 80


def describe_file(path: Path, chunk_size: int, chunk_overlap: int) -> str:
    """Return a readable report of how ``path`` is loaded, structured and chunked.

    Raises:
        CorpusError: the file cannot be loaded.
    """
    document = load_document(path, path.parent)
    chunks = split_into_chunks(document, chunk_size, chunk_overlap)
    lines = [f"# {document.doc_id}", f"title: {document.title}"]
    lines += [f"{key}: {value}" for key, value in document.meta.items()]
    lines.append(f"characters: {len(document.text)}  chunks: {len(chunks)}")
    lines.append("\n## Headings")
    lines += ["  " * (h.level - 1) + h.title for h in find_headings(document.text)]
    rows = [line for line in document.text.split("\n") if ROW_MARK in line]
    lines.append(f"\n## Table rows ({len(rows)})")
    lines += [f"- {row[:PREVIEW_CHARS * 2]}" for row in rows]
    lines.append("\n## Chunks")
    for chunk in chunks:
        preview = chunk.text[:PREVIEW_CHARS].replace("\n", " ⏎ ")
        lines.append(f"[{chunk.chunk_id}] {chunk.start}-{chunk.end} {chunk.heading_path or '(no heading)'}\n    {preview}")
    return "\n".join(lines)
