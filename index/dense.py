"""The FAISS dense index: exact inner product over normalised vectors."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


def build_dense_index(vectors: np.ndarray) -> faiss.Index:
    """An exact inner-product index over ``vectors`` (rows are L2-normalised)."""
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 1
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def write_dense_index(vectors: np.ndarray, path: Path) -> None:
    """Build the dense index for ``vectors`` and write it to ``path``."""
    faiss.write_index(build_dense_index(vectors), str(path))


def read_dense_index(path: Path) -> faiss.Index:
    """Read an index written by :func:`write_dense_index`."""
    return faiss.read_index(str(path))


def search_dense(index: faiss.Index, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Return up to ``k`` ``(row, similarity)`` pairs, best first.

    FAISS pads with ``-1`` ids when ``k`` exceeds the number of vectors; those are dropped.

    Example:
        >>> idx = build_dense_index(np.eye(2, dtype=np.float32))
        >>> search_dense(idx, np.array([1.0, 0.0], dtype=np.float32), 5)
        [(0, 1.0), (1, 0.0)]
    """
    if index.ntotal == 0 or k <= 0:
        return []
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
