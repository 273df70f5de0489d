"""Turning answers and documents into JSON and escaped HTML (pure functions, no web framework).

Every piece of document or user text that reaches HTML goes through :func:`html.escape` here.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote

from answer.cited import CitedSentence, cited_sentences
from answer.lead import Lead, answer_pieces, lead_sentence
from answer.types import Answer, Citation
from ingest.types import Chunk, Document
from web.catalog import library_rows  # noqa: F401 - the library table, shown by app.py
from web.docview import document_page_html  # noqa: F401 - the document view, served by web.routes

QUOTE_SHOWN_CHARS = 160
CONTEXT_CHARS = 40  # of the passage shown before a cited sentence the lead already states
SENTENCE_SHOWN_CHARS = 200  # a cited sentence longer than this is cut around its highlight
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


def sentence_json(sentence: CitedSentence, doc_id: str, base_url: str) -> dict[str, Any]:
    """The cited sentence of a citation as the JSON API returns it (``marks``: offsets in ``text`` to highlight).

    Example:
        >>> sentence_json(CitedSentence(5, 9, "达到30", ((2, 4),)), "a.txt", "http://h/")["url"]
        'http://h/doc/a.txt?start=5&end=9#cited'
    """
    return {"text": sentence.text, "start": sentence.start, "end": sentence.end,
            "marks": [list(m) for m in sentence.marks], "url": base_url + doc_path(doc_id, sentence.start, sentence.end)}


def supporting_pieces(answer: Answer) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's quoted pieces after the lead's, as read (no row or card marks), with their citation numbers."""
    if answer.abstained:
        return []
    return [(p.plain, p.refs) for p in answer_pieces(answer.text)[1:]]


def display_text(answer: Answer, lead: Lead | None = None) -> str:
    """What a person reads, as plain text: the lead (figures in ``**bold**``) and the supporting pieces, with ``[n]``.

    Example:
        >>> display_text(Answer("多少家？", "表1｜数量#（家）：2025年 30家[1] 另有平台4家。[2]", (), (), False, 1.0))
        '数量 — 2025年：**30家**[1]\\n另有平台4家。[2]'
    """
    lead = lead or lead_sentence(answer)
    lines = [lead.markdown() + "".join(f"[{n}]" for n in lead.refs)]
    lines += [text + "".join(f"[{n}]" for n in refs) for text, refs in supporting_pieces(answer)]
    return "\n".join(lines)


