"""The one engine behind the chat page, the widget and the API, and the document library's changes.

:class:`AnswerService` holds the current :class:`~answer.engine.Answerer`; re-indexing after an
upload or a delete builds a new one and swaps it in, so every way in sees the same documents.
"""

from __future__ import annotations

import hmac
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator, Sequence

from answer.engine import Answerer
from answer.generative import generate_answer, stream_generative_answer
from answer.types import Answer, QuestionTooLongError
from index.build import BuildReport, build_index
from index.embedders import Embedder, load_embedder
from index.search import Retriever, open_index
from ingest.loaders import MAX_FILE_BYTES, SUPPORTED_SUFFIXES
from ingest.metadata import SIDECAR_SUFFIX
from ingest.types import Document
from settings import Settings
from web.presenters import chunk_counts

ProgressCallback = Callable[[int, int], None]
MAX_HISTORY = 20  # earlier questions a follow-up may carry


class LibraryError(ValueError):
    """A library change was refused (no admin token, bad file name, unknown document)."""


def check_admin_token(settings: Settings, given: str) -> None:
    """Raise :class:`LibraryError` unless ``given`` is the configured admin token.

    Example:
        >>> check_admin_token(Settings(admin_token="s3cret"), "s3cret")
    """
    if not settings.admin_token:
        raise LibraryError("未配置管理员令牌（admin_token），文件库为只读。(Set admin_token to allow changes.)")
    if not hmac.compare_digest(str(given or "").encode("utf-8"), settings.admin_token.encode("utf-8")):
        raise LibraryError("管理员令牌不正确。(Wrong admin token.)")


