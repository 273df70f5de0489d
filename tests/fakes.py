"""A deterministic fake embedder for fast unit tests: hashed character bigrams, normalised."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np


class FakeEmbedder:
    """Bag of hashed character bigrams: similar texts get similar vectors; counts its calls."""

    def __init__(self, model_id: str = "fake:bigram-64", dim: int = 64) -> None:
        self.model_id = model_id
        self.dim = dim
        self.passages_embedded = 0
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            bucket = int(hashlib.md5((a + b).encode("utf-8")).hexdigest()[:8], 16) % self.dim
            vector[bucket] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector + 1.0 / np.sqrt(self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.passages_embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
