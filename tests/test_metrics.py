"""Tests of the evaluation metrics (``eval/metrics.py``), against hand-computed values."""

from __future__ import annotations

import json
from math import log2

import pytest

from eval.metrics import (
    abstention_counts,
    answer_correct,
    citation_supported,
    evidence_rank,
    failures,
    hit_at_k,
    is_english,
    ndcg_at_k,
    reciprocal_rank,
    summarize,
)
from eval.qa import QACase

FILLER = "其他无关内容"


def case(
    cid: str = "q",
    answers: tuple[str, ...] = ("30",),
    evidence: tuple[str, ...] = ("达到30家",),
    mode: str = "any",
    qtype: str = "fact",
    question: str = "多少家？",
    history: tuple[str, ...] = (),
) -> QACase:
    docs = ("d.txt",) if evidence else ()
    return QACase(cid, question, answers, mode, evidence, docs, qtype, history=history)


UNANSWERABLE = case("u", answers=(), evidence=(), qtype="unanswerable")
TWO_QUOTES_ALL = case(answers=("7", "10"), evidence=("甲乙丙", "丁戊己"), mode="all")
TWO_QUOTES_ANY = case(answers=("7", "10"), evidence=("甲乙丙", "丁戊己"), mode="any")


# ---------------------------------------------------------------- evidence rank


def test_evidence_rank_first_passage_with_the_quote() -> None:
    assert evidence_rank(case(), [FILLER, FILLER, "累计数达到 30 家。"]) == 3


def test_evidence_rank_ignores_whitespace_and_markdown_in_passages() -> None:
    assert evidence_rank(case(), ["累计**达到**\n30 家"]) == 1


def test_evidence_rank_none_when_absent_or_unanswerable() -> None:
    assert evidence_rank(case(), [FILLER, "达到300家"]) is None
    assert evidence_rank(UNANSWERABLE, ["达到30家"]) is None
    assert evidence_rank(case(), []) is None


def test_evidence_rank_all_mode_needs_every_quote_seen() -> None:
    passages = ["丁戊己", FILLER, FILLER, "甲乙丙", "丁戊己"]
    assert evidence_rank(TWO_QUOTES_ALL, passages) == 4
    assert evidence_rank(TWO_QUOTES_ALL, ["丁戊己", FILLER]) is None
    assert evidence_rank(TWO_QUOTES_ALL, ["甲乙丙，丁戊己"]) == 1


def test_evidence_rank_any_mode_takes_first_quote_found() -> None:
    assert evidence_rank(TWO_QUOTES_ANY, [FILLER, "丁戊己", "甲乙丙"]) == 2


# ---------------------------------------------------------------- hit, MRR, nDCG


@pytest.mark.parametrize(
    ("rank", "k", "expected"),
    [(1, 1, True), (5, 5, True), (6, 5, False), (None, 10, False), (2, 1, False)],
)
def test_hit_at_k(rank: int | None, k: int, expected: bool) -> None:
    assert hit_at_k(rank, k) is expected


@pytest.mark.parametrize(
    ("rank", "k", "expected"),
    [(1, 10, 1.0), (4, 10, 0.25), (10, 10, 0.1), (11, 10, 0.0), (None, 10, 0.0), (3, 2, 0.0)],
)
def test_reciprocal_rank(rank: int | None, k: int, expected: float) -> None:
    assert reciprocal_rank(rank, k) == pytest.approx(expected)


def test_ndcg_two_quotes_relevant_at_1_and_3() -> None:
    got = ndcg_at_k(TWO_QUOTES_ALL, ["甲乙丙", FILLER, "丁戊己"], k=10)
    assert got == pytest.approx((1 + 1 / 2) / (1 + 1 / log2(3)))  # 0.9197


def test_ndcg_two_quotes_only_one_found_at_2() -> None:
    got = ndcg_at_k(TWO_QUOTES_ALL, [FILLER, "丁戊己", FILLER], k=10)
    assert got == pytest.approx((1 / log2(3)) / (1 + 1 / log2(3)))  # 0.3869


def test_ndcg_perfect_zero_and_cutoff() -> None:
    assert ndcg_at_k(TWO_QUOTES_ALL, ["甲乙丙", "丁戊己"]) == pytest.approx(1.0)
    assert ndcg_at_k(TWO_QUOTES_ALL, [FILLER] * 10) == 0.0
    assert ndcg_at_k(UNANSWERABLE, ["anything"]) == 0.0
    # relevant only at rank 3, cut off at k=2
    assert ndcg_at_k(case(), [FILLER, FILLER, "达到30家"], k=2) == 0.0


