"""Chunker invariants (Hypothesis) and behaviour on the seeds."""

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ingest.chunking import ROW_CHUNK_FACTOR, split_into_chunks
from ingest.tables import ROW_MARK
from ingest.pipeline import load_document
from ingest.structure import find_headings, top_level_spans
from ingest.types import Document
from tests.conftest import REAL_CORPUS

PIECES = st.sampled_from(
    ["一、总体要求", "二、重点任务", "（一）建设平台", "1.建设实验室。", "到2025年，平台达到30家。", "温州市科技局",
     "表1｜高新技术企业数（家）：2025年 560", "坚持创新驱动，加快建设", "；", "。", "\n", "\n\n", "专栏2：重点区块"]
)
TEXTS = st.lists(PIECES, min_size=1, max_size=60).map("".join).filter(lambda t: t.strip())


def _doc(text: str) -> Document:
    return Document("d.txt", "d.txt", "d", text, "0")


@hsettings(max_examples=150, deadline=None)
@given(text=TEXTS, size=st.integers(20, 200), overlap_ratio=st.floats(0, 0.4))
def test_spans_reproduce_text_and_sizes_hold(text, size, overlap_ratio):
    overlap = int(size * overlap_ratio)
    chunks = split_into_chunks(_doc(text), size, overlap)
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text
        is_row = ROW_MARK in chunk.text and "\n" not in chunk.text
        assert 0 < len(chunk.text) <= (ROW_CHUNK_FACTOR * size if is_row else size)


@hsettings(max_examples=150, deadline=None)
@given(text=TEXTS, size=st.integers(20, 200))
def test_nothing_is_lost(text, size):
    chunks = split_into_chunks(_doc(text), size, 0)
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@hsettings(max_examples=100, deadline=None)
@given(text=TEXTS, size=st.integers(20, 200))
def test_chunks_never_straddle_top_level_sections(text, size):
    sections = top_level_spans(text, find_headings(text))
    for chunk in split_into_chunks(_doc(text), size, size // 5):
        assert any(s <= chunk.start and chunk.end <= e for s, e in sections)


def test_bad_overlap_is_a_clear_error():
    with pytest.raises(ValueError, match="overlap"):
        split_into_chunks(_doc("一、总则"), 100, 100)


def test_table_rows_are_chunks_of_their_own():
    text = "一、目标\n正文。\n表1｜高新技术企业数（家）：2025年 560\n表1｜省级众创空间（家）：2025年 8\n后文。"
    chunks = [c.text for c in split_into_chunks(_doc(text), 200, 0)]
    assert "表1｜高新技术企业数（家）：2025年 560" in chunks and "表1｜省级众创空间（家）：2025年 8" in chunks


def test_short_numbered_list_stays_in_one_chunk():
    text = "（一）任务\n1.建设实验室。\n2.建设走廊。\n3.培育企业。\n（二）保障\n" + "加强组织领导。" * 40
    chunks = split_into_chunks(_doc(text), 120, 20)
    assert any(all(item in c.text for item in ("1.建设实验室", "2.建设走廊", "3.培育企业")) for c in chunks)


@pytest.mark.parametrize("name", ["002_0e0d43181225949b.txt", "003_dc9f15ac38444f99.txt", "004_4ed772c9b4959484.txt"])
def test_seed_chunks_carry_heading_paths(name):
    document = load_document(REAL_CORPUS / name, REAL_CORPUS)
    chunks = split_into_chunks(document, 300, 60)
    with_path = [c for c in chunks if c.heading_path]
    assert len(with_path) >= 0.6 * len(chunks)
    assert all(document.text[c.start:c.end] == c.text for c in chunks)
