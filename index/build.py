"""Building the index from the corpus, incrementally by content hash.

Unchanged files are never re-embedded (vectors are reused by the hash of the text they were
computed from); deleted files leave the index; a file that fails to load keeps its previously
indexed version, and is reported.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from index.dense import FLAT_SPEC, dense_index_spec, write_dense_index
from index.embedders import Embedder
from index.lexical import LexicalIndex
from index.store import (
    CURRENT,
    STORE_FORMAT,
    StoredIndex,
    check_manifest,
    ingest_lock,
    load_stored_index,
    read_manifest,
    write_index,
)
from index.tokenize import TOKENIZER_VERSION, Tokenizer
from ingest.chunking import split_into_chunks
from ingest.isolated import IsolatedLoader
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.metadata import SIDECAR_SUFFIX
from ingest.pipeline import PIPELINE_VERSION, corpus_files
from ingest.types import Chunk, CorpusError, Document
from settings import Settings

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What an ingest run did."""

    files: int
    chunks: int
    embedded: int
    reused: int
    seconds: float
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    failed: tuple[CorpusError, ...] = ()
    kept_previous: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    written: bool = True

    @property
    def nothing_changed(self) -> bool:
        """True when the index already matched the corpus and nothing was written."""
        return not self.written


def expected_manifest(settings: Settings, embedder_id: str) -> dict[str, object]:
    """The manifest entries that decide the vectors and chunks; a mismatch needs a rebuild."""
    return {
        "store_format": STORE_FORMAT,
        "pipeline_version": PIPELINE_VERSION,
        "tokenizer_version": TOKENIZER_VERSION,
        "embedder": embedder_id,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
    }


def lexical_text(chunk: Chunk) -> str:
    r"""The text BM25 indexes for a chunk: its section path, then the span.

    The document title is left out: shared by every chunk of a document, it would make the
    shortest chunks win any question that names the document (steering handles titles).

    Example:
        >>> lexical_text(Chunk("a.txt#0", "a.txt", "达到560家。", 5, 12, "一、目标"))
        '一、目标\n达到560家。'
    """
    return f"{chunk.heading_path}\n{chunk.search_text or chunk.text}"


def index_text(document: Document, chunk: Chunk) -> str:
    """The text that is embedded for a chunk: title and section, then the span.

    Example:
        >>> d = Document("a.txt", "a.txt", "温岭市规划", "一、目标\\n达到560家。", "0")
        >>> index_text(d, Chunk("a.txt#0", "a.txt", "达到560家。", 5, 12, "一、目标"))
        '温岭市规划 一、目标\\n达到560家。'
    """
    return f"{document.title} {chunk.heading_path}\n{chunk.text}"


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def file_fingerprints(corpus_dir: Path) -> dict[str, str]:
    """Hash every corpus file together with its sidecar, keyed by document id."""
    prints = {}
    for path in corpus_files(corpus_dir):
        try:
            digest = hashlib.sha256(path.read_bytes())
            sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
            if sidecar.is_file():
                digest.update(sidecar.read_bytes())
        except FileNotFoundError:  # deleted since it was listed: as if deleted before (reported as removed)
            continue
        prints[path.relative_to(corpus_dir).as_posix()] = digest.hexdigest()
    return prints


