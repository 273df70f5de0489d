"""Tests of the hand-written Q&A set (``eval/qa.jsonl``) and its checker (``eval/qa.py``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.qa import (
    QUESTION_TYPES,
    QACase,
    QASetError,
    check_answer_support,
    check_evidence,
    load_qa_set,
)
from eval.textmatch import normalize_for_match

ROOT = Path(__file__).resolve().parents[1]
QA_PATH = ROOT / "eval" / "qa.jsonl"
CORPUS = ROOT / "corpus"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.txt"))


@pytest.fixture(scope="module")
def cases() -> list[QACase]:
    return load_qa_set(QA_PATH)


def _row(**overrides: object) -> dict:
    row = {
        "id": "q1",
        "question": "温州到2025年高新技术企业要达到多少家？",
        "answers": ["4400"],
        "answer_mode": "any",
        "evidence": ["全市高新技术企业达到4400家"],
        "docs": ["002_0e0d43181225949b.txt"],
        "type": "fact",
    }
    row.update(overrides)
    return row


def _write(path: Path, rows: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the real set -------------------------------------------------------------------------


def test_real_set_loads_with_line_numbers(cases: list[QACase]) -> None:
    assert cases
    assert all(c.line > 0 for c in cases)
    assert len({c.id for c in cases}) == len(cases)


def test_every_evidence_quote_is_in_its_documents(cases: list[QACase]) -> None:
    assert check_evidence(cases, CORPUS) == []


def test_every_answer_is_backed_by_its_evidence(cases: list[QACase]) -> None:
    assert check_answer_support(cases) == []


def test_evidence_quotes_are_short(cases: list[QACase]) -> None:
    bad = [
        (c.id, q)
        for c in cases
        for q in c.evidence
        if not 8 <= len(normalize_for_match(q)) <= 60
    ]
    assert bad == []


def test_required_counts(cases: list[QACase]) -> None:
    types = Counter(c.type for c in cases)
    assert len(cases) >= 130
    assert set(types) == set(QUESTION_TYPES)
    assert types["unanswerable"] >= 15
    assert types["paraphrase"] >= 15
    assert types["table"] >= 10
    assert types["list"] >= 10
    assert types["multi"] >= 10
    assert types["meta"] >= 8
    assert sum(1 for c in cases if c.history) >= 15


def test_every_document_is_covered(cases: list[QACase]) -> None:
    per_doc = Counter(d for c in cases for d in c.docs)
    assert CORPUS_FILES
    for name in CORPUS_FILES:
        assert per_doc[name] >= 8, name
    assert set(per_doc) <= set(CORPUS_FILES)


def test_some_questions_are_in_english(cases: list[QACase]) -> None:
    english = [c for c in cases if c.question[:1].isascii() and c.question[:1].isalpha()]
    assert len(english) >= 8


def test_list_and_multi_rows_require_all_answers(cases: list[QACase]) -> None:
    assert all(c.answer_mode == "all" for c in cases if c.type in ("list", "multi"))


def test_unanswerable_rows_are_empty(cases: list[QACase]) -> None:
    for c in cases:
        if c.type == "unanswerable":
            assert (c.answers, c.evidence, c.docs) == ((), (), ())


# --- the loader -----------------------------------------------------------------------------


def test_loader_skips_blank_lines_and_ignores_unknown_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "qa.jsonl",
        [_row(extra="ignored"), "", "   ", _row(id="q2", history=["之前的问题"], note="n")],
    )
    loaded = load_qa_set(path)
    assert [c.id for c in loaded] == ["q1", "q2"]
    assert [c.line for c in loaded] == [1, 4]
    assert loaded[0].history == () and loaded[0].note == ""
    assert loaded[1].history == ("之前的问题",) and loaded[1].note == "n"
    assert loaded[0].answers == ("4400",)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({k: v for k, v in _row(id="q2").items() if k != "evidence"}, "evidence"),
        (_row(id="q2", type="trivia"), "type"),
        (_row(id="q2", answer_mode="some"), "answer_mode"),
        (_row(id="q2", question="  "), "question"),
        (_row(id="q2", answers="4400"), "answers"),
        (_row(id="q2", answers=[4400]), "answers"),
        (_row(id="q2", history="问题"), "history"),
        (_row(id="q2", answers=[]), "answers"),
        (_row(id="q2", type="unanswerable"), "answers"),
        (_row(id="q2", type="unanswerable", answers=[], evidence=["x" * 9]), "evidence"),
        (_row(id="q1"), "id"),
    ],
)
def test_bad_row_names_line_and_field(tmp_path: Path, bad: dict, field: str) -> None:
    path = _write(tmp_path / "qa.jsonl", [_row(), "", bad])
    with pytest.raises(QASetError) as info:
        load_qa_set(path)
    err = info.value
    assert err.line == 3 and err.field == field
    assert "line 3" in str(err) and field in str(err) and "qa.jsonl" in str(err)


def test_bad_json_and_non_object_rows(tmp_path: Path) -> None:
    for text in ('{"id": "q1",', '["q1"]'):
        path = _write(tmp_path / "qa.jsonl", [text])
        with pytest.raises(QASetError, match="line 1"):
            load_qa_set(path)


def test_missing_file_raises_qa_set_error(tmp_path: Path) -> None:
    with pytest.raises(QASetError):
        load_qa_set(tmp_path / "nope.jsonl")


def test_qa_set_error_is_a_value_error() -> None:
    assert issubclass(QASetError, ValueError)


# --- the evidence checker -------------------------------------------------------------------


def test_quote_not_in_document_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = "到 2025 年，全市高新技术\n企业达到 **4400** 家。"
    (corpus / "a.txt").write_text(raw, encoding="utf-8")
    path = _write(
        tmp_path / "qa.jsonl",
        [
            _row(docs=["a.txt"]),
            _row(id="q2", docs=["a.txt"], evidence=["科技型中小企业达到16000家"]),
            _row(id="q3", docs=["missing.txt"]),
        ],
    )
    problems = check_evidence(load_qa_set(path), corpus)
    assert len(problems) == 2
    assert "q2" in problems[0] and "line 2" in problems[0] and "16000" in problems[0]
    assert "q3" in problems[1] and "missing.txt" in problems[1]


def test_quote_may_be_in_any_of_the_docs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("无关内容", encoding="utf-8")
    (corpus / "b.txt").write_text("全市高新技术企业达到4400家", encoding="utf-8")
    path = _write(tmp_path / "qa.jsonl", [_row(docs=["a.txt", "b.txt"])])
    assert check_evidence(load_qa_set(path), corpus) == []


def test_doc_outside_corpus_is_reported(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "outside.txt").write_text("全市高新技术企业达到4400家", encoding="utf-8")
    path = _write(tmp_path / "qa.jsonl", [_row(docs=["../outside.txt"])])
    problems = check_evidence(load_qa_set(path), corpus)
    assert len(problems) == 1 and "../outside.txt" in problems[0]


def test_unbacked_answer_is_reported(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "qa.jsonl",
        [
            _row(answers=["4400", "560"], answer_mode="all"),
            _row(id="q2", answers=["4400", "四千四百"], answer_mode="any"),
        ],
    )
    problems = check_answer_support(load_qa_set(path))
    assert len(problems) == 1 and "q1" in problems[0] and "560" in problems[0]
