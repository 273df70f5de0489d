"""How one file is understood: metadata, heading tree, tables as rows, chunks with their paths."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import split_into_chunks
from ingest.kinds import all_kinds, read_filing
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
    labels = {kind.name: kind.label for kind in all_kinds()}
    layers = read_filing(document.text.split("\n", 1)[-1]).layers
    lines = [f"# {document.doc_id}", f"kind: {document.kind} ({labels.get(document.kind, '')})"]
    lines += [f"layer: {name} ({labels.get(name, '')})" for name in layers]
    lines.append(f"title: {document.title}")
    lines += [f"{key}: {value}" for key, value in document.meta.items()]
    kinds = {kind: sum(1 for c in chunks if c.kind == kind) for kind in dict.fromkeys(c.kind for c in chunks)}
    lines.append(f"characters: {len(document.text)}  chunks: {len(chunks)} ({', '.join(f'{k} {n}' for k, n in kinds.items())})")
    headings = find_headings(document.text)
    articles = [h for h in headings if h.role == "条"]
    lines.append(f"\n## Headings ({len(headings)}; law parts: {len(headings) - len(articles) - sum(1 for h in headings if not h.role)}"
                 f" 编/章/节, {len(articles)} 条)")
    lines += ["  " * (h.level - 1) + h.title for h in headings]
    rows = [line for line in document.text.split("\n") if ROW_MARK in line]
    lines.append(f"\n## Table rows ({len(rows)})")
    lines += [f"- {row[:PREVIEW_CHARS * 2]}" for row in rows]
    lines.append("\n## Chunks")
    for chunk in chunks:
        preview = chunk.text[:PREVIEW_CHARS].replace("\n", " ⏎ ")
        where = f" {chunk.article}" if chunk.article else ""
        lines.append(f"[{chunk.chunk_id}] {chunk.kind}{where} {chunk.start}-{chunk.end} "
                     f"{chunk.heading_path or '(no heading)'}\n    {preview}")
    return "\n".join(lines)