def answer_json(answer: Answer, base_url: str) -> dict[str, Any]:
    """The JSON body of ``POST /api/ask`` for ``answer``.

    ``answer`` is the answer text with ``[n]`` markers (as quoted); ``lead`` is the sentence to show
    first (``lead_segments``: its runs, bold or not), ``display`` the readable text (lead and
    supporting pieces); each citation's ``sentence`` is the sentence it is cited for.
    """
    lead = lead_sentence(answer)
    sentences = cited_sentences(answer, answer.citations + answer.related)

    def with_sentence(citation: Citation) -> dict[str, Any]:
        return {**citation_json(citation, base_url),
                "sentence": sentence_json(sentences[citation.n], citation.doc_id, base_url)}

    return {
        "question": answer.question,
        "searched_question": answer.searched_question or answer.question,
        "answer": answer.text,
        "lead": lead.text,
        "lead_segments": [{"text": text, "strong": bold} for text, bold in lead.segments()],
        "lead_refs": list(lead.refs),
        "supporting": [{"text": text, "refs": list(refs)} for text, refs in supporting_pieces(answer)],
        "display": display_text(answer, lead),
        "abstained": answer.abstained,
        "notice": answer.notice,
        "citations": [with_sentence(c) for c in answer.citations],
        "related": [with_sentence(c) for c in answer.related],
        "latency_ms": round(answer.latency_ms, 1),
        "scoring": answer.scoring.as_json() if answer.scoring else None,
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


def readable_error(message: str) -> str:
    """An error message as staff read it: the Chinese sentence, without the English gloss in brackets.

    Example:
        >>> readable_error("问题过长（600 字，上限 500 字）：请缩短后再问。(The question has 600 characters.)")
        '问题过长（600 字，上限 500 字）：请缩短后再问。'
    """
    chinese = re.sub(r"\s*\([A-Za-z][^()]*\)\s*$", "", message.strip())
    return chinese or message


def notice_html(text: str) -> str:
    """A short notice in the chat (an error said plainly, a filter that matched nothing).

    Example:
        >>> notice_html("没有<文件>")
        '<div class="qa-notice">没有&lt;文件&gt;</div>'
    """
    return f'<div class="qa-notice">{inline_html(text)}</div>'


def marked_html(text: str, marks: Sequence[tuple[int, int]], tag: str = "mark") -> str:
    """Escape ``text`` on one line with the spans ``marks`` wrapped in ``<tag>``.

    Example:
        >>> marked_html("达到<30家>", [(3, 6)])
        '达到&lt;<mark>30家</mark>&gt;'
    """
    out, at = [], 0
    for start, end in sorted(marks):
        if start < at:
            continue
        out += [inline_html(text[at:start]), f"<{tag}>{inline_html(text[start:end])}</{tag}>"]
        at = end
    return "".join(out) + inline_html(text[at:])


def _refs_html(refs: Sequence[int]) -> str:
    return "".join(f'<sup class="qa-ref">[{n}]</sup>' for n in refs)


_NOT_WORDS = re.compile(r"[\W_]+")


def same_words(a: str, b: str) -> bool:
    """Whether two texts say the same words (punctuation and spacing aside).

    Example:
        >>> same_words("达到30家。", "达到 30家"), same_words("达到30家", "到2025年达到30家")
        (True, False)
    """
    return _NOT_WORDS.sub("", a) == _NOT_WORDS.sub("", b)


def _context_before(citation: Citation, sentence: CitedSentence) -> str:
    """Up to :data:`CONTEXT_CHARS` of the passage before the cited sentence (from its line)."""
    at = sentence.start - citation.start
    if at <= 0 or at > len(citation.quote):
        return ""
    before = citation.quote[:at]
    before = before[before.rfind("\n") + 1:]
    return ("…" + before[-CONTEXT_CHARS:]) if len(before) > CONTEXT_CHARS else before


def _source_item_html(citation: Citation, sentence: CitedSentence, root_path: str, lead_text: str = "") -> str:
    href = html.escape(f"{root_path}/{doc_path(citation.doc_id, sentence.start, sentence.end)}")
    parts = [
        f'<a class="qa-source" href="{href}" target="_blank" rel="noopener">'
        f"[{citation.n}] {inline_html(citation.title or citation.doc_id)}</a>"
    ]
    if citation.doc_number:
        parts.append(f' <span class="qa-docno">{inline_html(citation.doc_number)}</span>')
    if citation.heading_path:
        parts.append(f'<br><small class="qa-heading">{inline_html(citation.heading_path)}</small>')
    text = sentence.text
    marks = list(sentence.marks)
    if len(text) > SENTENCE_SHOWN_CHARS:  # keep the highlighted part in view
        first = marks[0][0] if marks else 0
        cut = max(0, min(first - 40, len(text) - SENTENCE_SHOWN_CHARS))
        text = ("…" if cut else "") + text[cut:cut + SENTENCE_SHOWN_CHARS] + "…"
        shift = cut - (1 if cut else 0)
        marks = [(s - shift, e - shift) for s, e in marks if s >= cut and e <= cut + SENTENCE_SHOWN_CHARS]
    context = ""
    if lead_text and same_words(lead_text, sentence.text):  # the lead already says it: show where it stands
        before = _context_before(citation, sentence)
        context = f'<span class="qa-context">{inline_html(before)}</span>' if before else ""
        marks = marks or [(0, len(text))]
    parts.append(f'<blockquote class="qa-quote">{context}{marked_html(text, marks)}</blockquote>')
    return "<li>" + "".join(parts) + "</li>"


def sources_html(citations: Sequence[Citation], heading: str, root_path: str = "",
                 sentences: Mapping[int, CitedSentence] | None = None, lead_text: str = "") -> str:
    """A numbered list of sources (one HTML block, no blank lines) for the chat page: each links to
    the document view at its cited sentence and shows that sentence with the answer's figure marked."""
    if not citations:
        return ""
    sentences = sentences or {}
    items = "".join(
        _source_item_html(c, sentences.get(c.n) or CitedSentence(c.start, c.end, shorten(c.quote)), root_path, lead_text)
        for c in citations
    )
    return f'<div class="qa-sources"><b>{html.escape(heading)}</b><ol class="qa-source-list">{items}</ol></div>'


def lead_html(lead: Lead) -> str:
    """The lead sentence, figures in ``<strong>``, then its ``[n]`` references.

    Example:
        >>> lead_html(Lead("达到30家。", ((2, 5),), (1,)))
        '<div class="qa-lead">达到<strong>30家</strong>。<sup class="qa-ref">[1]</sup></div>'
    """
    return f'<div class="qa-lead">{marked_html(lead.text, lead.strong, "strong")}{_refs_html(lead.refs)}</div>'


def answer_html(answer: Answer, root_path: str = "", text: str | None = None) -> str:
    """The assistant message of the chat page: searched question, the lead sentence, the supporting
    pieces (each with its ``[n]``), then the sources with their cited sentences.

    Args:
        text: show this (a streamed prefix of the answer) instead of the full answer, without sources.
    """
    parts = []
    if answer.searched_question and answer.searched_question != answer.question:
        parts.append(f'<div class="qa-searched">检索问题：{inline_html(answer.searched_question)}</div>')
    lead = lead_sentence(answer)
    if text is not None:
        parts.append(f'<div class="qa-lead qa-draft">{inline_html(text)}</div>')
    else:
        parts.append(lead_html(lead))
        support = supporting_pieces(answer)
        if support:
            items = "".join(f"<li>{inline_html(t)}{_refs_html(r)}</li>" for t, r in support)
            parts.append(f'<ul class="qa-answer">{items}</ul>')
    if answer.notice:
        parts.append(f'<div class="qa-notice">{inline_html(answer.notice)}</div>')
    if text is None:
        shown = answer.related if answer.abstained else answer.citations
        sentences = cited_sentences(answer, shown)
        heading = "可能相关的段落" if answer.abstained else "来源"
        parts.append(sources_html(shown, heading, root_path, sentences, "" if answer.abstained else lead.text))
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
