"""Library changes as transactions: upload, delete to the recycle bin, restore, empty the bin.

Each change checks the admin token (failures counted per client), refuses before touching the
corpus when an ingest holds the index lock, makes its file changes (each with an undo), then
re-indexes. If the re-index fails, every file change is undone and the error says that the library
was left as it was: a change either completes or leaves nothing changed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from index.build import BuildReport
from index.types import IndexBusyError
from settings import Settings
from web.library import BinEntry, Library, LibraryBusyError, LibraryError, NameTakenError, free_name
from web.limits import FailureLimiter

if TYPE_CHECKING:
    from web.service import AnswerService, ProgressCallback

log = logging.getLogger("policyqa.library")
ON_CONFLICT = ("refuse", "replace", "keep_both")


@dataclass(frozen=True)
class LibraryOutcome:
    """What a completed change did.

    ``names``: the documents added, deleted or restored (an upload kept beside a document of the
    same name under its new name); ``refused``: uploads that could not be read, each ``(name,
    reason)``, taken back out (a document they were to replace is back in its place);
    ``entries``: recycle-bin entries made (a deleted or replaced document).
    """

    names: tuple[str, ...]
    report: BuildReport | None
    refused: tuple[tuple[str, str], ...] = ()
    entries: tuple[BinEntry, ...] = ()


class LibraryAdmin:
    """Admin operations on the library of ``service``'s settings (see the module docstring)."""

    def __init__(self, settings: Settings, service: "AnswerService", upload_dirs: Sequence[Path] = (),
                 uploads=None) -> None:
        from web.service import check_admin_token

        self.settings = settings
        self.service = service
        self.files = Library(Path(settings.corpus_dir), Path(settings.store_dir), upload_dirs, uploads)
        self.failures = FailureLimiter(settings.admin_failures_allowed, settings.admin_lockout_s)
        self._check_token = check_admin_token
        self._lock = threading.Lock()

    def authorize(self, token: str, client: str = "local") -> None:
        """Raise :class:`LibraryError` unless ``token`` is the admin token (and ``client`` is not locked out)."""
        self._check_token(self.settings, token, client, self.failures)

    def bin_entries(self) -> list[BinEntry]:
        """The recycle bin, newest first."""
        return self.files.bin_entries()

    def add_files(self, token: str, files: Sequence[tuple[str, Path]], progress: "ProgressCallback | None" = None,
                  *, on_conflict: str = "refuse", client: str = "local") -> LibraryOutcome:
        """Add uploads (``(original name, uploaded file)``) to the corpus and re-index.

        Args:
            on_conflict: for a name already in the library: ``"refuse"`` (the default: nothing is
                changed, :class:`NameTakenError` names them), ``"replace"`` (the old version and its
                sidecar go to the recycle bin) or ``"keep_both"`` (the upload gets a free name).

        Raises:
            LibraryError: wrong token, no files, a bad name, type or size, a path that is not an
                upload of this request, a name taken, a running ingest, or a failed re-index (undone).
        """
        from web.service import safe_upload_name

        self.authorize(token, client)
        if on_conflict not in ON_CONFLICT:
            raise LibraryError(f"on_conflict 应是 {', '.join(ON_CONFLICT)} 之一，收到 {on_conflict!r}")
        if not files:
            raise LibraryError("请先选择要上传的文件。")
        # The uploaded files stay until a change succeeds: a refused upload can be tried again.
        checked = [(safe_upload_name(name), self.files.check_upload(Path(path))) for name, path in files]
        if len({n for n, _ in checked}) < len(checked):
            raise LibraryError("同一次上传中有重名文件：请改名后再上传。")
        with self._lock:
            self.files.check_index_free()
            taken = self.files.names()
            clashes = [n for n, _ in checked if n in taken]
            if clashes and on_conflict == "refuse":
                raise NameTakenError(clashes)
            undo: list[Callable[[], None]] = []
            per_file: dict[str, list[Callable[[], None]]] = {}
            names, entries = [], []
            try:
                for name, path in checked:
                    steps = per_file.setdefault(name, [])
                    target = name
                    if name in taken and on_conflict == "replace":
                        entry = self.files.to_bin(name, reason="replaced")
                        entries.append(entry)
                        steps.append(lambda e=entry: self.files.undo_to_bin(e))
                    elif name in taken:
                        target = free_name(name, taken | set(names))
                    self.files.put(path, target)
                    steps.append(lambda t=target: self.files.discard(t))
                    undo += steps
                    names.append(target)
                    per_file[target] = per_file.pop(name)
                report = self._reindex(undo, progress)
            except OSError as exc:  # a write failed (disk full, killed copy): nothing is left half done
                self._undo(undo)
                raise LibraryError(f"写入失败，本次上传已撤销，文件库未改变：{exc}") from exc
            except BaseException:
                self._undo(undo)
                raise
            refused = self._take_back_unreadable(names, per_file, report)
        self._remove_uploads([path for _, path in checked])
        kept = tuple(n for n in names if n not in {r for r, _ in refused})
        replaced = tuple(e for e in entries if e.doc_id in kept)
        log.info("library: added %s%s", ", ".join(kept) or "nothing", f"; refused {len(refused)}" if refused else "")
        return LibraryOutcome(kept, report, refused, replaced)

    def delete(self, token: str, doc_id: str, progress: "ProgressCallback | None" = None,
               *, client: str = "local") -> LibraryOutcome:
        """Move an indexed document and its sidecar to the recycle bin and re-index.

        Raises:
            LibraryError: wrong token, not an indexed document inside the corpus (or a link),
                a running ingest, or a failed re-index (undone: the document is back).
        """
        self.authorize(token, client)
        if doc_id not in self.service.documents:
            raise LibraryError(f"没有这个文件：{doc_id!r}")
        entry, report = self._transaction(lambda: self.files.to_bin(doc_id, reason="deleted"),
                                          self.files.undo_to_bin, progress)
        log.info("library: %s moved to the recycle bin (%s)", doc_id, entry.entry_id)
        return LibraryOutcome((doc_id,), report, entries=(entry,))

    def restore(self, token: str, entry_id: str, progress: "ProgressCallback | None" = None,
                *, client: str = "local") -> LibraryOutcome:
        """Bring a recycle-bin entry back into the corpus and re-index (it is answerable again).

        Raises:
            LibraryError: wrong token, no such entry, its name taken, a running ingest, or a
                failed re-index (undone: the entry is back in the bin).
        """
        self.authorize(token, client)
        entry, report = self._transaction(lambda: self.files.from_bin(entry_id), self.files.back_to_bin, progress)
        log.info("library: %s restored from the recycle bin", entry.doc_id)
        return LibraryOutcome((entry.doc_id,), report)

    def empty_bin(self, token: str, entry_ids: Sequence[str] | None = None, *, client: str = "local") -> int:
        """Remove recycle-bin entries for good (all when ``entry_ids`` is ``None``); returns how many."""
        self.authorize(token, client)
        with self._lock:
            count = self.files.empty_bin(entry_ids)
        log.info("library: %d recycle-bin entries removed for good", count)
        return count

    def _transaction(self, change: Callable[[], BinEntry], undo_of: Callable[[BinEntry], None],
                     progress: "ProgressCallback | None") -> tuple[BinEntry, BuildReport]:
        """Make one file change (refused first if an ingest runs), re-index, or undo the change."""
        with self._lock:
            self.files.check_index_free()
            done = change()
            undo = [lambda: undo_of(done)]
            try:
                return done, self._reindex(undo, progress)
            except BaseException:
                self._undo(undo)
                raise

    def _reindex(self, undo: list[Callable[[], None]], progress: "ProgressCallback | None") -> BuildReport:
        try:
            return self.service.reindex(progress)
        except IndexBusyError as exc:
            self._undo(undo)
            undo.clear()
            raise LibraryBusyError("命令行入库正在更新索引，本次操作已撤销，文件库未改变；请等它完成后再试。"
                                   "(An ingest started meanwhile: undone, nothing changed.)") from exc
        except Exception as exc:
            self._undo(undo)
            undo.clear()
            raise LibraryError(f"更新索引失败，本次操作已撤销，文件库未改变：{exc}") from exc

    def _undo(self, steps: list[Callable[[], None]]) -> None:
        for step in reversed(steps):
            try:
                step()
            except (OSError, LibraryError) as exc:  # keep undoing the rest; say what is left over
                log.error("library: could not undo a step (%s); check the corpus folder", exc)
        steps.clear()

    def _take_back_unreadable(self, names: list[str], per_file: dict[str, list[Callable[[], None]]],
                              report: BuildReport) -> tuple[tuple[str, str], ...]:
        """Uploads the ingest could not read are taken back out (a replaced document comes back);
        the index already holds the previous state of those names, so nothing is re-indexed."""
        refused = []
        for name in names:
            reasons = [str(e) for e in report.failed if str(e).startswith(f"{name}:")]
            if reasons:
                self._undo(per_file.get(name, []))
                refused.append((name, reasons[0][len(name) + 1:].strip()))
        return tuple(refused)

    def _remove_uploads(self, paths: Sequence[Path]) -> None:
        """Delete the uploaded temporary files once used (only those inside the upload folders)."""
        for path in paths:
            path = Path(path)
            if self.files.uploads is not None:
                self.files.uploads.forget(path)
            if self.files.upload_dirs and not path.is_symlink() and any(
                    d in path.resolve().parents for d in self.files.upload_dirs):
                path.unlink(missing_ok=True)


