"""A corpus reader for tests: it never returns for a file named ``stall.*``, so a time limit always fires.

Used as ``IsolatedLoader(reader="tests.blocking_reader:load_or_stall")``: the stall is caused by the test,
not by how fast the machine parses a file, so the limit is hit on any machine however loaded.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ingest.pipeline import load_document
from ingest.types import Document

READER = "tests.blocking_reader:load_or_stall"
STALL_STEM = "stall"


def load_or_stall(path: Path, corpus_dir: Path) -> Document:
    """Block forever on ``stall.*`` files; read every other file as the ingest does."""
    if path.stem == STALL_STEM:
        threading.Event().wait()
    return load_document(path, corpus_dir)
