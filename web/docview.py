"""The document view: the full text with the cited sentence highlighted, tables as tables, the
filing fields in a panel beside the text, and the original file to download (pure functions).

The index keeps a generated filing card (``【文件信息】…``) as a document's first line and table
rows as ``caption｜label：header value；…`` lines; neither is the document's own text, so the card is
shown as the panel and each run of rows as one ``<table>``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

from answer.lead import row_fields, split_row
from ingest.pipeline import CARD_MARK
from ingest.tables import ROW_MARK
from ingest.types import Document

META_FIELDS = ("文号", "发文机关", "成文日期", "印发日期", "文种", "主送", "抄送", "所答建议", "联系人")
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')

DOC_PAGE_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0;
background:#f6f8fa;color:#1f2328}
.page{max-width:1180px;margin:0 auto;padding:16px;display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:16px}
main{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 22px;min-width:0}
aside{align-self:start;position:sticky;top:12px;background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:12px 14px;font-size:.9rem}
aside h2{font-size:1rem;margin:0 0 8px}dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 10px;margin:0}
dt{color:#57606a}dd{margin:0;word-break:break-all}.download{display:inline-flex;align-items:center;gap:6px;
margin-top:12px;padding:6px 12px;border-radius:6px;background:#1f6feb;color:#fff;text-decoration:none}
h1{font-size:1.3rem;line-height:1.5;margin:4px 0 12px}.text{white-space:pre-wrap;line-height:1.9;word-break:break-word}
mark{background:#ffe066;padding:2px 0;scroll-margin-top:30vh;box-shadow:0 0 0 2px #ffe066}
.cited-note{font-size:.9rem;color:#57606a;margin:0 0 8px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:.92rem;white-space:normal;display:block;overflow-x:auto}
caption{text-align:left;font-weight:600;padding:4px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}
th{background:#f6f8fa;text-align:left;font-weight:600}tr.cited td,tr.cited th{background:#fff3a3}dd.cited{background:#fff3a3}
@media (max-width:760px){.page{grid-template-columns:1fr;padding:6px}aside{position:static;order:-1}main{padding:12px}}
"""
DOWNLOAD_ICON = ('<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" fill="currentColor">'
                 '<path d="M8 1v9.2l3.1-3.1 1.1 1.1L8 13.4 3.8 8.2l1.1-1.1L8 10.2V1zM2 14h12v1.5H2z"/></svg>')


def body_start(document: Document) -> int:
    """Where the document's own text starts (after the generated filing card line).

    Example:
        >>> body_start(Document("a", "a", "T", "【文件信息】标题：T。\\n\\n正文", "0"))
        13
    """
    if not document.text.startswith(CARD_MARK):
        return 0
    at = document.text.find("\n")
    if at < 0:
        return len(document.text)
    while at < len(document.text) and document.text[at] == "\n":
        at += 1
    return at


def download_name(document: Document) -> str:
    """The name the original file is downloaded under: its title (unsafe characters removed) and its suffix.

    Example:
        >>> download_name(Document("000_3bf9.txt", "p", "关于印发《规划》的通知", "", "0"))
        '关于印发《规划》的通知.txt'
    """
    stem = _UNSAFE_NAME.sub("_", document.title or "").strip(" ._")[:80]
    return f"{stem}{Path(document.doc_id).suffix}" if stem else Path(document.doc_id).name


def original_file(corpus_dir: str | Path, documents, doc_id: str) -> Path | None:
    """The corpus file an indexed document was read from, or ``None`` (unknown id, outside the corpus, gone)."""
    if doc_id not in documents:
        return None
    corpus = Path(corpus_dir).resolve()
    path = (corpus / doc_id).resolve()
    if corpus not in path.parents or not path.is_file():
        return None
    return path


def _overlap(a: int, b: int, span: tuple[int, int] | None) -> bool:
    return bool(span) and a < span[1] and span[0] < b


def _text_html(text: str, offset: int, span: tuple[int, int] | None, state: dict) -> str:
    """Escape a run of plain text starting at ``offset``, the part inside ``span`` in a mark."""
    if not _overlap(offset, offset + len(text), span):
        return html.escape(text)
    start, end = max(span[0], offset) - offset, min(span[1], offset + len(text)) - offset
    mark_id = "" if state.get("marked") else ' id="cited"'
    state["marked"] = True
    return (html.escape(text[:start]) + f'<mark{mark_id}>{html.escape(text[start:end])}</mark>'
            + html.escape(text[end:]))


