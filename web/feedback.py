"""Feedback on answers (👍/👎 and an optional comment), stored in SQLite, exportable as draft Q&A rows.

Export the thumbs-down answers as draft rows of the evaluation set for a person to complete::

    python -m web.feedback export --db data/feedback.sqlite3 --out drafts.jsonl
"""

from __future__ import annotations

import argparse
import json
import secrets
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

DEFAULT_FEEDBACK_DB = Path("data/feedback.sqlite3")
MAX_TEXT_CHARS = 4_000  # a question, an answer or a comment (questions are at most 500 characters)
MAX_SOURCES_CHARS = 20_000  # the cited passages as JSON
RATINGS = ("up", "down")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    searched_question TEXT NOT NULL DEFAULT '',
    history TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL DEFAULT 0,
    sources TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    token TEXT
)
"""
# The id given out to the page: random, so nobody can name (and overwrite) another person's entry.
_TOKEN_COLUMN = "ALTER TABLE feedback ADD COLUMN token TEXT"
_TOKEN_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_token ON feedback (token)"


class FeedbackError(ValueError):
    """A feedback entry is malformed (unknown rating, unknown id); the message says what to send."""


@dataclass(frozen=True)
class FeedbackRow:
    """One stored feedback entry; ``sources`` are the cited passages as JSON-able dicts."""

    id: int
    created_at: str
    rating: str
    question: str
    searched_question: str
    history: tuple[str, ...]
    answer: str
    abstained: bool
    sources: tuple[dict[str, Any], ...]
    comment: str
    channel: str


def _clip(text: Any) -> str:
    return str(text or "")[:MAX_TEXT_CHARS]


class FeedbackStore:
    """A small SQLite table of feedback; safe to share between the server's threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock, self._connection:
            self._connection.execute(_SCHEMA)
            columns = {row[1] for row in self._connection.execute("PRAGMA table_info(feedback)")}
            if "token" not in columns:  # a database from before tokens
                self._connection.execute(_TOKEN_COLUMN)
            self._connection.execute(_TOKEN_INDEX)

    def add(
        self,
        rating: str,
        question: str,
        answer: str,
        sources: Sequence[dict[str, Any]] = (),
        *,
        searched_question: str = "",
        history: Sequence[str] = (),
        abstained: bool = False,
        comment: str = "",
        channel: str = "",
    ) -> str:
        """Store one rating and return its id: a random token (the only way to comment on it later).

        Raises:
            FeedbackError: ``rating`` is not ``"up"`` or ``"down"``, or the question is empty.
        """
        if rating not in RATINGS:
            raise FeedbackError(f"rating must be 'up' or 'down', got {rating!r}")
        if not str(question or "").strip():
            raise FeedbackError("feedback needs the question that was answered")
        row = (
            time.strftime("%Y-%m-%dT%H:%M:%S"), rating, _clip(question), _clip(searched_question),
            json.dumps([_clip(h) for h in history], ensure_ascii=False), _clip(answer), int(bool(abstained)),
            json.dumps(list(sources), ensure_ascii=False)[:MAX_SOURCES_CHARS], _clip(comment), _clip(channel)[:20],
            secrets.token_urlsafe(16),
        )
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT INTO feedback (created_at, rating, question, searched_question, history, answer,"
                " abstained, sources, comment, channel, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        return row[-1]

    def set_comment(self, feedback_id: str, comment: str) -> None:
        """Attach (or replace) the comment of an entry, named by the id :meth:`add` returned.

        Raises:
            FeedbackError: no entry has that id.
        """
        with self._lock, self._connection:
            cursor = self._connection.execute(
                "UPDATE feedback SET comment = ? WHERE token = ?", (_clip(comment), str(feedback_id)[:64])
            )
        if cursor.rowcount == 0:
            raise FeedbackError(f"no feedback entry with id {str(feedback_id)[:64]!r}")

    def rows(self, rating: str | None = None) -> list[FeedbackRow]:
        """All entries (only those with ``rating`` when given), oldest first."""
        query = "SELECT id, created_at, rating, question, searched_question, history, answer, abstained," \
                " sources, comment, channel FROM feedback"
        args: tuple[Any, ...] = ()
        if rating is not None:
            query, args = query + " WHERE rating = ?", (rating,)
        with self._lock:
            found = self._connection.execute(query + " ORDER BY id", args).fetchall()
        return [
            FeedbackRow(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), r[6], bool(r[7]),
                        tuple(json.loads(r[8])), r[9], r[10])
            for r in found
        ]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()


def draft_qa_row(row: FeedbackRow) -> dict[str, Any]:
    """A draft row of the evaluation set (``eval/qa.jsonl`` fields) for a thumbs-down answer.

    ``answers``, ``evidence`` and ``docs`` are left empty for a person to fill in; the note keeps
    what the user saw and said.

    Example:
        >>> r = FeedbackRow(7, "2024-01-01T00:00:00", "down", "温州的目标？", "", ("前一问",), "答", False,
        ...                 ({"doc_id": "a.txt"},), "不对", "chat")
        >>> d = draft_qa_row(r)
        >>> d["id"], d["answers"], d["history"]
        ('feedback-7', [], ['前一问'])
    """
    cited = sorted({str(s.get("doc_id", "")) for s in row.sources if s.get("doc_id")})
    note = f"来自用户反馈 #{row.id}（{row.created_at}）。用户意见：{row.comment or '无'}。当时的回答：{row.answer}"
    if cited:
        note += f"。当时引用：{'、'.join(cited)}"
    draft: dict[str, Any] = {
        "id": f"feedback-{row.id}",
        "question": row.question,
        "answers": [],
        "answer_mode": "any",
        "evidence": [],
        "docs": [],
        "type": "fact",
        "note": note,
    }
    if row.history:
        draft["history"] = list(row.history)
    return draft


def export_draft_qa(store: FeedbackStore, out: str | Path) -> int:
    """Write every thumbs-down entry as a draft Q&A JSONL row to ``out``; return the row count."""
    drafts: Iterable[dict[str, Any]] = (draft_qa_row(r) for r in store.rows(rating="down"))
    count = 0
    with Path(out).open("w", encoding="utf-8") as handle:
        for draft in drafts:
            handle.write(json.dumps(draft, ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m web.feedback export --db FILE --out FILE``."""
    parser = argparse.ArgumentParser(prog="python -m web.feedback", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write thumbs-down answers as draft Q&A rows (JSONL)")
    export.add_argument("--db", default=str(DEFAULT_FEEDBACK_DB), help="feedback database (default %(default)s)")
    export.add_argument("--out", required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"error: feedback database {args.db} does not exist; pass --db with the app's --feedback-db",
              file=sys.stderr)
        return 2
    store = FeedbackStore(args.db)
    try:
        count = export_draft_qa(store, args.out)
    finally:
        store.close()
    print(f"Wrote {count} draft Q&A rows to {args.out}; fill in answers, evidence, docs and type.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
