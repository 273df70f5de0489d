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
class ScoringTrace:
    """Why the answer's best unit was chosen: its score and the features that made it.

    ``contributions`` are ``(feature, weight × value)`` pairs, largest first (zeros left out);
    ``confidence`` is the answerability model's probability that the unit answers (None without a model).
    """

    unit: str
    score: float
    contributions: tuple[tuple[str, float], ...]
    confidence: float | None = None

    def as_json(self) -> dict:
        """The trace as JSON-ready data (API debug output, eval results rows).

        Example:
            >>> ScoringTrace("达到30家", 1.2, (("coverage", 0.9), ("figure_wanted", 0.12)), 0.8).as_json()["contributions"]
            {'coverage': 0.9, 'figure_wanted': 0.12}
        """
        return {"unit": self.unit, "score": round(self.score, 4),
                "contributions": {name: round(value, 4) for name, value in self.contributions},
                "confidence": None if self.confidence is None else round(self.confidence, 4)}


@dataclass(frozen=True)
class Answer:
    """What the user is shown: text with ``[n]`` markers, the citations, and why.

    ``searched_question`` is the stand-alone question actually searched (differs from
    ``question`` for follow-ups). ``related`` are the closest passages shown when abstaining.
    ``llm`` says what the LLM step did, when one was asked; ``scoring`` which features chose the best unit.
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
    scoring: ScoringTrace | None = None