def _table_html(rows: list[tuple[str, int]], span: tuple[int, int] | None, state: dict) -> str:
    """A run of row lines (with their offsets) as one table: caption (unless the text just said
    it), then label and field columns."""
    caption = split_row(rows[0][0])[0]
    said = state.get("last_line", "").strip() == caption
    parsed = [(split_row(line)[1], row_fields(split_row(line)[2]), offset, len(line)) for line, offset in rows]
    headers = list(dict.fromkeys(h for _, fields, _, _ in parsed for h, _ in fields if h))
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
    body = []
    for label, fields, offset, length in parsed:
        values = dict(fields)
        extra = "；".join(v for h, v in fields if not h)
        cited = _overlap(offset, offset + length, span)
        attrs = ""
        if cited:
            attrs = ' class="cited"' + ("" if state.get("marked") else ' id="cited"')
            state["marked"] = True
        cells = "".join(f"<td>{html.escape(values.get(h, ''))}</td>" for h in headers)
        label_cell = html.escape(label) + (f"<br><small>{html.escape(extra)}</small>" if extra else "")
        body.append(f"<tr{attrs}><th>{label_cell}</th>{cells}</tr>")
    titled = "" if said else f"<caption>{html.escape(caption)}</caption>"
    return f'<table>{titled}{head}{"".join(body)}</table>'


def body_html(document: Document, span: tuple[int, int] | None = None) -> str:
    """The document's own text as HTML: plain runs escaped (the part in ``span`` marked), each run
    of table row lines as a table (the cited row highlighted).

    Example:
        >>> d = Document("a", "a", "T", "前言<b>。\\n表1｜数量（家）：2020年 4家；2025年 8家\\n后文", "0")
        >>> page = body_html(d, (0, 2))
        >>> '<mark id="cited">前言</mark>&lt;b&gt;' in page, "<td>8家</td>" in page
        (True, True)
    """
    text = document.text
    at = body_start(document)
    out, state = [], {}
    rows: list[tuple[str, int]] = []
    plain_start = at
    for line in text[at:].split("\n"):
        is_row = ROW_MARK in line and "：" in line
        if is_row and rows and split_row(line)[0] != split_row(rows[0][0])[0]:
            out.append(_table_html(rows, span, state))
            rows = []
        if is_row:
            if not rows and plain_start < at:
                out.append(_text_html(text[plain_start:at], plain_start, span, state))
            rows.append((line, at))
            plain_start = at + len(line) + 1
        elif rows and line.strip():
            out.append(_table_html(rows, span, state))
            rows = []
            plain_start = at
        if line.strip() and not is_row:
            state["last_line"] = line  # a table's caption line just before it is not repeated
        at += len(line) + 1
    if rows:
        out.append(_table_html(rows, span, state))
    elif plain_start < len(text):
        out.append(_text_html(text[plain_start:], plain_start, span, state))
    return "".join(out)


def meta_panel_html(document: Document, span: tuple[int, int] | None, download_href: str) -> str:
    """The filing fields beside the text (the one a citation of the card points at highlighted),
    with the download link."""
    meta = document.meta or {}
    cited = ' class="cited"' if _overlap(0, body_start(document), span) else ""
    rows = "".join(
        f"<dt>{html.escape(k)}</dt><dd{cited}>{html.escape(str(meta[k]))}</dd>" for k in META_FIELDS if meta.get(k)
    )
    rows += f"<dt>文件</dt><dd>{html.escape(Path(document.doc_id).name)}</dd>"
    return (f'<aside><h2>文件信息</h2><dl>{rows}</dl>'
            f'<a class="download" href="{html.escape(download_href)}" download>{DOWNLOAD_ICON}下载原文件</a></aside>')


def document_page_html(document: Document, start: int | None = None, end: int | None = None) -> str:
    """The full-document view: the cited span in ``<mark id="cited">`` (or its table row), scrolled to.

    Example:
        >>> page = document_page_html(Document("a.txt", "a.txt", "T", "前<b>引文</b>后", "0"), 4, 6)
        >>> '<mark id="cited">引文</mark>' in page and "&lt;b&gt;" in page and "file/a.txt" in page
        True
    """
    span = None
    if start is not None and end is not None:
        start, end = max(0, start), min(len(document.text), end)
        span = (start, end) if start < end else None
    up = "../" * (document.doc_id.count("/") + 1)
    panel = meta_panel_html(document, span, up + "file/" + quote(document.doc_id, safe="/"))
    body = body_html(document, span)
    note, script = "", ""
    if span:
        note = '<p class="cited-note">黄色标出的是回答引用的句子。</p>'
        # Scrolled to at once, and again when fonts and layout have settled.
        script = ("<script>function toCited(){var m=document.getElementById('cited');"
                  "if(m){m.scrollIntoView({block:'center'});}}toCited();"
                  "window.addEventListener('load',toCited);</script>")
    title = html.escape(document.title or document.doc_id)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{DOC_PAGE_CSS}</style></head><body><div class=\"page\"><main>"
        f"<h1>{title}</h1>{note}<div class=\"text\">{body}</div></main>{panel}</div>{script}</body></html>"
    )
