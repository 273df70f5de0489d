"""Reading corpus files of every supported format into raw text.

Tables in DOCX and HTML come out as one tab-separated row per line, the same shape as the
converted text files, so one table rule serves all formats.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path

from ingest.infobox import key_value_lines
from ingest.types import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TEXT_CHARS = 3_000_000  # one document's text; the largest seed has ~40 000, a 1 000-page report ~2 million
MAX_DOCX_INFLATED_BYTES = 256 * 1024 * 1024  # all members of a DOCX, inflated
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024  # any one XML part of a DOCX, inflated
MAX_HTML_TABLES = 1000
MAX_TABLE_CELL_CHARS = 300  # a cell longer than this holds a page's body: the table is layout, not data
_MIN_PRINTABLE_RATIO = 0.85
MIN_PAGE_TEXT_CHARS = 10  # a page with less text than this (a footer, a page number) is read with OCR
log = logging.getLogger(__name__)
_PAGE_NUMBER_ONLY = re.compile(r"[\s—–\-－\d]*")


def decode_text(data: bytes, name: str) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), else the detected encoding (GB18030…).

    UTF-16 with a byte order mark (what Windows Notepad saves as "Unicode") is read too.

    Raises:
        CorpusError: the bytes are not text in any encoding we can recognise.

    Example:
        >>> decode_text("温州".encode("gbk"), "a.txt"), decode_text("温州".encode("utf-16"), "a.txt")
        ('温州', '温州')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = _utf16_as_utf8(data, name)
    if b"\x00" in data[:4096]:
        raise CorpusError(f"{name}: contains NUL bytes, so it is binary, not text; convert it to UTF-8 text or remove it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(data, name)
    if text and _printable_ratio(text) < _MIN_PRINTABLE_RATIO:
        raise CorpusError(f"{name}: does not look like text (mostly control characters); convert it to UTF-8 text or remove it")
    return text


def _utf16_as_utf8(data: bytes, name: str) -> bytes:
    try:
        return data.decode("utf-16").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: starts like UTF-16 text but is damaged ({exc}); save it as UTF-8 and ingest again") from exc


def _decode_legacy(data: bytes, name: str) -> str:
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise CorpusError(f"{name}: cannot tell its text encoding; save it as UTF-8 and ingest again")
    return str(best)


def _printable_ratio(text: str) -> float:
    sample = text[:20000]
    good = sum(1 for ch in sample if ch.isprintable() or ch.isspace())  # U+3000, NBSP: 公文 indentation
    return good / len(sample)


def _read_pdf(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise CorpusError(f"{name}: the PDF is encrypted; save an unprotected copy and ingest again")
        pages = [page.extract_text() or "" for page in reader.pages]
    except CorpusError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorpusError(f"{name}: not a readable PDF ({exc}); re-export it from the original") from exc
    blank = [i for i, page in enumerate(pages) if len(_PAGE_NUMBER_ONLY.sub("", page)) < MIN_PAGE_TEXT_CHARS]
    if blank:
        from ingest.ocr import missing_ocr, ocr_pdf_pages

        if missing_ocr() and len(blank) * 2 <= len(pages):  # a cover or separator page: the text pages are the document
            log.warning("%s: pages %s have no text layer and OCR is not installed; they are left out",
                        name, ", ".join(str(i + 1) for i in blank))
        else:
            for number, page_text in ocr_pdf_pages(data, blank, len(pages), name).items():
                pages[number] = page_text
    text = "\n".join(pages)
    if not _PAGE_NUMBER_ONLY.sub("", text):
        raise CorpusError(f"{name}: no text was found in the PDF, not even by OCR (blank pages?); check the file")
    return text


def check_docx_archive(data: bytes, name: str) -> None:
    """Refuse a DOCX that is not a zip, or whose parts would inflate past the limits, before inflating it.

    Raises:
        CorpusError: not a zip archive, or a zip bomb (the sizes come from the zip directory).

    Example:
        >>> check_docx_archive(b"not a zip", "a.docx")
        Traceback (most recent call last):
        ...
        ingest.types.CorpusError: a.docx: not a DOCX file (a DOCX is a zip archive); re-save it from Word as .docx
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CorpusError(f"{name}: not a DOCX file (a DOCX is a zip archive); re-save it from Word as .docx") from exc
    inflated = sum(m.file_size for m in members)
    largest_xml = max((m.file_size for m in members if m.filename.endswith(".xml")), default=0)
    if inflated > MAX_DOCX_INFLATED_BYTES or largest_xml > MAX_DOCX_XML_BYTES:
        raise CorpusError(
            f"{name}: the DOCX would inflate to {inflated // 2**20} MB (largest XML part {largest_xml // 2**20} MB), "
            f"over the {MAX_DOCX_INFLATED_BYTES // 2**20} MB ({MAX_DOCX_XML_BYTES // 2**20} MB per part) limit; "
            "it is damaged or a zip bomb. Re-save it from Word, or split the document")


