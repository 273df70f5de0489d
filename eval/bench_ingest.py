"""Ingestion benchmark: cold build, no-op re-run, one file changed, and the raw embedder's own speed.

Everything runs on a copy of the corpus in a temporary folder, into a temporary store: the
real corpus and index are never touched.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.build import BuildReport, build_index, index_text
from index.embedders import Embedder
from index.store import load_stored_index
from settings import Settings

CHANGED_PARAGRAPH = (
    "\n\n附：为便于基层科技部门查阅，本文件另行编制了术语对照表，"
    "对高新技术企业、科技型中小企业、新型研发机构等概念作了统一解释。\n"
)
RAW_SAMPLE_EVERY = 4  # the raw embedder is timed on every fourth chunk of the cold build


@dataclass(frozen=True)
class IngestBench:
    """The ingestion figures, ready for the report."""

    files: int
    chunks: int
    corpus_chars: int
    cold: dict[str, Any]
    noop: dict[str, Any]
    changed: dict[str, Any]
    raw: dict[str, Any]
    overhead: float  # pipeline CPU seconds / raw-embedder CPU seconds for the same chunks, minus 1
    overhead_wall: float  # the same with wall-clock seconds (sensitive to other jobs on the machine)
    settings: Settings  # points at the temporary store built here (used by the query benchmark)


def _timed_build(settings: Settings, embedder: Embedder) -> tuple[BuildReport, float]:
    """Run an ingest; return its report and the CPU seconds this process spent (all threads)."""
    started = time.process_time()
    report = build_index(settings, embedder)
    return report, time.process_time() - started


def _report_row(report: BuildReport, chars: int, cpu_seconds: float) -> dict[str, Any]:
    seconds = max(report.seconds, 1e-9)
    return {
        "seconds": report.seconds,
        "cpu_seconds": cpu_seconds,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "reused": report.reused,
        "written": report.written,
        "chunks_per_s": report.chunks / seconds,
        "chars_per_s": chars / seconds,
        "timings": dict(report.timings),
        "load": os.getloadavg()[0],
    }


def copy_corpus(source: Path, target: Path, only: tuple[str, ...] = ()) -> list[Path]:
    """Copy the corpus files (and their sidecars) into ``target``; ``only`` limits to those names.

    Raises:
        FileNotFoundError: the corpus folder does not exist or holds no files.
    """
    if not source.is_dir():
        raise FileNotFoundError(f"corpus folder {source} does not exist; set corpus_dir in the settings")
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(source.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if only and not any(path.name.startswith(name) for name in only):
            continue
        shutil.copy2(path, target / path.name)
        copied.append(target / path.name)
    if not copied:
        raise FileNotFoundError(f"no files to benchmark in {source}")
    return copied


def time_raw_embedder(embedder: Embedder, texts: list[str], batch_size: int) -> dict[str, Any]:
    """Time ``embed_passages`` alone over ``texts`` in batches, as the pipeline calls it (wall and CPU)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch_size):
        embedder.embed_passages(texts[start : start + batch_size])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    chars = sum(len(t) for t in texts)
    return {
        "chunks": len(texts),
        "chars": chars,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "chunks_per_s": len(texts) / max(seconds, 1e-9),
        "chars_per_s": chars / max(seconds, 1e-9),
        "load": os.getloadavg()[0],
    }


def run_ingest_bench(settings: Settings, embedder: Embedder, work: Path, quick: bool, log) -> IngestBench:
    """Ingest a copy of the corpus three ways and time the raw embedder on a sample of the chunks.

    Args:
        work: an empty temporary folder; the corpus copy and the store are made inside it.
        quick: only the two smallest files (a smoke run for CI).
        log: called with progress lines.
    """
    corpus = work / "corpus"
    source = Path(settings.corpus_dir)
    only: tuple[str, ...] = ()
    if quick:
        files = sorted((p for p in source.iterdir() if p.is_file() and not p.name.endswith(".json")), key=lambda p: p.stat().st_size)
        only = tuple(p.name for p in files[:2])
    copy_corpus(source, corpus, only)
    bench_settings = settings.replace(corpus_dir=str(corpus), store_dir=str(work / "store"))

    log("ingest: cold build (embeds every chunk) …")
    cold, cold_cpu = _timed_build(bench_settings, embedder)
    stored = load_stored_index(Path(bench_settings.store_dir))
    documents = {d.doc_id: d for d in stored.documents}
    corpus_chars = sum(len(d.text) for d in stored.documents)
    texts = [index_text(documents[c.doc_id], c) for c in stored.chunks]
    log(f"ingest: cold {cold.seconds:.1f} s for {cold.chunks} chunks")

    noop, noop_cpu = _timed_build(bench_settings, embedder)
    log(f"ingest: no-op re-run {noop.seconds:.2f} s")

    target = max((p for p in corpus.iterdir() if p.suffix == ".txt"), key=lambda p: p.stat().st_size)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(CHANGED_PARAGRAPH)
    changed, changed_cpu = _timed_build(bench_settings, embedder)
    log(f"ingest: one file changed {changed.seconds:.1f} s ({changed.embedded} chunks re-embedded)")

    sample = texts[::RAW_SAMPLE_EVERY] if len(texts) > 30 else texts
    log(f"ingest: raw embedder on {len(sample)} of {len(texts)} chunks …")
    raw = time_raw_embedder(embedder, sample, settings.embed_batch_size)
    raw["sample"] = f"every {RAW_SAMPLE_EVERY}th chunk" if len(sample) < len(texts) else "all chunks"
    total_chars = sum(len(t) for t in texts)
    scale = total_chars / max(raw["chars"], 1)
    raw["estimated_full_seconds"] = raw["seconds"] * scale
    raw["estimated_full_cpu_seconds"] = raw["cpu_seconds"] * scale

    changed_row = _report_row(changed, corpus_chars, changed_cpu)
    changed_row["file"] = target.name
    return IngestBench(
        files=cold.files,
        chunks=cold.chunks,
        corpus_chars=corpus_chars,
        cold=_report_row(cold, corpus_chars, cold_cpu),
        noop=_report_row(noop, corpus_chars, noop_cpu),
        changed=changed_row,
        raw=raw,
        overhead=cold_cpu / raw["estimated_full_cpu_seconds"] - 1.0,
        overhead_wall=cold.seconds / raw["estimated_full_seconds"] - 1.0,
        settings=bench_settings,
    )
