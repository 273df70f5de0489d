"""Generators of bad corpus files: every way a file fed by many hands can be broken or hostile.

Each *kind* is a function ``(rng) -> (suffix, bytes)``; :func:`write_bad_files` cycles through
the kinds so that any ``count >= len(KINDS)`` covers every kind at least once, with different
random bytes each round. The slow, huge kinds (a 50 MB single-line text, big zip bombs) are
only written when asked (``huge=True``): the CI subset stays fast.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> files = write_bad_files(Path(tempfile.mkdtemp()), 3, seed=1)
    >>> [f.kind for f in files]
    ['random_bytes.txt', 'random_bytes.md', 'random_bytes.markdown']
"""

from __future__ import annotations

import io
import random
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingest.loaders import SUPPORTED_SUFFIXES
from tests.filemakers import pdf_from_objects, write_docx, write_pdf

Maker = Callable[[random.Random], tuple[str, bytes] | tuple[str, bytes, bytes]]
"""Returns ``(suffix, file bytes)``, or ``(suffix, file bytes, metadata sidecar bytes)``."""
GOOD_PARAGRAPH = "到2025年，高新技术企业数量达到560家。"


@dataclass(frozen=True)
class BadFile:
    """One generated bad file: where it is and which kind of damage it carries."""

    path: Path
    kind: str


# --- valid originals to damage ----------------------------------------------------------------


def _valid_pdf(lines: list[str] | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_pdf(Path(folder) / "a.pdf", [lines or ["Target for 2025: 560 enterprises."]]).read_bytes()


def _valid_docx() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = write_docx(Path(folder) / "a.docx", ["一、发展目标", GOOD_PARAGRAPH], "表1：目标",
                          [["指标", "2025年"], ["高新技术企业", "560"]])
        return path.read_bytes()


_PDF = _valid_pdf()
_DOCX = _valid_docx()


def _docx_with(document_xml: bytes | None, extra: dict[str, bytes] | None = None,
               level: int = 9) -> bytes:
    """The valid DOCX with ``word/document.xml`` replaced (or removed when ``None``)."""
    source = zipfile.ZipFile(io.BytesIO(_DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for item in source.infolist():
            if item.filename == "word/document.xml":
                if document_xml is not None:
                    target.writestr(item, document_xml)
            else:
                target.writestr(item, source.read(item))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _document_xml(body: str, doctype: str = "") -> bytes:
    original = zipfile.ZipFile(io.BytesIO(_DOCX)).read("word/document.xml").decode("utf-8")
    head, rest = original.split("<w:body>", 1)
    if doctype:
        declaration, _, root = head.partition("?>")
        head = f"{declaration}?>{doctype}{root}"
    return (head + "<w:body>" + body + rest).encode("utf-8")


def _flip_bytes(data: bytes, rng: random.Random, flips: int) -> bytes:
    damaged = bytearray(data)
    for _ in range(flips):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    return bytes(damaged)


# --- the kinds --------------------------------------------------------------------------------


def _random_bytes(suffix: str) -> Maker:
    return lambda rng: (suffix, rng.randbytes(rng.randint(1, 64 * 1024)))


def _magic_then_random(suffix: str, magic: bytes) -> Maker:
    return lambda rng: (suffix, magic + rng.randbytes(rng.randint(16, 16 * 1024)))


def truncated_pdf(rng: random.Random) -> tuple[str, bytes]:
    return ".pdf", _PDF[: rng.randint(1, len(_PDF) - 1)]


def corrupted_pdf(rng: random.Random) -> tuple[str, bytes]:
    return ".pdf", _flip_bytes(_PDF, rng, rng.randint(1, 40))


def truncated_docx(rng: random.Random) -> tuple[str, bytes]:
    return ".docx", _DOCX[: rng.randint(1, len(_DOCX) - 1)]


def corrupted_docx(rng: random.Random) -> tuple[str, bytes]:
    return ".docx", _flip_bytes(_DOCX, rng, rng.randint(1, 40))


def encrypted_pdf(rng: random.Random) -> tuple[str, bytes]:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(_PDF)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=f"pw{rng.randint(0, 9999)}", algorithm=rng.choice(["RC4-40", "RC4-128"]))
    out = io.BytesIO()
    writer.write(out)
    return ".pdf", out.getvalue()


def pdf_without_text(rng: random.Random) -> tuple[str, bytes]:
    """A page with no text operators at all (what a scan looks like to a text extractor)."""
    stream = b"0 0 m 100 100 l S"
    return ".pdf", pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ])


