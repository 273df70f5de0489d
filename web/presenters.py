"""Turning answers and documents into JSON and escaped HTML (pure functions, no web framework).

Every piece of document or user text that reaches HTML goes through :func:`html.escape` here.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote

from answer.types import Answer, Citation
from ingest.types import Chunk, Document

QUOTE_SHOWN_CHARS = 160
DRAFT_NOTICE = "（正在生成：引用核对后显示最终回答和出处）"
EXAMPLE_QUESTIONS = (
    "到2025年温州高能级创新平台累计要达到多少家？",
    "2022年温州国家高新区在全国排第几位？",
    "温科提复〔2023〕94号答复的是哪位政协委员的提案？",
    "温州高新技术企业数量的2020年基数和2025年目标分别是多少？",
)


def doc_path(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The document view's path (relative to the app root) for a document and a cited span.

    Example:
        >>> doc_path("a b.txt", 3, 9)
        'doc/a%20b.txt?start=3&end=9#cited'
        >>> doc_path("002.txt")
        'doc/002.txt'
    """
    path = "doc/" + quote(doc_id, safe="/")
    if start is None or end is None:
        return path
    return f"{path}?start={int(start)}&end={int(end)}#cited"


def shorten(text: str, limit: int = QUOTE_SHOWN_CHARS) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters with an ellipsis.

    Example:
        >>> shorten("一二三\\n四五六", 4)
        '一二三 …'
        >>> shorten("短句", 10)
        '短句'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + " …"


def citation_json(citation: Citation, base_url: str) -> dict[str, Any]:
    """A citation as the JSON API returns it; ``url`` is ``base_url`` + the document view path.

    Example:
        >>> c = Citation(1, "a.txt", "规划", "一、目标", "达到30家", 5, 10, "温科〔2023〕1号")
        >>> citation_json(c, "http://h/")["url"]
        'http://h/doc/a.txt?start=5&end=10#cited'
    """
    return {
        "n": citation.n,
        "doc_id": citation.doc_id,
        "title": citation.title,
        "doc_number": citation.doc_number,
        "heading_path": citation.heading_path,
        "quote": citation.quote,
        "start": citation.start,
        "end": citation.end,
        "url": base_url + doc_path(citation.doc_id, citation.start, citation.end),
    }


def answer_json(answer: Answer, base_url: str) -> dict[str, Any]:
    """The JSON body of ``POST /api/ask`` for ``answer``."""
    return {
        "question": answer.question,
        "searched_question": answer.searched_question or answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "notice": answer.notice,
        "citations": [citation_json(c, base_url) for c in answer.citations],
        "related": [citation_json(c, base_url) for c in answer.related],
        "latency_ms": round(answer.latency_ms, 1),
    }


def chunk_counts(chunks: Sequence[Chunk]) -> dict[str, int]:
    """Number of chunks per document id.

    Example:
        >>> chunk_counts([Chunk("a#0", "a", "x", 0, 1), Chunk("a#1", "a", "y", 1, 2)])
        {'a': 2}
    """
    counts: dict[str, int] = {}
    for chunk in chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    return counts


def document_json(document: Document, chunks: int, base_url: str) -> dict[str, Any]:
    """One row of ``GET /api/documents``."""
    meta = document.meta or {}
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "doc_number": meta.get("文号", ""),
        "issuer": meta.get("发文机关", ""),
        "date": meta.get("成文日期", ""),
        "kind": meta.get("文种", ""),
        "chunks": chunks,
        "url": base_url + doc_path(document.doc_id),
    }


def document_label(document: Document) -> str:
    """How a document is named in a filter list: title, then 文号 when known.

    Example:
        >>> document_label(Document("a.txt", "a.txt", "温州规划", "", "0", {"文号": "温科〔2023〕1号"}))
        '温州规划（温科〔2023〕1号）'
    """
    number = (document.meta or {}).get("文号", "")
    title = document.title or document.doc_id
    return f"{title}（{number}）" if number else title


def inline_html(text: str) -> str:
    """Escape ``text`` for HTML on one line (line breaks become ``<br>``, so Markdown never sees a blank line).

    Example:
        >>> inline_html("a<b>\\n\\nc")
        'a&lt;b&gt;<br><br>c'
    """
    return html.escape(text).replace("\r", "").replace("\n", "<br>")


def _source_item_html(citation: Citation, root_path: str) -> str:
    href = html.escape(f"{root_path}/{doc_path(citation.doc_id, citation.start, citation.end)}")
    parts = [
        f'<a class="qa-source" href="{href}" target="_blank" rel="noopener">'
        f"[{citation.n}] {inline_html(citation.title or citation.doc_id)}</a>"
    ]
    if citation.doc_number:
        parts.append(f' <span class="qa-docno">{inline_html(citation.doc_number)}</span>')
    if citation.heading_path:
        parts.append(f'<br><small class="qa-heading">{inline_html(citation.heading_path)}</small>')
    parts.append(f'<blockquote class="qa-quote">{html.escape(shorten(citation.quote))}</blockquote>')
    return "<li>" + "".join(parts) + "</li>"


def sources_html(citations: Sequence[Citation], heading: str, root_path: str = "") -> str:
    """A numbered list of sources (one HTML block, no blank lines) for the chat page."""
    if not citations:
        return ""
    items = "".join(_source_item_html(c, root_path) for c in citations)
    return f'<div class="qa-sources"><b>{html.escape(heading)}</b><ol class="qa-source-list">{items}</ol></div>'


