"""Running a Q&A set through the answerer and writing one results row per question.

Rows are appended and flushed as they are produced, so an interrupted run keeps every finished
row; ``resume=True`` continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tqdm import tqdm

from answer.engine import Answerer
from answer.types import Answer, AnswerError
from eval.qa import QACase
from ingest.types import Document

RESULTS_FILE = "results.jsonl"
MIN_RETRIEVED = 10
SOURCE_ROW_MARK = "（原表）"


def passage_text(text: str, document: Document | None) -> str:
    r"""A passage as shown in results: its text, then any table rows in it as the source writes them.

    Example:
        >>> d = Document("a", "a", "t", "", "0", source_rows=(("表｜高新技术企业数：2025年 560", "高新技术企业数 560"),))
        >>> passage_text("表｜高新技术企业数：2025年 560", d)
        '表｜高新技术企业数：2025年 560\n（原表）高新技术企业数 560'
    """
    if document is None or not document.source_rows:
        return text
    written = [source for rendered, source in document.source_rows if rendered in text]
    return "\n".join([text, *(f"{SOURCE_ROW_MARK}{row}" for row in written)])


def answer_to_row(case: QACase, answer: Answer, documents: Mapping[str, Document]) -> dict[str, Any]:
    """The results.jsonl row for one question, in the field names of the evaluation contract
    (plus ``llm``, what the LLM step did, when one was asked)."""
    row = {
        "id": case.id,
        "question": case.question,
        "type": case.type,
        "searched_question": answer.searched_question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "doc": c.doc_id,
                "title": c.title,
                "text": passage_text(c.quote, documents.get(c.doc_id)),
                "heading_path": c.heading_path,
                "doc_number": c.doc_number,
                "start": c.start,
                "end": c.end,
            }
            for c in answer.citations
        ],
        "retrieved": [
            {
                "doc": hit.chunk.doc_id,
                "text": passage_text(hit.chunk.text, documents.get(hit.chunk.doc_id)),
                "score": round(hit.score, 6),
                "rank": hit.rank,
                "heading_path": hit.chunk.heading_path,
                "source": hit.source,
            }
            for hit in answer.hits
        ],
        "latency_ms": round(answer.latency_ms, 2),
    }
    if answer.llm is not None:
        row["llm"] = dataclasses.asdict(answer.llm)
    if answer.scoring is not None:
        row["scoring"] = answer.scoring.as_json()  # which features chose the best unit
    return row


def error_row(case: QACase, error: AnswerError) -> dict[str, Any]:
    """A row for a question the answerer refused as malformed (counted as an abstention)."""
    return {
        "id": case.id, "question": case.question, "type": case.type, "searched_question": case.question,
        "answer": str(error), "abstained": True, "citations": [], "retrieved": [], "latency_ms": 0.0,
        "error": str(error),
    }


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a results.jsonl file (missing file: no rows); a torn last line is ignored."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def run_cases(
    cases: Sequence[QACase],
    answerer: Answerer,
    out_dir: Path,
    mode: str = "hybrid",
    resume: bool = False,
    show_progress: bool = True,
) -> list[dict[str, Any]]:
    """Answer every case and write ``out_dir/results.jsonl``; return all rows in case order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RESULTS_FILE
    done = {row["id"]: row for row in read_rows(path)} if resume else {}
    todo = [case for case in cases if case.id not in done]
    with path.open("a" if resume else "w", encoding="utf-8") as handle:
        if resume and done:  # rewrite cleanly: drop a torn line from the interrupted run
            handle.seek(0)
            handle.truncate()
            for row in done.values():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        bar: Iterable[QACase] = tqdm(todo, desc="Questions", unit="q", disable=not show_progress, mininterval=1.0)
        for case in bar:
            try:
                answer = answerer.ask(case.question, history=case.history, doc_ids=case.searched_docs(answerer.documents),
                                      mode=mode)
                row = answer_to_row(case, answer, answerer.documents)
            except AnswerError as exc:
                row = error_row(case, exc)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()
            done[case.id] = row
    return [done[case.id] for case in cases if case.id in done]
