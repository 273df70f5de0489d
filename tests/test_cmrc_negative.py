"""The cmrc_negative suite: each CMRC question asked without its own paragraph, expected to be refused."""

from __future__ import annotations

import json
from types import SimpleNamespace

from answer.answerability import ANSWERABILITY_FEATURES
from eval.qa import load_qa_set
from eval.run import run_cases
from eval.tune import collect
from eval.suites import cmrc_negative_rows

DATA = {"data": [
    {"title": "五月艾", "paragraphs": [{"id": "P1", "context": "五月艾生长于海拔100米至2,800米的地区。", "qas": [
        {"id": "Q1", "question": "五月艾生长的地区海拔约是多少米？", "answers": [{"text": "100米至2,800米"}]},
        {"id": "Q2", "question": "", "answers": [{"text": "五月艾"}]},  # no question: skipped
    ]}]},
    {"title": "短叶水蜈蚣", "paragraphs": [{"id": "P2", "context": "短叶水蜈蚣生长于海拔250米至600米的地区，多生于路旁。", "qas": [
        {"id": "Q3", "question": "短叶水蜈蚣生长的地区海拔约是多少米？", "answers": [{"text": "250米至600米"}, {"text": "250米至600米"}]},
        {"id": "Q4", "question": "短叶水蜈蚣多生于哪里？", "answers": [{"text": "路旁"}]},  # 路旁 is in P3 too: dropped
        {"id": "Q5", "question": "短叶水蜈蚣的名字？", "answers": [{"text": " "}]},  # no answer text: skipped
    ]}]},
    {"title": "马唐", "paragraphs": [{"id": "P3", "context": "马唐常见于路 旁和田边。", "qas": []}]},
    {"title": "狗尾草", "paragraphs": [{"id": "P4", "context": "狗尾草生长于海拔4000米以下。", "qas": [
        {"id": "Q6", "question": "狗尾草生长在海拔多少米以下？", "answers": [{"text": "4000米"}]},
    ]}]},
]}


def test_each_question_excludes_its_own_paragraph_and_is_unanswerable():
    rows = cmrc_negative_rows(DATA, 0)
    assert [(r["id"], r["exclude_docs"]) for r in rows] == [("Q1", ["P1.txt"]), ("Q3", ["P2.txt"]), ("Q6", ["P4.txt"])]
    for row in rows:
        assert (row["type"], row["answers"], row["evidence"], row["docs"]) == ("unanswerable", [], [], [])
    assert rows[1]["note"].endswith("250米至600米")  # the gold answer kept for reading failures, once


def test_a_question_whose_answer_occurs_in_another_paragraph_is_dropped():
    # "路旁" occurs (spaces ignored) in P3, so Q4 may be answerable without its own paragraph.
    assert "Q4" not in {r["id"] for r in cmrc_negative_rows(DATA, 0)}


def test_only_the_paragraph_subset_counts():
    # With two paragraphs, P3 is not in the library: Q4's answer occurs nowhere else and the row is kept;
    # P4 is outside the subset, so its question is not asked.
    assert [r["id"] for r in cmrc_negative_rows(DATA, 2)] == ["Q1", "Q3", "Q4"]


def test_rows_load_as_cases_and_the_runner_searches_every_other_document(tmp_path):
    qa = tmp_path / "negative.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in cmrc_negative_rows(DATA, 0)), encoding="utf-8")
    cases = load_qa_set(qa)
    assert cases[0].exclude_docs == ("P1.txt",) and not cases[0].answerable

    asked = []

    def ask(question, history=(), doc_ids=None, mode="hybrid"):
        asked.append(doc_ids)
        return SimpleNamespace(text="资料中未找到", citations=(), hits=(), abstained=True, latency_ms=1.0,
                                searched_question=question, llm=None, scoring=None)

    documents = {f"P{i}.txt": None for i in range(1, 5)}
    rows = run_cases(cases, SimpleNamespace(ask=ask, documents=documents), tmp_path / "run", show_progress=False)
    assert asked == [frozenset({"P2.txt", "P3.txt", "P4.txt"}), frozenset({"P1.txt", "P3.txt", "P4.txt"}),
                     frozenset({"P1.txt", "P2.txt", "P3.txt"})]
    assert all(row["abstained"] for row in rows)


def test_tuning_collects_each_question_over_the_documents_it_is_asked_over(tmp_path):
    # Fitting must see what the answerer saw: the excluded (answering) paragraph left out, and a
    # question grouped with the same paragraph's questions of the cmrc suite (same corpus).
    qa = tmp_path / "negative.jsonl"
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in cmrc_negative_rows(DATA, 0)), encoding="utf-8")
    asked = []

    def candidates(question, history=(), doc_ids=None, mode="hybrid"):
        asked.append(doc_ids)
        return question, None, [question], [], SimpleNamespace(weights={}, missing=()), []

    answerer = SimpleNamespace(candidates=candidates, documents={f"P{i}.txt": None for i in range(1, 5)},
                               confidence_features=lambda profile, terms, units: dict.fromkeys(ANSWERABILITY_FEATURES, 0.0))
    rows = collect("cmrc_negative", load_qa_set(qa), answerer, corpus="cmrc-corpus")
    assert asked[0] == frozenset({"P2.txt", "P3.txt", "P4.txt"})
    assert [r.group for r in rows] == ["cmrc-corpus:P1.txt", "cmrc-corpus:P2.txt", "cmrc-corpus:P4.txt"]
    assert not any(r.answerable for r in rows)
