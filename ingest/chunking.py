"""Cutting a document into retrievable chunks that know their span and heading path.

Chunks never straddle two top-level sections (``一、``…, ``附件N``) nor two articles of a law. The
document's filing card (its first line) is one chunk of kind ``card``. Each table row line is a
chunk of its own (it carries its caption and headers, so it stands alone). Inside a section,
langchain's recursive splitter cuts at paragraph, line, then Chinese sentence boundaries, so a
numbered list or a table row that fits in a chunk stays whole.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.normalize import search_form
from ingest.structure import HeadingPaths, find_headings, top_level_spans
from ingest.tables import ROW_MARK
from ingest.types import CARD_MARK, Chunk, Document

ROW_CHUNK_FACTOR = 3  # a table row up to this many chunk sizes stays one chunk: cut, it loses its label
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


def _blocks(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    r"""Cut ``text[start:end]`` into runs of prose and single table-row lines: ``(start, end, is_row)``.

    Example:
        >>> t = "正文一。\n表｜甲：1\n表｜乙：2\n正文二。"
        >>> [(t[s:e], r) for s, e, r in _blocks(t, 0, len(t))]
        [('正文一。\n', False), ('表｜甲：1', True), ('表｜乙：2', True), ('正文二。', False)]
    """
    blocks: list[tuple[int, int, bool]] = []
    prose_start = start
    offset = start
    for line in text[start:end].split("\n"):
        line_end = offset + len(line)
        if ROW_MARK in line:
            if offset > prose_start:
                blocks.append((prose_start, offset, False))
            blocks.append((offset, line_end, True))
            prose_start = min(line_end + 1, end)
        offset = line_end + 1
    if end > prose_start and text[prose_start:end].strip():
        blocks.append((prose_start, end, False))
    return [(s, e, r) for s, e, r in blocks if text[s:e].strip()]


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
    paths = HeadingPaths(headings)
    splitter = _splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    body = 0
    if text.startswith(CARD_MARK):
        body = text.find("\n") if "\n" in text else len(text)
        chunks.append(_chunk(document, 0, text[:body], 0, "", "card"))
    for section_start, section_end in top_level_spans(text, headings):
        section_start = max(section_start, body)
        if section_end <= section_start:
            continue
        for block_start, block_end, is_row in _blocks(text, section_start, section_end):
            block = text[block_start:block_end]
            if is_row and len(block) <= ROW_CHUNK_FACTOR * chunk_size:
                pieces = [(0, block)]
            else:
                pieces = [(p.metadata["start_index"], p.page_content) for p in splitter.create_documents([block])]
            for local, content in pieces:
                start = block_start + local
                if text[start:start + len(content)] != content:  # the splitter's find() drifted
                    start = text.find(content, block_start)
                stack = paths.stack_at(start)
                if stack and stack[-1].role in ("编", "章", "节") and stack[-1].offset == start and "\n" not in content:
                    continue  # a chapter's name alone: every article chunk under it carries it in its path
                kind = "table_row" if is_row else "article" if any(h.role == "条" for h in stack) else "text"
                chunks.append(_chunk(document, len(chunks), content, start, paths.at(start), kind, stack))
    return chunks


def _chunk(document: Document, n: int, content: str, start: int, path: str, kind: str, stack: tuple = ()) -> Chunk:
    searched = search_form(content)
    return Chunk(
        chunk_id=f"{document.doc_id}#{n}",
        doc_id=document.doc_id,
        text=content,
        start=start,
        end=start + len(content),
        heading_path=path,
        kind=kind,
        chapter=" > ".join(h.title for h in stack if h.role in ("编", "章", "节")),
        article=next((h.title for h in stack if h.role == "条"), ""),
        search_text=searched if searched != content else "",
    )