def test_ndcg_stays_at_most_one_with_more_relevant_passages_than_quotes() -> None:
    got = ndcg_at_k(case(), [FILLER, "达到30家", "又达到30家"])
    assert got == pytest.approx((1 / log2(3) + 1 / 2) / (1 + 1 / log2(3)))  # 0.6934
    assert ndcg_at_k(case(), ["达到30家", "达到30家"]) == pytest.approx(1.0)


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("30家", True),
        ("累计达到30", True),
        ("达到 30 家。", True),
        ("达到30家[1]。", True),
        ("达到３０家", True),  # full-width digits
        ("130家", False),
        ("300家", False),
        ("到2030年", False),
        ("30.5家", False),
        ("0.30", False),
        ("3.0", False),
        ("1,030家", False),
        ("参见[30]", False),  # a citation marker is not an answer
        ("3250 6500", False),
    ],
)
def test_answer_number_boundaries(answer: str, expected: bool) -> None:
    assert answer_correct(case(), answer) is expected


def test_answer_decimals_and_thousands() -> None:
    c = case(answers=("3.6",), evidence=("3.6",))
    assert answer_correct(c, "拥有量为3.6件")
    assert answer_correct(c, "增长3.6%")
    assert not answer_correct(c, "13.6件")
    assert not answer_correct(c, "3.65件")
    big = case(answers=("25000",), evidence=("25000",))
    assert answer_correct(big, "about 25,000 yuan")
    assert not answer_correct(big, "125,000")


def test_answer_table_cells_separated_by_spaces_are_separate_numbers() -> None:
    c = case(answers=("6500",), evidence=("3250 6500",))
    assert answer_correct(c, "数字经济增加值 亿元 3250 6500")
    assert not answer_correct(c, "数字经济增加值 亿元 32506500")


def test_answer_all_versus_any() -> None:
    all_case = case(answers=("7", "10"), evidence=("第7、10位",), mode="all")
    any_case = case(answers=("7", "10"), evidence=("第7、10位",), mode="any")
    assert answer_correct(all_case, "分别排名全省第7、10位[1]")
    assert not answer_correct(all_case, "排名第7位")
    assert answer_correct(any_case, "排名第7位")
    assert not answer_correct(any_case, "排名第17位")


def test_answer_text_match_is_normalised() -> None:
    c = case(answers=("PCT申请量",), evidence=("PCT申请量",))
    assert answer_correct(c, "国际专利（ＰＣＴ）pct 申请量")


def test_abstention_decides_correctness() -> None:
    assert not answer_correct(case(), "达到30家", abstained=True)
    assert answer_correct(UNANSWERABLE, "文件中没有相关内容", abstained=True)
    assert not answer_correct(UNANSWERABLE, "是30家", abstained=False)


# ---------------------------------------------------------------- citations, abstention


def test_citation_supported() -> None:
    assert citation_supported(case(), [{"n": 1, "text": FILLER}, {"n": 2, "text": "达到 30 家"}])
    assert citation_supported(case(), [{"n": 1, "text": FILLER}]) is False
    assert citation_supported(case(), []) is None
    assert citation_supported(UNANSWERABLE, [{"n": 1, "text": "达到30家"}]) is None


