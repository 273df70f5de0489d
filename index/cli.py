"""The ingest command's body, shared by ``python -m ingest`` and ``app.py`` (an edge: prints, exit codes)."""

from __future__ import annotations

import sys

from tqdm import tqdm

from index.build import BuildReport, build_index
from index.embedders import load_embedder
from index.types import EmbedderError, IndexError_
from ingest.types import CorpusError
from settings import Settings


def format_report(report: BuildReport) -> str:
    """A short, human summary of an ingest run."""
    if report.nothing_changed and not report.failed:
        return (
            f"Index is up to date: {report.files} files, {report.chunks} chunks; "
            f"nothing to embed ({report.seconds:.1f} s)."
        )
    lines = [
        f"Indexed {report.files} files into {report.chunks} chunks in {report.seconds:.1f} s "
        f"({report.embedded} chunks embedded, {report.reused} reused).",
    ]
    for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        if names:
            lines.append(f"  {label}: {', '.join(names)}")
    if report.kept_previous:
        lines.append(f"  kept the previously indexed version of: {', '.join(report.kept_previous)}")
    for error in report.failed:
        lines.append(f"  FAILED {error}")
    return "\n".join(lines)


def run_ingest(settings: Settings, rebuild: bool = False) -> int:
    """Build or update the index with a progress bar; return the exit code (1 if any file failed)."""
    try:
        embedder = load_embedder(settings.embedder)
        bars: list[tqdm] = []

        def progress(done: int, total: int) -> None:
            if total and not bars:
                bars.append(tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr, mininterval=1.0))
            if bars:
                bars[0].update(done - bars[0].n)

        try:
            report = build_index(settings, embedder, rebuild=rebuild, progress=progress)
        finally:
            for bar in bars:
                bar.close()
    except (IndexError_, EmbedderError, CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 1 if report.failed else 0
