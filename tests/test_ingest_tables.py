"""DOCX tables: a merged section row labels the rows under it, every column is kept (序号 too),
a long row is split into lines that each repeat the caption and the row label."""

import docx

from ingest.chunking import split_into_chunks
from ingest.pipeline import load_document
from ingest.tables import MAX_ROW_LINE_CHARS, ROW_MARK, format_table_rows


def _task_table(path, long_cell: str = "") -> None:
    document = docx.Document()
    document.add_paragraph("重点任务清单")
    table = document.add_table(rows=5, cols=4)
    for i, header in enumerate(["序号", "任务", "责任单位", "完成时限"]):
        table.rows[0].cells[i].text = header
    table.rows[1].cells[0].merge(table.rows[1].cells[3]).text = "一、知识产权保护方面（共2项）"
    for r, values in ((2, ["1", "加强专利保护", "市知识产权局", "2025年底"]), (4, ["3", "引进人才", "市人社局", long_cell or "长期"])):
        for i, value in enumerate(values):
            table.rows[r].cells[i].text = value
    table.rows[3].cells[0].merge(table.rows[3].cells[3]).text = "二、人才方面（共1项）"
    document.save(path)


def test_merged_section_rows_label_the_rows_under_them_and_every_column_is_kept(tmp_path):
    _task_table(tmp_path / "tasks.docx")
    text = load_document(tmp_path / "tasks.docx", tmp_path).text
    rows = [line for line in text.split("\n") if ROW_MARK in line]
    assert rows == [
        "重点任务清单 一、知识产权保护方面（共2项）｜加强专利保护：责任单位 市知识产权局；完成时限 2025年底；序号 1",
        "重点任务清单 二、人才方面（共1项）｜引进人才：责任单位 市人社局；完成时限 长期；序号 3",
    ]


def test_a_long_row_is_split_into_lines_that_each_carry_caption_and_label(tmp_path):
    _task_table(tmp_path / "tasks.docx", long_cell="；".join(f"第{i}阶段完成相应任务并通过验收" for i in range(60)))
    document = load_document(tmp_path / "tasks.docx", tmp_path)
    lines = [line for line in document.text.split("\n") if "｜引进人才：" in line]
    assert len(lines) >= 2
    assert all(line.startswith("重点任务清单 二、人才方面（共1项）｜引进人才：") for line in lines)
    assert "序号 3" in lines[-1] and "第59阶段" in "".join(lines)
    chunks = split_into_chunks(document, chunk_size=300, chunk_overlap=60)
    for line in lines:  # each line is one table_row chunk, whole
        assert any(c.text == line and c.kind == "table_row" for c in chunks)


def test_a_long_cell_in_the_label_column_is_kept_whole_and_the_label_shortened():
    description = "建设" + "高水平研发平台" * 20
    (row,) = format_table_rows("清单", ["序号", "任务", "单位"], [["1", description, "市科技局"]])
    assert row.startswith("清单｜建设高水平研发平台") and f"任务 {description}" in row and row.endswith("序号 1")
    assert len(row) <= MAX_ROW_LINE_CHARS + 60
