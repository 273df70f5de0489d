"""Searching the index: BM25 and dense retrieval, fused by weighted reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping

import numpy as np

from index.build import expected_manifest
from index.dense import read_dense_index, search_dense
from index.embedders import Embedder
from index.lexical import LexicalIndex
from index.steering import document_affinity
from index.store import check_manifest, load_stored_index, version_folder
from index.tokenize import Tokenizer
from index.types import Hit
from ingest.types import Chunk, Document
from settings import Settings

SEARCH_MODES = ("hybrid", "lexical", "dense")


@dataclass(frozen=True)
class SearchIndex:
    """A loaded, read-only index version."""

    manifest: Mapping[str, object]
    documents: Mapping[str, Document]
    chunks: tuple[Chunk, ...]
    dense: object
    lexical: LexicalIndex


def open_index(settings: Settings, embedder_id: str, tokenizer: Tokenizer | None = None) -> SearchIndex:
    """Load the current index and check it was built with the same model and chunking.

    The dense index is exact or HNSW as the manifest's ``dense_index`` records; an HNSW index
    searches with ``efSearch = settings.hnsw_ef_search``.

    Raises:
        IndexMissingError: nothing has been built yet.
        IndexMismatchError: built with another embedder or chunking; the message names the fix.
    """
    store_dir = Path(settings.store_dir)
    stored = load_stored_index(store_dir)
    check_manifest(stored.manifest, expected_manifest(settings, embedder_id), store_dir)
    documents = {d.doc_id: d for d in stored.documents}
    dense = read_dense_index(version_folder(store_dir, "dense.faiss"), settings.hnsw_ef_search)
    lexical = LexicalIndex.load(version_folder(store_dir, "bm25"), len(stored.chunks), tokenizer or Tokenizer())
    return SearchIndex(stored.manifest, documents, stored.chunks, dense, lexical)


def reciprocal_rank_fusion(rankings: Mapping[str, list[int]], weights: Mapping[str, float], k: int) -> dict[int, float]:
    """Fuse ranked lists of row ids: ``score(row) = Σ weight / (k + rank)``.

    Example:
        >>> reciprocal_rank_fusion({"a": [1, 2], "b": [2]}, {"a": 1.0, "b": 1.0}, 0)
        {1: 1.0, 2: 1.5}
    """
    fused: dict[int, float] = {}
    for name, rows in rankings.items():
        for rank, row in enumerate(rows, start=1):
            fused[row] = fused.get(row, 0.0) + weights.get(name, 1.0) / (k + rank)
    return fused


class Retriever:
    """Finds the chunks that best match a question."""

    def __init__(self, index: SearchIndex, embedder: Embedder | None, settings: Settings) -> None:
        self.index = index
        self._embedder = embedder
        self._settings = settings

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: str = "hybrid",
        doc_ids: Collection[str] | None = None,
        dense_boost: float = 1.0,
    ) -> list[Hit]:
        """Return up to ``k`` hits for ``query``, best first.

        Args:
            mode: ``hybrid`` (default), ``lexical`` or ``dense``.
            doc_ids: restrict the search to these documents.
            dense_boost: multiplies the dense weight (e.g. for questions in another language,
                where shared words are few).

        Raises:
            ValueError: an unknown mode, or a dense search without an embedder.
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; use one of {SEARCH_MODES}")
        if mode != "lexical" and self._embedder is None:
            raise ValueError(f"search mode {mode!r} needs an embedder; load one or use mode='lexical'")
        k = k or self._settings.top_k
        n = len(self.index.chunks)
        if n == 0:
            return []
        allowed = None if doc_ids is None else np.array([c.doc_id in doc_ids for c in self.index.chunks])
        pool = max(self._settings.candidate_k, k)
        affinity = document_affinity(query, self.index.documents)
        boost = np.array([affinity.get(c.doc_id, 1.0) for c in self.index.chunks], dtype=np.float32)
        rankings: dict[str, list[int]] = {}
        if mode in ("hybrid", "lexical"):
            scores = self.index.lexical.scores(query) * boost
            if allowed is not None:
                scores = np.where(allowed, scores, 0.0)
            order = np.argsort(-scores, kind="stable")[:pool]
            rankings["lexical"] = [int(i) for i in order if scores[i] > 0]
        if mode in ("hybrid", "dense"):
            found = search_dense(self.index.dense, self._embedder.embed_query(query), n if allowed is not None else pool)
            found = [(i, s * float(boost[i])) for i, s in found if allowed is None or allowed[i]]
            found.sort(key=lambda pair: -pair[1])
            rankings["dense"] = [i for i, _ in found[:pool]]
        weights = {"lexical": self._settings.lexical_weight, "dense": self._settings.dense_weight * dense_boost}
        fused = reciprocal_rank_fusion(rankings, weights, self._settings.rrf_k)
        best = sorted(fused.items(), key=lambda pair: -pair[1])[:k]
        sources = {row: "+".join(name for name, rows in rankings.items() if row in rows) for row, _ in best}
        return [
            Hit(chunk=self.index.chunks[row], score=score, rank=rank, source=sources[row])
            for rank, (row, score) in enumerate(best, start=1)
        ]
