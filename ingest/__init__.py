"""Ingestion: corpus files in, cleaned :class:`Document` objects and :class:`Chunk` spans out.

This package knows files and text only; it never imports ``index``, ``answer`` or gradio
(its command-line entry point, ``python -m ingest``, is an edge that assembles them).
"""

from ingest.types import Chunk, CorpusError, Document

__all__ = ["Chunk", "CorpusError", "Document"]
