"""Scale benchmark: synthetic corpora of many chunks, searched through the product's own Retriever.

Chunk texts are real sentences of the corpus recombined, so BM25 term statistics are realistic.
Vectors are "corpus-like": drawn from a Gaussian with the mean and covariance of the real chunk
vectors, so they have the shape of real embeddings that approximate search depends on (random
unit vectors, the worst case, are measured too). Queries are the eval questions, embedded for
real inside the timed call, exactly as in production.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import faiss
import numpy as np

from eval.bench_query import REPO_ROOT, CountingEmbedder
from eval.bench_stats import (
    concatenated_tokens, gaussian_like, latency_summary, mean_pairwise_cosine, random_unit_vectors,
    recall_at_k, smallest_at_least, split_sentences, synthetic_chunks,
)
from eval.qa import QACase
from index.build import lexical_text
from index.dense import build_dense_index, search_dense
from index.embedders import Embedder
from index.lexical import LexicalIndex
from index.search import Retriever, SearchIndex
from index.store import StoredIndex
from index.tokenize import Tokenizer
from ingest.types import Chunk, Document
from settings import Settings

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40  # faiss's default
EF_SEARCH_SWEEP = (32, 64, 128, 192, 256, 384, 512)
RECALL_TARGET = 0.95
CHUNKS_PER_DOCUMENT = 200
MAX_SENTENCE_RUN = 3
TOKENIZER_SAMPLE = 200
SCALE_QUESTIONS = 120  # hybrid searches timed per size and index type (recall uses every question)


class _CachedTokenizer(Tokenizer):
    """The real tokenizer, with the tokens of the synthetic chunk texts known in advance."""

    def __init__(self, known: dict[str, list[str]]) -> None:
        super().__init__()
        self._known = known

    def tokens(self, text: str) -> list[str]:
        known = self._known.get(text)
        return list(known) if known is not None else super().tokens(text)


@dataclasses.dataclass
class SentencePool:
    """The corpus's sentences, their tokens and headings, and the real chunk vectors."""

    sentences: list[str]
    tokens: list[list[str]]
    vectors: np.ndarray  # the real chunk vectors, which synthetic vectors imitate
    headings: list[str]
    documents: list[Document]


def sentence_pool(stored: StoredIndex, tokenizer: Tokenizer) -> SentencePool:
    """Split every real chunk into sentences and tokenise each once."""
    sentences, headings = [], []
    for chunk in stored.chunks:
        for sentence in split_sentences(chunk.text):
            sentences.append(sentence)
            headings.append(chunk.heading_path)
    tokens = [tokenizer.tokens(s) for s in sentences]
    return SentencePool(sentences, tokens, np.asarray(stored.vectors, dtype=np.float32), headings, list(stored.documents))