def build_index(
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    tokenizer: Tokenizer | None = None,
) -> BuildReport:
    """Bring the index in ``settings.store_dir`` up to date with ``settings.corpus_dir``.

    Args:
        rebuild: ignore the existing index and embed everything again.
        progress: called with ``(done, total)`` as chunks are embedded.

    Raises:
        IndexBusyError: another ingest is running.
        IndexMismatchError: the existing index was built with another embedder and ``rebuild``
            was not asked for (chunking or pipeline changes only re-chunk; vectors of unchanged
            text are reused).
        CorpusError: the corpus folder does not exist.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    store_dir, corpus_dir = Path(settings.store_dir), Path(settings.corpus_dir)
    expected = expected_manifest(settings, embedder.model_id)
    with ingest_lock(store_dir):
        _remove_stale_pointer_links(store_dir)
        fingerprints = file_fingerprints(corpus_dir)
        old_manifest = None if rebuild else read_manifest(store_dir)
        if old_manifest is not None:  # other vectors need an explicit --rebuild
            check_manifest(old_manifest, {"embedder": embedder.model_id}, store_dir)
        up_to_date = old_manifest is not None and all(old_manifest.get(k) == v for k, v in expected.items())
        old_prints: dict[str, str] = old_manifest.get("documents", {}) if old_manifest else {}
        # A dense index of another type than the size now asks for (threshold changed) is rebuilt
        # from the stored vectors: nothing is embedded again.
        dense_kept = old_manifest is not None and old_manifest.get("dense_index", FLAT_SPEC) == dense_index_spec(
            old_manifest.get("chunks", 0), settings.hnsw_min_chunks)
        if up_to_date and dense_kept and old_prints == fingerprints:
            return BuildReport(
                files=len(fingerprints), chunks=old_manifest.get("chunks", 0), embedded=0, reused=0,
                seconds=time.perf_counter() - started, written=False,
            )
        # Same embedder: vectors are reused by the hash of their text, whatever else changed.
        old = load_stored_index(store_dir) if old_manifest is not None else None
        timings["check"] = time.perf_counter() - started

        step = time.perf_counter()
        documents, failed, kept = _load_documents(corpus_dir, fingerprints, old, settings)
        timings["load_and_clean"] = time.perf_counter() - step

        step = time.perf_counter()
        chunks = [c for d in documents for c in split_into_chunks(d, settings.chunk_size, settings.chunk_overlap)]
        by_id = {d.doc_id: d for d in documents}
        texts = [index_text(by_id[c.doc_id], c) for c in chunks]
        timings["chunk"] = time.perf_counter() - step

        step = time.perf_counter()
        vectors, embedded = _embed_with_reuse(texts, embedder, old, by_id, settings.embed_batch_size, progress)
        timings["embed"] = time.perf_counter() - step

        step = time.perf_counter()
        lexical = LexicalIndex.build([lexical_text(c) for c in chunks], tokenizer or Tokenizer())
        manifest = {
            **expected,
            "dim": int(vectors.shape[1]),
            "chunks": len(chunks),
            "dense_index": dense_index_spec(len(chunks), settings.hnsw_min_chunks),
            "documents": {
                d.doc_id: (old_prints.get(d.doc_id, "") if d.doc_id in kept else fingerprints[d.doc_id])
                for d in documents
            },
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }

        def write_extra(folder: Path) -> None:
            lexical.save(folder / "bm25")
            write_dense_index(vectors, folder / "dense.faiss", manifest["dense_index"])

        write_index(store_dir, StoredIndex(manifest, tuple(documents), tuple(chunks), vectors), write_extra)
        timings["index"] = time.perf_counter() - step

    previous = set(old_prints)
    current = {d.doc_id for d in documents}
    return BuildReport(
        files=len(fingerprints),
        chunks=len(chunks),
        embedded=embedded,
        reused=len(chunks) - embedded,
        seconds=time.perf_counter() - started,
        added=tuple(sorted(current - previous)),
        changed=tuple(sorted(d for d in current & previous if fingerprints.get(d) != old_prints[d] and d not in kept)),
        removed=tuple(sorted(previous - current)),
        failed=tuple(failed),
        kept_previous=tuple(sorted(kept)),
        timings=timings,
    )


def _remove_stale_pointer_links(store_dir: Path) -> None:
    """Remove the ``.current.tmp-<pid>`` links of ingests killed mid-swap (only the lock holder makes one)."""
    for link in store_dir.glob(f".{CURRENT}.tmp-*"):
        link.unlink(missing_ok=True)


def _load_documents(
    corpus_dir: Path, fingerprints: dict[str, str], old: StoredIndex | None, settings: Settings
) -> tuple[list[Document], list[CorpusError], set[str]]:
    old_docs = {d.doc_id: d for d in old.documents} if old else {}
    documents, failed, kept = [], [], set()
    # Each file in a worker with a time and memory limit: a hostile file cannot stall or sink the ingest.
    with IsolatedLoader(settings.max_file_seconds, settings.max_file_memory_mb) as loader:
        for doc_id in fingerprints:
            try:
                documents.append(loader.load(corpus_dir / doc_id, corpus_dir))
            except CorpusError as exc:
                failed.append(exc)
                if doc_id in old_docs:  # nothing already indexed is lost
                    documents.append(old_docs[doc_id])
                    kept.add(doc_id)
    return documents, failed, kept


def _embed_with_reuse(
    texts: list[str],
    embedder: Embedder,
    old: StoredIndex | None,
    by_id: dict[str, Document],
    batch_size: int,
    progress: ProgressCallback | None,
) -> tuple[np.ndarray, int]:
    cache: dict[str, np.ndarray] = {}
    if old is not None:
        old_docs = {d.doc_id: d for d in old.documents}
        for chunk, vector in zip(old.chunks, old.vectors):
            if chunk.doc_id in old_docs:
                cache[_text_key(index_text(old_docs[chunk.doc_id], chunk))] = vector
    keys = [_text_key(t) for t in texts]
    missing = sorted({k: i for i, k in reversed(list(enumerate(keys))) if k not in cache}.values())
    done = 0
    if progress:
        progress(0, len(missing))
    for start in range(0, len(missing), max(1, batch_size)):
        batch = missing[start : start + batch_size]
        for i, vector in zip(batch, embedder.embed_passages([texts[i] for i in batch])):
            cache[keys[i]] = vector
        done += len(batch)
        if progress:
            progress(done, len(missing))
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.stack([cache[k] for k in keys]).astype(np.float32), len(missing)


__all__ = ["BuildReport", "SUPPORTED_SUFFIXES", "build_index", "expected_manifest", "index_text", "lexical_text"]
