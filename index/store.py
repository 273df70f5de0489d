"""The index on disk: versioned folders, an atomic ``current`` pointer, a manifest, a lock.

Layout of the store folder (default ``index/store/``)::

    current -> v-<timestamp>-<pid>     symlink, swapped atomically with os.replace
    v-…/manifest.json                   everything that changes vectors (model, chunking, versions)
    v-…/documents.jsonl, chunks.jsonl   what was indexed
    v-…/vectors.npy                     one normalised row per chunk
    v-…/bm25/                           the bm25s lexical index
    v-…/dense.faiss                     FAISS over the vectors: exact, or HNSW at scale (manifest ``dense_index``)
    .lock                               held (flock) by the one ingest that may write

A new version is written completely aside, then ``current`` is switched: a crash at any point
leaves the previous index usable, and the kernel drops a dead process's lock.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from index.types import IndexBusyError, IndexMismatchError, IndexMissingError
from ingest.types import Chunk, Document

STORE_FORMAT = 1
CURRENT = "current"
MANIFEST = "manifest.json"
KEEP_OLD_VERSIONS = 1


@dataclass(frozen=True)
class StoredIndex:
    """One complete version of the index, as written to or read from disk."""

    manifest: dict[str, Any]
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # (len(chunks), dim) float32


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def current_version(store_dir: Path) -> Path | None:
    """Return the folder of the current index version, or ``None`` if none is complete."""
    pointer = store_dir / CURRENT
    if not pointer.is_symlink() and not pointer.exists():
        return None
    target = pointer.resolve()
    return target if (target / MANIFEST).is_file() else None


def read_manifest(store_dir: Path) -> dict[str, Any] | None:
    """Return the current version's manifest, or ``None`` when there is no index yet."""
    version = current_version(store_dir)
    if version is None:
        return None
    return json.loads((version / MANIFEST).read_text(encoding="utf-8"))


def check_manifest(manifest: dict[str, Any], expected: dict[str, Any], store_dir: Path) -> None:
    """Raise :class:`IndexMismatchError` naming the fix if the index was built differently.

    ``expected`` holds the manifest keys that decide the vectors (model id, chunking…). Another
    embedder needs ``--rebuild`` (every vector changes); anything else needs a plain ingest, which
    re-chunks and reuses the vectors of unchanged text.
    """
    differences = {
        key: f"{key}: index has {manifest.get(key)!r}, settings ask for {value!r}"
        for key, value in expected.items()
        if manifest.get(key) != value
    }
    if differences:
        fix = "python -m ingest --rebuild" if "embedder" in differences else "python -m ingest"
        raise IndexMismatchError(
            f"the index in {store_dir} was built with other settings ({'; '.join(differences.values())}). "
            f"Update it with `{fix}`, or change the settings back."
        )


def load_stored_index(store_dir: Path) -> StoredIndex:
    """Read the current version completely.

    Raises:
        IndexMissingError: no index has been built in ``store_dir``.
    """
    version = current_version(store_dir)
    if version is None:
        raise IndexMissingError(f"no index in {store_dir}; build it with `python -m ingest`")
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    documents = tuple(
        Document(**{**row, "source_rows": tuple(tuple(pair) for pair in row.get("source_rows", ()))})
        for row in _read_jsonl(version / "documents.jsonl")
    )
    chunks = tuple(Chunk(**row) for row in _read_jsonl(version / "chunks.jsonl"))
    vectors = np.load(version / "vectors.npy")
    return StoredIndex(manifest, documents, chunks, vectors)


def version_folder(store_dir: Path, name: str) -> Path:
    """Return the path of a version's sub-folder (e.g. ``bm25``) in the current version."""
    version = current_version(store_dir)
    if version is None:
        raise IndexMissingError(f"no index in {store_dir}; build it with `python -m ingest`")
    return version / name


def write_index(store_dir: Path, index: StoredIndex, write_extra=None) -> Path:
    """Write ``index`` as a new version aside, then point ``current`` at it atomically.

    Args:
        write_extra: optional callable given the new version folder, to write more files
            (the BM25 index) before the switch.
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    version = store_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    staging = store_dir / f".staging-{version.name}"
    staging.mkdir()
    _write_jsonl(staging / "documents.jsonl", [dataclasses.asdict(d) for d in index.documents])
    _write_jsonl(staging / "chunks.jsonl", [dataclasses.asdict(c) for c in index.chunks])
    np.save(staging / "vectors.npy", index.vectors.astype(np.float32))
    if write_extra is not None:
        write_extra(staging)
    (staging / MANIFEST).write_text(json.dumps(index.manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _fsync_tree(staging)
    staging.rename(version)
    pointer_tmp = store_dir / f".{CURRENT}.tmp-{os.getpid()}"
    if pointer_tmp.is_symlink() or pointer_tmp.exists():
        pointer_tmp.unlink()
    pointer_tmp.symlink_to(version.name)
    os.replace(pointer_tmp, store_dir / CURRENT)
    _remove_old_versions(store_dir, keep=version)
    return version


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _remove_old_versions(store_dir: Path, keep: Path) -> None:
    versions = sorted(p for p in store_dir.glob("v-*") if p.is_dir() and p != keep)
    for old in versions[: max(0, len(versions) - KEEP_OLD_VERSIONS)]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in store_dir.glob(".staging-*"):  # from a crashed ingest; ours is renamed already
        shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def ingest_lock(store_dir: Path) -> Iterator[None]:
    """Hold the store's write lock; a second ingest at the same time gets :class:`IndexBusyError`.

    The lock is an ``flock`` on ``.lock``: the kernel releases it when its holder dies, so a
    crashed ingest never blocks the next one.
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusyError(
                f"another ingest is writing the index in {store_dir}; wait for it to finish and run again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
