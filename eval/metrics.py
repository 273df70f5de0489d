"""Evaluation metrics over result rows (pure functions, no I/O).

A *row* is one question's result as written to ``results.jsonl``::

    {"id": "q001", "question": "...", "answer": "... [1]", "abstained": false,
     "citations": [{"n": 1, "doc": "...", "title": "...", "text": "cited passage", ...}],
     "retrieved": [{"doc": "...", "text": "...", "score": 0.8}, ...],
     "latency_ms": 812.0, "type": "fact"}

Rows are joined to :class:`eval.qa.QACase` objects by ``id``. Retrieval is judged by where
the case's evidence quotes appear among the retrieved passages (matched with
:func:`eval.textmatch.contains_evidence`), answers by whether the expected strings occur in
the answer text, and unanswerable cases by whether the system abstained.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from eval.qa import QACase
from eval.textmatch import contains_evidence, normalize_for_match

TYPE_ORDER = ("fact", "table", "list", "paraphrase", "multi", "meta", "unanswerable")
"""Order in which per-type results are listed (unknown types follow, sorted)."""

HIT_KS: tuple[int, ...] = (1, 3, 5, 10)
FAILURE_TOP_K = 5

_CITATION_MARK = re.compile(r"\[\s*\d+(?:\s*[,，、\-–]\s*\d+)*\s*\]")
_THOUSANDS_COMMA = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
_DIGITS = frozenset("0123456789")
_DIGIT_GAP = re.compile(r"(?<=[0-9])[\s\u200b\ufeff]+(?=[0-9])")


def evidence_rank(case: QACase, retrieved_texts: Sequence[str]) -> int | None:
    """Return the 1-based rank at which the case's evidence is found among passages.

    For a case with ``answer_mode == "all"`` and several evidence quotes, the rank is the
    smallest ``r`` such that every quote occurs in some passage among the first ``r``.
    Otherwise it is the rank of the first passage containing any quote.

    Args:
        case: the evaluation case.
        retrieved_texts: passage texts, best first.

    Returns:
        The rank, or None when the evidence is not (fully) found or the case has none.

    Example:
        >>> c = QACase("q", "?", ("30",), "any", ("达到 30 家",), ("d",), "fact")
        >>> evidence_rank(c, ["无关", "累计达到30家。"])
        2
        >>> c2 = QACase("q", "?", ("a", "b"), "all", ("甲", "乙"), ("d",), "fact")
        >>> evidence_rank(c2, ["乙", "丙", "甲"])
        3
    """
    quotes = list(case.evidence)
    if not quotes:
        return None
    if case.answer_mode == "all" and len(quotes) > 1:
        unseen = set(range(len(quotes)))
        for rank, text in enumerate(retrieved_texts, start=1):
            unseen -= {i for i in unseen if contains_evidence(text, quotes[i])}
            if not unseen:
                return rank
        return None
    for rank, text in enumerate(retrieved_texts, start=1):
        if any(contains_evidence(text, q) for q in quotes):
            return rank
    return None


def hit_at_k(rank: int | None, k: int) -> bool:
    """Tell whether an evidence rank falls within the top ``k``.

    Example:
        >>> hit_at_k(3, 5), hit_at_k(6, 5), hit_at_k(None, 10)
        (True, False, False)
    """
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """Return ``1 / rank`` when the rank is within the top ``k``, else 0.

    Example:
        >>> reciprocal_rank(4), reciprocal_rank(11), reciprocal_rank(None)
        (0.25, 0.0, 0.0)
    """
    return 1.0 / rank if hit_at_k(rank, k) else 0.0


def ndcg_at_k(case: QACase, retrieved_texts: Sequence[str], k: int = 10) -> float:
    """Return binary-relevance nDCG@k of the retrieved passages.

    A passage is relevant when it contains any of the case's evidence quotes. The ideal DCG
    assumes ``min(len(evidence), k)`` relevant passages at the top; when more relevant
    passages than quotes were retrieved (overlapping chunks), the ideal count is raised to
    that number so the score stays within [0, 1].

    Args:
        case: the evaluation case.
        retrieved_texts: passage texts, best first.
        k: cut-off.

    Returns:
        The score in [0, 1]; 0 for a case without evidence.

    Example:
        >>> c = QACase("q", "?", ("a", "b"), "all", ("甲", "乙"), ("d",), "fact")
        >>> round(ndcg_at_k(c, ["甲", "丙", "乙"]), 4)  # (1 + 1/2) / (1 + 1/log2(3))
        0.9197
    """
    if not case.evidence or k <= 0:
        return 0.0
    rel = [any(contains_evidence(t, q) for q in case.evidence) for t in retrieved_texts[:k]]
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rel) if r)
    n_ideal = min(max(len(case.evidence), sum(rel)), k)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(n_ideal))
    return dcg / idcg


def _prepare_answer(text: str) -> str:
    """Normalise text for answer matching.

    Thousands commas go; whitespace between two digits (table cells ``3250 6500``) becomes
    a separator instead of vanishing; ``[n]`` citation markers become separators.
    """
    text = unicodedata.normalize("NFKC", _THOUSANDS_COMMA.sub("", text))
    text = _DIGIT_GAP.sub("|", text)
    return _CITATION_MARK.sub("|", normalize_for_match(text))


def _continues_number(text: str, i: int, step: int) -> bool:
    """Tell whether ``text[i]`` (looking in direction ``step``) extends a number: a digit,
    or a decimal point followed by a digit."""
    if not 0 <= i < len(text):
        return False
    if text[i] in _DIGITS:
        return True
    return text[i] == "." and 0 <= i + step < len(text) and text[i + step] in _DIGITS


def _item_in_text(item: str, text: str) -> bool:
    """Substring test that treats numbers as whole numbers (digit-boundary check)."""
    if not item:
        return False
    left_num, right_num = item[0] in _DIGITS, item[-1] in _DIGITS
    start = text.find(item)
    while start >= 0:
        end = start + len(item)
        if not (left_num and _continues_number(text, start - 1, -1)) and not (
            right_num and _continues_number(text, end, 1)
        ):
            return True
        start = text.find(item, start + 1)
    return False


def answer_correct(case: QACase, answer_text: str, abstained: bool = False) -> bool:
    """Tell whether an answer is right.

    Expected strings are compared after :func:`eval.textmatch.normalize_for_match`, with
    ``[n]`` citation markers and thousands separators (``25,000``) removed from the
    answer. An expected string that starts or ends with a digit must not continue a longer
    number: ``"30"`` matches ``"30家"`` and ``"达到30"`` but not ``"130"``, ``"300"``,
    ``"2030"`` or ``"30.5"``. ``"any"`` cases need one expected string, ``"all"`` cases
    every one. An answerable case is wrong when the system abstained; an unanswerable case
    is right exactly when it abstained.

    Args:
        case: the evaluation case.
        answer_text: the answer shown to the user.
        abstained: whether the system declined to answer.

    Example:
        >>> c = QACase("q", "?", ("30",), "any", ("达到30家",), ("d",), "fact")
        >>> [answer_correct(c, t) for t in ("达到30家[1]", "共300家", "2030年", "[30]")]
        [True, False, False, False]
    """
    if not case.answerable:
        return bool(abstained)
    if abstained:
        return False
    text = _prepare_answer(answer_text or "")
    found = [_item_in_text(_prepare_answer(a), text) for a in case.answers]
    if not found:
        return False
    return all(found) if case.answer_mode == "all" else any(found)


def citation_supported(case: QACase, citations: Sequence[Mapping[str, Any]]) -> bool | None:
    """Tell whether any cited passage contains one of the case's evidence quotes.

    Returns:
        True or False for an answerable case with citations; None when there are no
        citations or the case is unanswerable.

    Example:
        >>> c = QACase("q", "?", ("30",), "any", ("达到30家",), ("d",), "fact")
        >>> citation_supported(c, [{"n": 1, "text": "累计达到 30 家"}])
        True
        >>> citation_supported(c, []) is None
        True
    """
    if not case.answerable or not citations:
        return None
    return any(
        contains_evidence(str(c.get("text") or ""), q) for c in citations for q in case.evidence
    )


def abstention_counts(rows_with_cases: Iterable[tuple[Mapping[str, Any], QACase]]) -> dict:
    """Count abstention outcomes, treating *abstained* as the positive class.

    Args:
        rows_with_cases: ``(row, case)`` pairs.

    Returns:
        ``tp`` (abstained, unanswerable), ``fp`` (abstained, answerable), ``fn`` (answered,
        unanswerable), ``tn`` (answered, answerable), and ``precision`` / ``recall`` of
        abstention (None when undefined).

    Example:
        >>> u = QACase("u", "?", (), "any", (), (), "unanswerable")
        >>> a = QACase("a", "?", ("x",), "any", ("x",), ("d",), "fact")
        >>> abstention_counts([({"abstained": True}, u), ({"abstained": True}, a)])
        {'tp': 1, 'fp': 1, 'fn': 0, 'tn': 0, 'precision': 0.5, 'recall': 1.0}
    """
    tp = fp = fn = tn = 0
    for row, case in rows_with_cases:
        abstained = bool(row.get("abstained"))
        if abstained and not case.answerable:
            tp += 1
        elif abstained:
            fp += 1
        elif not case.answerable:
            fn += 1
        else:
            tn += 1
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
    }


def is_english(question: str) -> bool:
    """Tell whether most letters of a question are Latin letters.

    Example:
        >>> is_english("What was the 2022 rank?"), is_english("2022年排名第几？")
        (True, False)
    """
    letters = [c for c in question if c.isalpha()]
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return bool(letters) and latin * 2 > len(letters)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(float(num) / den, 4)


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if len(values) else None


def _texts(row: Mapping[str, Any]) -> list[str]:
    return [str(r.get("text") or "") for r in row.get("retrieved") or []]


def _record(case: QACase, row: Mapping[str, Any]) -> dict:
    """Per-row facts the aggregates are built from."""
    texts, abstained = _texts(row), bool(row.get("abstained"))
    answer, latency = str(row.get("answer") or ""), row.get("latency_ms")
    return {
        "case": case, "row": row, "abstained": abstained,
        "rank": evidence_rank(case, texts) if case.answerable else None,
        "ndcg": ndcg_at_k(case, texts, 10) if case.answerable else None,
        "correct": answer_correct(case, answer, abstained),
        "supported": citation_supported(case, row.get("citations") or []),
        "answer_len": None if abstained else len(answer),
        "latency": float(latency) if isinstance(latency, (int, float)) else None,
    }


def _aggregate(records: Sequence[dict]) -> dict:
    """Metrics of one group of records (see :func:`summarize`)."""
    ans = [r for r in records if r["case"].answerable]
    n_ans = len(ans)
    ranks = [r["rank"] for r in ans]
    correct_ans = [r for r in ans if r["correct"]]
    lengths = [r["answer_len"] for r in records if r["answer_len"] is not None]
    latencies = [r["latency"] for r in records if r["latency"] is not None]
    abst = abstention_counts((r["row"], r["case"]) for r in records)
    out: dict[str, Any] = {"n": len(records), "n_answerable": n_ans,
                           "n_unanswerable": len(records) - n_ans}
    for k in HIT_KS:
        out[f"evidence_hit@{k}"] = _ratio(sum(hit_at_k(x, k) for x in ranks), n_ans)
    out["mrr@10"] = _mean([reciprocal_rank(x, 10) for x in ranks])
    out["ndcg@10"] = _mean([r["ndcg"] for r in ans])
    out["answer_accuracy"] = _ratio(len(correct_ans), n_ans)
    out["accuracy_all"] = _ratio(sum(r["correct"] for r in records), len(records))
    out["citation_precision"] = _ratio(
        sum(r["supported"] is True for r in correct_ans), len(correct_ans))
    out["wrongly_refused"] = _ratio(sum(r["abstained"] for r in ans), n_ans)
    out["abstention_precision"] = abst["precision"]
    out["abstention_recall"] = abst["recall"]
    out["abstention"] = {k: abst[k] for k in ("tp", "fp", "fn", "tn")}
    out["answer_len_median"] = _pct(lengths, 50)
    out["answer_len_p90"] = _pct(lengths, 90)
    out["latency_p50_ms"] = _pct(latencies, 50)
    out["latency_p95_ms"] = _pct(latencies, 95)
    return out


def _join(cases: Sequence[QACase], rows: Sequence[Mapping[str, Any]]):
    by_id = {str(r.get("id")): r for r in rows}
    case_ids = {c.id for c in cases}
    pairs = [(c, by_id[c.id]) for c in cases if c.id in by_id]
    missing = [c.id for c in cases if c.id not in by_id]
    unknown = [i for i in by_id if i not in case_ids]
    return pairs, missing, unknown


def type_order(types: Iterable[str]) -> list[str]:
    """Sort question types: :data:`TYPE_ORDER` first, then any others alphabetically."""
    present = set(types)
    return [t for t in TYPE_ORDER if t in present] + sorted(present - set(TYPE_ORDER))


def summarize(cases: Sequence[QACase], rows: Sequence[Mapping[str, Any]]) -> dict:
    """Aggregate the metrics of a run, overall, per question type and for slices.

    Rows are joined to cases by ``id``; rows without a case and cases without a row are
    listed (``unknown_ids``, ``missing_ids``) and left out of the figures. Each group holds
    ``n``, ``n_answerable``, ``n_unanswerable``, ``evidence_hit@{1,3,5,10}``, ``mrr@10``,
    ``ndcg@10`` (these over answerable rows), ``answer_accuracy`` (answerable rows),
    ``accuracy_all`` (unanswerable rows count as right when abstained),
    ``citation_precision`` (share of correct answerable answers whose citations contain the
    evidence), ``wrongly_refused`` (answerable rows abstained / answerable),
    ``abstention_precision``, ``abstention_recall``, ``abstention`` (tp/fp/fn/tn),
    ``answer_len_median``, ``answer_len_p90`` (characters, answered rows),
    ``latency_p50_ms`` and ``latency_p95_ms``. Undefined figures are None; others are plain
    floats rounded to 4 decimals.

    Returns:
        ``{"overall": {...}, "by_type": {type: {...}}, "slices": {"english": {...},
        "multi_turn": {...}}, "n_cases", "n_rows", "missing_ids", "unknown_ids",
        "distributions": {"latency_ms": [...], "answer_len": [...]}}`` (JSON-serialisable;
        the distributions feed the report's histograms).

    Example:
        >>> c = QACase("q1", "?", ("30",), "any", ("达到30家",), ("d",), "fact")
        >>> row = {"id": "q1", "answer": "30家[1]", "abstained": False,
        ...        "citations": [{"n": 1, "text": "达到30家"}],
        ...        "retrieved": [{"doc": "d", "text": "达到30家"}], "latency_ms": 5.0}
        >>> s = summarize([c], [row])
        >>> s["overall"]["answer_accuracy"], s["by_type"]["fact"]["evidence_hit@1"]
        (1.0, 1.0)
    """
    pairs, missing, unknown = _join(cases, rows)
    records = [_record(c, r) for c, r in pairs]
    by_type = {
        t: _aggregate([r for r in records if r["case"].type == t])
        for t in type_order(r["case"].type for r in records)
    }
    return {
        "n_cases": len(cases), "n_rows": len(rows),
        "missing_ids": missing, "unknown_ids": unknown,
        "overall": _aggregate(records),
        "by_type": by_type,
        "slices": {
            "english": _aggregate([r for r in records if is_english(r["case"].question)]),
            "multi_turn": _aggregate([r for r in records if r["case"].history]),
        },
        "distributions": {
            "latency_ms": [round(r["latency"], 4) for r in records if r["latency"] is not None],
            "answer_len": [r["answer_len"] for r in records if r["answer_len"] is not None],
        },
    }


def failures(cases: Sequence[QACase], rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """List the rows worth a human look, in case order.

    A row is listed when an answerable case was answered wrongly or refused, an
    unanswerable case was answered, or the evidence is not among the top 5 passages. Cases
    with no result row are listed too (reason ``"no result row"``).

    Returns:
        Dicts with ``id``, ``type``, ``question``, ``history``, ``searched_question``,
        ``expected`` (answer strings), ``answer_mode``, ``evidence``, ``answer``,
        ``abstained``, ``evidence_rank``, ``reasons`` (list of str) and ``top_retrieved``
        (up to 5 ``{"doc", "text"}`` with the text cut to 120 characters).

    Example:
        >>> c = QACase("q1", "?", ("30",), "any", ("达到30家",), ("d",), "fact")
        >>> [f["reasons"] for f in failures([c], [{"id": "q1", "answer": "300", "retrieved": []}])]
        [['wrong answer', 'evidence not in top 5']]
    """
    by_id = {str(r.get("id")): r for r in rows}
    out: list[dict] = []
    for case in cases:
        row = by_id.get(case.id)
        reasons: list[str] = []
        if row is None:
            row, reasons = {}, ["no result row"]
        abstained = bool(row.get("abstained"))
        answer = str(row.get("answer") or "")
        rank = evidence_rank(case, _texts(row)) if case.answerable else None
        if row:
            if case.answerable and abstained:
                reasons.append("wrongly refused")
            elif case.answerable and not answer_correct(case, answer):
                reasons.append("wrong answer")
            elif not case.answerable and not abstained:
                reasons.append("answered unanswerable")
            if case.answerable and not hit_at_k(rank, FAILURE_TOP_K):
                reasons.append(f"evidence not in top {FAILURE_TOP_K}")
        if not reasons:
            continue
        top = [
            {"doc": str(r.get("doc") or ""), "text": str(r.get("text") or "")[:120]}
            for r in (row.get("retrieved") or [])[:FAILURE_TOP_K]
        ]
        out.append({
            "id": case.id, "type": case.type, "question": case.question,
            "history": list(case.history), "searched_question": row.get("searched_question"),
            "expected": list(case.answers), "answer_mode": case.answer_mode,
            "evidence": list(case.evidence), "answer": answer, "abstained": abstained,
            "evidence_rank": rank, "reasons": reasons, "top_retrieved": top,
            "scoring": row.get("scoring"),
        })
    return out
