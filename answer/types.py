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
class Answer:
    """What the user is shown: text with ``[n]`` markers, the citations, and why.

    ``searched_question`` is the stand-alone question actually searched (differs from
    ``question`` for follow-ups). ``related`` are the closest passages shown when abstaining.
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