def test_abstention_counts() -> None:
    pairs = [
        ({"abstained": True}, UNANSWERABLE),  # tp
        ({"abstained": True}, UNANSWERABLE),  # tp
        ({"abstained": False}, UNANSWERABLE),  # fn
        ({"abstained": True}, case()),  # fp
        ({"abstained": False}, case()),  # tn
        ({}, case()),  # tn (missing flag = answered)
    ]
    got = abstention_counts(pairs)
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (2, 1, 1, 2)
    assert got["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert got["recall"] == pytest.approx(2 / 3, abs=1e-4)
    empty = abstention_counts([({"abstained": False}, case())])
    assert empty["precision"] is None and empty["recall"] is None


def test_is_english() -> None:
    assert is_english("How many firms were there in 2022?")
    assert not is_english("2022年有多少家PCT企业？")
    assert not is_english("2022?")


# ---------------------------------------------------------------- summarize, failures


def _passages(relevant: dict[int, str]) -> list[dict]:
    """Ten passages; ``relevant`` maps 1-based rank to text."""
    return [
        {"doc": f"d{i}.txt", "text": relevant.get(i, FILLER + "x" * 150), "score": 1 / i}
        for i in range(1, 11)
    ]


CASES = [
    case("c1", ("30",), ("达到30家",)),
    case("c2", ("68",), ("排名第68位",)),
    case("c3", ("7", "10"), ("第7、10位", "乐清瑞安"), mode="all", qtype="table"),
    case("c4", ("42",), ("共42项",), history=("上一个问题？",)),
    case("c5", (), (), qtype="unanswerable", question="What is the GDP of Mars?"),
]
ROWS = [
    {"id": "c1", "answer": "达到30家[1]", "abstained": False, "latency_ms": 100.0,
     "citations": [{"n": 1, "text": "累计达到30家"}], "retrieved": _passages({1: "达到30家"})},
    {"id": "c2", "answer": "排名第680位", "abstained": False, "latency_ms": 200.0,
     "citations": [], "retrieved": _passages({3: "排名第68位"})},
    {"id": "c3", "answer": "第7、10位[1]", "abstained": False, "latency_ms": 300.0,
     "citations": [{"n": 1, "text": FILLER}],
     "retrieved": _passages({1: "乐清瑞安", 6: "第7、10位"})},
    {"id": "c4", "answer": "未找到", "abstained": True, "latency_ms": 400.0,
     "citations": [], "retrieved": _passages({})},
    {"id": "c5", "answer": "It is 5.", "abstained": False, "latency_ms": 500.0,
     "citations": [], "retrieved": _passages({})},
]


def test_summarize_overall() -> None:
    s = summarize(CASES, ROWS)
    o = s["overall"]
    assert (o["n"], o["n_answerable"], o["n_unanswerable"]) == (5, 4, 1)
    # evidence ranks: c1=1, c2=3, c3=6 (second quote at 6), c4=None
    assert o["evidence_hit@1"] == 0.25
    assert o["evidence_hit@3"] == 0.5
    assert o["evidence_hit@5"] == 0.5
    assert o["evidence_hit@10"] == 0.75
    assert o["mrr@10"] == round((1 + 1 / 3 + 1 / 6 + 0) / 4, 4) == 0.375
    ndcg_c3 = (1 + 1 / log2(7)) / (1 + 1 / log2(3))
    assert o["ndcg@10"] == round((1 + 0.5 + ndcg_c3 + 0) / 4, 4)
    assert o["answer_accuracy"] == 0.5  # c1, c3
    assert o["accuracy_all"] == 0.4  # c5 answered though unanswerable
    assert o["citation_precision"] == 0.5  # c1 supported, c3 not
    assert o["wrongly_refused"] == 0.25  # c4
    assert o["abstention"] == {"tp": 0, "fp": 1, "fn": 1, "tn": 3}
    assert o["abstention_precision"] == 0.0 and o["abstention_recall"] == 0.0
    # answered lengths: 8, 7, 9, 8 -> median 8, p90 = 8 + 0.7 * 1
    assert o["answer_len_median"] == 8.0 and o["answer_len_p90"] == 8.7
    assert o["latency_p50_ms"] == 300.0 and o["latency_p95_ms"] == 480.0


def test_summarize_types_slices_and_json() -> None:
    s = summarize(CASES, ROWS)
    assert list(s["by_type"]) == ["fact", "table", "unanswerable"]
    fact = s["by_type"]["fact"]
    assert fact["n"] == 3 and fact["evidence_hit@1"] == 0.3333
    assert fact["answer_accuracy"] == 0.3333
    assert s["by_type"]["table"]["evidence_hit@10"] == 1.0
    assert s["by_type"]["table"]["citation_precision"] == 0.0
    unans = s["by_type"]["unanswerable"]
    assert unans["evidence_hit@5"] is None and unans["answer_accuracy"] is None
    assert unans["accuracy_all"] == 0.0 and unans["abstention_recall"] == 0.0
    assert s["slices"]["english"]["n"] == 1
    assert s["slices"]["multi_turn"]["n"] == 1
    assert s["slices"]["multi_turn"]["wrongly_refused"] == 1.0
    assert sorted(s["distributions"]["answer_len"]) == [7, 8, 8, 9]
    assert json.loads(json.dumps(s)) == s
    assert all(type(v) in (int, float, type(None), dict) for v in s["overall"].values())


def test_summarize_reports_missing_and_unknown_rows() -> None:
    rows = ROWS[:4] + [{"id": "zzz", "answer": "", "abstained": True, "retrieved": []}]
    s = summarize(CASES, rows)
    assert s["missing_ids"] == ["c5"] and s["unknown_ids"] == ["zzz"]
    assert s["overall"]["n"] == 4
    assert s["n_cases"] == 5 and s["n_rows"] == 5


def test_failures_lists_the_right_rows_with_reasons() -> None:
    got = {f["id"]: f for f in failures(CASES, ROWS)}
    assert set(got) == {"c2", "c3", "c4", "c5"}
    assert got["c2"]["reasons"] == ["wrong answer"]
    assert got["c3"]["reasons"] == ["evidence not in top 5"]
    assert got["c4"]["reasons"] == ["wrongly refused", "evidence not in top 5"]
    assert got["c5"]["reasons"] == ["answered unanswerable"]
    c2 = got["c2"]
    assert c2["evidence_rank"] == 3 and c2["answer"] == "排名第680位"
    assert c2["expected"] == ["68"] and c2["evidence"] == ["排名第68位"]
    assert len(c2["top_retrieved"]) == 5
    assert c2["top_retrieved"][2] == {"doc": "d3.txt", "text": "排名第68位"}
    assert all(len(r["text"]) <= 120 for r in c2["top_retrieved"])
    assert got["c4"]["abstained"] is True and got["c4"]["evidence_rank"] is None


def test_failures_includes_cases_without_a_row() -> None:
    got = failures(CASES, ROWS[:4])
    assert [f["id"] for f in got][-1] == "c5"
    assert got[-1]["reasons"] == ["no result row"]
