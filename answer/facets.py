"""Questions that ask several things at once: two places, two years, two sub-questions.

Each facet gets its own best unit (and, for places, its own search), so "温州和温岭分别…"
is answered with one cited sentence for each side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from answer.extractive import COMPANION_RATIO, Unit, has_figure, is_about_places, mentions_year
from answer.question import QuestionProfile
from index.steering import document_place, place_names
from index.types import Hit
from ingest.pipeline import CARD_MARK
from ingest.types import Document

_SUBQUESTION_END = re.compile(r"[？?；;]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_SUBQUESTION_CJK = 4
FIGURE_SWITCH_RATIO = 0.8
PLACE_SWITCH_RATIO = 0.8
SOURCE_COMPANION_RATIO = 0.8  # the other source's best unit, for a question asking what each source says
_EACH_SOURCE = re.compile(r"[和与].{2,20}?(?:(?:各|分别)(?:是)?(?:怎么|如何|怎样)(?:规定|说|表述)|的(?:说法|规定|表述)有(?:什么|何)(?:不同|区别))")
CARD_COMPANION_RATIO = 0.8  # another document's card, for a filing field asked of several documents


@dataclass(frozen=True)
class Facet:
    """One thing a question asks about, and how well a unit answers it (None: not at all)."""

    name: str
    fit: Callable[[Unit], float | None]


@dataclass(frozen=True)
class QuestionPart:
    """One part of a question that asks two things: its own profile and term weights, and each
    unit's score (keyed by chunk id and start) as an answer to that part alone."""

    profile: QuestionProfile
    weights: Mapping[str, float]
    scores: Mapping[tuple[str, int], float]


def parts_answered(chosen: Sequence[Unit], parts: Sequence[QuestionPart]) -> dict[tuple[str, int], list[QuestionPart]]:
    """Which parts each chosen unit answers: every part goes to the chosen unit that scores best for it."""
    answered: dict[tuple[str, int], list[QuestionPart]] = {}
    for part in parts:
        scored = [(part.scores[key], key) for u in chosen if (key := (u.hit.chunk.chunk_id, u.start)) in part.scores]
        if scored:
            answered.setdefault(max(scored)[1], []).append(part)
    return answered


def split_subquestions(question: str) -> list[str]:
    """Split a question that asks two things (two ``？``-ended parts) into its parts.

    Example:
        >>> split_subquestions("2022年立项了多少个项目？2023年又计划实施多少个？")
        ['2022年立项了多少个项目？', '2023年又计划实施多少个？']
        >>> split_subquestions("温州的目标是多少？")
        ['温州的目标是多少？']
    """
    parts, start = [], 0
    for match in _SUBQUESTION_END.finditer(question):
        parts.append(question[start:match.end()])
        start = match.end()
    if question[start:].strip():
        parts.append(question[start:])
    parts = [p.strip() for p in parts if len(_CJK.findall(p)) >= MIN_SUBQUESTION_CJK or len(p.split()) >= 4]
    return parts if len(parts) >= 2 else [question]


def place_queries(question: str, places: Sequence[str]) -> dict[str, str]:
    """One query per place, with the other places' names taken out.

    Example:
        >>> place_queries("温州和温岭的目标分别是多少？", ["温州", "温岭"])
        {'温州': '温州和的目标分别是多少？', '温岭': '和温岭的目标分别是多少？'}
    """
    queries = {}
    for place in places:
        query = question
        for other in places:
            if other != place:
                for name in place_names(other):
                    query = re.sub(re.escape(name), "", query, flags=re.I)
        queries[place] = query
    return queries