def pdf_page_tree_loop(rng: random.Random) -> tuple[str, bytes]:
    """The page tree lists itself as its own kid: a naive walker never ends."""
    return ".pdf", pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>",
    ])


def pdf_reference_loop(rng: random.Random) -> tuple[str, bytes]:
    """Indirect objects that point at each other (``/Length`` through a chain back to itself)."""
    return ".pdf", pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length 5 0 R >>\nstream\nBT ET\nendstream", b"6 0 R", b"5 0 R",
    ])


def _pdf_flate_bomb(megabytes: int) -> Maker:
    def make(rng: random.Random) -> tuple[str, bytes]:
        stream = zlib.compress(b" " * (megabytes * 1024 * 1024), 9)
        return ".pdf", pdf_from_objects([
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        ])
    return make


def pdf_many_pages(rng: random.Random) -> tuple[str, bytes]:
    """5 000 pages with one word each: slow to extract, but must finish."""
    pages = 5000
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
                   b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages)), pages),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i in range(pages):
        stream = b"BT /F1 12 Tf 72 720 Td (page %d) Tj ET" % i
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return ".pdf", pdf_from_objects(objects)


def _docx_zip_bomb(megabytes: int) -> Maker:
    """A small DOCX whose document.xml inflates to ``megabytes`` MB of unpunctuated paragraphs."""
    def make(rng: random.Random) -> tuple[str, bytes]:
        paragraph = "<w:p><w:r><w:t>" + "高新技术企业" * 170 + "</w:t></w:r></w:p>"
        repeat = megabytes * 1024 * 1024 // len(paragraph.encode("utf-8")) + 1
        return ".docx", _docx_with(_document_xml(paragraph * repeat))
    return make


def _docx_single_node_bomb(megabytes: int) -> Maker:
    def make(rng: random.Random) -> tuple[str, bytes]:
        return ".docx", _docx_with(_document_xml("<w:p><w:r><w:t>" + "A" * (megabytes * 1024 * 1024) + "</w:t></w:r></w:p>"))
    return make


def docx_missing_document(rng: random.Random) -> tuple[str, bytes]:
    return ".docx", _docx_with(None)


def docx_malformed_xml(rng: random.Random) -> tuple[str, bytes]:
    return ".docx", _docx_with(b"<w:document><w:body><w:p>" + rng.randbytes(200) + b"</w:body>")


