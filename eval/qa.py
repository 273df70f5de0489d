"""The hand-written evaluation Q&A set: loading, validation and evidence checks.

The set lives in ``eval/qa.jsonl``, one JSON object per line::

    {"id": "q001", "question": "...", "answers": ["30"], "answer_mode": "any",
     "evidence": ["累计数达到 30 家"], "docs": ["002_0e0d43181225949b.txt"],
     "type": "fact", "note": "...", "history": ["earlier user question"]}

``answers`` are short strings a correct reply must contain (all of them when
``answer_mode`` is ``"all"``, one of them when it is ``"any"``). ``evidence`` are verbatim
quotes from the files named in ``docs``; they are matched with
:func:`eval.textmatch.contains_evidence`, so line breaks, spaces and ``*`` inside a quote do
not matter. Rows of type ``unanswerable`` carry empty ``answers``, ``evidence`` and ``docs``:
the right behaviour is to abstain. An optional ``exclude_docs`` list of corpus file names asks the
question over every other document (e.g. without the one that answers it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from eval.textmatch import contains_evidence, normalize_for_match

QUESTION_TYPES: frozenset[str] = frozenset(
    {"fact", "table", "list", "paraphrase", "multi", "unanswerable", "meta"}
)
"""Allowed values of the ``type`` field."""

ANSWER_MODES: frozenset[str] = frozenset({"any", "all"})
"""Allowed values of the ``answer_mode`` field."""

_REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "question",
    "answers",
    "answer_mode",
    "evidence",
    "docs",
    "type",
)
_STRING_LIST_FIELDS: tuple[str, ...] = ("answers", "evidence", "docs")


class QASetError(ValueError):
    """A row of the Q&A file is malformed.

    The message names the file, the 1-based line number, the offending field and how to fix
    it. The same facts are available as attributes.

    Attributes:
        path: the Q&A file.
        line: 1-based line number of the bad row.
        field: the field at fault (``"<row>"`` when the row as a whole is at fault).
        problem: what is wrong and how to fix it.
    """

    def __init__(self, path: str | Path, line: int, field: str, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}, line {line}, field '{field}': {problem}")


@dataclass(frozen=True)
class QACase:
    """One evaluation question with what a correct answer must contain.

    Attributes:
        id: unique identifier such as ``"q001"``.
        question: the user's question (Chinese or English).
        answers: strings a correct answer must contain.
        answer_mode: ``"all"`` (every answer string required) or ``"any"`` (one suffices).
        evidence: verbatim quotes from the documents that support the answer.
        docs: corpus file names the evidence comes from.
        type: one of :data:`QUESTION_TYPES`.
        note: free-text remark for maintainers.
        history: earlier user questions of the same conversation, oldest first.
        exclude_docs: corpus file names the question is asked without (searched: every other one).
        line: 1-based line number of the row in the file it was loaded from (0 if built
            in code).
    """

    id: str
    question: str
    answers: tuple[str, ...]
    answer_mode: str
    evidence: tuple[str, ...]
    docs: tuple[str, ...]
    type: str
    note: str = ""
    history: tuple[str, ...] = ()
    exclude_docs: tuple[str, ...] = ()
    line: int = 0

    @property
    def answerable(self) -> bool:
        """Whether the documents answer the question (every type but ``unanswerable``)."""
        return self.type != "unanswerable"

    def searched_docs(self, library: Iterable[str]) -> frozenset[str] | None:
        """The documents of ``library`` the question is asked over: all but ``exclude_docs`` (None: no limit).

        Example:
            >>> sorted(QACase("u", "?", (), "any", (), (), "unanswerable", exclude_docs=("b",)).searched_docs("abc"))
            ['a', 'c']
        """
        return frozenset(library).difference(self.exclude_docs) if self.exclude_docs else None


def load_qa_set(path: str | Path) -> list[QACase]:
    """Read and validate a Q&A JSONL file.

    Blank lines are skipped; fields other than the documented ones are ignored.

    Args:
        path: the ``.jsonl`` file.

    Returns:
        The cases in file order, each carrying its line number.

    Raises:
        QASetError: on the first malformed row (bad JSON, missing or mistyped field, value
            out of range, duplicate id, answers on an unanswerable row or none on an
            answerable one), or when the file cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QASetError(path, 0, "<file>", f"cannot read the file as UTF-8 ({exc})") from exc

    cases: list[QACase] = []
    seen_ids: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        case = _parse_row(path, line_no, raw)
        if case.id in seen_ids:
            raise QASetError(
                path,
                line_no,
                "id",
                f"duplicate id {case.id!r} (first used on line {seen_ids[case.id]}); "
                "give every row its own id",
            )
        seen_ids[case.id] = line_no
        cases.append(case)
    return cases


