"""The bodies of ``python -m eval suites`` and ``python -m eval tune`` (an edge: prints and exit codes)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

from answer.engine import Answerer
from answer.answerability import ANSWERABILITY_FILE
from answer.scoring import load_weights
from eval.commands import _write_outputs
from eval.report import _text_table
from eval.run import run_cases
from eval.suites import Suite
from eval.tune import (
    answerability_leave_documents_out, collect, fit_answerability, fit_weights, format_answerability_table, format_tune_table,
    leave_documents_out, read_units, write_answerability, write_units, write_weights,
)
from index.build import build_index
from index.embedders import Embedder, load_embedder
from index.search import Retriever, open_index
from settings import Settings

HEADLINE = ("answer_accuracy", "evidence_hit@5", "abstention_recall", "wrongly_refused", "citation_precision",
            "answer_len_median", "latency_p95_ms")


def suite_answerer(suite: Suite, settings: Settings, embedder: Embedder) -> Answerer:
    """The suite's index brought up to date (only what changed is embedded), and an answerer over it."""
    configured = suite.settings(settings)
    report = build_index(configured, embedder)
    for error in report.failed:
        print(f"{suite.name}: {error}", file=sys.stderr)
    return Answerer(Retriever(open_index(configured, embedder.model_id), embedder, configured), configured)


def run_suites(settings: Settings, suites: Sequence[Suite], out: Path, gate_file: str | None) -> int:
    """Run every suite, write each one's results and report under ``out/<suite>``, print them side by side."""
    embedder = load_embedder(settings.embedder)
    summaries = {}
    for suite in suites:
        print(f"== {suite.name}: {suite.corpus_dir}", file=sys.stderr)
        cases = suite.cases()
        answerer = suite_answerer(suite, settings, embedder)
        rows = run_cases(cases, answerer, out / suite.name)
        summaries[suite.name] = _write_outputs(cases, rows, out / suite.name, title=f"评测报告 ({suite.name})")
    print(format_side_by_side(summaries))
    print(refusal_curve_note(settings))
    (out / "suites.json").write_text(json.dumps(summaries, ensure_ascii=False, indent=2), encoding="utf-8")
    if not gate_file:
        return 0
    below = suite_gate_failures(summaries, json.loads(Path(gate_file).read_text(encoding="utf-8")))
    for line in below:
        print(f"GATE FAILED: {line}", file=sys.stderr)
    if not below:
        print(f"Gate passed ({gate_file}).")
    return 1 if below else 0


def refusal_curve_note(settings: Settings) -> str:
    """The answerability model's refusal curve (leave-documents-out, recorded when it was fitted), or why none."""
    path = Path(settings.answerability_model) if settings.answerability_model else ANSWERABILITY_FILE
    if not path.is_file():
        return "No answerability model (answer/data/answerability.json): refusals come from the rules alone."
    report = json.loads(path.read_text(encoding="utf-8")).get("leave_documents_out", {})
    return (f"\nAnswerability model {path} (threshold {json.loads(path.read_text(encoding='utf-8'))['threshold']}), "
            "leave-documents-out when fitted:\n" + format_answerability_table(report))


def suite_gate_failures(summaries: dict[str, dict], gates: dict[str, dict]) -> list[str]:
    """The floors (``{suite: {figure: floor}}``; ``max_`` figures are ceilings) a run misses.

    Example:
        >>> suite_gate_failures({"a": {"overall": {"answer_accuracy": 0.8, "wrongly_refused": 0.05}}},
        ...                     {"a": {"answer_accuracy": 0.85, "max_wrongly_refused": 0.1}, "b": {"answer_accuracy": 0.1}})
        ['a: answer_accuracy = 0.8 is below the floor 0.85']
    """
    problems = []
    for suite, floors in gates.items():
        if suite not in summaries:
            continue
        overall = summaries[suite]["overall"]
        for name, bound in floors.items():
            ceiling = name.startswith("max_")
            value = overall.get(name[4:] if ceiling else name)
            if not isinstance(value, (int, float)):
                problems.append(f"{suite}: {name} was not measured")
            elif ceiling and value > bound:
                problems.append(f"{suite}: {name[4:]} = {value} is above the ceiling {bound}")
            elif not ceiling and value < bound:
                problems.append(f"{suite}: {name} = {value} is below the floor {bound}")
    return problems


