r"""Enumerations written as headings: "下一步从四个方面…" answered by the four ``一、…四、`` headings.

Policy documents often give a list not in one sentence but as sibling headings: the four
directions of a reply (``一、`` … ``四、``), the two new industries of a plan (``1. 激光电子``,
``2. 医疗健康`` under ``（三）推动两大新兴产业创新发展``). For a list question, such a group of
headings can answer better than any single sentence; each item is cited to its own passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

from answer.extractive import LIST_CAP, Unit, asked_count, coverage, enumeration_size, title_coverage
from answer.scoring import ScorerWeights, bigram_coverage, char_bigrams
from answer.sentences import is_row_line
from answer.question import QuestionProfile
from index.types import Hit
from ingest.structure import Heading, find_headings, law_part, without_mark
from ingest.tables import ROW_MARK
from ingest.types import Chunk, Document

MAX_ITEMS = 10
MAX_LABEL_CHARS = 30
MAX_ROW_LABEL_CHARS = 80
INTRO_UNITS = 3
INTRO_GAP = 20
_ANNOUNCES_LIST = re.compile(r"以下|如下|[两二三四五六七八九十几]个?方面|[：:]\s*$")
_BARE_MARK = re.compile(r"^附件\s*\d{0,2}\s*[：:]?")
SEARCHED_HITS = 5
MARK_WORD_BONUS = 0.2  # the question names the items' own kind: "后附了哪几个附件", "有哪些专栏"
_MARK_WORDS = ("附件", "专栏")
MIN_OWN_COVERAGE = 0.1  # share of the question the headings themselves must cover (not their document)


@dataclass(frozen=True)
class Enumeration:
    """Sibling headings of one document that together answer a list question."""

    doc_id: str
    parent: str  # the heading the items sit under ('' for top-level items)
    items: tuple[Heading, ...]
    labels: tuple[str, ...]  # what each item is called in the answer
    score: float
    start: int  # where the first item begins in the document text
    end: int  # where the last item's section ends


def heading_groups(headings: Sequence[Heading]) -> list[tuple[Heading | None, list[Heading]]]:
    r"""Group headings under their parent: the direct children of each heading (and of the
    document itself), one group for each kind of child heading.

    Example:
        >>> hs = find_headings("（三）两大新兴产业\n1. 激光电子\n正文\n2. 医疗健康\n专栏3：方向\n")
        >>> [(p.title if p else None, [h.title for h in items]) for p, items in heading_groups(hs)]
        [(None, ['（三）两大新兴产业']), ('（三）两大新兴产业', ['1. 激光电子', '2. 医疗健康']), ('（三）两大新兴产业', ['专栏3：方向'])]
    """
    children: dict[int, list[Heading]] = {}
    parents: dict[int, Heading | None] = {-1: None}
    stack: list[tuple[int, Heading]] = []
    for position, heading in enumerate(headings):
        while stack and stack[-1][1].level >= heading.level:
            stack.pop()
        parent_position = stack[-1][0] if stack else -1
        children.setdefault(parent_position, []).append(heading)
        parents[position] = heading
        stack.append((position, heading))
    groups = []
    for parent_position, items in children.items():
        for kind in dict.fromkeys(map(_kind, items)):
            groups.append((parents[parent_position], [h for h in items if _kind(h) == kind]))
    return groups


def _kind(heading: Heading) -> tuple[int, bool]:
    """Headings of one list share a level and a form (``附件N`` are not ``一、`` items)."""
    return heading.level, heading.title.startswith("附件")


def ancestor_titles(headings: Sequence[Heading], heading: Heading) -> str:
    r"""The titles of the headings above ``heading``, outermost first.

    Example:
        >>> hs = find_headings("三、重点领域\n（三）两大新兴产业\n1. 激光电子\n")
        >>> ancestor_titles(hs, hs[2])
        '三、重点领域 （三）两大新兴产业'
    """
    stack: list[Heading] = []
    for candidate in headings:
        if candidate.offset >= heading.offset:
            break
        while stack and stack[-1].level >= candidate.level:
            stack.pop()
        stack.append(candidate)
    while stack and stack[-1].level >= heading.level:
        stack.pop()
    return " ".join(h.title for h in stack)


def item_label(text: str, heading: Heading) -> str:
    r"""What to show for an item: its title, or for a bare ``附件1`` also the line that names it.

    Example:
        >>> t = "附件1\n\n重点指标任务分解表\n指标\t2022年"
        >>> item_label(t, find_headings(t)[0])
        '附件1 重点指标任务分解表'
        >>> t = "专栏1 主要指标｜年均每百万人口因自然灾害死亡率：预期值 <1；属性 预期性"
        >>> item_label(t, find_headings(t)[0])
        '年均每百万人口因自然灾害死亡率：预期值 <1；属性 预期性'
    """
    line_end = text.find("\n", heading.offset)
    line = text[heading.offset:line_end if line_end >= 0 else len(text)].strip()
    if is_row_line(line):  # a table row: its label and fields, not a title cut short
        return line.split(ROW_MARK, 1)[1][:MAX_ROW_LABEL_CHARS]
    if len(_BARE_MARK.sub("", line)) > 1:
        return heading.title
    following = next((l.strip() for l in text[line_end:].split("\n") if l.strip()), "") if line_end >= 0 else ""
    return f"{heading.title} {following[:MAX_LABEL_CHARS]}".strip()


@lru_cache(maxsize=64)
def document_headings(text: str) -> tuple[Heading, ...]:
    """The headings of a document text (cached: the same documents are asked about again and again)."""
    return tuple(find_headings(text))


def _searched_headings(hit: Hit, headings: Sequence[Heading]) -> set[int]:
    """Offsets of the headings a hit sits under or contains."""
    chunk = hit.chunk
    inside = {h.offset for h in headings if chunk.start <= h.offset < chunk.end}
    titles = set(chunk.heading_path.split(" > ")) if chunk.heading_path else set()
    return inside | {h.offset for h in headings if h.title in titles and h.offset < chunk.end}


def best_enumeration(
    hits: Sequence[Hit],
    documents: Mapping[str, Document],
    profile: QuestionProfile,
    weights: Mapping[str, float],
    scorer: ScorerWeights,
) -> Enumeration | None:
    """The heading group that best answers a list question among the top hits' documents.

    A group counts only if it holds at least two items and touches a searched passage (the
    passage sits under its parent or one of its items); it scores by how much of the question
    its parent and item titles cover (the document title counts half), with the same bonuses a
    listing sentence gets (``scorer``'s weights, the listing as a unit of full novelty).
    """
    if not profile.wants_list or profile.meta_fields:
        return None
    wanted = asked_count(profile.count_phrase)
    question_bigrams = char_bigrams(profile.text)
    best_hit = max((h.score for h in hits), default=0.0) or 1.0
    best: Enumeration | None = None
    seen: set[tuple[str, int]] = set()
    for hit in hits[:SEARCHED_HITS]:
        document = documents.get(hit.chunk.doc_id)
        if document is None:
            continue
        headings = document_headings(document.text)
        touched = _searched_headings(hit, headings)
        for parent, items in heading_groups(headings):
            key = (document.doc_id, items[0].offset)
            if key in seen or not 2 <= len(items) <= MAX_ITEMS or (wanted and len(items) != wanted):
                continue
            if parent and parent.offset not in touched and not any(h.offset in touched for h in items):
                continue
            seen.add(key)
            parent_title = parent.title if parent else ""
            labels = tuple(item_label(document.text, h) for h in items)
            named = any(items[0].title.startswith(word) and word in profile.search_text for word in _MARK_WORDS)
            division = law_part(items[0].title)
            if division and division[0] not in profile.text:
                continue  # a law's 编/章/节/条 are its outline: a list answer only when the question asks for them
            own = coverage(" ".join(map(without_mark, [parent_title, *labels])), "", weights)
            if own < MIN_OWN_COVERAGE and not named:
                continue  # headings that share nothing with the question: the document's outline, not the list asked for
            context = f"{document.title} {ancestor_titles(headings, items[0])}"
            listing = " ".join([parent_title, *labels])
            score = scorer.score({
                "coverage": coverage(listing, context, weights), "novelty": 1.0,
                "bigram_coverage": bigram_coverage(listing, question_bigrams),
                "title_coverage": title_coverage(listing, document.title.lower(), weights),
                "rank_prior": 1.0 / hit.rank, "retrieval_score": hit.score / best_hit,
                "list_items": float(min(len(items), wanted or LIST_CAP)), "count_phrase": float(bool(wanted)),
            })
            if named:
                score += MARK_WORD_BONUS
            if best is None or score > best.score:
                end = next((h.offset for h in headings if h.offset > items[-1].offset and h.level <= items[-1].level), len(document.text))
                best = Enumeration(document.doc_id, parent_title, tuple(items), labels, score, items[0].offset, end)
    return best


def best_listing_score(units: Sequence[Unit]) -> float:
    """The score of the best unit that lists something itself (0 when none does): the rival of a
    heading enumeration, since a sentence that lists nothing cannot answer a list question. A sentence
    inside one of the enumeration's items competes too: when a document's outline is its top-level
    sections, the sentence in section 三 that names the departments asked for answers "哪几个部门",
    the section titles do not.

    Example:
        >>> text = "请甲部、乙部、丙部在年底前完成。加强督查。"
        >>> hit = Hit(Chunk("c", "d", text, 0, len(text)), 1.0, 1, "bm25")
        >>> best_listing_score([Unit(hit, 16, 21, 1.4, 0.3), Unit(hit, 0, 16, 1.2, 0.8)])
        1.2
    """
    return max((u.score for u in units if enumeration_size(u.text) >= 2), default=0.0)


def introduced_by(units: Sequence[Unit], enumeration: Enumeration, top: int = INTRO_UNITS) -> bool:
    """Whether one of the best units announces the enumeration: it ends right where the first
    item begins ("下一步，我局将从以下四个方面…。" then ``一、`` … ``四、``)."""
    return any(
        u.hit.chunk.doc_id == enumeration.doc_id
        and 0 <= enumeration.start - u.doc_end <= INTRO_GAP
        and _ANNOUNCES_LIST.search(u.text)
        for u in units[:top]
    )


def answers_with(units: Sequence[Unit], enumeration: Enumeration | None) -> bool:
    """Whether a list question is better answered by the heading enumeration than by a sentence."""
    if enumeration is None:
        return False
    return introduced_by(units, enumeration) or enumeration.score >= best_listing_score(units)


def item_chunk(chunks: Sequence[Chunk], heading: Heading) -> Chunk | None:
    """The passage that holds a heading (chunks of one document, in order)."""
    return next((c for c in chunks if c.start <= heading.offset < c.end), None)