def synthetic_index(pool: SentencePool, size: int, chunk_chars: int, tokenizer: Tokenizer, seed: int = 0):
    """Documents, chunks, index texts, a token cache and corpus-like vectors for ``size`` chunks."""
    made = synthetic_chunks(pool.sentences, size, chunk_chars, seed=seed, max_run=MAX_SENTENCE_RUN)
    documents: dict[str, Document] = {}
    chunks, texts, known = [], [], {}
    prefix_tokens: dict[str, list[str]] = {}
    for row, synthetic in enumerate(made):
        real = pool.documents[(row // CHUNKS_PER_DOCUMENT) % len(pool.documents)]
        doc_id = f"syn{row // CHUNKS_PER_DOCUMENT:05d}_{real.doc_id}"
        if doc_id not in documents:
            documents[doc_id] = Document(doc_id, doc_id, real.title, "", real.sha256, dict(real.meta))
        chunk = Chunk(f"{doc_id}#{row}", doc_id, synthetic.text, 0, len(synthetic.text), pool.headings[synthetic.sentences[0]])
        text = lexical_text(chunk)  # what BM25 indexes, as in index/build.py
        prefix = text[: len(text) - len(synthetic.text)]
        if prefix not in prefix_tokens:
            prefix_tokens[prefix] = tokenizer.tokens(prefix)
        known[text] = prefix_tokens[prefix] + concatenated_tokens(synthetic, pool.tokens)
        chunks.append(chunk)
        texts.append(text)
    vectors = gaussian_like(pool.vectors, size, seed=seed)
    return documents, chunks, texts, known, vectors


def _search_index(documents, chunks, texts, dense, lexical) -> SearchIndex:
    """A SearchIndex over the synthetic corpus, whatever optional fields this version of it has."""
    values = {"manifest": {}, "documents": documents, "chunks": tuple(chunks), "texts": tuple(texts),
              "dense": dense, "lexical": lexical}
    return SearchIndex(**{f.name: values[f.name] for f in dataclasses.fields(SearchIndex)})


def _build_hnsw(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(np.ascontiguousarray(vectors))
    return index


def _size_on_disk(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _top_ids(index: faiss.Index, queries: np.ndarray, k: int, keep: int = 10) -> list[list[int]]:
    return [[row for row, _ in search_dense(index, q, k)][:keep] for q in queries]


def _timed_each(function, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        function(item)
        out.append(time.perf_counter() - started)
    return out


def ef_sweep(hnsw: faiss.Index, exact_ids: list[list[int]], queries: np.ndarray, pool: int) -> dict[int, dict[str, float]]:
    """Recall@10 against exact search and search-only p95 for each efSearch of the sweep."""
    table = {}
    for ef in EF_SEARCH_SWEEP:
        hnsw.hnsw.efSearch = ef
        found = _top_ids(hnsw, queries, pool)
        seconds = _timed_each(lambda q: search_dense(hnsw, q, pool), queries)
        table[ef] = {"recall_at_10": recall_at_k(exact_ids, found, 10), "p95_ms": latency_summary(seconds)["p95_ms"]}
    return table


_MEMORY_CHILD = """
import json, sys
import faiss
from pathlib import Path
from index.lexical import LexicalIndex
from index.tokenize import Tokenizer
def rss():
    line = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0]
    return int(line.split()[1]) / 1024
folder, size = Path(sys.argv[1]), int(sys.argv[2])
base = rss()
lexical = LexicalIndex.load(folder / "bm25", size, Tokenizer())
after_bm25 = rss()
flat = faiss.read_index(str(folder / "dense.faiss"))
after_flat = rss()
del flat
before_hnsw = rss()
hnsw = faiss.read_index(str(folder / "dense-hnsw.faiss"))
after_hnsw = rss()
print(json.dumps({"bm25_mb": after_bm25 - base, "flat_mb": after_flat - after_bm25, "hnsw_mb": after_hnsw - before_hnsw}))
"""


def _memory_in_fresh_process(folder: Path, size: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])))
    child = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(folder), str(size)], capture_output=True,
                           text=True, env=env, cwd=REPO_ROOT, timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"memory probe failed with exit code {child.returncode}: {child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def bench_one_size(
    pool: SentencePool, size: int, settings: Settings, embedder: Embedder, cases: Sequence[QACase],
    query_vectors: np.ndarray, tokenizer: Tokenizer, log,
) -> dict[str, Any]:
    """Build, save, load and search one synthetic corpus of ``size`` chunks, exact and HNSW."""
    started = time.perf_counter()
    documents, chunks, texts, known, vectors = synthetic_index(pool, size, settings.chunk_size, tokenizer, seed=size)
    generate_s = time.perf_counter() - started
    sample = texts[:TOKENIZER_SAMPLE]
    started = time.perf_counter()
    for text in sample:
        tokenizer.tokens(text)
    tokenize_rate = sum(len(t) for t in sample) / max(time.perf_counter() - started, 1e-9)
    chars = sum(len(t) for t in texts)

    log(f"scale {size}: BM25 and FAISS builds …")
    cached = _CachedTokenizer(known)
    started = time.perf_counter()
    lexical = LexicalIndex.build(texts, cached)
    bm25_s = time.perf_counter() - started
    started = time.perf_counter()
    flat = build_dense_index(vectors)
    flat_s = time.perf_counter() - started
    started = time.perf_counter()
    hnsw = _build_hnsw(vectors)
    hnsw_s = time.perf_counter() - started
    log(f"scale {size}: BM25 {bm25_s:.1f} s, flat {flat_s:.2f} s, HNSW {hnsw_s:.1f} s")

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as folder_name:
        folder = Path(folder_name)
        lexical.save(folder / "bm25")
        faiss.write_index(flat, str(folder / "dense.faiss"))
        faiss.write_index(hnsw, str(folder / "dense-hnsw.faiss"))
        np.save(folder / "vectors.npy", vectors)
        with (folder / "chunks.jsonl").open("w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(json.dumps(dataclasses.asdict(chunk), ensure_ascii=False) + "\n")
        disk = {name: _size_on_disk(folder / name) for name in ("bm25", "dense.faiss", "dense-hnsw.faiss", "vectors.npy", "chunks.jsonl")}
        memory = _memory_in_fresh_process(folder, size)

    pool_k = max(settings.candidate_k, settings.top_k)
    exact_ids = _top_ids(flat, query_vectors, pool_k)
    sweep = ef_sweep(hnsw, exact_ids, query_vectors, pool_k)
    chosen_ef = smallest_at_least({ef: row["recall_at_10"] for ef, row in sweep.items()}, RECALL_TARGET) or max(EF_SEARCH_SWEEP)
    hnsw.hnsw.efSearch = chosen_ef

    index = _search_index(documents, chunks, texts, flat, lexical)
    counting = CountingEmbedder(embedder)
    exact_retriever = Retriever(index, counting, settings)
    hnsw_retriever = Retriever(dataclasses.replace(index, dense=hnsw), counting, settings)
    questions = [c.question for c in cases][:SCALE_QUESTIONS]
    for question in questions[:3]:
        exact_retriever.search(question)
        hnsw_retriever.search(question)
    log(f"scale {size}: timing {len(questions)} hybrid searches, exact then HNSW (efSearch {chosen_ef}) …")
    exact_hits, hnsw_hits, exact_embed, hnsw_embed = [], [], [], []

    def searched(retriever, hits, embed_seconds):
        def one(question):
            before = counting.seconds
            hits.append([h.chunk.chunk_id for h in retriever.search(question)])
            embed_seconds.append(counting.seconds - before)
        return one

    exact_s = _timed_each(searched(exact_retriever, exact_hits, exact_embed), questions)
    hnsw_s_q = _timed_each(searched(hnsw_retriever, hnsw_hits, hnsw_embed), questions)
    row_of = {c.chunk_id: i for i, c in enumerate(chunks)}
    hybrid_agreement = recall_at_k([[row_of[c] for c in hits] for hits in exact_hits],
                                   [[row_of[c] for c in hits] for hits in hnsw_hits], 10)
    bm25_only = _timed_each(lexical.scores, questions)
    flat_only = _timed_each(lambda q: search_dense(flat, q, pool_k), query_vectors)

    return {
        "chunks": size,
        "documents": len(documents),
        "chars": chars,
        "generate_s": generate_s,
        "build": {
            "bm25_s": bm25_s, "flat_s": flat_s, "hnsw_s": hnsw_s,
            "tokenize_rate_chars_s": tokenize_rate, "tokenize_estimated_s": chars / tokenize_rate,
        },
        "disk_bytes": disk,
        "memory_mb": memory,
        "vectors_mean_cosine": mean_pairwise_cosine(vectors),
        "recall_queries": len(query_vectors),
        "hybrid_exact": latency_summary(exact_s),
        "hybrid_hnsw": latency_summary(hnsw_s_q),
        "index_only_exact": latency_summary([t - e for t, e in zip(exact_s, exact_embed)]),
        "index_only_hnsw": latency_summary([t - e for t, e in zip(hnsw_s_q, hnsw_embed)]),
        "bm25_scores": latency_summary(bm25_only),
        "flat_search": latency_summary(flat_only),
        "ef_sweep": sweep,
        "chosen_ef": chosen_ef,
        "hybrid_top10_agreement": hybrid_agreement,
        "load": os.getloadavg()[0],
    }


def random_vector_recall(size: int, dim: int, query_count: int, pool_k: int, ef: int) -> dict[str, float]:
    """HNSW recall@10 on random unit vectors (no structure: the worst case for graph search)."""
    vectors = random_unit_vectors(size, dim, seed=1)
    queries = random_unit_vectors(query_count, dim, seed=2)
    flat = build_dense_index(vectors)
    started = time.perf_counter()
    hnsw = _build_hnsw(vectors)
    build_s = time.perf_counter() - started
    exact = _top_ids(flat, queries, pool_k)
    result = {"chunks": size, "build_s": build_s}
    for effort in sorted({ef, max(EF_SEARCH_SWEEP)}):
        hnsw.hnsw.efSearch = effort
        result[f"recall_at_10_ef{effort}"] = recall_at_k(exact, _top_ids(hnsw, queries, pool_k), 10)
    return result


def run_scale_bench(
    stored: StoredIndex, settings: Settings, embedder: Embedder, cases: Sequence[QACase],
    query_vectors: np.ndarray, sizes: Sequence[int], log,
) -> dict[str, Any]:
    """Every size in ``sizes``, then HNSW on random vectors at the smallest size."""
    tokenizer = Tokenizer()
    pool = sentence_pool(stored, tokenizer)
    log(f"scale: {len(pool.sentences)} real sentences in the pool")
    results = [bench_one_size(pool, size, settings, embedder, cases, query_vectors, tokenizer, log) for size in sizes]
    pool_k = max(settings.candidate_k, settings.top_k)
    worst = random_vector_recall(min(sizes), query_vectors.shape[1], len(query_vectors), pool_k, results[-1]["chosen_ef"])
    return {"sentences": len(pool.sentences), "real_vectors": len(pool.vectors),
            "real_mean_cosine": mean_pairwise_cosine(pool.vectors), "sizes": results, "random_vectors": worst}