def answer_html(answer: Answer, root_path: str = "", text: str | None = None) -> str:
    """The assistant message of the chat page: searched question, answer, sources.

    Args:
        text: show this (a streamed prefix of the answer) instead of the full text, without sources.
    """
    parts = []
    if answer.searched_question and answer.searched_question != answer.question:
        parts.append(f'<div class="qa-searched">检索问题：{inline_html(answer.searched_question)}</div>')
    shown = answer.text if text is None else text
    parts.append(f'<div class="qa-answer">{inline_html(shown)}</div>')
    if answer.notice:
        parts.append(f'<div class="qa-notice">{inline_html(answer.notice)}</div>')
    if text is None:
        if answer.abstained:
            parts.append(sources_html(answer.related, "可能相关的段落", root_path))
        else:
            parts.append(sources_html(answer.citations, "来源", root_path))
    return "".join(parts)


def draft_html(basis: Answer, text: str, root_path: str = "") -> str:
    """The assistant message while an LLM's reply streams in: the searched question, the reply so
    far (escaped, unverified) and a notice that the checked answer follows."""
    return answer_html(dataclasses.replace(basis, notice=DRAFT_NOTICE), root_path, text=text)


def stream_events(items: Iterable[Any], base_url: str) -> Iterator[dict[str, Any]]:
    """The events of ``POST /api/ask/stream`` for the items of ``AnswerService.ask_stream``.

    Drafts (objects with ``text`` and ``basis``) give one ``start`` event (question and searched
    question) and then ``delta`` events (text added to the reply; ``draft`` replaces it, should
    a draft not continue the last one); the final :class:`Answer`
    gives the ``answer`` event, the body ``POST /api/ask`` returns, and ends the stream. Without
    an LLM the ``answer`` event is the only one.

    Example:
        >>> from types import SimpleNamespace as Draft
        >>> a = Answer("问", "甲[1]", (), (), False, 1.0, "问")
        >>> [e["type"] for e in stream_events([Draft(text="甲", basis=a), Draft(text="甲[1]", basis=a), a], "http://h/")]
        ['start', 'delta', 'delta', 'answer']
        >>> [e.get("text") for e in stream_events([Draft(text="甲", basis=a), Draft(text="甲[1]", basis=a)], "")][1:]
        ['甲', '[1]']
    """
    shown: str | None = None
    for item in items:
        if isinstance(item, Answer):
            yield {"type": "answer", "answer": answer_json(item, base_url)}
            return
        if shown is None:
            shown = ""
            basis = item.basis
            yield {"type": "start", "question": basis.question, "searched_question": basis.searched_question or basis.question}
        if not item.text.startswith(shown):  # not a continuation: replace the whole draft
            yield {"type": "draft", "text": item.text}
        elif len(item.text) > len(shown):
            yield {"type": "delta", "text": item.text[len(shown):]}
        shown = item.text


def stream_prefixes(text: str, pieces: int = 8) -> list[str]:
    """Growing prefixes of ``text`` for a streamed display, the last one being ``text``.

    Example:
        >>> stream_prefixes("一二三四", 2)
        ['一二', '一二三四']
    """
    if not text:
        return [""]
    step = max(1, -(-len(text) // pieces))
    return [text[: i + step] for i in range(0, len(text), step)]


def _span(document: Document, start: int | None, end: int | None) -> tuple[int, int] | None:
    if start is None or end is None:
        return None
    start, end = max(0, start), min(len(document.text), end)
    return (start, end) if start < end else None


DOC_PAGE_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0;
background:#f6f8fa;color:#1f2328}
main{max-width:860px;margin:0 auto;padding:16px;background:#fff;min-height:100vh;box-sizing:border-box}
h1{font-size:1.3rem;line-height:1.5}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;
font-size:.9rem;color:#57606a}dd{margin:0}.text{white-space:pre-wrap;line-height:1.8;word-break:break-word}
mark{background:#fff3a3;padding:2px 0;scroll-margin-top:30vh}.cited-note{font-size:.9rem;color:#57606a}
"""


def document_page_html(document: Document, start: int | None = None, end: int | None = None) -> str:
    """The full-document view: escaped text, the cited span in ``<mark id="cited">``, scrolled to.

    Example:
        >>> page = document_page_html(Document("a.txt", "a.txt", "T", "前<b>引文</b>后", "0"), 4, 6)
        >>> '<mark id="cited">引文</mark>' in page and "&lt;b&gt;" in page
        True
    """
    meta = document.meta or {}
    rows = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(meta[k]))}</dd>"
        for k in ("文号", "发文机关", "成文日期", "文种")
        if meta.get(k)
    )
    rows += f"<dt>文件</dt><dd>{html.escape(document.doc_id)}</dd>"
    span = _span(document, start, end)
    text = document.text
    if span:
        body = (
            html.escape(text[: span[0]])
            + f'<mark id="cited">{html.escape(text[span[0]:span[1]])}</mark>'
            + html.escape(text[span[1]:])
        )
        note = '<p class="cited-note">黄色标出的是被引用的段落。</p>'
        script = "<script>var m=document.getElementById('cited');if(m){m.scrollIntoView({block:'center'});}</script>"
    else:
        body, note, script = html.escape(text), "", ""
    title = html.escape(document.title or document.doc_id)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{DOC_PAGE_CSS}</style></head><body><main>"
        f"<h1>{title}</h1><dl>{rows}</dl>{note}<div class=\"text\">{body}</div></main>{script}</body></html>"
    )


def library_rows(documents: Mapping[str, Document], counts: Mapping[str, int]) -> list[list[Any]]:
    """Rows of the document library table: file, title, 文号, 成文日期, chunk count."""
    return [
        [
            d.doc_id,
            d.title,
            (d.meta or {}).get("文号", ""),
            (d.meta or {}).get("成文日期", ""),
            counts.get(d.doc_id, 0),
        ]
        for d in sorted(documents.values(), key=lambda d: d.doc_id)
    ]