def interleave(hit_lists: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    """Merge ranked hit lists round-robin, each chunk once, re-ranked from 1."""
    merged: list[Hit] = []
    seen: set[str] = set()
    for position in range(max((len(h) for h in hit_lists), default=0)):
        for hits in hit_lists:
            if position < len(hits) and hits[position].chunk.chunk_id not in seen:
                seen.add(hits[position].chunk.chunk_id)
                merged.append(hits[position])
    return [Hit(h.chunk, h.score, rank, h.source) for rank, h in enumerate(merged[:k], start=1)]


def question_facets(
    profile: QuestionProfile,
    documents: Mapping[str, Document],
    context: Callable[[Unit], str],
    part_scores: Sequence[Mapping[tuple[str, int], float]],
) -> list[Facet]:
    """The facets of a question: each place of a comparison, each year of a multi-year question,
    each sub-question (``part_scores``: each unit's score, keyed by chunk id and start, as an
    answer to that part alone)."""
    facets: list[Facet] = []
    if len(profile.places) >= 2:
        for place in sorted(profile.places):
            facets.append(Facet(place, lambda u, p=place: u.score if _unit_place(u, documents) == p or p in u.subject else None))
    if len(profile.years) >= 2:
        for year in sorted(profile.years):
            facets.append(Facet(year, lambda u, y=year: u.score if mentions_year(context(u), y) else None))
    if len(part_scores) >= 2:
        for i, scores in enumerate(part_scores):
            facets.append(Facet(f"part{i + 1}", lambda u, s=scores: s.get((u.hit.chunk.chunk_id, u.start))))
    return facets


def choose_units(
    units: Sequence[Unit], profile: QuestionProfile, facets: Sequence[Facet], limit: int, documents: Mapping[str, Document]
) -> list[Unit]:
    """Pick the answer units: the best for each facet (or the best overall when the question has
    no facets), and for list questions the close companions from the same chunk."""
    if not units:
        return []
    chosen: list[Unit] = []
    for facet in facets:
        fits = [(fit, -i) for i, unit in enumerate(units) if (fit := facet.fit(unit)) is not None]
        if fits and len(chosen) < limit:
            best = units[-max(fits)[1]]
            if best not in chosen:
                chosen.append(best)
    if not chosen:
        chosen = [best_unit(units, profile, documents)]
        if asks_each_source(profile.text) and len(profile.places) < 2:
            chosen += other_source(units, chosen[0])
    if profile.meta_fields and profile.is_comparison:  # "两份答复分别是多少号": each document's card
        cards = [u for u in units if u.text.startswith(CARD_MARK)]
        chosen += [c for c in cards[1:limit] if c.score >= CARD_COMPANION_RATIO * cards[0].score and c not in chosen]
    if profile.wants_list and len(chosen) == 1:
        best = units[0]
        for unit in units[1:]:
            if len(chosen) >= limit:
                break
            if unit.hit.chunk.chunk_id == best.hit.chunk.chunk_id and unit.score >= COMPANION_RATIO * best.score:
                chosen.append(unit)
        chosen.sort(key=lambda u: (u.hit.rank, u.start))
    return chosen


def asks_each_source(question: str) -> bool:
    """Whether a question asks what each of two sources says ("甲文和乙条例各怎么规定", "…的说法有什么不同").

    Example:
        >>> asks_each_source("经费怎么使用，127号文和科创条例各怎么规定？"), asks_each_source("甲文和乙条例的说法有什么不同？")
        (True, True)
        >>> asks_each_source("经费怎么使用？"), asks_each_source("一等奖和二等奖各授予了多少项？")
        (False, False)
    """
    return bool(_EACH_SOURCE.search(question))


def other_source(units: Sequence[Unit], chosen: Unit) -> list[Unit]:
    """The best unit of another document than ``chosen``'s, when it scores at least
    ``SOURCE_COMPANION_RATIO`` of it (none otherwise): the second source's own words.

    Example:
        >>> from ingest.types import Chunk
        >>> a, b = (Hit(Chunk(d, d, "横向经费按合同约定使用。", 0, 12), 1.0, 1, "bm25") for d in ("条例", "通知"))
        >>> units = [Unit(a, 0, 12, 1.3, 0.6), Unit(a, 0, 6, 1.2, 0.5), Unit(b, 0, 12, 1.1, 0.6)]
        >>> [u.hit.chunk.doc_id for u in other_source(units, units[0])], other_source(units[:2], units[0])
        (['通知'], [])
    """
    other = next((u for u in units if u.hit.chunk.doc_id != chosen.hit.chunk.doc_id), None)
    return [other] if other is not None and other.score >= SOURCE_COMPANION_RATIO * chosen.score else []


def best_unit(units: Sequence[Unit], profile: QuestionProfile, documents: Mapping[str, Document]) -> Unit:
    """The answer unit of a question without facets: the best unit, but preferring one about the place
    asked (when it scores at least ``PLACE_SWITCH_RATIO`` of the best), then one stating a figure
    when a figure is asked for (:func:`best_with_figure`)."""
    candidates = list(units)
    if profile.places:
        about = [
            u for u in units
            if is_about_places(u.subject, u.hit.chunk.text, u.end, _unit_place(u, documents), profile.places)
        ]
        if about and about[0].score >= PLACE_SWITCH_RATIO * units[0].score:
            candidates = about
    return best_with_figure(candidates) if profile.wants_number else candidates[0]


def best_with_figure(units: Sequence[Unit]) -> Unit:
    """For a question that wants a figure: the best unit, or when it states no figure, the best
    one that does, if it scores nearly as well (the passage that says '5万人' over the one that
    merely names the topic)."""
    best = units[0]
    if has_figure(best.text):
        return best
    return next((u for u in units if has_figure(u.text) and u.score >= FIGURE_SWITCH_RATIO * best.score), best)


def _unit_place(unit: Unit, documents: Mapping[str, Document]) -> str:
    document = documents.get(unit.hit.chunk.doc_id)
    return document_place(document) if document else ""
