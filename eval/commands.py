"""The bodies of ``python -m eval run / report / compare`` (an edge: prints and exit codes)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Sequence

from answer.assembly import load_answerer
from eval.metrics import failures, summarize
from eval.qa import QACase
from eval.report import format_comparison_table, format_summary_table, write_report
from eval.run import RESULTS_FILE, read_rows, run_cases
from index.build import build_index
from index.embedders import load_embedder
from index.types import EmbedderError, IndexError_
from settings import Settings

SUMMARY_FILE = "summary.json"
_CHUNK_CONFIG = re.compile(r"^chunk(\d+)$")


def _write_outputs(cases: Sequence[QACase], rows: list[dict], out_dir: Path, title: str) -> dict:
    summary = summarize(cases, rows)
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    write_report(out_dir, summary, failures(cases, rows), title=title)
    return summary


def check_gate(summary: dict, gate_file: str) -> list[str]:
    """Return the gate's floors that ``summary['overall']`` falls below (empty list: passed)."""
    floors = json.loads(Path(gate_file).read_text(encoding="utf-8"))
    overall = summary["overall"]
    return [
        f"{name} = {overall.get(name)} is below the floor {floor}"
        for name, floor in floors.items()
        if not isinstance(overall.get(name), (int, float)) or overall[name] < floor
    ]


def run_and_report(
    settings: Settings, cases: Sequence[QACase], out_dir: Path, mode: str, resume: bool, gate: str | None
) -> int:
    """Answer every case, write results, summary and report; print the headline figures."""
    try:
        answerer = load_answerer(settings)
    except (IndexError_, EmbedderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = run_cases(cases, answerer, out_dir, mode=mode, resume=resume)
    summary = _write_outputs(cases, rows, out_dir, title=f"评测报告 ({mode})")
    print(format_summary_table(summary))
    print(f"\nWrote {out_dir / RESULTS_FILE}, {out_dir / SUMMARY_FILE}, {out_dir / 'report.md'}, {out_dir / 'report.html'}")
    if gate:
        below = check_gate(summary, gate)
        for line in below:
            print(f"GATE FAILED: {line}", file=sys.stderr)
        if below:
            return 1
        print(f"Gate passed ({gate}).")
    return 0


def report_run(cases: Sequence[QACase], run_dir: Path) -> int:
    """Rewrite summary and reports of a finished run from its results.jsonl."""
    rows = read_rows(run_dir / RESULTS_FILE)
    if not rows:
        print(f"error: no rows in {run_dir / RESULTS_FILE}; run `python -m eval run` first", file=sys.stderr)
        return 2
    print(format_summary_table(_write_outputs(cases, rows, run_dir, title="评测报告")))
    return 0


def _configured(settings: Settings, name: str, out_dir: Path) -> tuple[Settings, str]:
    """Settings and search mode for a named configuration (hybrid, lexical, dense, chunkN)."""
    if name in ("hybrid", "lexical", "dense"):
        return settings, name
    match = _CHUNK_CONFIG.match(name)
    if match:
        size = int(match.group(1))
        return settings.replace(chunk_size=size, chunk_overlap=size // 5, store_dir=out_dir / f"store-{name}"), "hybrid"
    raise ValueError(f"unknown configuration {name!r}; use hybrid, lexical, dense or chunkN (e.g. chunk500)")


def compare_configurations(settings: Settings, cases: Sequence[QACase], out_dir: Path, names: list[str]) -> int:
    """Run each configuration on the same cases and print one comparison table."""
    try:
        embedder = load_embedder(settings.embedder)
        summaries = {}
        for name in names:
            configured, mode = _configured(settings, name.strip(), out_dir)
            if configured.store_dir != settings.store_dir:
                build_index(configured, embedder)
            answerer = load_answerer(configured, embedder)
            rows = run_cases(cases, answerer, out_dir / name, mode=mode)
            summaries[name] = _write_outputs(cases, rows, out_dir / name, title=f"评测报告 ({name})")
    except (IndexError_, EmbedderError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_comparison_table(summaries))
    return 0
