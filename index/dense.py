"""The FAISS dense index over normalised vectors: exact inner product, or HNSW at scale.

Which one is built is decided by the number of chunks (``settings.hnsw_min_chunks``) and recorded
in the manifest as ``dense_index`` (see :func:`dense_index_spec`); HNSW's search effort
(``efSearch``) is not stored but set when the index is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import faiss
import numpy as np

FLAT = "flat"
HNSW = "hnsw"
# Chosen by `python -m eval bench` (BENCHMARKS.md, "When to switch to HNSW"): at 100k chunks
# M=32, efConstruction 40 and efSearch 192 give recall@10 0.958 against exact search.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
FLAT_SPEC: dict[str, Any] = {"type": FLAT}


def dense_index_spec(chunks: int, hnsw_min_chunks: int) -> dict[str, Any]:
    """The dense index to build for ``chunks`` vectors, as recorded in the manifest.

    Example:
        >>> dense_index_spec(420, 50_000)
        {'type': 'flat'}
        >>> dense_index_spec(50_000, 50_000)
        {'type': 'hnsw', 'M': 32, 'efConstruction': 40}
    """
    if chunks >= hnsw_min_chunks:
        return {"type": HNSW, "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    return dict(FLAT_SPEC)


def build_dense_index(vectors: np.ndarray, spec: Mapping[str, Any] | None = None) -> faiss.Index:
    """An inner-product index over ``vectors`` (rows are L2-normalised): exact unless ``spec`` says HNSW.

    Raises:
        ValueError: ``spec`` names an unknown index type.
    """
    spec = spec or FLAT_SPEC
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    if spec.get("type") == HNSW:
        index = faiss.IndexHNSWFlat(dim, int(spec.get("M", HNSW_M)), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(spec.get("efConstruction", HNSW_EF_CONSTRUCTION))
    elif spec.get("type") == FLAT:
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"unknown dense index type {spec.get('type')!r}; use {FLAT!r} or {HNSW!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_dense_index(vectors: np.ndarray, path: Path, spec: Mapping[str, Any] | None = None) -> None:
    """Build the dense index for ``vectors`` (exact unless ``spec`` says HNSW) and write it to ``path``."""
    faiss.write_index(build_dense_index(vectors, spec), str(path))


def is_hnsw(index: faiss.Index) -> bool:
    """Whether ``index`` is an HNSW graph (approximate) rather than exact search."""
    return hasattr(index, "hnsw")


def read_dense_index(path: Path, ef_search: int | None = None) -> faiss.Index:
    """Read an index written by :func:`write_dense_index`; an HNSW index gets ``efSearch = ef_search``."""
    index = faiss.read_index(str(path))
    if ef_search and is_hnsw(index):
        index.hnsw.efSearch = int(ef_search)
    return index


def dense_candidates(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``k`` ``(rows, similarities)`` as arrays, best first; FAISS's ``-1`` padding dropped."""
    if index.ntotal == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]


def exact_among(index: faiss.Index, query: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every one of ``rows`` with its exact similarity to ``query``, best first.

    For an HNSW index the graph is bypassed: its stored vectors are scanned with a filter, so a
    search restricted to a few documents is exact whatever the index type.

    Example:
        >>> idx = build_dense_index(np.eye(3, dtype=np.float32), {"type": "hnsw"})
        >>> exact_among(idx, np.array([0.0, 0.6, 0.8], dtype=np.float32), np.array([0, 1]))
        (array([1, 0]), array([0.6, 0. ], dtype=float32))
    """
    rows = np.ascontiguousarray(np.asarray(rows, dtype=np.int64))
    if len(rows) == 0 or index.ntotal == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    flat = faiss.downcast_index(index.storage) if is_hnsw(index) else index
    selector = faiss.IDSelectorBatch(rows)
    vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    scores, ids = flat.search(vector, len(rows), params=faiss.SearchParameters(sel=selector))
    keep = ids[0] >= 0
    return ids[0][keep], scores[0][keep]


def search_dense(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return up to ``k`` ``(row, similarity)`` pairs, best first.

    FAISS pads with ``-1`` ids when ``k`` exceeds the number of vectors; those are dropped.

    Example:
        >>> idx = build_dense_index(np.eye(2, dtype=np.float32))
        >>> search_dense(idx, np.array([1.0, 0.0], dtype=np.float32), 5)
        [(0, 1.0), (1, 0.0)]
    """
    rows, scores = dense_candidates(index, query, k)
    return [(int(i), float(s)) for i, s in zip(rows, scores)]
