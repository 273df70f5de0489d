"""The bodies of ``python -m eval run / report / compare`` (an edge: prints and exit codes)."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Sequence

from answer.assembly import load_answerer
from eval.metrics import failures, summarize
from eval.qa import QACase
from eval.report import _text_table, format_comparison_table, format_summary_table, write_report
from eval.run import RESULTS_FILE, read_rows, run_cases
from index.build import build_index
from index.embedders import load_embedder
from index.types import EmbedderError, IndexError_
from settings import Settings

SUMMARY_FILE = "summary.json"
LLM_CONFIG = "llm"
LOCAL_LLM_TIMEOUT = 300.0  # the local CPU test server reads a 1,200-token prompt in ~40 s on a busy machine
_CHUNK_CONFIG = re.compile(r"^chunk(\d+)$")


def llm_summary(rows: Sequence[dict]) -> dict[str, Any] | None:
    """What the LLM step did over a run (rows with an ``llm`` field), or ``None`` if it never ran.

    ``asked``: questions the model was asked (the extractive answer did not abstain);
    ``generated``: its verified answer was shown; ``fell_back``: the extractive answer was shown
    instead, by reason; ``sentences`` in the replies, of them ``unsupported`` (flagged by the
    citation check), ``marked`` (flagged in answers that were shown) and ``removed``;
    ``bad_citations``: ``[n]`` pointing at no given passage.

    Example:
        >>> rows = [{"llm": {"result": "generated", "sentences": 3, "unsupported": 1, "removed": 0, "bad_citations": 1}},
        ...         {"llm": {"result": "timeout", "sentences": 0, "unsupported": 0, "removed": 0, "bad_citations": 0}}, {}]
        >>> s = llm_summary(rows); s["asked"], s["generated"], s["fell_back"], s["marked"]
        (2, 1, {'timeout': 1}, 1)
    """
    outcomes = [row["llm"] for row in rows if row.get("llm")]
    if not outcomes:
        return None
    results = Counter(o["result"] for o in outcomes)
    shown = [o for o in outcomes if o["result"] == "generated"]
    return {
        "questions": len(rows),
        "asked": len(outcomes),
        "generated": results.pop("generated", 0),
        "fell_back": dict(results.most_common()),
        "sentences": sum(o["sentences"] for o in outcomes),
        "unsupported": sum(o["unsupported"] for o in outcomes),
        "marked": sum(o["unsupported"] - o["removed"] for o in shown),
        "removed": sum(o["removed"] for o in shown),
        "bad_citations": sum(o["bad_citations"] for o in outcomes),
    }


def format_llm_table(named_summaries: dict[str, dict]) -> str:
    """One row per configuration that asked an LLM: what the citation check did ('' if none did)."""
    header = ["config", "asked", "shown", "fell back", "sentences", "flagged", "marked", "removed", "bad [n]"]
    rows = []
    for name, summary in named_summaries.items():
        s = summary.get("llm")
        if not s:
            continue
        reasons = ", ".join(f"{k} {v}" for k, v in s["fell_back"].items()) or "0"
        rows.append([name, f"{s['asked']}/{s['questions']}", str(s["generated"]), reasons, str(s["sentences"]),
                     str(s["unsupported"]), str(s["marked"]), str(s["removed"]), str(s["bad_citations"])])
    return _text_table(header, rows) if rows else ""


def select_cases(cases: Sequence[QACase], limit: int | None) -> list[QACase]:
    """``limit`` cases spread evenly over the set (every case when ``limit`` is None or too big).

    Example:
        >>> select_cases(list(range(10)), 3)
        [0, 3, 6]
    """
    if not limit or limit >= len(cases):
        return list(cases)
    return [cases[i * len(cases) // limit] for i in range(limit)]


def _write_outputs(cases: Sequence[QACase], rows: list[dict], out_dir: Path, title: str) -> dict:
    summary = summarize(cases, rows)
    llm = llm_summary(rows)
    if llm:
        summary["llm"] = llm
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
    if summary.get("llm"):
        print("\nLLM answers and the citation check:\n" + format_llm_table({mode: summary}))
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


def _configured(settings: Settings, name: str, out_dir: Path, llm: Settings | None = None) -> tuple[Settings, str]:
    """Settings and search mode for a named configuration (hybrid, lexical, dense, chunkN: extractive;
    llm: hybrid search answered through ``llm``'s server)."""
    if name == LLM_CONFIG:
        if llm is None:
            raise ValueError("the llm configuration needs an LLM server")
        return llm, "hybrid"
    settings = settings.replace(llm_base_url="")  # the other rows are the extractive answerer
    if name in ("hybrid", "lexical", "dense"):
        return settings, name
    match = _CHUNK_CONFIG.match(name)
    if match:
        size = int(match.group(1))
        return settings.replace(chunk_size=size, chunk_overlap=size // 5, store_dir=out_dir / f"store-{name}"), "hybrid"
    raise ValueError(f"unknown configuration {name!r}; use hybrid, lexical, dense, llm or chunkN (e.g. chunk500)")


@contextlib.contextmanager
def llm_settings(settings: Settings, llm_url: str | None) -> Iterator[Settings]:
    """The settings of the ``llm`` row: the server at ``llm_url`` if given, else the configured
    ``llm_base_url``, else the local llama.cpp test server (gemma-3-270m, see tests/llm_server.py)
    started on a free loopback port for the duration and stopped afterwards.

    Raises:
        ValueError: the local server is not installed or did not start (the message says why).
    """
    if llm_url:
        yield settings.replace(llm_base_url=llm_url)
        return
    if settings.llm_base_url:
        yield settings
        return
    try:
        from tests.llm_server import MODEL_ALIAS, LLMServerSetupError, missing_modules, model_file, running_server
    except ImportError as exc:
        raise ValueError(f"give an LLM server with --llm-url; the local test server cannot be loaded: {exc}") from exc
    missing = missing_modules()
    if missing:
        raise ValueError(f"give an LLM server with --llm-url, or install the local one (scripts/setup_llm_test_server.sh); "
                         f"not installed: {', '.join(missing)}")
    try:
        with running_server(model_file()) as base_url:
            print(f"Started the local llama.cpp server ({MODEL_ALIAS}) at {base_url}", file=sys.stderr, flush=True)
            yield settings.replace(llm_base_url=base_url, llm_model=MODEL_ALIAS,
                                   llm_timeout=max(settings.llm_timeout, LOCAL_LLM_TIMEOUT))
    except LLMServerSetupError as exc:
        raise ValueError(str(exc)) from exc


def compare_configurations(
    settings: Settings,
    cases: Sequence[QACase],
    out_dir: Path,
    names: list[str],
    llm_url: str | None = None,
    limit: int | None = None,
) -> int:
    """Run each configuration on the same cases (``limit``: that many, spread over the set) and
    print one comparison table, plus what the citation check did for an ``llm`` row."""
    names = [name.strip() for name in names if name.strip()]
    cases = select_cases(cases, limit)
    try:
        embedder = load_embedder(settings.embedder)
        summaries = {}
        with contextlib.ExitStack() as stack:
            llm = stack.enter_context(llm_settings(settings, llm_url)) if LLM_CONFIG in names else None
            for name in names:
                configured, mode = _configured(settings, name, out_dir, llm)
                if configured.store_dir != settings.store_dir:
                    build_index(configured, embedder)
                answerer = load_answerer(configured, embedder)
                rows = run_cases(cases, answerer, out_dir / name, mode=mode)
                summaries[name] = _write_outputs(cases, rows, out_dir / name, title=f"评测报告 ({name})")
    except (IndexError_, EmbedderError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(cases)} questions" + (f" (--limit {limit}: spread over the set)" if limit and limit < len(cases) else ""))
    print(format_comparison_table(summaries))
    llm_table = format_llm_table(summaries)
    if llm_table:
        print("\nLLM answers and the citation check:\n" + llm_table)
    return 0