def check_evidence(cases: Sequence[QACase], corpus_dir: str | Path) -> list[str]:
    """Check that every evidence quote occurs in one of its row's documents.

    Quotes are matched against the raw file text with
    :func:`eval.textmatch.contains_evidence` (whitespace, ``*``, width and case ignored).

    Args:
        cases: loaded cases, e.g. from :func:`load_qa_set`.
        corpus_dir: folder holding the corpus files named in ``docs``.

    Returns:
        One message per problem (a missing or unreadable document, a quote found in none of
        the row's documents), each naming the case id and line; empty when all is well.
    """
    corpus_dir = Path(corpus_dir)
    texts: dict[str, str | None] = {}
    problems: list[str] = []
    for case in cases:
        where = _where(case)
        found: list[str] = []
        for doc in case.docs:
            text = _read_doc(corpus_dir, doc, texts)
            if text is None:
                problems.append(
                    f"{where}: document {doc!r} not found (or unreadable) in {corpus_dir}; "
                    "use the bare file name of a corpus file"
                )
            else:
                found.append(text)
        if not found:
            continue
        for quote in case.evidence:
            if not any(contains_evidence(text, quote) for text in found):
                problems.append(
                    f"{where}: evidence {quote!r} occurs in none of {list(case.docs)}; "
                    "copy the quote verbatim from the document"
                )
    return problems


def check_answer_support(cases: Sequence[QACase]) -> list[str]:
    """Check that each row's answers are backed by its own evidence quotes.

    An answer counts as backed when, after :func:`eval.textmatch.normalize_for_match`, it is
    a substring of one of the row's evidence quotes. Rows with ``answer_mode == "all"`` need
    every answer backed, rows with ``"any"`` at least one.

    Args:
        cases: loaded cases.

    Returns:
        One message per unbacked row, naming the case id, line and answers; empty when all
        is well.
    """
    problems: list[str] = []
    for case in cases:
        if not case.answerable:
            continue
        quotes = [normalize_for_match(q) for q in case.evidence]
        backed = [any(normalize_for_match(a) in q for q in quotes) for a in case.answers]
        ok = all(backed) if case.answer_mode == "all" else any(backed)
        if not ok:
            missing = [a for a, b in zip(case.answers, backed) if not b]
            problems.append(
                f"{_where(case)}: answers {missing} appear in none of its evidence quotes; "
                "quote the passage that contains them"
            )
    return problems


def _where(case: QACase) -> str:
    return f"{case.id} (line {case.line})"


def _read_doc(corpus_dir: Path, doc: str, cache: dict[str, str | None]) -> str | None:
    """Return the text of corpus file ``doc`` (cached), or None if it is not a readable file."""
    if doc not in cache:
        text: str | None = None
        if doc and Path(doc).name == doc:
            try:
                text = (corpus_dir / doc).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        cache[doc] = text
    return cache[doc]


def _parse_row(path: Path, line_no: int, raw: str) -> QACase:
    """Turn one JSONL line into a validated :class:`QACase`."""
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise QASetError(
            path, line_no, "<row>", f"not valid JSON ({exc.msg}); fix the syntax"
        ) from exc
    if not isinstance(row, dict):
        raise QASetError(path, line_no, "<row>", "expected a JSON object {...} on each line")

    for name in _REQUIRED_FIELDS:
        if name not in row:
            raise QASetError(path, line_no, name, "missing; every row needs this field")

    case_id = _string(path, line_no, row, "id")
    question = _string(path, line_no, row, "question")
    answer_mode = _choice(path, line_no, row, "answer_mode", ANSWER_MODES)
    qtype = _choice(path, line_no, row, "type", QUESTION_TYPES)
    lists = {name: _string_list(path, line_no, row, name) for name in _STRING_LIST_FIELDS}
    note = _optional_string(path, line_no, row, "note")
    history = _string_list(path, line_no, row, "history") if "history" in row else ()
    exclude_docs = _string_list(path, line_no, row, "exclude_docs") if "exclude_docs" in row else ()

    if qtype == "unanswerable":
        for name in _STRING_LIST_FIELDS:
            if lists[name]:
                raise QASetError(
                    path,
                    line_no,
                    name,
                    "must be an empty list on an unanswerable row (the right behaviour is to "
                    "abstain); empty it or change the type",
                )
    else:
        for name in _STRING_LIST_FIELDS:
            if not lists[name]:
                raise QASetError(
                    path,
                    line_no,
                    name,
                    f"must not be empty on a row of type {qtype!r}; fill it in or mark the "
                    "row 'unanswerable'",
                )

    return QACase(
        id=case_id,
        question=question,
        answers=lists["answers"],
        answer_mode=answer_mode,
        evidence=lists["evidence"],
        docs=lists["docs"],
        type=qtype,
        note=note,
        history=history,
        exclude_docs=exclude_docs,
        line=line_no,
    )


def _string(path: Path, line_no: int, row: Mapping[str, Any], name: str) -> str:
    value = row[name]
    if not isinstance(value, str) or not value.strip():
        raise QASetError(path, line_no, name, f"must be a non-empty string, got {value!r}")
    return value


def _optional_string(path: Path, line_no: int, row: Mapping[str, Any], name: str) -> str:
    value = row.get(name, "")
    if not isinstance(value, str):
        raise QASetError(path, line_no, name, f"must be a string when present, got {value!r}")
    return value


def _choice(
    path: Path, line_no: int, row: Mapping[str, Any], name: str, allowed: frozenset[str]
) -> str:
    value = row[name]
    if not isinstance(value, str) or value not in allowed:
        raise QASetError(
            path, line_no, name, f"got {value!r}; use one of {sorted(allowed)}"
        )
    return value


def _string_list(path: Path, line_no: int, row: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = row[name]
    if not isinstance(value, list):
        raise QASetError(path, line_no, name, f"must be a list of strings, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise QASetError(
                path, line_no, name, f"every item must be a non-empty string, got {item!r}"
            )
    return tuple(value)
