"""Cutting a document into retrievable chunks that know their span and heading path.

Chunks never straddle two top-level sections (``一、``…, ``附件N``). Inside a section,
langchain's recursive splitter cuts at paragraph, line, then Chinese sentence boundaries, so a
numbered list or a table row that fits in a chunk stays whole.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.structure import find_headings, heading_path_at, top_level_spans
from ingest.types import Chunk, Document

CHINESE_SEPARATORS = ["\n\n", "\n", "。", "；", "！", "？", "，", ""]


def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=CHINESE_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )


def split_into_chunks(document: Document, chunk_size: int = 300, chunk_overlap: int = 60) -> list[Chunk]:
    """Split ``document.text`` into chunks of at most ``chunk_size`` characters.

    Every chunk satisfies ``document.text[chunk.start:chunk.end] == chunk.text``.

    Raises:
        ValueError: ``chunk_overlap`` is not smaller than ``chunk_size``.

    Example:
        >>> doc = Document("d.txt", "d.txt", "d", "一、总则\\n到2025年达到30家。\\n二、任务\\n建设平台。", "0")
        >>> [(c.text, c.heading_path) for c in split_into_chunks(doc, 40, 0)]
        [('一、总则\\n到2025年达到30家。', '一、总则'), ('二、任务\\n建设平台。', '二、任务')]
    """
    if chunk_size <= 0 or not 0 <= chunk_overlap < chunk_size:
        raise ValueError(
            f"chunk_size={chunk_size}, chunk_overlap={chunk_overlap}: need 0 <= overlap < size"
        )
    text = document.text
    headings = find_headings(text)
    splitter = _splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for section_start, section_end in top_level_spans(text, headings):
        section = text[section_start:section_end]
        for piece in splitter.create_documents([section]):
            local = piece.metadata["start_index"]
            start = section_start + local
            end = start + len(piece.page_content)
            if text[start:end] != piece.page_content:  # the splitter's find() drifted
                start = text.find(piece.page_content, section_start)
                end = start + len(piece.page_content)
            chunks.append(
                Chunk(
                    chunk_id=f"{document.doc_id}#{len(chunks)}",
                    doc_id=document.doc_id,
                    text=piece.page_content,
                    start=start,
                    end=end,
                    heading_path=heading_path_at(headings, start),
                )
            )
    return chunks
