"""The corpus folder as the document library: uploads, a recycle bin, and undo for every step.

Every change is one reversible file operation on the corpus folder, so that the service can make a
library change a transaction (change, re-index, or undo the change and say so):

- :meth:`Library.put` writes an upload aside (hidden name, so no ingest reads it), ``fsync``\\ s it
  and links it in under its name, refusing to replace a file that is there (no silent replace).
- :meth:`Library.to_bin` moves a document and its sidecar into ``corpus/.recycle/<entry>/`` (same
  file system: a rename); :meth:`Library.from_bin` moves them back; :meth:`Library.empty_bin`
  removes entries for good.
- Nothing here follows a symbolic link: a link in the corpus is neither read, moved nor deleted
  through, and an upload is only taken from inside the upload folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from index.store import ingest_lock
from index.types import IndexBusyError
from ingest.loaders import MAX_FILE_BYTES
from ingest.metadata import SIDECAR_SUFFIX

RECYCLE_DIR = ".recycle"
ENTRY_FILE = "entry.json"
_ENTRY_ID = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")


class LibraryError(ValueError):
    """A library change was refused or undone (no admin token, bad file name, unknown document…)."""


class LibraryBusyError(LibraryError):
    """An ingest (the command line's or another change) holds the index lock: nothing was changed."""


class NameTakenError(LibraryError):
    """An upload has the name of a document already in the library; the caller must choose."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(f"文件库中已有同名文件：{'、'.join(names)}。文件库未改变；请选择“替换（旧版本移入回收站）”或"
                         "“保留两份（新文件改名）”后再上传。(A document with this name exists: choose replace or keep both.)")


@dataclass(frozen=True)
class BinEntry:
    """One recycle-bin entry: a document (and its sidecar) moved out of the corpus.

    ``reason`` is ``"deleted"`` or ``"replaced"`` (an upload of the same name took its place).
    """

    entry_id: str
    doc_id: str
    removed_at: str
    reason: str


def free_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``stem (2).suffix``, ``stem (3).suffix``… the first not in ``taken``.

    Example:
        >>> free_name("规划.txt", {"规划.txt", "规划 (2).txt"})
        '规划 (3).txt'
    """
    taken = set(taken)
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    return candidate


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Library:
    """The corpus folder's documents, the recycle bin beside them, and where uploads may come from.

    Args:
        corpus_dir: the corpus folder (``settings.corpus_dir``).
        store_dir: the index folder, whose lock says whether an ingest is running.
        upload_dirs: folders an upload must be inside (Gradio's upload folder); empty: any path
            given by library code itself (tests, scripts), never one from a request.
        uploads: when given, an upload must also be a file the upload endpoint stored
            (:class:`web.uploads.UploadRegistry`), not a server file copied in by name.
    """

    def __init__(self, corpus_dir: Path, store_dir: Path, upload_dirs: Iterable[Path] = (), uploads=None) -> None:
        self.corpus = Path(corpus_dir)
        self.store_dir = Path(store_dir)
        self.upload_dirs = tuple(Path(p).resolve() for p in upload_dirs)
        self.uploads = uploads
        self.bin = self.corpus / RECYCLE_DIR

    # --- checks --------------------------------------------------------------------------------

    def check_index_free(self) -> None:
        """Raise :class:`LibraryBusyError` when an ingest holds the index lock (checked, then released)."""
        try:
            with ingest_lock(self.store_dir):
                pass
        except IndexBusyError as exc:
            raise LibraryBusyError("命令行入库（或另一项文件库操作）正在更新索引，文件库未改变；请等它完成后再试。"
                                   "(An ingest is running: nothing was changed; try again when it is done.)") from exc

    def check_upload(self, path: Path) -> Path:
        """The upload's path if it is a regular file inside an upload folder, within the size limit.

        Raises:
            LibraryError: a server path, a link, a folder, a missing file or one over the limit.
        """
        path = Path(path)
        try:
            info = path.lstat()
        except OSError:
            raise LibraryError(f"上传的文件不存在：{path.name}（请重新选择文件上传）") from None
        if not stat.S_ISREG(info.st_mode):
            raise LibraryError(f"只接受本次上传的普通文件：{path.name}")
        if (self.upload_dirs and not any(d in path.resolve().parents for d in self.upload_dirs)) or (
                self.uploads is not None and not self.uploads.holds(path)):
            raise LibraryError(f"只接受本次上传的文件，不接受服务器上的路径：{path.name}")
        if info.st_size > MAX_FILE_BYTES:
            raise LibraryError(f"{path.name} 超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，无法上传。")
        return path

    def document_path(self, doc_id: str) -> Path:
        """The corpus path of ``doc_id``, checked: inside the corpus, no link on the way, a regular file.

        Raises:
            LibraryError: the id leaves the corpus, passes a link, or names no regular file.
        """
        parts = Path(doc_id).parts
        if not parts or any(p in ("", ".", "..") or p.startswith(".") for p in parts) or Path(doc_id).is_absolute():
            raise LibraryError(f"文件不在资料目录中：{doc_id!r}")
        path = self.corpus
        for part in parts:
            path = path / part
            if path.is_symlink():
                raise LibraryError(f"{doc_id} 是符号链接，文件库不经由链接读取或删除文件。")
        if not path.is_file():
            raise LibraryError(f"没有这个文件：{doc_id!r}")
        return path

    def names(self) -> set[str]:
        """Names taken at the corpus folder's top level (files, links, folders)."""
        return {p.name for p in self.corpus.iterdir()} if self.corpus.is_dir() else set()

    # --- uploads -------------------------------------------------------------------------------

    def put(self, source: Path, name: str) -> Path:
        """Copy ``source`` into the corpus as ``name``: written aside, ``fsync``\\ ed, linked in.

        Raises:
            NameTakenError: ``name`` exists (it is never replaced here).
        """
        self.corpus.mkdir(parents=True, exist_ok=True)
        target = self.corpus / name
        aside = self.corpus / f".upload-{secrets.token_hex(6)}.part"
        try:
            with Path(source).open("rb") as reader, aside.open("xb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
                writer.flush()
                os.fsync(writer.fileno())
            try:
                os.link(aside, target)  # fails if the name exists: never a silent replace
            except FileExistsError:
                raise NameTakenError([name]) from None
        finally:
            aside.unlink(missing_ok=True)
        _fsync_dir(self.corpus)
        return target

    def discard(self, name: str) -> None:
        """Remove a file :meth:`put` added (to undo it)."""
        (self.corpus / name).unlink(missing_ok=True)

    # --- recycle bin ---------------------------------------------------------------------------

    def to_bin(self, doc_id: str, reason: str = "deleted") -> BinEntry:
        """Move ``doc_id`` and its sidecar into a new recycle-bin entry.

        Raises:
            LibraryError: as :meth:`document_path`.
        """
        path = self.document_path(doc_id)
        entry = BinEntry(f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}", doc_id,
                         time.strftime("%Y-%m-%d %H:%M:%S"), reason)
        folder = self.bin / entry.entry_id
        folder.mkdir(parents=True)
        (folder / ENTRY_FILE).write_text(json.dumps(entry.__dict__, ensure_ascii=False), encoding="utf-8")
        os.rename(path, folder / path.name)
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if sidecar.is_file() and not sidecar.is_symlink():
            os.rename(sidecar, folder / sidecar.name)
        _fsync_dir(path.parent)
        return entry

    def from_bin(self, entry_id: str) -> BinEntry:
        """Move an entry's document and sidecar back to where they were; the entry is removed.

        Raises:
            LibraryError: no such entry, or its name is taken in the corpus now.
        """
        entry = self._entry(entry_id)
        folder, target = self.bin / entry_id, self.corpus / entry.doc_id
        if target.exists() or target.is_symlink():
            raise LibraryError(f"文件库中已有 {entry.doc_id}：请先删除或改名后再恢复。文件库未改变。")
        target.parent.mkdir(parents=True, exist_ok=True)
        name = Path(entry.doc_id).name
        os.rename(folder / name, target)
        if (folder / (name + SIDECAR_SUFFIX)).is_file():
            os.rename(folder / (name + SIDECAR_SUFFIX), target.with_name(name + SIDECAR_SUFFIX))
        shutil.rmtree(folder)
        _fsync_dir(target.parent)
        return entry

    def back_to_bin(self, entry: BinEntry) -> None:
        """Undo :meth:`from_bin`: the same entry again, with the same id."""
        folder = self.bin / entry.entry_id
        folder.mkdir(parents=True)
        (folder / ENTRY_FILE).write_text(json.dumps(entry.__dict__, ensure_ascii=False), encoding="utf-8")
        path = self.corpus / entry.doc_id
        os.rename(path, folder / path.name)
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        if sidecar.is_file():
            os.rename(sidecar, folder / sidecar.name)

    def undo_to_bin(self, entry: BinEntry) -> None:
        """Undo :meth:`to_bin` (the document goes back; its entry is removed)."""
        self.from_bin(entry.entry_id)

    def bin_entries(self) -> list[BinEntry]:
        """The recycle bin's entries, newest first (unreadable ones left out)."""
        entries = []
        for folder in self.bin.iterdir() if self.bin.is_dir() else ():
            try:
                entries.append(self._entry(folder.name))
            except LibraryError:
                continue
        return sorted(entries, key=lambda e: e.entry_id, reverse=True)

    def empty_bin(self, entry_ids: Iterable[str] | None = None) -> int:
        """Remove entries for good (all when ``entry_ids`` is ``None``); returns how many."""
        ids = [e.entry_id for e in self.bin_entries()] if entry_ids is None else list(entry_ids)
        for entry_id in ids:
            self._entry(entry_id)
            shutil.rmtree(self.bin / entry_id)
        return len(ids)

    def _entry(self, entry_id: str) -> BinEntry:
        folder = self.bin / str(entry_id)
        if not _ENTRY_ID.match(str(entry_id)) or folder.is_symlink() or not (folder / ENTRY_FILE).is_file():
            raise LibraryError(f"回收站中没有这一项：{entry_id!r}")
        try:
            data = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
            return BinEntry(str(data["entry_id"]), str(data["doc_id"]), str(data["removed_at"]), str(data["reason"]))
        except (OSError, ValueError, KeyError) as exc:
            raise LibraryError(f"回收站的这一项已损坏：{entry_id}（{exc}）") from exc
