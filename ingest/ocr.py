"""Reading PDF pages that have no text layer (scans) with OCR: Tesseract (Debian ``tesseract-ocr``
and ``tesseract-ocr-chi-sim``) through pytesseract, pages rendered with pypdfium2.

When the OCR tools are missing, :func:`require_ocr` raises a :class:`CorpusError` that names the
file and the commands that install them: a scan is never indexed empty.
"""

from __future__ import annotations

import logging
import re
import shutil
from typing import Sequence

from ingest.types import CorpusError

OCR_LANGUAGES = "chi_sim+eng"
OCR_DPI = 300
INSTALL_HINT = ("install OCR: `apt-get install -y tesseract-ocr tesseract-ocr-chi-sim` and "
                "`pip install pytesseract==0.3.13 pypdfium2==5.15.2`, then ingest again")
_CJK = "\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")
log = logging.getLogger(__name__)


def missing_ocr() -> str:
    """What is missing for OCR (``""`` when nothing is): the Tesseract program, its Chinese data,
    or the Python packages.

    Example:
        >>> isinstance(missing_ocr(), str)
        True
    """
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError as exc:
        return f"the Python package {exc.name}"
    if shutil.which("tesseract") is None:
        return "the tesseract program"
    try:
        languages = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError) as exc:
        return f"a working tesseract ({exc})"
    needed = set(OCR_LANGUAGES.split("+"))
    return "" if needed <= languages else f"Tesseract language data {', '.join(sorted(needed - languages))}"


def require_ocr(name: str, pages: Sequence[int], total: int) -> None:
    """Raise unless OCR can run, naming the file, its pages without text and the install commands.

    Raises:
        CorpusError: OCR is not installed.
    """
    missing = missing_ocr()
    if missing:
        shown = ", ".join(str(p + 1) for p in pages[:10]) + ("…" if len(pages) > 10 else "")
        raise CorpusError(f"{name}: {len(pages)} of {total} PDF pages have no text layer (a scan: pages {shown}) "
                          f"and OCR is not available ({missing} is missing); {INSTALL_HINT}")


def tidy_ocr_text(text: str) -> str:
    """Remove the spaces Tesseract puts between Chinese characters; keep line breaks.

    Example:
        >>> tidy_ocr_text("第 一 条  为 了 促进 科技 创新 ， 制定 本 条例 。 2025 年")
        '第一条为了促进科技创新，制定本条例。 2025 年'
    """
    return "\n".join(_SPACE_IN_CJK.sub("", line).strip() for line in text.split("\n"))


def ocr_pdf_pages(data: bytes, pages: Sequence[int], total: int, name: str) -> dict[int, str]:
    """OCR the given pages (0-based) of a PDF of ``total`` pages; returns each page's text.

    Raises:
        CorpusError: OCR is not installed, or the PDF cannot be rendered.
    """
    require_ocr(name, pages, total)
    import pypdfium2
    import pytesseract

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise CorpusError(f"{name}: the scanned PDF cannot be rendered for OCR ({exc}); re-export it") from exc
    texts = {}
    try:
        for done, number in enumerate(pages, 1):
            image = document[number].render(scale=OCR_DPI / 72).to_pil()
            texts[number] = tidy_ocr_text(pytesseract.image_to_string(image, lang=OCR_LANGUAGES,
                                                                     config="-c preserve_interword_spaces=1"))
            log.info("%s: OCR page %d (%d of %d)", name, number + 1, done, len(pages))
    finally:
        document.close()
    return texts