def outcome_message(verb: str, outcome: LibraryOutcome, report_text: str = "") -> str:
    """The markdown a person reads after a completed change (names escaped, never markup).

    Example:
        >>> outcome_message("已删除", LibraryOutcome(("a_b.txt",), None))
        '已删除 a\\\\_b\\\\.txt。删除的文件在回收站中，可以恢复。'
    """
    from web.security import escape_markdown

    lines = [f"{verb} {'、'.join(escape_markdown(n) for n in outcome.names) or '（无）'}。"]
    if verb.startswith("已删除"):
        lines[0] += "删除的文件在回收站中，可以恢复。"
    replaced = [e.doc_id for e in outcome.entries if e.reason == "replaced"]
    if replaced:
        lines.append(f"被替换的旧版本已移入回收站：{'、'.join(escape_markdown(n) for n in replaced)}。")
    for name, reason in outcome.refused:
        lines.append(f"未加入 {escape_markdown(name)}：无法读取（{escape_markdown(reason)}），文件库中该名称保持原样。")
    if report_text:
        lines.append(f"```\n{report_text}\n```")
    return "\n\n".join(lines)


def bin_choices(entries: Sequence[BinEntry]) -> list[tuple[str, str]]:
    """(label, entry id) of each recycle-bin entry for a choice list.

    Example:
        >>> bin_choices([BinEntry("20260101T000000-0a1b2c3d", "a.txt", "2026-01-01 00:00:00", "replaced")])
        [('a.txt（2026-01-01 00:00:00 被替换）', '20260101T000000-0a1b2c3d')]
    """
    reasons = {"deleted": "删除", "replaced": "被替换"}
    return [(f"{e.doc_id}（{e.removed_at} {reasons.get(e.reason, e.reason)}）", e.entry_id) for e in entries]
