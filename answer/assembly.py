"""Assembling an answerer from settings: load the embedder, open the index (used by the edges)."""

from __future__ import annotations

from answer.engine import Answerer
from index.embedders import Embedder, load_embedder
from index.search import Retriever, open_index
from settings import Settings


def load_answerer(settings: Settings, embedder: Embedder | None = None) -> Answerer:
    """Return an :class:`Answerer` over the current index.

    Raises:
        IndexMissingError: no index yet (run ``python -m ingest``).
        IndexMismatchError: the index was built with another model or chunking.
        EmbedderError: the configured embedder cannot be loaded.
    """
    embedder = embedder or load_embedder(settings.embedder)
    index = open_index(settings, embedder.model_id)
    return Answerer(Retriever(index, embedder, settings), settings)
