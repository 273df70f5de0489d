"""The one engine behind the chat page, the widget and the API, and the document library's changes.

:class:`AnswerService` holds the current :class:`~answer.engine.Answerer`; re-indexing after an
upload or a delete builds a new one and swaps it in, so every way in sees the same documents.
"""

from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator, Sequence

from answer.engine import Answerer
from answer.generative import generate_answer, stream_generative_answer
from answer.types import Answer, AnswerError, QuestionTooLongError
from index.build import BuildReport, build_index
from index.embedders import Embedder, load_embedder
from index.search import Retriever, open_index
from index.store import current_version
from index.types import IndexError_
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.metadata import SIDECAR_SUFFIX
from ingest.types import Document
from settings import Settings
from web.library import LibraryError
from web.limits import FailureLimiter
from web.presenters import chunk_counts

log = logging.getLogger("policyqa.service")

ProgressCallback = Callable[[int, int], None]
MAX_HISTORY = 20  # earlier questions a follow-up may carry


class InvalidTextError(AnswerError):
    """A question or an earlier one holds text that is not valid Unicode (a lone surrogate)."""


def check_unicode(*texts: object) -> None:
    """Raise :class:`InvalidTextError` if a text holds a lone surrogate (it cannot be encoded).

    Example:
        >>> check_unicode("温州", ["前一问"])
        >>> check_unicode("温州" + chr(0xD800))
        Traceback (most recent call last):
        ...
        web.service.InvalidTextError: 问题中含有无效的 Unicode 字符（孤立的代理码点，如 \\ud800）：请删除乱码后重试。(The text holds invalid Unicode.)
    """
    for text in texts:
        for item in text if isinstance(text, (list, tuple)) else (text,):
            try:
                str(item).encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidTextError("问题中含有无效的 Unicode 字符（孤立的代理码点，如 \\ud800）：请删除乱码后重试。"
                                       "(The text holds invalid Unicode.)") from None


def check_admin_token(settings: Settings, given: str, client: str = "local", failures: FailureLimiter | None = None) -> None:
    """Raise :class:`LibraryError` unless ``given`` is the configured admin token.

    With ``failures``, a client past its failed attempts is refused without a comparison, and
    each failure is counted and logged.

    Example:
        >>> check_admin_token(Settings(admin_token="s3cret"), "s3cret")
    """
    if not settings.admin_token:
        raise LibraryError("未配置管理员令牌（admin_token），文件库为只读。(Set admin_token to allow changes.)")
    wait = failures.locked_for(client) if failures else 0.0
    if wait:
        raise LibraryError(f"管理员令牌错误次数过多，请 {int(wait) + 1} 秒后再试。(Too many wrong admin tokens; wait.)")
    # surrogatepass: a token with a lone surrogate is a wrong token (counted), not an encoding error
    if not hmac.compare_digest(str(given or "").encode("utf-8", "surrogatepass"),
                               settings.admin_token.encode("utf-8", "surrogatepass")):
        if failures:
            failures.failed(client)
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
    """Thread-safe access to the current answerer, which follows the index on disk.

    A change of the index (this app's re-index after an upload or a delete, or a command-line
    ingest) swaps in a new answerer, so every way in sees the same documents. Library changes
    themselves live in :class:`web.admin.LibraryAdmin` (``self.library``).

    Args:
        settings: the app's settings (corpus and index folders, admin token).
        answerer: the answerer over the current index.
        embedder: the embedder to re-index with; loaded from the settings on first use if ``None``.
        upload_dirs: folders an upload must come from (Gradio's upload folder).
        uploads: the :class:`web.uploads.UploadRegistry` of files the upload endpoint stored.
    """

    def __init__(self, settings: Settings, answerer: Answerer, embedder: Embedder | None = None,
                 upload_dirs: Sequence[Path] = (), uploads=None) -> None:
        from web.admin import LibraryAdmin  # the admin re-indexes through this service

        self.settings = settings
        self._answerer = answerer
        self._embedder = embedder
        self._ask_lock = threading.Lock()  # the embedding engines are not known to be re-entrant
        self._swap_lock = threading.Lock()
        self._counts = chunk_counts(answerer.retriever.index.chunks)
        self._version = current_version(Path(settings.store_dir))
        self.library = LibraryAdmin(settings, self, upload_dirs, uploads)

    @property
    def documents(self) -> dict[str, Document]:
        """The indexed documents by id (of the index on disk now)."""
        return dict(self.answerer.documents)

    @property
    def counts(self) -> dict[str, int]:
        """Chunks per document id."""
        self.answerer
        return dict(self._counts)

    @property
    def answerer(self) -> Answerer:
        """The answerer over the current index, reloaded first if another process changed it."""
        version = current_version(Path(self.settings.store_dir))
        if version is not None and version != self._version:
            with self._swap_lock:
                if version != self._version:
                    self._load(version)
        return self._answerer

    def _load(self, version: Path | None) -> None:
        """Open the index now current and swap it in (a failure keeps the answerer there is)."""
        embedder = self._embedder = self._embedder or load_embedder(self.settings.embedder)
        try:
            answerer = Answerer(Retriever(open_index(self.settings, embedder.model_id), embedder, self.settings),
                                self.settings)
        except IndexError_ as exc:
            log.warning("the index changed on disk but could not be opened (%s); still serving the previous one", exc)
            self._version = version
            return
        with self._ask_lock:
            self._answerer = answerer
            self._counts = chunk_counts(answerer.retriever.index.chunks)
            self._version = version
        log.info("serving the index version %s (%d documents)", version.name if version else "?", len(answerer.documents))

    def ask(self, question: str, history: Sequence[str] = (), doc_ids: Collection[str] | None = None) -> Answer:
        """Answer a question (see :meth:`Answerer.ask`); raises its ``AnswerError`` subclasses.

        Only the last :data:`MAX_HISTORY` earlier questions are used.

        Raises:
            QuestionTooLongError: also when one of those is longer than a question may be (every
                way in, chat page, widget and APIs, passes history through here).
            InvalidTextError: the question or history holds a lone surrogate.
        """
        answerer, extractive = self._extractive(question, history, doc_ids)
        return generate_answer(answerer.settings, extractive, answerer.documents, tuple(history)[-MAX_HISTORY:])

    def _extractive(self, question: str, history: Sequence[str], doc_ids: Collection[str] | None) -> tuple[Answerer, Answer]:
        """The extractive answer (retrieval one question at a time); the LLM step runs outside the lock."""
        history, limit = tuple(history)[-MAX_HISTORY:], self.settings.max_question_chars
        if any(len(str(h)) > limit for h in history):
            raise QuestionTooLongError(f"对话历史中的问题过长（每个不超过 {limit} 字）：请开始新对话。"
                                       "(An earlier question is too long: start a new conversation.)")
        check_unicode(question, list(history), list(doc_ids or ()))
        self.answerer  # follow an index changed on disk
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
            with self._swap_lock:
                self._load(current_version(Path(self.settings.store_dir)))
        return report

    def add_files(self, token: str, files: Sequence[tuple[str, Path]], progress: ProgressCallback | None = None,
                  **options) -> tuple[list[str], BuildReport]:
        """Add uploads to the library (see :meth:`web.admin.LibraryAdmin.add_files`)."""
        outcome = self.library.add_files(token, files, progress, **options)
        return list(outcome.names), outcome.report

    def delete_document(self, token: str, doc_id: str, progress: ProgressCallback | None = None,
                        **options) -> BuildReport:
        """Move a document to the recycle bin (see :meth:`web.admin.LibraryAdmin.delete`)."""
        return self.library.delete(token, doc_id, progress, **options).report
