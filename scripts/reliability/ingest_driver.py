"""An ingest to be killed: ``build_index`` with a slow fake embedder, announcing each phase it enters.

Run by :mod:`scripts.reliability.kill_trials` as a child process, which SIGKILLs it at a chosen
phase::

    python -m scripts.reliability.ingest_driver --corpus C --store S --marks FILE \\
        [--embed-delay 0.05] [--write-delay 0.2]

Each phase appends one line to ``--marks`` (flushed) as it starts: ``load`` (reading files),
``embed`` (each batch), ``staging`` (writing the new version aside), ``fsync``, ``swap`` (just
before ``current`` is replaced), ``cleanup`` (old versions removed, after the swap), ``done``.
``--write-delay`` stretches the write phases so that a kill can land inside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHASES = ("load", "embed", "staging", "fsync", "swap", "cleanup", "done")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--marks", required=True)
    parser.add_argument("--embed-delay", type=float, default=0.05, help="seconds of sleep per embedded batch")
    parser.add_argument("--write-delay", type=float, default=0.2, help="seconds of sleep in each write phase")
    args = parser.parse_args(argv)

    import index.build as build
    import index.store as store
    from settings import Settings
    from tests.fakes import FakeEmbedder

    marks = open(args.marks, "a", buffering=1, encoding="utf-8")

    def mark(phase: str) -> None:
        marks.write(f"{phase} {time.monotonic():.4f}\n")
        marks.flush()

    class SlowFakeEmbedder(FakeEmbedder):
        def embed_passages(self, texts):
            mark("embed")
            time.sleep(args.embed_delay)
            return super().embed_passages(texts)

    def announced(phase, function, delay):
        def wrapper(*a, **k):
            mark(phase)
            time.sleep(delay)
            return function(*a, **k)
        return wrapper

    build._load_documents = announced("load", build._load_documents, 0)
    store._write_jsonl = announced("staging", store._write_jsonl, args.write_delay)
    store._fsync_tree = announced("fsync", store._fsync_tree, args.write_delay)
    store._remove_old_versions = announced("cleanup", store._remove_old_versions, args.write_delay)
    shim = types.ModuleType("os_shim")
    shim.__dict__.update(os.__dict__)
    shim.replace = announced("swap", os.replace, args.write_delay)
    store.os = shim

    settings = Settings(corpus_dir=Path(args.corpus), store_dir=Path(args.store), embedder="fake",
                        chunk_size=120, chunk_overlap=20, embed_batch_size=4)
    report = build.build_index(settings, SlowFakeEmbedder())
    mark("done")
    print(f"indexed {report.files} files, {report.chunks} chunks, {report.embedded} embedded", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
