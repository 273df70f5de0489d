"""Data types and errors of the index."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.types import Chunk


class IndexError_(Exception):
    """Base class of index errors (named with a trailing underscore to leave the builtin alone)."""


class IndexMissingError(IndexError_):
    """No built index at the configured place."""


class IndexMismatchError(IndexError_):
    """The index on disk was built with settings (model, chunking, format) other than those asked for."""


class IndexBusyError(IndexError_):
    """Another ingest holds the index lock."""


class EmbedderError(IndexError_):
    """An embedding backend cannot be loaded or named."""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its fused score, 1-based rank and which retriever(s) found it."""

    chunk: Chunk
    score: float
    rank: int
    source: str
