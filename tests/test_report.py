"""Tests of the report writer and terminal tables (``eval/report.py``)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from eval.metrics import failures, summarize
from eval.qa import QACase
from eval.report import format_comparison_table, format_summary_table, write_report

SCRIPT = "<script>alert(1)</script>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _passages(relevant: dict[int, str]) -> list[dict]:
    return [{"doc": f"d{i}.txt", "text": relevant.get(i, f"无关 {SCRIPT}"), "score": 1 / i}
            for i in range(1, 11)]


CASES = [
    QACase("ok1", "达到多少家？", ("30",), "any", ("达到30家",), ("d.txt",), "fact"),
    QACase("bad7", f"问题 {SCRIPT} 几家？", ("68",), "any", ("第68位",), ("d.txt",), "table"),
    QACase("un1", "火星的GDP是多少？", (), "any", (), (), "unanswerable"),
]
ROWS = [
    {"id": "ok1", "answer": "达到30家[1]", "abstained": False, "latency_ms": 120.0,
     "citations": [{"n": 1, "text": "达到30家"}], "retrieved": _passages({1: "达到30家"})},
    {"id": "bad7", "answer": f"答案是 {SCRIPT} 680", "abstained": False, "latency_ms": 950.0,
     "citations": [], "retrieved": _passages({})},
    {"id": "un1", "answer": "", "abstained": True, "latency_ms": 80.0,
     "citations": [], "retrieved": _passages({})},
]


@pytest.fixture()
def written(tmp_path: Path) -> tuple[Path, Path, dict, list[dict]]:
    summary = summarize(CASES, ROWS)
    fails = failures(CASES, ROWS)
    md_path, html_path = write_report(tmp_path / "out", summary, fails, title="测试报告")
    return md_path, html_path, summary, fails


def test_write_report_returns_both_files(written, tmp_path: Path) -> None:
    md_path, html_path, _, _ = written
    assert md_path == tmp_path / "out" / "report.md" and md_path.is_file()
    assert html_path == tmp_path / "out" / "report.html" and html_path.is_file()


def test_html_escapes_document_text(written) -> None:
    _, html_path, _, fails = written
    assert [f["id"] for f in fails] == ["bad7"]
    page = html_path.read_text(encoding="utf-8")
    assert SCRIPT not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "测试报告" in page and "bad7" in page


def test_html_embeds_three_png_plots(written) -> None:
    _, html_path, _, _ = written
    page = html_path.read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3
    for data in images:
        assert base64.b64decode(data).startswith(PNG_MAGIC)
    assert 'src="http' not in page and "<link" not in page  # self-contained


def test_markdown_lists_failures_and_tables(written) -> None:
    md_path, _, _, _ = written
    text = md_path.read_text(encoding="utf-8")
    assert text.startswith("# 测试报告")
    assert "### bad7 (table)" in text
    assert "ok1" not in text  # a correct row is not a failure
    assert "wrong answer" in text and "evidence not in top 5" in text
    assert "not retrieved" in text  # evidence rank of bad7
    assert "| answer accuracy (answerable) | 50.0% |" in text
    assert "| unanswerable |" in text and "| multi_turn |" in text
    assert SCRIPT not in text


def test_report_tolerates_empty_inputs(tmp_path: Path) -> None:
    summary = summarize([], [])
    md_path, html_path = write_report(tmp_path, summary, [])
    assert "Failures (0)" in md_path.read_text(encoding="utf-8")
    assert html_path.read_text(encoding="utf-8").count("data:image/png;base64,") == 3


def test_format_summary_table() -> None:
    table = format_summary_table(summarize(CASES, ROWS))
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["group", "n", "ev@1"]
    overall = next(line for line in lines if line.startswith("overall"))
    assert overall.split()[1] == "3"
    assert "50.0%" in overall  # answer accuracy over the two answerable rows
    assert any(line.startswith("unanswerable") for line in lines)
    assert any(line.startswith("[english]") for line in lines)


def test_format_comparison_table_one_row_per_config() -> None:
    good = summarize(CASES, ROWS)
    bad = summarize(CASES, [dict(r, abstained=True) for r in ROWS])
    table = format_comparison_table({"bm25": good, "混合检索": bad})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].split() == [
        "config", "ev@1", "ev@5", "MRR@10", "acc", "refused", "abst", "R", "len", "p50",
        "p95", "ms",
    ]
    assert lines[2].startswith("bm25") and lines[3].startswith("混合检索")
    assert lines[3].split()[5] == "100.0%"  # everything refused
    # columns line up by display width (CJK characters are two columns wide)
    assert len(lines[2]) == len(lines[3]) + 4
