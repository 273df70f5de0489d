"""Every supported format loads through the same cleaning; bad files are named with a reason."""

from pathlib import Path

import pytest

from ingest.loaders import read_raw_text
from ingest.pipeline import load_document, scan_corpus
from ingest.types import CorpusError
from tests.filemakers import write_docx, write_pdf


def test_pdf_text_layer_loads_and_page_footer_is_removed(tmp_path: Path):
    path = write_pdf(tmp_path / "plan.pdf", [["Target for 2025: 30 platforms.", "- 1 -"], ["Second page text.", "- 2 -"]])
    document = load_document(path, tmp_path)
    assert "Target for 2025: 30 platforms." in document.text
    assert "Second page text." in document.text
    assert "- 1 -" not in document.text and "- 2 -" not in document.text


def test_docx_paragraphs_and_table_rows_with_headers(tmp_path: Path):
    path = write_docx(
        tmp_path / "plan.docx",
        ["一、发展目标", "到2025年，温岭科技型中小企业数达1800家。"],
        "表1：温岭市规划目标",
        [["指标名称", "单位", "2020年", "2025年"], ["省级众创空间", "家", "4", "8"]],
    )
    document = load_document(path, tmp_path)
    assert "到2025年，温岭科技型中小企业数达1800家。" in document.text
    assert "表1：温岭市规划目标｜省级众创空间（家）：2020年 4家；2025年 8家" in document.text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_text_encodings(tmp_path: Path, encoding: str):
    path = tmp_path / "reply.txt"
    path.write_bytes("温州市科学技术局文件\n\n一、加快科技企业培育。".encode(encoding))
    assert "温州市科学技术局文件" in load_document(path, tmp_path).text


def test_html_and_markdown(tmp_path: Path):
    (tmp_path / "a.html").write_text(
        "<html><body><h1>一、总则</h1><p>到2025年达到30家。</p><script>alert(1)</script>"
        "<table><tr><th>指标名称</th><th>2025年</th></tr><tr><td>高新技术企业数</td><td>560</td></tr></table></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text("# 规划\n\n**到2025年**，达到30家。", encoding="utf-8")
    html = load_document(tmp_path / "a.html", tmp_path).text
    assert "到2025年达到30家。" in html and "alert" not in html
    assert "高新技术企业数：2025年 560" in html
    assert "到2025年，达到30家。" in load_document(tmp_path / "b.md", tmp_path).text


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("fake.docx", b"plain text, not a zip archive", "zip"),
        ("binary.txt", bytes(range(256)) * 10, "binary"),
        ("empty.txt", b"", "empty"),
        ("table.xlsx", b"PK\x03\x04", "unsupported"),
    ],
)
def test_bad_files_are_named_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorpusError) as error:
        read_raw_text(path)
    assert name in str(error.value)
    assert reason.lower() in str(error.value).lower()


def test_encrypted_pdf_is_reported(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(tmp_path / "plain.pdf", [["secret"]])
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt("password")
    with (tmp_path / "locked.pdf").open("wb") as handle:
        writer.write(handle)
    with pytest.raises(CorpusError, match="locked.pdf.*encrypted"):
        read_raw_text(tmp_path / "locked.pdf")


def test_scan_reports_bad_files_and_keeps_the_good(small_corpus: Path):
    (small_corpus / "bad.pdf").write_bytes(b"garbage")
    scan = scan_corpus(small_corpus)
    assert sorted(d.doc_id for d in scan.documents) == ["wenling.txt", "wenzhou.txt"]
    assert len(scan.errors) == 1 and "bad.pdf" in str(scan.errors[0])