def format_side_by_side(summaries: dict[str, dict]) -> str:
    """The headline figures of every suite, one column each, then accuracy per question type."""
    names = list(summaries)
    rows = [["questions", *[str(summaries[n]["n_cases"]) for n in names]]]
    for figure in HEADLINE:
        rows.append([figure, *[_figure(summaries[n]["overall"].get(figure)) for n in names]])
    types = sorted({t for n in names for t in summaries[n]["by_type"]})
    for qtype in types:
        rows.append([f"accuracy: {qtype}", *[_type_cell(summaries[n]["by_type"].get(qtype)) for n in names]])
    return _text_table(["", *names], rows)


def _figure(value) -> str:
    if isinstance(value, float) and value <= 1.0:
        return f"{value:.1%}"
    return "—" if value is None else str(value)


def _type_cell(row: dict | None) -> str:
    if not row:
        return "—"
    right = row.get("accuracy_all")  # for unanswerable questions: the share refused
    return "—" if right is None else f"{right:.1%} ({row.get('n', 0)})"


def tune(settings: Settings, suites: Sequence[Suite], write: Path | None, units_file: Path | None = None,
         answerability: Path | None = None, only: Sequence[str] = ()) -> int:
    """Collect candidate units on every suite, print leave-documents-out figures, and (with ``write``)
    fit on everything and write the weights file. ``units_file`` keeps the collected units (an .npz):
    read when it exists, written when it does not — delete it after changing the answerer."""
    hand = load_weights(settings.scorer_weights or None)
    if units_file and units_file.is_file():
        questions = read_units(units_file)
        print(f"read the candidate units of {len(questions)} questions from {units_file}", file=sys.stderr)
    else:
        embedder = load_embedder(settings.embedder)
        questions = []
        for suite in suites:
            print(f"== {suite.name}: collecting candidate units", file=sys.stderr)
            questions += collect(suite.name, suite.cases(), suite_answerer(suite, settings, embedder), str(suite.corpus_dir))
        if units_file:
            write_units(units_file, questions)
    report = leave_documents_out(questions, hand, only=only)
    print(format_tune_table(report))
    refusals = answerability_leave_documents_out(questions)
    print("\nAnswerability model (leave-documents-out):\n" + format_answerability_table(refusals))
    if write:
        fitted = fit_weights(questions, hand, only)
        fit_flag = f" --fit {','.join(only)}" if only else ""
        note = (f"Fitted by `python -m eval tune --suites {','.join(s.name for s in suites)}{fit_flag} --write {write}`: pairwise "
                "logistic regression over the candidate units' features, as corrections to the hand weights "
                f"({'only ' + ', '.join(only) + ' fitted, the others kept' if only else 'all fitted'}), scaled so coverage "
                "keeps weight 1. Refit the answerability model afterwards (it reads the score's scale).")
        write_weights(write, fitted, note, report)
        largest = sorted(fitted.weights.items(), key=lambda kv: -abs(kv[1]))[:8]
        print("\nlargest weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in largest))
        print(f"refusal threshold {fitted.abstain_threshold}; wrote {write}")
    if answerability:
        model = fit_answerability(questions)
        write_answerability(answerability, model, f"Fitted by `python -m eval tune --suites {','.join(s.name for s in suites)} "
                            f"--answerability {answerability}`: logistic regression, threshold for ≤1% wrong refusals of its own.", refusals)
        print(f"answerability threshold {model.threshold}; wrote {answerability}")
    return 0
