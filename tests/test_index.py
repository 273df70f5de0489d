"""Index build, incremental updates, mismatch errors, atomic swap and the lock (fake embedder)."""

import os
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.dense import build_dense_index, search_dense
from index.search import Retriever, open_index, reciprocal_rank_fusion
from index.store import current_version, ingest_lock, read_manifest
from index.types import IndexBusyError, IndexMismatchError, IndexMissingError
from tests.fakes import FakeEmbedder


def test_build_then_noop_rebuild_embeds_nothing(settings, fake_embedder):
    first = build_index(settings, fake_embedder)
    assert first.embedded == first.chunks > 0 and first.added == ("wenling.txt", "wenzhou.txt")
    calls = fake_embedder.passages_embedded
    second = build_index(settings, fake_embedder)
    assert second.nothing_changed
    assert fake_embedder.passages_embedded == calls  # zero embed calls on the second run


def test_changed_file_embeds_only_its_new_chunks(settings, fake_embedder, small_corpus):
    build_index(settings, fake_embedder)
    before = fake_embedder.passages_embedded
    path = small_corpus / "wenling.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n二、保障措施\n加强组织领导。\n", encoding="utf-8")
    report = build_index(settings, fake_embedder)
    assert report.changed == ("wenling.txt",)
    assert 0 < report.embedded == fake_embedder.passages_embedded - before < report.chunks


def test_deleted_file_leaves_both_indexes(settings, fake_embedder, small_corpus):
    build_index(settings, fake_embedder)
    (small_corpus / "wenling.txt").unlink()
    report = build_index(settings, fake_embedder)
    assert report.removed == ("wenling.txt",)
    index = open_index(settings, fake_embedder.model_id)
    assert {c.doc_id for c in index.chunks} == {"wenzhou.txt"}
    retriever = Retriever(index, fake_embedder, settings)
    assert all(h.chunk.doc_id == "wenzhou.txt" for h in retriever.search("温岭 创新飞地", mode="lexical"))


def test_bad_file_is_reported_and_previous_version_kept(settings, fake_embedder, small_corpus):
    build_index(settings, fake_embedder)
    (small_corpus / "wenling.txt").write_bytes(b"\x00\x01\x02 binary garbage" * 50)
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = build_index(settings, fake_embedder)
    assert {"wenling.txt", "broken.pdf"} <= {str(e).split(":")[0] for e in report.failed}
    assert report.kept_previous == ("wenling.txt",)
    index = open_index(settings, fake_embedder.model_id)
    assert any("1800" in c.text for c in index.chunks if c.doc_id == "wenling.txt")


def test_querying_with_another_model_names_the_fix(settings, fake_embedder):
    build_index(settings, fake_embedder)
    with pytest.raises(IndexMismatchError, match="python -m ingest --rebuild"):
        open_index(settings, "some-other-model")


def test_ingest_with_another_model_needs_rebuild(settings, fake_embedder):
    build_index(settings, fake_embedder)
    other = FakeEmbedder(model_id="fake:other", dim=32)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        build_index(settings, other)
    report = build_index(settings, other, rebuild=True)
    assert report.embedded == report.chunks
    assert read_manifest(Path(settings.store_dir))["embedder"] == "fake:other"


def test_changed_chunking_is_a_mismatch_for_queries(settings, fake_embedder):
    build_index(settings, fake_embedder)
    with pytest.raises(IndexMismatchError, match=r"chunk_size.*`python -m ingest`"):
        open_index(settings.replace(chunk_size=500), fake_embedder.model_id)


def test_missing_index_names_the_command(settings, fake_embedder):
    with pytest.raises(IndexMissingError, match="python -m ingest"):
        open_index(settings, fake_embedder.model_id)


def test_faiss_padding_ids_are_dropped():
    index = build_dense_index(np.eye(3, dtype=np.float32))
    found = search_dense(index, np.array([1, 0, 0], dtype=np.float32), k=10)
    assert len(found) == 3 and all(row >= 0 for row, _ in found)


def test_search_with_k_above_chunk_count(settings, fake_embedder):
    build_index(settings, fake_embedder)
    index = open_index(settings, fake_embedder.model_id)
    hits = Retriever(index, fake_embedder, settings).search("科技型中小企业", k=500)
    assert 0 < len(hits) <= len(index.chunks)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_place_in_question_steers_to_its_document(settings, fake_embedder):
    build_index(settings, fake_embedder)
    retriever = Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings)
    assert retriever.search("温岭科技型中小企业目标")[0].chunk.doc_id == "wenling.txt"
    assert retriever.search("温州科技型中小企业目标")[0].chunk.doc_id == "wenzhou.txt"


def test_rrf_fusion_adds_weighted_reciprocal_ranks():
    fused = reciprocal_rank_fusion({"lexical": [7, 3], "dense": [3]}, {"lexical": 1.0, "dense": 0.5}, 1)
    assert fused == {7: 0.5, 3: pytest.approx(1 / 3 + 0.25)}


def test_second_ingest_is_refused_while_one_holds_the_lock(settings, fake_embedder):
    with ingest_lock(Path(settings.store_dir)):
        with pytest.raises(IndexBusyError, match="another ingest"):
            build_index(settings, fake_embedder)


def test_crashed_staging_folder_does_not_block_or_replace_the_index(settings, fake_embedder):
    build_index(settings, fake_embedder)
    store = Path(settings.store_dir)
    good = current_version(store)
    (store / ".staging-v-crashed").mkdir()
    (store / ".staging-v-crashed" / "chunks.jsonl").write_text("{half", encoding="utf-8")
    assert current_version(store) == good
    build_index(settings, fake_embedder, rebuild=True)
    assert not (store / ".staging-v-crashed").exists()
    assert open_index(settings, fake_embedder.model_id).chunks


def test_version_swap_is_a_symlink_replace(settings, fake_embedder):
    build_index(settings, fake_embedder)
    first = current_version(Path(settings.store_dir))
    build_index(settings, fake_embedder, rebuild=True)
    second = current_version(Path(settings.store_dir))
    assert first != second and os.path.islink(Path(settings.store_dir) / "current")