def _read_docx(data: bytes, name: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_docx_archive(data, name)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CorpusError(f"{name}: damaged DOCX ({exc}); re-save it from Word") from exc
    parts: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append("".join(node.text or "" for node in child.iter() if node.tag.endswith("}t")))
        elif tag == "tbl":
            from docx.table import Table

            table = Table(child, document)
            parts.append("")
            for row in table.rows:
                cells = [cell.text.replace("\n", " ").strip() for cell in row.cells]
                parts.append("\t".join(cells if len(cells) > 1 else cells + [""] * 2))
            parts.append("")
    return "\n".join(parts)


def _read_html(data: bytes, name: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, name), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    tables = soup.find_all("table")
    if len(tables) > MAX_HTML_TABLES:
        raise CorpusError(f"{name}: {len(tables)} tables, over the {MAX_HTML_TABLES} table limit; "
                          "save the page's main content as a smaller HTML file or a DOCX")
    for table in tables:
        if table.find("table") is not None:
            continue  # a layout table around tables: the inner ones become rows, its own text stays lines
        cells = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
        if any(len(cell) > MAX_TABLE_CELL_CHARS for row in cells for cell in row):
            continue  # a page body laid out in a table cell: its paragraphs stay lines
        rows = key_value_lines(cells) or ["\t".join(row) for row in cells]
        table.replace_with("\n\n" + "\n".join(rows) + "\n\n")
    return soup.get_text("\n")


def read_raw_text(path: Path) -> tuple[str, bytes]:
    """Read one corpus file and return ``(raw text, raw bytes)``.

    Raises:
        CorpusError: unsupported extension, too large (file or text), empty, or unreadable; the
            message names the file and what to do.
    """
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(
            f"{name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"{name}: {size} bytes is over the {MAX_FILE_BYTES} byte limit; split the file")
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{name}: cannot be read ({exc.strerror}); check the file's permissions") from exc
    if not data.strip():
        raise CorpusError(f"{name}: the file is empty; remove it or replace it with the full document")
    reader = {".pdf": _read_pdf, ".docx": _read_docx, ".html": _read_html, ".htm": _read_html}.get(
        suffix, decode_text
    )
    try:
        text = reader(data, name)
    except CorpusError:
        raise
    except Exception as exc:  # a parser library choked on a damaged file: report it, keep going
        raise CorpusError(f"{name}: cannot be parsed as {suffix} ({type(exc).__name__}: {exc}); re-export the file") from exc
    if not text.strip():
        raise CorpusError(f"{name}: no text could be extracted; check that the file has content")
    if len(text) > MAX_TEXT_CHARS:
        raise CorpusError(f"{name}: {len(text)} characters of text, over the {MAX_TEXT_CHARS} character limit "
                          "for one document; split the file")
    return text, data