def docx_not_docx_zip(rng: random.Random) -> tuple[str, bytes]:
    """A valid zip that is not a Word package (a renamed .zip/.xlsx)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "这是一个普通的压缩包")
    return ".docx", out.getvalue()


def docx_many_members(rng: random.Random) -> tuple[str, bytes]:
    """A DOCX carrying 20 000 extra empty members (a zip directory bomb)."""
    return ".docx", _docx_with(_document_xml(f"<w:p><w:r><w:t>{GOOD_PARAGRAPH}</w:t></w:r></w:p>"),
                               {f"junk/{i}.xml": b"" for i in range(20000)}, level=1)


def docx_external_entity(rng: random.Random) -> tuple[str, bytes]:
    """XXE: an entity that reads /etc/passwd; its content must never reach the index."""
    doctype = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return ".docx", _docx_with(_document_xml("<w:p><w:r><w:t>前&xxe;后</w:t></w:r></w:p>", doctype))


def docx_billion_laughs(rng: random.Random) -> tuple[str, bytes]:
    entities = '<!ENTITY l0 "哈哈哈哈哈哈哈哈哈哈">' + "".join(
        f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    doctype = f"<!DOCTYPE w:document [{entities}]>"
    return ".docx", _docx_with(_document_xml("<w:p><w:r><w:t>&l9;</w:t></w:r></w:p>", doctype))


def docx_deep_nesting(rng: random.Random) -> tuple[str, bytes]:
    depth = 50000
    return ".docx", _docx_with(_document_xml("<w:p>" + "<w:r>" * depth + "<w:t>深</w:t>" + "</w:r>" * depth + "</w:p>"))


def nul_bytes_at_start(rng: random.Random) -> tuple[str, bytes]:
    suffix = rng.choice([".txt", ".md", ".html"])
    return suffix, b"\x00" * rng.randint(1, 64) + GOOD_PARAGRAPH.encode("utf-8") * 10


def nul_bytes_scattered(rng: random.Random) -> tuple[str, bytes]:
    """NUL bytes after the first 4 KB, and between characters: sniffing the head misses them."""
    text = (GOOD_PARAGRAPH * 200).encode("utf-8")
    positions = sorted(rng.sample(range(4200, len(text)), 30))
    out, last = bytearray(), 0
    for p in positions:
        out += text[last:p] + b"\x00"
        last = p
    return ".txt", bytes(out + text[last:])


def utf16_with_bom(rng: random.Random) -> tuple[str, bytes]:
    """What Windows Notepad calls "Unicode": UTF-16LE with a BOM."""
    return ".txt", (GOOD_PARAGRAPH * 5).encode("utf-16")


def utf16_without_bom(rng: random.Random) -> tuple[str, bytes]:
    return ".txt", (GOOD_PARAGRAPH * 5).encode("utf-16-le")


def mixed_utf8_and_gbk(rng: random.Random) -> tuple[str, bytes]:
    return rng.choice([".txt", ".md"]), "温州市科技局：".encode("utf-8") + GOOD_PARAGRAPH.encode("gbk") * 5


def wrong_encodings(rng: random.Random) -> tuple[str, bytes]:
    encoding = rng.choice(["big5", "shift_jis", "euc-kr", "latin-1", "cp1252", "utf-32", "hz"])
    text = rng.choice(["溫州市科學技術局關於高新區的答復", "Science and technology plan 2025, caf\u00e9",
                       "温州市科学技术局关于高新区的答复"])
    return rng.choice([".txt", ".md", ".html"]), text.encode(encoding, errors="replace") * 20


def invalid_utf8_sequences(rng: random.Random) -> tuple[str, bytes]:
    pieces = [GOOD_PARAGRAPH.encode("utf-8"), b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xff\xfe"]
    return ".txt", b"".join(rng.choice(pieces) for _ in range(200))


def control_characters(rng: random.Random) -> tuple[str, bytes]:
    return ".txt", bytes(rng.choice([1, 2, 3, 7, 8, 11, 12, 27, 127]) for _ in range(rng.randint(10, 5000)))


def _empty(suffix: str, content: bytes) -> Maker:
    return lambda rng: (suffix, content)


def html_deep_nesting(rng: random.Random) -> tuple[str, bytes]:
    depth = rng.choice([10000, 50000, 100000])
    tag = rng.choice(["div", "span", "b", "table"])
    return ".html", (f"<html><body>{'<' + tag + '>' * depth}深层嵌套{'</' + tag + '>' * depth}</body></html>").encode()


def html_unclosed_tags(rng: random.Random) -> tuple[str, bytes]:
    return ".html", ("<html><body>" + "<p><div><span><b><i>" * 20000 + GOOD_PARAGRAPH).encode()


def html_only_script(rng: random.Random) -> tuple[str, bytes]:
    return ".html", b"<html><head><script>alert(1)</script><style>p{}</style></head><body></body></html>"


def markdown_emphasis_storm(rng: random.Random) -> tuple[str, bytes]:
    """Runs of markup characters that make naive regular expressions backtrack."""
    return ".md", ("**" * 100000 + "# " * 50000 + "[bookmark: _Toc1]" * 2000 + " " * 100000 + "1").encode()


def html_nested_tables(depth: int) -> Maker:
    """Tables nested in unclosed cells: a 4 KB page whose table flattening is polynomial in depth."""
    return lambda rng: (".html", ("<html><body>" + "<p><div><table><tr><td>" * depth + GOOD_PARAGRAPH).encode())


def bookmark_storm(count: int) -> Maker:
    """``[bookmark:`` openers that never close: a regex scanning to the next ``]`` goes quadratic."""
    return lambda rng: (".txt", ("[bookmark:" * count + GOOD_PARAGRAPH).encode())


def many_headings(count: int) -> Maker:
    """Tens of thousands of short sections: heading paths looked up per chunk go quadratic."""
    return lambda rng: (".txt", "".join(f"{i % 9 + 1}、标题\n（一）子标题\n1.条目\n" for i in range(count)).encode())


def spaces_between_digits(rng: random.Random) -> tuple[str, bytes]:
    return ".txt", ("温" + " " * 200000 + "年 " + "1 " * 100000 + "日" + "\u3000" * 100000).encode()


def long_unpunctuated_lines(megabytes: float) -> Maker:
    """Many long lines with no sentence end: every line is a "broken" line to re-join."""
    def make(rng: random.Random) -> tuple[str, bytes]:
        line = "高新技术企业培育工程持续推进科技型中小企业数量稳步增长" * 4 + "\n"
        return ".txt", line.encode("utf-8") * (int(megabytes * 1024 * 1024) // len(line.encode("utf-8")) + 1)
    return make


def huge_single_line(megabytes: int) -> Maker:
    def make(rng: random.Random) -> tuple[str, bytes]:
        unit = "温州市科技创新规划到2025年高新技术企业达到4400家，".encode("utf-8")
        return ".txt", unit * (megabytes * 1000 * 1000 // len(unit))
    return make


def _with_sidecar(sidecar: bytes) -> Maker:
    """A good text file whose staff-maintained ``.meta.json`` sidecar is bad."""
    return lambda rng: (".txt", f"温州市科学技术局文件\n\n{GOOD_PARAGRAPH}\n".encode("utf-8"), sidecar)


def over_size_limit(rng: random.Random) -> tuple[str, bytes]:
    from ingest.loaders import MAX_FILE_BYTES

    return ".txt", b"a" * (MAX_FILE_BYTES + 1)


KINDS: dict[str, Maker] = {
    **{f"random_bytes{s}": _random_bytes(s) for s in SUPPORTED_SUFFIXES},
    "pdf_magic_then_random": _magic_then_random(".pdf", b"%PDF-1.7\n"),
    "docx_magic_then_random": _magic_then_random(".docx", b"PK\x03\x04"),
    "html_tag_then_random": _magic_then_random(".html", b"<html><body>"),
    "truncated_pdf": truncated_pdf,
    "corrupted_pdf": corrupted_pdf,
    "truncated_docx": truncated_docx,
    "corrupted_docx": corrupted_docx,
    "encrypted_pdf": encrypted_pdf,
    "pdf_without_text": pdf_without_text,
    "pdf_page_tree_loop": pdf_page_tree_loop,
    "pdf_reference_loop": pdf_reference_loop,
    "pdf_flate_bomb_64mb": _pdf_flate_bomb(64),
    "docx_single_text_node_12mb": _docx_single_node_bomb(12),
    "docx_missing_document": docx_missing_document,
    "docx_malformed_xml": docx_malformed_xml,
    "docx_not_a_word_zip": docx_not_docx_zip,
    "docx_external_entity": docx_external_entity,
    "docx_billion_laughs": docx_billion_laughs,
    "docx_deep_nesting": docx_deep_nesting,
    "nul_bytes_at_start": nul_bytes_at_start,
    "nul_bytes_scattered": nul_bytes_scattered,
    "utf16_with_bom": utf16_with_bom,
    "utf16_without_bom": utf16_without_bom,
    "mixed_utf8_and_gbk": mixed_utf8_and_gbk,
    "wrong_encoding": wrong_encodings,
    "invalid_utf8_sequences": invalid_utf8_sequences,
    "control_characters": control_characters,
    **{f"empty{s}": _empty(s, b"") for s in SUPPORTED_SUFFIXES},
    "whitespace_only": _empty(".txt", " \n\t\r\n\u3000".encode("utf-8")),
    "bom_only": _empty(".txt", b"\xef\xbb\xbf"),
    "html_deep_nesting": html_deep_nesting,
    "html_unclosed_tags": html_unclosed_tags,
    "html_nested_tables_10": html_nested_tables(10),
    "html_only_script": html_only_script,
    "markdown_emphasis_storm": markdown_emphasis_storm,
    "spaces_between_digits": spaces_between_digits,
    "sidecar_invalid_json": _with_sidecar(b'{"title": "unterminated'),
    "sidecar_not_an_object": _with_sidecar(b'["title"]'),
    "sidecar_unknown_field": _with_sidecar(b'{"titel": "x"}'),
    "sidecar_number_value": _with_sidecar(b'{"title": 5}'),
    "sidecar_gbk": _with_sidecar('{"title": "温州"}'.encode("gbk")),
    "sidecar_deeply_nested": _with_sidecar(b'{"title": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
}
"""Fast kinds: the CI subset cycles through these."""

def title_bomb(rng: random.Random) -> tuple[str, bytes]:
    """A first line "关于……的通知" of 300 000 characters: it becomes the title, prefixed to every chunk."""
    return ".txt", ("关于" + "科技创新" * 75_000 + "的通知\n\n一、说明\n" + GOOD_PARAGRAPH * 2000).encode("utf-8")


SLOW_KINDS: dict[str, Maker] = {
    "html_nested_tables_150": html_nested_tables(150),
    "bookmark_storm_60k": bookmark_storm(60000),
    "many_headings_40k": many_headings(40000),
    "long_unpunctuated_lines_12mb": long_unpunctuated_lines(12),
    "docx_zip_bomb_24mb": _docx_zip_bomb(24),
    "sidecar_huge_title": _with_sidecar(('{"title": "' + "长" * 1_000_000 + '"}').encode("utf-8")),
    "title_bomb": title_bomb,
}
"""Small files that cost a polynomial amount of work or memory (algorithmic-complexity attacks):
each must finish, loaded or rejected, within the per-file limits, and must not blow up the
ingest (a long title is repeated in every chunk's indexed text). Written once each."""

HUGE_KINDS: dict[str, Maker] = {
    "huge_single_line_50mb": huge_single_line(50),
    "over_size_limit": over_size_limit,
    "docx_zip_bomb_200mb": _docx_zip_bomb(200),
    "docx_single_text_node_300mb": _docx_single_node_bomb(300),
    "pdf_flate_bomb_1gb": _pdf_flate_bomb(1024),
    "pdf_many_pages": pdf_many_pages,
}
"""Slow or memory-hungry kinds: written once each by the full fuzz script."""


def write_bad_files(folder: Path, count: int, seed: int = 0, huge: bool = False, slow: bool = False,
                    kinds: dict[str, Maker] | None = None) -> list[BadFile]:
    """Write ``count`` bad files into ``folder``, cycling through the kinds; return them.

    Args:
        huge: also write each of :data:`HUGE_KINDS` once (on top of ``count``).
        slow: also write each of :data:`SLOW_KINDS` once.
        kinds: the kinds to cycle through (default :data:`KINDS`).
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    chosen = list((kinds or KINDS).items())
    plan = [chosen[i % len(chosen)] for i in range(count)]
    if slow:
        plan += list(SLOW_KINDS.items())
    if huge:
        plan += list(HUGE_KINDS.items())
    files = []
    for number, (kind, make) in enumerate(plan, start=1):
        suffix, data, *sidecar = make(rng)
        path = folder / f"bad-{number:04d}-{kind.replace('.', '_')}{suffix}"
        path.write_bytes(data)
        if sidecar:
            path.with_name(path.name + ".meta.json").write_bytes(sidecar[0])
        files.append(BadFile(path, kind))
    return files


__all__ = ["BadFile", "HUGE_KINDS", "KINDS", "SLOW_KINDS", "write_bad_files"]
