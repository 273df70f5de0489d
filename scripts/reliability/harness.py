"""Load one corpus file in a forked child with a time and a memory limit, and say what happened.

The parent must be single-threaded when it forks (a test process or a script, not the app).
The child runs :func:`ingest.pipeline.load_document` and cuts the document into chunks, as an
ingest does, and reports back through a pipe; the parent
kills it when the time limit passes. The child's address space is capped, so a decompression
bomb ends in ``MemoryError`` in the child instead of the machine's OOM killer.

Outcomes:

- ``loaded``: the file loaded (it was readable after all: a wrong encoding guessed, a damaged
  DOCX that still parsed).
- ``rejected``: a :class:`~ingest.types.CorpusError` whose message names the file.
- ``unnamed``: a ``CorpusError`` that does not name the file (a bug: the user cannot tell which).
- ``crashed``: any other exception escaped the loader (a bug: it would stop the whole ingest).
- ``timeout``: still running at the time limit (a bug: it would hang the ingest).
- ``died``: the child was killed by a signal (out of memory, a segfault in a C parser).
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

CHUNK_SIZE, CHUNK_OVERLAP = 300, 60  # the default settings
OUTCOMES = ("loaded", "rejected", "unnamed", "crashed", "timeout", "died")
BAD_OUTCOMES = ("unnamed", "crashed", "timeout", "died")


def warm_up() -> None:
    """Import every parser in the parent once, so that each forked child starts warm."""
    import bs4  # noqa: F401
    import charset_normalizer  # noqa: F401
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    import ingest.chunking  # noqa: F401
    import ingest.pipeline  # noqa: F401
    from ingest.chunking import split_into_chunks
    from ingest.types import Document

    split_into_chunks(Document("w.txt", "w.txt", "w", "一、总则\n正文。", "0"))


@dataclass(frozen=True)
class LoadOutcome:
    """What loading one file did."""

    name: str
    kind: str
    size: int
    outcome: str
    message: str
    seconds: float
    peak_rss_mb: float
    text_chars: int = 0
    chunks: int = 0
    title_chars: int = 0
    rss_growth_mb: float = 0.0  # the child's peak resident memory above what it had when forked


    def as_json(self) -> dict:
        return asdict(self)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def _reset_peak_rss() -> int:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; return that RSS in kB.

    A forked child shares its parent's pages: its RSS and ``ru_maxrss`` start at the parent's
    size (over 1 GB in a test session that has loaded the models), which says nothing about
    what the loader itself allocated.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass
    return _status_kb("VmRSS")


def _child(path: Path, corpus_dir: Path, memory_mb: int, write_fd: int) -> None:
    from ingest.chunking import split_into_chunks
    from ingest.pipeline import load_document
    from ingest.types import CorpusError

    if memory_mb:
        # Cap the address space above what the forked child already maps.
        vm = _status_kb("VmSize") * 1024
        limit = vm + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rss_at_start_kb = _reset_peak_rss()
    try:
        document = load_document(path, corpus_dir)
        chunks = split_into_chunks(document, CHUNK_SIZE, CHUNK_OVERLAP)  # what the ingest does next
        result = {"outcome": "loaded", "message": "", "text_chars": len(document.text), "chunks": len(chunks),
                  "title_chars": len(document.title)}
        if "root:x:0:0" in document.text:
            result = {"outcome": "crashed", "message": "the text contains /etc/passwd (external entity resolved)",
                      "text_chars": len(document.text)}
    except CorpusError as exc:
        result = {"outcome": "rejected" if path.name in str(exc) else "unnamed", "message": str(exc)[:500]}
    except BaseException as exc:  # noqa: BLE001 - the point is to see what escapes
        result = {"outcome": "crashed", "message": f"{type(exc).__name__}: {exc}"[:300] + "\n"
                  + "".join(traceback.format_exc(limit=-4))[-1500:]}
    result["rss_growth_mb"] = max(0, _status_kb("VmHWM") - rss_at_start_kb) / 1024
    os.write(write_fd, json.dumps(result, ensure_ascii=False).encode("utf-8"))
    os.close(write_fd)


def load_with_limits(path: Path, corpus_dir: Path, kind: str = "", timeout_s: float = 30.0,
                     memory_mb: int = 4096) -> LoadOutcome:
    """Load ``path`` in a forked child; kill it after ``timeout_s``; cap its memory at ``memory_mb`` MB more."""
    warm_up()
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            _child(path, corpus_dir, memory_mb, write_fd)
        except BaseException:  # noqa: BLE001
            code = 3
        os._exit(code)
    os.close(write_fd)
    chunks, timed_out = [], False
    while True:
        left = timeout_s - (time.monotonic() - started)
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
        if ready:
            data = os.read(read_fd, 1 << 16)
            if not data:
                break
            chunks.append(data)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    os.close(read_fd)
    seconds = time.monotonic() - started
    peak = usage.ru_maxrss / 1024
    size = path.stat().st_size if path.exists() else 0
    if timed_out:
        return LoadOutcome(path.name, kind, size, "timeout", f"still running after {timeout_s:.0f} s", seconds, peak)
    if not chunks:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        return LoadOutcome(path.name, kind, size, "died", f"the loader process ended without a result ({how})", seconds, peak)
    result = json.loads(b"".join(chunks).decode("utf-8"))
    return LoadOutcome(path.name, kind, size, result["outcome"], result["message"], seconds, peak,
                       result.get("text_chars", 0), result.get("chunks", 0), result.get("title_chars", 0),
                       result.get("rss_growth_mb", 0.0))


__all__ = ["BAD_OUTCOMES", "OUTCOMES", "LoadOutcome", "load_with_limits"]