def safe_upload_name(name: str) -> str:
    """The file name an upload is stored under in the corpus folder, or raise if unacceptable.

    Example:
        >>> safe_upload_name("../../etc/规划.PDF")
        '规划.PDF'
    """
    base = Path(str(name).replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or base.endswith(SIDECAR_SUFFIX):
        raise LibraryError(f"文件名不可用：{name!r}")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise LibraryError(f"不支持的文件类型：{base}（支持 {', '.join(SUPPORTED_SUFFIXES)}）")
    return base


@dataclass(frozen=True)
class Draft:
    """The LLM's reply so far while it streams: unverified, citation numbers as given to the model.

    ``basis`` is the extractive answer it started from (its ``question`` and ``searched_question``
    are those of the final answer).
    """

    text: str
    basis: Answer


class AnswerService:
    """Thread-safe access to the current answerer, plus upload/delete with incremental re-indexing.

    Args:
        settings: the app's settings (corpus and index folders, admin token).
        answerer: the answerer over the current index.
        embedder: the embedder to re-index with; loaded from the settings on first use if ``None``.
    """

    def __init__(self, settings: Settings, answerer: Answerer, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._answerer = answerer
        self._embedder = embedder
        self._ask_lock = threading.Lock()  # the embedding engines are not known to be re-entrant
        self._change_lock = threading.Lock()
        self._counts = chunk_counts(answerer.retriever.index.chunks)

    @property
    def documents(self) -> dict[str, Document]:
        """The indexed documents by id."""
        return dict(self._answerer.documents)

    @property
    def counts(self) -> dict[str, int]:
        """Chunks per document id."""
        return dict(self._counts)

    def ask(self, question: str, history: Sequence[str] = (), doc_ids: Collection[str] | None = None) -> Answer:
        """Answer a question (see :meth:`Answerer.ask`); raises its ``AnswerError`` subclasses.

        Only the last :data:`MAX_HISTORY` earlier questions are used.

        Raises:
            QuestionTooLongError: also when one of those is longer than a question may be (every
                way in, chat page, widget and APIs, passes history through here).
        """
        answerer, extractive = self._extractive(question, history, doc_ids)
        return generate_answer(answerer.settings, extractive, answerer.documents, tuple(history)[-MAX_HISTORY:])

    def _extractive(self, question: str, history: Sequence[str], doc_ids: Collection[str] | None) -> tuple[Answerer, Answer]:
        """The extractive answer (retrieval one question at a time); the LLM step runs outside the lock."""
        history, limit = tuple(history)[-MAX_HISTORY:], self.settings.max_question_chars
        if any(len(str(h)) > limit for h in history):
            raise QuestionTooLongError(f"对话历史中的问题过长（每个不超过 {limit} 字）：请开始新对话。"
                                       "(An earlier question is too long: start a new conversation.)")
        with self._ask_lock:
            answerer = self._answerer
            return answerer, answerer.ask(question, history=history, doc_ids=doc_ids, generate=False)

    def ask_stream(
        self, question: str, history: Sequence[str] = (), doc_ids: Collection[str] | None = None
    ) -> Iterator[Draft | Answer]:
        """Like :meth:`ask`, streamed: :class:`Draft` items while a configured LLM writes, then the
        final, verified :class:`Answer` (always the last item; the only one without an LLM).

        Raises:
            AnswerError: on the first iteration, for a question that cannot be asked (as :meth:`ask`).
        """
        answerer, extractive = self._extractive(question, history, doc_ids)
        history = tuple(history)[-MAX_HISTORY:]
        for item in stream_generative_answer(answerer.settings, extractive, answerer.documents, history):
            yield item if isinstance(item, Answer) else Draft(item, extractive)

    def reindex(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Bring the index up to date with the corpus folder and swap in a new answerer.

        Raises:
            IndexBusyError: another ingest holds the index lock.
            IndexError_, EmbedderError, CorpusError: as :func:`index.build.build_index`.
        """
        embedder = self._embedder or load_embedder(self.settings.embedder)
        self._embedder = embedder
        report = build_index(self.settings, embedder, progress=progress)
        if report.written:
            answerer = Answerer(Retriever(open_index(self.settings, embedder.model_id), embedder, self.settings),
                                self.settings)
            with self._ask_lock:
                self._answerer = answerer
                self._counts = chunk_counts(answerer.retriever.index.chunks)
        return report

    def add_files(self, token: str, files: Sequence[tuple[str, Path]], progress: ProgressCallback | None = None
                  ) -> tuple[list[str], BuildReport]:
        """Copy uploaded files (``(original name, temporary path)``) into the corpus and re-index.

        Raises:
            LibraryError: wrong token, no files, a bad name or type, or a file over the size limit.
        """
        check_admin_token(self.settings, token)
        if not files:
            raise LibraryError("请先选择要上传的文件。")
        checked = []
        for name, path in files:
            base = safe_upload_name(name)
            if Path(path).stat().st_size > MAX_FILE_BYTES:
                raise LibraryError(f"{base} 超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，无法上传。")
            checked.append((base, Path(path)))
        with self._change_lock:
            corpus = Path(self.settings.corpus_dir)
            corpus.mkdir(parents=True, exist_ok=True)
            for base, path in checked:
                shutil.copyfile(path, corpus / base)
            return [b for b, _ in checked], self.reindex(progress)

    def delete_document(self, token: str, doc_id: str, progress: ProgressCallback | None = None) -> BuildReport:
        """Remove an indexed document (and its metadata sidecar) from the corpus and re-index.

        Raises:
            LibraryError: wrong token, or ``doc_id`` is not an indexed document inside the corpus.
        """
        check_admin_token(self.settings, token)
        if doc_id not in self._answerer.documents:
            raise LibraryError(f"没有这个文件：{doc_id!r}")
        corpus = Path(self.settings.corpus_dir).resolve()
        path = (corpus / doc_id).resolve()
        if corpus not in path.parents:
            raise LibraryError(f"文件不在资料目录中：{doc_id!r}")
        with self._change_lock:
            path.unlink(missing_ok=True)
            path.with_name(path.name + SIDECAR_SUFFIX).unlink(missing_ok=True)
            return self.reindex(progress)
