"""The one public way to answer a question; the UI, the API and the evaluation all call it."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Collection, Sequence

from answer.answerability import (
    answerability_features, empty_asked_cell, empty_year_cell, load_answerability, missing_named_document,
    missing_numbered_document, missing_place_document, place_refusal, question_words, scoring_trace, states_new_figure, unconfident_refusal,
    unstated_fields,
)
from answer.corroboration import corroborating_sentence
from answer.extractive import (
    DATE, YEAR_IN_TEXT, TermWeights, Unit, has_figure, mentions_year, quotes_phrase, reporting_years, score_units, states_time,
    weigh_terms,
)
from answer.facets import QuestionPart, choose_units, interleave, parts_answered, place_queries, question_facets, split_subquestions
from answer.outline import Enumeration, answers_with, best_enumeration, item_chunk
from answer.quoting import card_field, quote_unit
from answer.sentences import is_row_line, row_head
from answer.followup import rewrite_followup
from answer.generative import generate_answer
from answer.llm import rewrite_followup_with_llm
from answer.neighbours import Neighbour, neighbouring_measure, other_row_subject
from answer.question import QuestionProfile, asks_itself, profile_question
from answer.scoring import ScorerWeights, load_weights
from answer.types import Answer, Citation, EmptyQuestionError, QuestionTooLongError
from index.search import Retriever
from index.steering import document_place, documents_named, names_as_subject
from index.types import Hit
from ingest.metadata import field_source
from ingest.tables import ROW_MARK
from ingest.pipeline import CARD_MARK
from ingest.types import Chunk, Document
from settings import Settings

ANSWER_HITS = 8
PARAGRAPH_LOOKBACK = 600
ENGLISH_DENSE_BOOST = 2.0
META_CARD_DOCS = 3
TAIL_FIELDS = frozenset({"成文日期", "印发日期", "抄送"})  # written in the signature and 版记 at a document's end
_RANK = re.compile(r"第\s*[\d一二三四五六七八九十]+|前\s*\d+\s*[%％名位]|\d+\s*[位名](?!数)")
RELATED_SHOWN = 3
RARE_PHRASE_CHUNKS = 6
PHRASE_COUNTS_KEPT = 10_000
ANSWER_LED = 2  # passages holding the best answer sentences that go first in the ranking (measured: 1–3)
# The level a question asks about (区级孵化器, 省级实验室): a unit that never names it is about another level.
_LEVEL = re.compile(r"国家级|部级|省级|市级|区级|县级")
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")


def validate_question(question: str, max_chars: int) -> str:
    """Return the stripped question, or raise if it is empty or too long.

    Example:
        >>> validate_question("  温州的目标？ ", 100)
        '温州的目标？'
    """
    stripped = (question or "").strip()
    if not _MEANINGFUL.search(stripped):
        raise EmptyQuestionError("问题为空：请输入一个关于政策文件的问题。(The question is empty.)")
    if len(stripped) > max_chars:
        raise QuestionTooLongError(
            f"问题过长（{len(stripped)} 字，上限 {max_chars} 字）：请缩短后再问。"
            f"(The question has {len(stripped)} characters; the limit is {max_chars}.)"
        )
    return stripped


def answer_led(hits: Sequence[Hit], leading: Sequence[Chunk]) -> list[Hit]:
    """The hits re-ranked so that the chunks ``leading`` (in order) come first, the rest in
    retrieval order; a leading chunk the search did not return is added (the answer cites it).

    Example:
        >>> from ingest.types import Chunk
        >>> chunks = [Chunk(f"d#{i}", "d", "…", 0, 1) for i in (1, 2, 3, 4)]
        >>> hits = [Hit(c, 1.0, i, "lexical") for i, c in enumerate(chunks[:3], start=1)]
        >>> [(h.chunk.chunk_id, h.rank, h.source) for h in answer_led(hits, [chunks[2], chunks[3]])]
        [('d#3', 1, 'lexical'), ('d#4', 2, 'cited'), ('d#1', 3, 'lexical'), ('d#2', 4, 'lexical')]
    """
    found = {h.chunk.chunk_id: h for h in hits}
    first = {c.chunk_id: found.get(c.chunk_id) or Hit(c, 0.0, 0, "cited") for c in leading}
    ordered = [*first.values(), *(h for h in hits if h.chunk.chunk_id not in first)]
    return [Hit(h.chunk, h.score, rank, h.source) for rank, h in enumerate(ordered, start=1)]


def best_passages(units: Sequence[Unit], lead: int = ANSWER_LED) -> list[Chunk]:
    """The first ``lead`` distinct chunks holding the best-scoring units (best first).

    The unit scorer reads each sentence against the question (coverage, figures, years, places), so
    its best passages are better first sources than the fused retrieval's.
    """
    return list({u.hit.chunk.chunk_id: u.hit.chunk for u in units}.values())[:lead]


_CLAUSE_END = re.compile(r"[；;。]")
TITLE_SUFFIX_CHARS = 12  # a web page's title line: the document's title, then "_政府信息公开专栏" or the like
TITLE_SEPARATORS = "_-|｜—– "


class Answerer:
    """Retrieves passages for a question and composes a short, cited answer (extractive)."""

    def __init__(self, retriever: Retriever, settings: Settings, scorer: ScorerWeights | None = None) -> None:
        self.retriever = retriever
        self.settings = settings
        self.scorer = scorer or load_weights(settings.scorer_weights or None)
        self.answerability = load_answerability(settings.answerability_model or None)
        self.documents = retriever.index.documents
        self._cards = {c.doc_id: c for c in retriever.index.chunks if c.start == 0}
        self._doc_chunks: dict[str, list[Chunk]] = {}
        self._phrase_counts: dict[str, int] = {}
        for chunk in sorted(retriever.index.chunks, key=lambda c: c.start):
            self._doc_chunks.setdefault(chunk.doc_id, []).append(chunk)

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        doc_ids: Collection[str] | None = None,
        mode: str = "hybrid",
        generate: bool = True,
    ) -> Answer:
        """Answer ``question`` (a follow-up of the earlier questions ``history``).

        With ``settings.llm_base_url`` set and ``generate`` true, the extractive answer is
        rewritten by the configured OpenAI-compatible LLM, its citations checked; any failure falls
        back to the extractive answer with a notice.

        Raises:
            EmptyQuestionError: nothing to ask.
            QuestionTooLongError: over ``settings.max_question_chars``.
        """
        started = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        searched, profile, part_texts, hits, terms, units = self.candidates(question, history, doc_ids, mode)
        parts = self._question_parts(hits, part_texts)
        facets = question_facets(profile, self.documents, self._unit_context, [part.scores for part in parts])
        chosen = choose_units(units, profile, facets, self.settings.max_answer_sentences, self.documents)
        confidence = (self.answerability.confidence(self.confidence_features(profile, terms, units))
                      if self.answerability else None)
        absent = self._missing_document(profile)
        reason = absent or self._abstain_reason(units, chosen, terms.missing, profile)
        # The model judges a question as asked: a follow-up's rewrite carries words of earlier questions.
        if not reason and searched == question and not profile.meta_fields and confidence is not None \
                and confidence < self.answerability.threshold:
            best_document = self.documents.get(units[0].hit.chunk.doc_id) if units else None
            reason = unconfident_refusal(profile.text, terms.weights, units, best_document.title if best_document else "")
        enumeration = best_enumeration(hits, self.documents, profile, terms.weights, self.scorer)
        leading = best_passages(units)
        if enumeration and not terms.missing and answers_with(units, enumeration) and not absent:
            text, citations = self._compose_enumeration(enumeration)
            reason, related = "", ()
            leading = self._cited_chunks(citations)
        elif reason:
            text, citations, related = reason, (), self._related(hits)
        else:
            text, citations = self._compose(chosen, terms.weights, profile, parts)
            related = ()
            leading = [*leading[:1], *self._cited_chunks(citations), *leading[1:]]
        if len(profile.places) < 2 and len(part_texts) < 2:  # a comparison keeps each side's share of the top
            hits = answer_led(hits, leading)
        extractive = Answer(
            question=question,
            text=text,
            citations=citations,
            hits=tuple(hits),
            abstained=bool(reason),
            latency_ms=(time.perf_counter() - started) * 1000,
            searched_question=searched,
            related=related,
            scoring=scoring_trace(self.scorer.weights, units, confidence),
        )
        if generate and self.settings.llm_base_url:
            return generate_answer(self.settings, extractive, self.documents, history)
        return extractive

    def candidates(
        self, question: str, history: Sequence[str] = (), doc_ids: Collection[str] | None = None, mode: str = "hybrid"
    ) -> tuple[str, QuestionProfile, list[str], list[Hit], TermWeights, list[Unit]]:
        """The searched question, its profile and parts, the hits, term weights and every candidate
        unit scored (best first): what an answer is chosen from (and what ``python -m eval tune`` fits on)."""
        # The LLM's stand-alone rewrite when one is configured; the rules when it fails or keeps the question.
        searched = rewrite_followup_with_llm(self.settings, question, history)
        if searched == question:
            searched = rewrite_followup(question, history)
        profile = profile_question(searched, question if searched != question and asks_itself(question) else None)
        profile = dataclasses.replace(profile, quoted=self._rare(profile.quoted))
        part_texts = split_subquestions(profile.text)  # not the English glossary appended to search_text
        hits = self._search(profile, part_texts, mode, doc_ids)
        lexical = self.retriever.index.lexical
        terms = weigh_terms(lexical.tokenizer.tokens(profile.search_text), lexical.idf, profile.english)
        hits = self._with_cards(hits, profile)
        units = score_units(hits[:ANSWER_HITS], self.documents, profile, terms.weights, self.scorer)
        return searched, profile, part_texts, hits, terms, units

    def _rare(self, phrases: Sequence[str]) -> tuple[str, ...]:
        """The quoted phrases few passages hold: a coined term (“2+2+2”) points at its definition,
        a common one (“十四五”) at nothing in particular."""
        counts = {}
        for phrase in phrases:
            count = self._phrase_counts.get(phrase)
            if count is None:  # one scan of the passages per phrase asked (kept for the next question)
                count = sum(phrase in c.text for c in self.retriever.index.chunks)
                if len(self._phrase_counts) >= PHRASE_COUNTS_KEPT:
                    self._phrase_counts.clear()
                self._phrase_counts[phrase] = count
            counts[phrase] = count
        return tuple(p for p in phrases if counts[p] <= RARE_PHRASE_CHUNKS)

    def _with_cards(self, hits: list[Hit], profile: QuestionProfile) -> list[Hit]:
        """For a question about filing fields (文号, 发文机关…), put the document cards of the
        documents found right after the best hit: the card is the passage that answers it. For a date
        or 抄送, the best document's last passage (signature and 版记, where the card read it) follows
        its card, moved up if it was found lower."""
        if not profile.asks_meta or not hits:
            return hits
        present = {h.chunk.chunk_id for h in hits}
        cards = [
            self._cards[doc_id]
            for doc_id in dict.fromkeys(h.chunk.doc_id for h in hits[:META_CARD_DOCS])
            if doc_id in self._cards and self._cards[doc_id].chunk_id not in present
        ]
        tail = self._doc_chunks.get(hits[0].chunk.doc_id, [])[-1:]
        if not TAIL_FIELDS.intersection(profile.meta_fields) or tail[0].chunk_id == hits[0].chunk.chunk_id:
            tail = []
        brought = [*cards[:1], *tail, *cards[1:]]
        moved = {c.chunk_id for c in brought}
        rest = [h for h in hits[1:] if h.chunk.chunk_id not in moved]
        merged = [hits[0], *(Hit(c, hits[0].score, 0, "signature" if c in tail else "card") for c in brought), *rest]
        return [Hit(h.chunk, h.score, rank, h.source) for rank, h in enumerate(merged, start=1)]

    def _search(
        self, profile: QuestionProfile, part_texts: Sequence[str], mode: str, doc_ids: Collection[str] | None
    ) -> list[Hit]:
        """Search the question; for a comparison of places, also each place on its own, and for a
        question asking two things (``part_texts``), each sub-question on its own (all embedded in one batch)."""
        queries = [profile.search_text]
        if len(profile.places) >= 2:
            queries += place_queries(profile.search_text, sorted(profile.places)).values()
        if len(part_texts) >= 2:
            queries += [profile_question(text).search_text for text in part_texts]
        boost = ENGLISH_DENSE_BOOST if profile.english else 1.0
        results = self.retriever.search_many(queries, k=self.settings.top_k, mode=mode, doc_ids=doc_ids, dense_boost=boost)
        if len(results) == 1:
            return results[0]
        return interleave([*results[1:], results[0]], self.settings.top_k)

    def _question_parts(self, hits: list[Hit], texts: Sequence[str]) -> list[QuestionPart]:
        """For a question asking two things (``texts``, from :func:`split_subquestions`), each part
        with its own profile and term weights, and each unit's score as an answer to that part
        alone; empty for a one-part question."""
        if len(texts) < 2:
            return []
        lexical = self.retriever.index.lexical
        parts = []
        for text in texts:
            part_profile = profile_question(text)
            weights = weigh_terms(lexical.tokenizer.tokens(part_profile.search_text), lexical.idf, part_profile.english).weights
            units = score_units(hits[:ANSWER_HITS], self.documents, part_profile, weights, self.scorer)
            parts.append(QuestionPart(part_profile, weights, {(u.hit.chunk.chunk_id, u.start): u.score for u in units}))
        return parts

    def _missing_document(self, profile: QuestionProfile) -> str:
        """The refusal when the question is about a document the library does not hold ('' otherwise):
        no passage, enumeration or unit can answer it then."""
        subject = profile.text.strip("？?。 ")
        absent = missing_named_document(profile.text, self.documents)
        if absent:
            return f"资料库中没有《{absent}》，无法回答“{subject}”。"
        unplaced = missing_place_document(profile.text, self.documents)
        if unplaced:
            return f"资料库中没有{unplaced}，无法回答“{subject}”。"
        unnumbered = missing_numbered_document(profile.text, self.documents)
        if unnumbered:
            return f"资料中没有提到{unnumbered}，无法回答“{subject}”。"
        return ""

    def _abstain_reason(self, units: list[Unit], chosen: list[Unit], missing: tuple[str, ...], profile: QuestionProfile) -> str:
        """Why the evidence does not support an answer ('' when it does), the library holding the
        documents asked about (:meth:`_missing_document`)."""
        subject = profile.text.strip("？?。 ")
        if missing:
            return f"资料中未找到与“{'、'.join(missing)}”有关的内容，无法回答“{subject}”。"
        # Below the score floor, or none of the question's terms in the units chosen: not about what was asked.
        if not units or units[0].score < self.scorer.abstain_threshold or not any(u.coverage for u in chosen):
            return f"资料中未找到能直接回答“{subject}”的内容。"
        contexts = [self._unit_context(u) for u in chosen]
        if profile.defined and not any(quotes_phrase(f"{c} {u.hit.chunk.text}".lower(), [profile.defined.lower()])
                                       for u, c in zip(chosen, contexts)):
            return f"资料中没有找到对“{profile.defined}”的定义或说明，无法回答“{subject}”。"  # 什么是X, and no passage names X
        years = sorted(profile.years)
        covered_years = [y for y in years if any(mentions_year(c, y) for c in contexts)]
        if years and (not covered_years or (len(years) == 1 and not covered_years)):
            return f"资料中未找到{'、'.join(years)}年的相关内容，无法回答“{subject}”。"
        stated = [sorted(set(YEAR_IN_TEXT.findall(u.text))) for u in chosen]
        if len(years) == 1 and profile.asks_amount and all(stated) and not any(
                mentions_year(self._unit_paragraph(u), years[0]) for u in chosen):  # 到2024年… for a 2023 figure
            return (f"文件中给出的是{'、'.join(y.strip() for y in stated[0])}的数字，没有给出{years[0]}年的，"
                    f"无法回答“{subject}”。")
        for unit in chosen:
            if not is_row_line(unit.text):
                continue
            label, year, cell = empty_year_cell(unit.subject, years)
            if label:
                return f"文件中没有给出{label}{year}年的数字（表中该栏为“{cell}”），无法回答“{subject}”。"
            label, column, cell = empty_asked_cell(unit.subject, profile.text)
            if label:
                return f"文件中没有给出{label}的{column}（表中该栏为“{cell}”），无法回答“{subject}”。"
        if not profile.meta_fields and all(self._is_title_line(u) for u in chosen):
            return f"资料中只找到了文件标题，没有能回答“{subject}”的内容。"
        if profile.asks_amount or all(is_row_line(u.text) for u in chosen):
            neighbours = [self._neighbour(profile.text, u, profile.asks_amount) for u in chosen]
            if all(neighbours):
                return (f"文件中只有“{neighbours[0].stated}”的内容，没有给出“{neighbours[0].asked}”，"
                        f"无法回答“{subject}”。")
        places = sorted(profile.places)
        covered_places = [p for p in places if any(names_as_subject(c, {p}) or self._unit_place(u) == p for u, c in zip(chosen, contexts))]
        if places and not covered_places:
            return place_refusal(places, subject, self.documents)
        levels = _LEVEL.findall(profile.text)
        if levels and not any(level in f"{c} {u.text}" for level in levels for u, c in zip(chosen, contexts)):
            return f"资料中找到的内容都不是关于“{'、'.join(dict.fromkeys(levels))}”的，无法回答“{subject}”。"
        fields = [f for f in profile.meta_fields if f != "标题"]
        named = [self.documents[d] for d in documents_named(profile.text, self.documents)] if fields else []
        if named and not any(d.meta.get(f) for d in named for f in fields):
            return f"资料中未找到《{named[0].title}》的{'、'.join(fields)}，无法回答“{subject}”。"
        texts = [u.text for u in chosen]
        unstated = unstated_fields(profile.meta_fields, [self.documents[u.hit.chunk.doc_id] for u in chosen
                                                         if u.hit.chunk.doc_id in self.documents])
        if unstated:
            return f"文件中没有给出{'、'.join(unstated)}，无法回答“{subject}”。"
        cards = [t for t in texts if t.startswith(CARD_MARK)]
        if profile.meta_fields and cards and len(cards) == len(texts):
            if not any(card_field(t, name) for t in cards for name in profile.meta_fields):
                return f"资料中未找到该文件的{'、'.join(profile.meta_fields)}，无法回答“{subject}”。"
        if profile.measure and not any(profile.measure.replace("亿元", "亿") in t for t in texts):
            return f"资料中未找到以“{profile.measure}”计的相关数字，无法回答“{subject}”。"
        if profile.wants_date and not any(DATE.search(t) if profile.wants_day else states_time(t) for t in texts):
            return f"资料中未找到“{subject}”所问的具体日期。"
        if profile.asks_rank and not any(_RANK.search(u.text) for u in chosen):
            return f"资料中未找到“{subject}”所问的排名。"
        if profile.asks_amount and not any(states_new_figure(u.text, profile.text) for u in chosen):
            return f"资料中未找到“{subject}”所问的具体数字。"
        return ""

    def confidence_features(self, profile: QuestionProfile, terms: TermWeights, units: Sequence[Unit]) -> dict[str, float]:
        """The answerability model's features for a question and its scored units."""
        lexical = self.retriever.index.lexical
        return answerability_features(profile, units, terms.weights, lexical.tokenizer.tokens(profile.text),
                                      lexical.idf, self.documents)

    def _is_title_line(self, unit: Unit) -> bool:
        """Whether ``unit`` is its document's title line (a web page's title may carry the site's name after it)."""
        document = self.documents.get(unit.hit.chunk.doc_id)
        text = unit.text.strip()
        if not (document and document.title and text.startswith(document.title)):
            return False
        rest = text[len(document.title):]
        return not rest or (rest[0] in TITLE_SEPARATORS and len(rest) <= TITLE_SUFFIX_CHARS)

    def _neighbour(self, question: str, unit: Unit, figure_asked: bool) -> Neighbour | None:
        """The neighbouring measure ``unit`` states in place of the one asked (answer/neighbours.py). When a
        figure is asked, a sentence is read in the clauses that state one (……可以设立一项省级科学技术奖 is
        about 省级, whatever an earlier clause names)."""
        document = self.documents.get(unit.hit.chunk.doc_id)
        context = f"{document.title if document else ''} {unit.hit.chunk.heading_path}"
        text = unit.subject
        if figure_asked and not is_row_line(unit.text):
            text = "；".join(c for c in _CLAUSE_END.split(text) if has_figure(c)) or text
        if is_row_line(unit.text):
            entity = other_row_subject(question, unit.subject, question_words())
            if entity:
                return entity
        return neighbouring_measure(question, text, context, question_words())

    def _unit_context(self, unit: Unit) -> str:
        """The unit with what scopes it: title, section, and its paragraph up to the unit."""
        document = self.documents.get(unit.hit.chunk.doc_id)
        if document is None:
            return unit.hit.chunk.text[: unit.end]
        return f"{document.title} {unit.hit.chunk.heading_path} {self._unit_paragraph(unit)}"

    def _unit_paragraph(self, unit: Unit) -> str:
        """The unit's paragraph up to the unit, with the years a reply speaks of without naming them."""
        document = self.documents.get(unit.hit.chunk.doc_id)
        if document is None:
            return unit.hit.chunk.text[: unit.end]
        start = max(document.text.rfind("\n\n", 0, unit.doc_start), unit.doc_start - PARAGRAPH_LOOKBACK, 0)
        paragraph = document.text[start:unit.doc_end]
        return f"{paragraph} {reporting_years(document, paragraph, unit.doc_start)}"

    def _unit_place(self, unit: Unit) -> str:
        document = self.documents.get(unit.hit.chunk.doc_id)
        return document_place(document) if document else ""

    def _citation(self, n: int, chunk: Chunk) -> Citation:
        """A citation of a whole chunk."""
        return self._span_citation(n, chunk.doc_id, chunk.start, chunk.end, chunk.heading_path)

    def _compose(
        self, chosen: list[Unit], weights, profile: QuestionProfile, parts: Sequence[QuestionPart] = ()
    ) -> tuple[str, tuple[Citation, ...]]:
        numbers: dict[str, int] = {}
        citations: list[Citation] = []
        pieces = []
        answering = parts_answered(chosen, parts)
        for unit in chosen:
            chunk_id = unit.hit.chunk.chunk_id
            if chunk_id not in numbers:
                numbers[chunk_id] = len(numbers) + 1
                citations.append(self._citation(numbers[chunk_id], unit.hit.chunk))
            marks = f"[{numbers[chunk_id]}]"
            for start, end in self._source_spans(unit, profile):
                key = f"{unit.hit.chunk.doc_id}@{start}"
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                    citations.append(self._span_citation(numbers[key], unit.hit.chunk.doc_id, start, end))
                marks += f"[{numbers[key]}]"
            own_parts = [(part.profile, part.weights) for part in answering.get((chunk_id, unit.start), [])]
            label = row_head(unit.hit.chunk.text, unit.start).split(ROW_MARK, 1)[-1]  # a cell names its row
            piece = f"{label}{quote_unit(unit.text, weights, profile, own_parts)}{marks}"
            if piece not in pieces:  # a title line and the document card can quote alike
                pieces.append(piece)
        return " ".join(pieces), tuple(citations)

    def _source_spans(self, unit: Unit, profile: QuestionProfile) -> list[tuple[int, int]]:
        """Where the document's own text says what a quoted card or table row says, so the answer
        can be checked there: for a card, each filing field asked (header, salutation, signature,
        版记); for a table row, the sentence stating its figure."""
        document = self.documents.get(unit.hit.chunk.doc_id)
        if document is None:
            return []
        body = document.text.find("\n") + 1 if document.text.startswith(CARD_MARK) else 0
        if unit.text.startswith(CARD_MARK):
            spans = [
                field_source(document.text, field, document.meta.get(field, ""), body)
                for field in profile.meta_fields
                if field != "标题"
            ]
        elif is_row_line(unit.text):
            spans = [corroborating_sentence(unit.text, document.text, profile.years, body)]
        else:
            return []
        return list(dict.fromkeys(span for span in spans if span))

    def _span_citation(self, n: int, doc_id: str, start: int, end: int, heading_path: str | None = None) -> Citation:
        """A citation of the document text ``start:end`` (which may run over two chunks); its section
        is the one of the chunk where it starts unless given."""
        document = self.documents.get(doc_id)
        if heading_path is None:
            chunk = next((c for c in self._doc_chunks.get(doc_id, []) if c.start <= start < c.end), None)
            heading_path = chunk.heading_path if chunk else ""
        return Citation(
            n=n,
            doc_id=doc_id,
            title=document.title if document else doc_id,
            heading_path=heading_path,
            quote=document.text[start:end] if document else "",
            start=start,
            end=end,
            doc_number=document.meta.get("文号", "") if document else "",
        )

    def _compose_enumeration(self, enumeration: Enumeration) -> tuple[str, tuple[Citation, ...]]:
        """The items of a heading enumeration, each cited to the passage that holds it."""
        numbers: dict[str, int] = {}
        citations: list[Citation] = []
        parts = []
        for heading, label in zip(enumeration.items, enumeration.labels):
            chunk = item_chunk(self._doc_chunks.get(enumeration.doc_id, []), heading)
            if chunk is None:
                parts.append(label)
                continue
            if chunk.chunk_id not in numbers:
                numbers[chunk.chunk_id] = len(numbers) + 1
                citations.append(self._citation(numbers[chunk.chunk_id], chunk))
            parts.append(f"{label}[{numbers[chunk.chunk_id]}]")
        lead = f"{enumeration.parent}：" if enumeration.parent else ""
        return lead + "；".join(parts), tuple(citations)

    def _cited_chunks(self, citations: Sequence[Citation]) -> list[Chunk]:
        """For each citation, the chunk holding most of its quote, in citation order."""
        chunks = []
        for c in citations:
            overlaps = [(min(ch.end, c.end) - max(ch.start, c.start), ch) for ch in self._doc_chunks.get(c.doc_id, [])]
            best = max(overlaps, key=lambda pair: pair[0], default=(0, None))
            if best[0] > 0:
                chunks.append(best[1])
        return chunks

    def _related(self, hits: Sequence[Hit]) -> tuple[Citation, ...]:
        return tuple(
            self._citation(i, hit.chunk) for i, hit in enumerate(hits[:RELATED_SHOWN], start=1)
        )
