"""Data types and errors of answering."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Hit


class AnswerError(ValueError):
    """A question cannot be answered as asked; the message says what to change."""


class EmptyQuestionError(AnswerError):
    """The question is empty or only whitespace and punctuation."""


class QuestionTooLongError(AnswerError):
    """The question is longer than the configured limit."""


@dataclass(frozen=True)
class Citation:
    """A numbered source: which document, which section, the quoted passage and its span.

    ``start``/``end`` index into the document's cleaned text, ``quote`` is that span.
    """

    n: int
    doc_id: str
    title: str
    heading_path: str
    quote: str
    start: int
    end: int
    doc_number: str = ""  # 文号, where known


@dataclass(frozen=True)
class LLMOutcome:
    """What the LLM step did for one answer (``Answer.llm``; ``None`` when no LLM was asked).

    Attributes:
        result: ``"generated"`` (the model's verified answer is shown), or why the extractive
            answer is shown instead: ``"unverified"`` (no supported sentence, or more unsupported than supported), ``"not_found"``
            (the model found nothing), ``"timeout"``, ``"rate_limited"``, ``"bad_response"``,
            ``"unavailable"``.
        sentences: sentences in the model's reply.
        unsupported: of them, flagged by the citation check (marked, or removed).
        removed: of them, removed (``llm_remove_unsupported``).
        bad_citations: ``[n]`` markers in the reply that point at no given passage.
    """

    result: str
    sentences: int = 0
    unsupported: int = 0
    removed: int = 0
    bad_citations: int = 0

    @property
    def fell_back(self) -> bool:
        """Whether the extractive answer is shown instead of the model's."""
        return self.result != "generated"


@dataclass(frozen=True)
class Answer:
    """What the user is shown: text with ``[n]`` markers, the citations, and why.

    ``searched_question`` is the stand-alone question actually searched (differs from
    ``question`` for follow-ups). ``related`` are the closest passages shown when abstaining.
    ``llm`` says what the LLM step did, when one was asked.
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    latency_ms: float
    searched_question: str = ""
    notice: str = ""
    related: tuple[Citation, ...] = field(default=())
    llm: LLMOutcome | None = None
