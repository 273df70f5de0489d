"""Scanned PDFs: pages without a text layer are read with OCR; without OCR installed the file is
reported by name with the install command, never indexed empty."""

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest import ocr
from ingest.loaders import read_raw_text
from ingest.types import CorpusError


def _scanned_pdf(path, lines):
    image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi, like a scanner's page
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    for i, line in enumerate(lines):
        draw.text((120, 150 + 110 * i), line, fill=0, font=font)
    image.save(path, "PDF", resolution=150)
    return path


def test_a_scan_without_ocr_installed_is_reported_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    pdf = _scanned_pdf(tmp_path / "scan.pdf", ["Total 560 enterprises"])
    with pytest.raises(CorpusError) as raised:
        read_raw_text(pdf)
    message = str(raised.value)
    assert message.startswith("scan.pdf: 1 of 1 PDF pages have no text layer")
    assert "apt-get install -y tesseract-ocr tesseract-ocr-chi-sim" in message


@pytest.mark.skipif(ocr.missing_ocr() != "", reason="OCR (tesseract-ocr, tesseract-ocr-chi-sim, pytesseract) not installed")
def test_a_scanned_page_is_read_with_ocr(tmp_path):
    pdf = _scanned_pdf(tmp_path / "scan.pdf", ["Total 560 enterprises", "Budget 2025"])
    text, _ = read_raw_text(pdf)
    assert "560" in text and "2025" in text


def test_ocr_spacing_between_chinese_characters_is_removed():
    assert ocr.tidy_ocr_text("第 四 十 三 条 在 科技 创新 工作 中") == "第四十三条在科技创新工作中"
