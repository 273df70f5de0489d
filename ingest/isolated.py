"""Reading corpus files in a worker process, with a time and a memory limit per file.

A damaged or hostile file can keep a parser busy for hours (a page tree that loops, markup
built to make a parser backtrack) or inflate to gigabytes. :class:`IsolatedLoader` reads each
file in a worker process (``python -m ingest.isolated``, started fresh, so it is safe to use from
a threaded server): a file that takes longer than the time limit gets its worker killed, one that
needs more memory than the limit ends in ``MemoryError`` there. Either way the file becomes a
:class:`CorpusError` naming it, the next file gets a fresh worker, and the ingest goes on.
"""

from __future__ import annotations

import importlib
import os
import resource
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

from ingest.types import CorpusError, Document

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_READER = "ingest.pipeline:load_document"
START_TIMEOUT_S = 60.0  # the worker's own start (Python and the ingest modules) is not a file's time


class IsolatedLoader:
    """Loads corpus files one at a time in a worker process, each within a time and a memory limit.

    Use it as a context manager; the worker ends with the block::

        with IsolatedLoader(timeout_s=60, memory_mb=2048) as loader:
            document = loader.load(corpus / "a.pdf", corpus)

    Args:
        timeout_s: seconds one file may take to load; then its worker is killed.
        memory_mb: memory (address space) the worker may add to its own while reading;
            0 for no limit.
        reader: ``"module:function"`` the worker calls as ``function(path, corpus_dir)`` to read a
            file (default :func:`ingest.pipeline.load_document`; tests pass a reader that blocks).
    """

    def __init__(self, timeout_s: float = 60.0, memory_mb: int = 2048, reader: str = DEFAULT_READER) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.reader = reader
        self._worker: subprocess.Popen | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> "IsolatedLoader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load(self, path: Path, corpus_dir: Path) -> Document:
        """Load one file as :func:`ingest.pipeline.load_document` does, in the worker.

        Raises:
            CorpusError: the file cannot be read, took longer than ``timeout_s``, or made the
                worker die (out of memory, a parser crash); the message names the file.
        """
        connection = self._connection or self._start(path)
        connection.send((str(path), str(corpus_dir)))
        if not connection.poll(self.timeout_s):
            self.close(kill=True)
            raise CorpusError(f"{path.name}: reading it took longer than {self.timeout_s:g} s; the file is damaged "
                              "or built to stall readers; re-export it or split it")
        try:
            status, value = connection.recv()
        except (EOFError, OSError):
            self.close(kill=True)
            raise CorpusError(f"{path.name}: the reader process died on this file (out of memory or a parser "
                              "crash); re-export it") from None
        if status == "error":
            raise CorpusError(value)
        return value

    def close(self, kill: bool = False) -> None:
        """End the worker (it exits when its connection closes; ``kill`` does not wait for that)."""
        if self._worker is None:
            return
        self._connection.close()
        if kill:
            self._worker.kill()
        try:
            self._worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._worker.kill()
            self._worker.wait()
        self._worker = self._connection = None

    def _start(self, path: Path) -> Connection:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with theirs:
            self._worker = subprocess.Popen(
                [sys.executable, "-m", "ingest.isolated", str(theirs.fileno()), str(self.memory_mb), self.reader],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env,
            )
        self._connection = Connection(ours.detach())
        try:
            ready = self._connection.poll(START_TIMEOUT_S) and self._connection.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.close(kill=True)
            raise CorpusError(f"{path.name}: the file reader process did not start within {START_TIMEOUT_S:g} s; "
                              f"check that `{sys.executable} -m ingest.isolated` runs")
        return self._connection


def _address_space_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))


def _resolve_reader(reader: str) -> Callable[[Path, Path], Document]:
    module, _, function = reader.partition(":")
    return getattr(importlib.import_module(module), function)


def serve(fd: int, memory_mb: int, reader: str = DEFAULT_READER) -> None:
    """The worker: answer ``(path, corpus_dir)`` requests on the connection ``fd`` until it closes."""
    read = _resolve_reader(reader)
    connection = Connection(fd)
    if memory_mb:
        limit = _address_space_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    connection.send("ready")
    while True:
        try:
            path, corpus_dir = map(Path, connection.recv())
        except EOFError:
            return
        try:
            reply = ("ok", read(path, corpus_dir))
        except CorpusError as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = ("error", f"{path.name}: reading it needed more than {memory_mb} MB of memory; the file is "
                              "damaged or a decompression bomb; re-export it")
        except Exception as exc:  # noqa: BLE001 - any other failure is this file's: name it, serve the next
            reply = ("error", f"{path.name}: cannot be read ({type(exc).__name__}: {str(exc)[:200]}); re-export it")
        connection.send(reply)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])
