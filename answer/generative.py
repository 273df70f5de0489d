"""Generative answers: the extractive answer's passages, an LLM's reply, the citation check, and
the fall-back to the extractive answer.

The extractive :class:`~answer.types.Answer` comes first (it is instant and always available);
:func:`generate_answer` turns its top hits into numbered passages, asks the configured
OpenAI-compatible server, verifies the reply sentence by sentence (:mod:`answer.verify`) and
returns either the generated answer, its unsupported sentences marked or removed, or the
extractive answer with a short notice saying why. It never raises an :class:`~answer.llm.LLMError`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

from answer import llm
from answer.types import Answer, Citation, LLMOutcome
from answer.verify import (
    SentenceCheck,
    Verification,
    find_markers,
    mark_unsupported,
    normalize_figures,
    remove_unsupported as drop_unsupported,
    renumber_citations,
    verify_answer,
)
from index.types import Hit
from ingest.types import Document
from settings import Settings

log = logging.getLogger(__name__)

PASSAGE_COUNT = 5
NOTICE_UNAVAILABLE = "（大模型服务不可用，已给出原文摘录答案）"
NOTICE_TIMEOUT = "（大模型服务响应超时，已给出原文摘录答案）"
NOTICE_RATE_LIMITED = "（大模型服务繁忙，已给出原文摘录答案）"
NOTICE_BAD_RESPONSE = "（大模型返回内容无法使用，已给出原文摘录答案）"
NOTICE_UNVERIFIED = "（大模型回答未通过引用核验，已改用原文摘录）"
NOTICE_NOT_FOUND = "（大模型未在资料中找到答案，以下为原文摘录）"
NOTICE_MARKED = "（标有⚠️的句子未在所引资料中找到依据，请核对原文）"
NOTICE_REMOVED = "（已删去{count}句未在所引资料中找到依据的内容）"
_LEADING_MARKER = re.compile(r"^\s*[\[［【]\s*\d")
_MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、\-–~]\s*\d+)*)\s*[\]］】]")
_NON_WORD = re.compile(r"[\W_]+")
NOT_AN_ANSWER = "照抄了所给资料的列表，不是回答"
COPY_MATCH = 0.8
_NOT_FOUND_REPLY = re.compile(r"资料中未找到|未找到相关|没有找到|not found in|no information|does not (?:contain|mention)", re.I)


@dataclass(frozen=True)
class Generation:
    """One verified generation.

    Attributes:
        raw: the model's reply as received.
        passages: the numbered passages it was given (``passages[i].n == i + 1``).
        verification: the verdict on each sentence of ``raw``.
        text: the text to show: unsupported sentences marked or removed, markers renumbered.
        citations: the passages ``text`` cites, renumbered 1..m in order of first citation.
        removed: how many sentences were removed.
    """

    raw: str
    passages: tuple[Citation, ...]
    verification: Verification
    text: str
    citations: tuple[Citation, ...]
    removed: int = 0

    @property
    def says_not_found(self) -> bool:
        """Whether the model said the passages do not answer the question (and claimed nothing)."""
        return self.verification.supported_count == 0 and bool(_NOT_FOUND_REPLY.search(self.raw))


def _covering_hit(citation: Citation, hits: Sequence[Hit]) -> Hit | None:
    for hit in hits:
        chunk = hit.chunk
        if chunk.doc_id == citation.doc_id and chunk.start <= citation.start and citation.end <= chunk.end:
            return hit
    return None


def passages_for(extractive: Answer, documents: Mapping[str, Document], limit: int = PASSAGE_COUNT) -> tuple[Citation, ...]:
    """The numbered passages to give the model: the top ``limit`` hits (whole chunks), plus any
    chunk the extractive answer cited that is not among them."""
    chosen: dict[str, Hit] = {}
    for hit in extractive.hits:
        if len(chosen) >= limit:
            break
        chosen.setdefault(hit.chunk.chunk_id, hit)
    for citation in extractive.citations:
        hit = _covering_hit(citation, extractive.hits)
        if hit is not None:
            chosen.setdefault(hit.chunk.chunk_id, hit)
    passages = []
    for n, hit in enumerate(chosen.values(), start=1):
        chunk = hit.chunk
        document = documents.get(chunk.doc_id)
        passages.append(
            Citation(
                n=n,
                doc_id=chunk.doc_id,
                title=document.title if document else chunk.doc_id,
                heading_path=chunk.heading_path,
                quote=chunk.text,
                start=chunk.start,
                end=chunk.end,
                doc_number=document.meta.get("文号", "") if document else "",
            )
        )
    return tuple(passages)


def passage_evidence(passage: Citation) -> str:
    """What a citation of ``passage`` vouches for: its title, 文号, section path and text.

    Example:
        >>> passage_evidence(Citation(1, "a", "规划", "一、目标", "达到30家。", 0, 6, "温政发〔2021〕5号"))
        '规划 温政发〔2021〕5号 一、目标\\n达到30家。'
    """
    header = " ".join(part for part in (passage.title, passage.doc_number, passage.heading_path) if part)
    return f"{header}\n{passage.quote}"


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text} - {""}


def copies_the_passage_list(sentence: str, passages: Sequence[Citation]) -> bool:
    """Whether ``sentence`` copies the prompt's passage list instead of answering: it opens with a
    marker, as the list does ("[2] 《标题》 …"; an answer puts markers after its claims), and
    every piece after a marker is (nearly) a verbatim piece of a passage's header or text: at
    least ``COPY_MATCH`` of its character pairs are in one passage (any passage: a small model
    numbers its copies at random, and drops a word here and there).

    Example:
        >>> ps = (Citation(1, "a", "温州规划", "一、目标", "到2025年，达到30家。", 0, 6, "温政发〔2021〕5号"),)
        >>> copies_the_passage_list("[1] 《温州规划》（温政发〔2021〕5号） 一、目标", ps)
        True
        >>> copies_the_passage_list("[1] 2025年，达到30", ps), copies_the_passage_list("温州规划提出达到30家[1]。", ps)
        (True, False)
        >>> copies_the_passage_list("[1] 《温州规划》（温政发〔2021〕） 目标", ps)
        True
        >>> copies_the_passage_list("[1] 显示，温州要达到30家。", ps)
        False
    """
    if not _LEADING_MARKER.match(sentence):
        return False
    evidence = [_pairs(_NON_WORD.sub("", normalize_figures(passage_evidence(p)))) for p in passages]
    pieces = _MARKER.split(sentence)  # text, numbers, text, numbers, text ...
    copied = False
    for text in pieces[2::2]:
        said = _pairs(_NON_WORD.sub("", normalize_figures(text)))
        if not said:
            continue
        if not any(len(said & source) >= COPY_MATCH * len(said) for source in evidence):
            return False
        copied = True
    return copied and not _NON_WORD.sub("", pieces[0])


def _flag_echoes(verification: Verification, passages: Sequence[Citation]) -> Verification:
    """``verification`` with copies of the passage list flagged: a small model often lists the
    passages (titles, table cells) instead of answering, and a copy is "in" the passage it cites."""
    checks: list[SentenceCheck] = [
        dataclasses.replace(c, supported=False, reason=NOT_AN_ANSWER) if c.supported and copies_the_passage_list(c.text, passages) else c
        for c in verification.sentences
    ]
    return Verification(tuple(checks))


def verify_generation(raw: str, passages: Sequence[Citation], remove_unsupported: bool = False) -> Generation:
    """Verify a reply against its passages and build the text and citations to show (pure).

    Example:
        >>> ps = (Citation(1, "a", "温州", "", "科技型中小企业达到16000家。", 0, 9),
        ...       Citation(2, "b", "温岭", "", "科技型中小企业数达1800家。", 0, 9))
        >>> g = verify_generation("温岭达到1800家[2]。温州达到18000家[1]。", ps)
        >>> g.text, [c.doc_id for c in g.citations], g.verification.supported_count
        ('温岭达到1800家[1]。温州达到18000家[2]。⚠️(未在引用中找到依据)', ['b', 'a'], 1)
    """
    verification = _flag_echoes(verify_answer(raw, {p.n: passage_evidence(p) for p in passages}), passages)
    shown = drop_unsupported(raw, verification) if remove_unsupported else mark_unsupported(raw, verification)
    by_number = {p.n: p for p in passages}
    order = list(dict.fromkeys(n for n in find_markers(shown) if n in by_number))
    numbers = {old: new for new, old in enumerate(order, start=1)}
    citations = tuple(dataclasses.replace(by_number[old], n=new) for old, new in numbers.items())
    removed = len(verification.unsupported) if remove_unsupported else 0
    return Generation(raw, tuple(passages), verification, renumber_citations(shown, numbers), citations, removed)


def _question_for_model(extractive: Answer) -> str:
    return extractive.searched_question or extractive.question


def answer_messages(extractive: Answer, passages: Sequence[Citation], history: Sequence[str] = ()) -> list[dict[str, str]]:
    """The chat messages for the extractive answer's question; earlier questions are mentioned
    only when the question was not already rewritten into a stand-alone one."""
    question = _question_for_model(extractive)
    messages = llm.build_answer_messages(question, passages)
    earlier = [h.strip() for h in history if h and h.strip()]
    if earlier and question == extractive.question:
        messages[-1]["content"] = "之前的问题：" + "；".join(earlier[-3:]) + "\n" + messages[-1]["content"]
    return messages


def _with_notice(answer: Answer, notice: str, started: float) -> Answer:
    combined = " ".join(part for part in (answer.notice, notice) if part)
    return dataclasses.replace(answer, notice=combined, latency_ms=answer.latency_ms + (time.perf_counter() - started) * 1000)


def _failure_notice(error: llm.LLMError) -> str:
    if isinstance(error, llm.LLMTimeoutError):
        return NOTICE_TIMEOUT
    if isinstance(error, llm.LLMRateLimitedError):
        return NOTICE_RATE_LIMITED
    if isinstance(error, llm.LLMBadResponseError):
        return NOTICE_BAD_RESPONSE
    return NOTICE_UNAVAILABLE


def _outcome_of_error(error: llm.LLMError) -> LLMOutcome:
    if isinstance(error, llm.LLMTimeoutError):
        return LLMOutcome("timeout")
    if isinstance(error, llm.LLMRateLimitedError):
        return LLMOutcome("rate_limited")
    if isinstance(error, llm.LLMBadResponseError):
        return LLMOutcome("bad_response")
    return LLMOutcome("unavailable")


def outcome_of(generation: Generation) -> LLMOutcome:
    """What the citation check did to a generation, as counts (``result`` as in :class:`LLMOutcome`).

    Example:
        >>> ps = (Citation(1, "a", "温州", "", "科技型中小企业达到16000家。", 0, 9),)
        >>> outcome_of(verify_generation("温州达到16000家[1]。温岭达到1800家[3]。", ps))
        LLMOutcome(result='generated', sentences=2, unsupported=1, removed=0, bad_citations=1)
        >>> outcome_of(verify_generation("温州达到16000家[1]。温岭达到1800家[3]。鹿城达到900家[4]。", ps)).result
        'unverified'
    """
    verification = generation.verification
    if verification.supported_count == 0:
        result = "not_found" if generation.says_not_found else "unverified"
    elif len(verification.unsupported) > verification.supported_count:
        result = "unverified"  # mostly unsupported: a few checked lines do not vouch for the rest
    else:
        result = "generated"
    valid = {p.n for p in generation.passages}
    return LLMOutcome(
        result=result,
        sentences=len(verification.sentences),
        unsupported=len(verification.unsupported),
        removed=generation.removed,
        bad_citations=sum(1 for n in find_markers(generation.raw) if n not in valid),
    )


def answer_from_generation(extractive: Answer, generation: Generation, started: float) -> Answer:
    """The answer to show for a verified generation: the generated one, or the extractive one
    with a notice when no sentence is supported, or fewer are supported than not."""
    outcome = outcome_of(generation)
    if outcome.fell_back:
        if generation.says_not_found:
            notice = "" if extractive.abstained else NOTICE_NOT_FOUND
        else:
            notice = NOTICE_UNVERIFIED
        return dataclasses.replace(_with_notice(extractive, notice, started), llm=outcome)
    if generation.removed:
        notice = NOTICE_REMOVED.format(count=generation.removed)
    elif generation.verification.unsupported:
        notice = NOTICE_MARKED
    else:
        notice = ""
    return Answer(
        question=extractive.question,
        text=generation.text,
        citations=generation.citations,
        hits=extractive.hits,
        abstained=False,
        latency_ms=extractive.latency_ms + (time.perf_counter() - started) * 1000,
        searched_question=extractive.searched_question,
        notice=" ".join(part for part in (extractive.notice, notice) if part),
        llm=outcome,
    )


def _options(settings: Settings, remove_unsupported: bool | None, max_tokens: int | None) -> tuple[bool, int]:
    remove = settings.llm_remove_unsupported if remove_unsupported is None else remove_unsupported
    return remove, settings.llm_max_tokens if max_tokens is None else max_tokens


def generate_answer(
    settings: Settings,
    extractive: Answer,
    documents: Mapping[str, Document],
    history: Sequence[str] = (),
    remove_unsupported: bool | None = None,
    answer_abstained: bool = False,
    max_tokens: int | None = None,
) -> Answer:
    """The generative answer to the extractive answer's question, or the extractive one with a notice.

    Args:
        settings: ``llm_*`` settings; with no ``llm_base_url`` the extractive answer is returned.
        extractive: what :meth:`Answerer.ask` returned (its hits are the passages).
        documents: documents by id (for titles and 文号).
        history: earlier questions of the conversation.
        remove_unsupported: drop unsupported sentences instead of marking them (default:
            ``settings.llm_remove_unsupported``).
        answer_abstained: ask the model even when the extractive answer abstained (off: the
            extractive checks for missing years, places and figures are kept as a gate).
        max_tokens: the longest reply asked for (default: ``settings.llm_max_tokens``).
    """
    started = time.perf_counter()
    if not llm.llm_enabled(settings) or (extractive.abstained and not answer_abstained) or not extractive.hits:
        return extractive
    remove, max_tokens = _options(settings, remove_unsupported, max_tokens)
    passages = passages_for(extractive, documents)
    try:
        raw = llm.complete(settings, answer_messages(extractive, passages, history), max_tokens)
    except llm.LLMError as error:
        log.warning("LLM answer failed, using the extractive answer: %s", error)
        return dataclasses.replace(_with_notice(extractive, _failure_notice(error), started), llm=_outcome_of_error(error))
    return answer_from_generation(extractive, verify_generation(raw, passages, remove), started)


def stream_generative_answer(
    settings: Settings,
    extractive: Answer,
    documents: Mapping[str, Document],
    history: Sequence[str] = (),
    remove_unsupported: bool | None = None,
    answer_abstained: bool = False,
    max_tokens: int | None = None,
) -> Iterator[str | Answer]:
    """Like :func:`generate_answer`, streamed: yields the reply so far (a ``str``, growing) while
    it arrives, then exactly one final, verified :class:`Answer` (always the last item).

    The partial text is unverified and numbered as the passages were; show it as a draft and
    replace it with the final answer's text and citations.
    """
    started = time.perf_counter()
    if not llm.llm_enabled(settings) or (extractive.abstained and not answer_abstained) or not extractive.hits:
        yield extractive
        return
    remove, max_tokens = _options(settings, remove_unsupported, max_tokens)
    passages = passages_for(extractive, documents)
    so_far = ""
    try:
        for piece in llm.stream(settings, answer_messages(extractive, passages, history), max_tokens):
            so_far += piece
            yield so_far
    except llm.LLMError as error:
        log.warning("LLM answer failed while streaming, using the extractive answer: %s", error)
        yield dataclasses.replace(_with_notice(extractive, _failure_notice(error), started), llm=_outcome_of_error(error))
        return
    yield answer_from_generation(extractive, verify_generation(so_far.strip(), passages, remove), started)
