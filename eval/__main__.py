"""``python -m eval``: check a Q&A set, run it, report on a run, compare configurations.

A command-line edge: errors become messages and exit codes here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_QA = "eval/qa.jsonl"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the answerer on a Q&A set.")
    parser.add_argument("--config", help="TOML settings file")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a Q&A file and its evidence quotes")
    check.add_argument("--qa", default=DEFAULT_QA)
    run = commands.add_parser("run", help="answer every question and write results, summary and report")
    run.add_argument("--qa", default=DEFAULT_QA)
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "dense"))
    run.add_argument("--resume", action="store_true", help="keep finished rows of an interrupted run")
    run.add_argument("--gate", help="JSON file of minimum figures; exit 1 if the run falls below any")
    report = commands.add_parser("report", help="(re)write report.md and report.html for a finished run")
    report.add_argument("dir")
    report.add_argument("--qa", default=DEFAULT_QA)
    compare = commands.add_parser("compare", help="run several configurations on one set and print one table")
    compare.add_argument("--qa", default=DEFAULT_QA)
    compare.add_argument("--out", default="runs/compare")
    compare.add_argument("--configs", default="hybrid,lexical,dense",
                         help="comma-separated: hybrid, lexical, dense, chunkN, llm (answers through an LLM server)")
    compare.add_argument("--llm-url", help="OpenAI base URL for the llm configuration (default: llm_base_url, "
                         "else a local llama.cpp server with gemma-3-270m, started and stopped here)")
    compare.add_argument("--limit", type=int, help="only this many questions, spread evenly over the set")
    suites = commands.add_parser("suites", help="run every suite (bundled, devcorpus, cmrc, cmrc_negative) and print them side by side")
    suites.add_argument("--suites", default="bundled,devcorpus,cmrc,cmrc_negative")
    suites.add_argument("--out", default="runs/suites")
    suites.add_argument("--gate", help="JSON {suite: {figure: floor, max_figure: ceiling}}; exit 1 if any is missed")
    suites.add_argument("--cmrc-paragraphs", type=int, default=120, help="CMRC paragraphs in the corpus (0 = all 848)")
    tune = commands.add_parser("tune", help="fit the answer scorer's weights; print leave-documents-out figures")
    tune.add_argument("--suites", default="bundled,devcorpus,cmrc,cmrc_negative")
    tune.add_argument("--cmrc-paragraphs", type=int, default=120)
    tune.add_argument("--write", help="write the weights fitted on all suites here (e.g. answer/data/weights.json)")
    tune.add_argument("--answerability", help="write the answerability model fitted on all suites here "
                      "(e.g. answer/data/answerability.json)")
    tune.add_argument("--fit", default="", help="comma-separated features to fit (default: all); the others keep their weights")
    tune.add_argument("--units", help="an .npz that keeps the collected candidate units (read if it exists, else written)")
    bench = commands.add_parser("bench", help="measure ingestion, query latency, scale and concurrency; write BENCHMARKS.md")
    bench.add_argument("--out", default="BENCHMARKS.md")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    bench.add_argument("--qa", default=DEFAULT_QA)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from eval.qa import QASetError, check_evidence, load_qa_set
    from settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
        cases = load_qa_set(args.qa) if hasattr(args, "qa") else []
    except (SettingsError, QASetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        problems = check_evidence(cases, settings.corpus_dir)
        for problem in problems:
            print(problem)
        print(f"{len(cases)} questions, {len(problems)} problems")
        return 1 if problems else 0
    if args.command == "bench":
        from eval.bench import run_bench

        return run_bench(settings, Path(args.out), args.quick, args.qa)
    if args.command in ("suites", "tune"):
        from eval.suite_commands import run_suites, tune
        from eval.suites import SuiteError, named_suites

        try:
            chosen = named_suites(args.suites.split(","), args.cmrc_paragraphs)
        except SuiteError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.command == "tune":
            return tune(settings, chosen, Path(args.write) if args.write else None, Path(args.units) if args.units else None,
                        Path(args.answerability) if args.answerability else None,
                        tuple(f for f in args.fit.split(",") if f))
        return run_suites(settings, chosen, Path(args.out), args.gate)
    from eval.commands import compare_configurations, report_run, run_and_report

    if args.command == "run":
        return run_and_report(settings, cases, Path(args.out), args.mode, args.resume, args.gate)
    if args.command == "report":
        return report_run(cases, Path(args.dir))
    return compare_configurations(settings, cases, Path(args.out), args.configs.split(","), args.llm_url, args.limit)


if __name__ == "__main__":
    sys.exit(main())
