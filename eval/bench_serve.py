"""Serving benchmark: the real app (``app.py``) in its own process, 16 clients on ``POST /api/ask``.

The server is started with ``--no-ingest`` on a free loopback port against the temporary index
built by the ingestion benchmark; its peak memory is read from ``/proc`` before it is stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import httpx

from eval.bench_query import REPO_ROOT, child_environment, peak_rss_mb
from eval.bench_stats import latency_summary
from eval.qa import QACase
from settings import Settings

READY_TIMEOUT_S = 300.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CLIENT_HEADER = "X-Forwarded-For"


class AppServer:
    """``python app.py --no-ingest`` in a child process, stopped on exit from the ``with`` block."""

    def __init__(self, settings: Settings, work: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The clients stand for staff at separate desks: each names its own address in CLIENT_HEADER, which the
        # server trusts as a proxy's, so the per-client limits apply to each one as they would in an office.
        self._settings = settings.replace(host="127.0.0.1", port=self.port, feedback_db=str(work / "feedback.sqlite3"),
                                          trusted_proxy_header=CLIENT_HEADER)
        self._log_path = work / "app-server.log"
        self._process: subprocess.Popen | None = None
        self.ready_seconds = float("nan")

    def __enter__(self) -> "AppServer":
        log = self._log_path.open("w", encoding="utf-8")
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "app.py", "--no-ingest", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO_ROOT, env=child_environment(self._settings), stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = started + READY_TIMEOUT_S
        while time.perf_counter() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the app exited with code {self._process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/api/examples", timeout=2.0).status_code == 200:
                    self.ready_seconds = time.perf_counter() - started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the app was not ready after {READY_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def __exit__(self, *exc_info) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the app server has not been started; use it in a with block")
        return self._process.pid

    def log_tail(self, chars: int = 2000) -> str:
        return self._log_path.read_text(encoding="utf-8", errors="replace")[-chars:] if self._log_path.exists() else ""


def _client_loop(base: str, cases: Sequence[QACase], offset: int, step: int, deadline: float, out: list) -> None:
    with httpx.Client(base_url=base, timeout=120.0, headers={CLIENT_HEADER: f"10.0.0.{offset + 1}"}) as client:
        i = offset
        while time.perf_counter() < deadline:
            case = cases[i % len(cases)]
            i += step
            started = time.perf_counter()
            try:
                response = client.post("/api/ask", json={"question": case.question, "history": list(case.history)})
                ok = response.status_code == 200 and "answer" in response.text
                status = response.status_code
            except httpx.HTTPError as exc:
                ok, status = False, type(exc).__name__
            out.append((started, time.perf_counter(), ok, status))


def run_clients(base: str, cases: Sequence[QACase], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads asking the eval questions in turn for ``seconds``; throughput, latency, errors."""
    results: list[tuple[float, float, bool, Any]] = []
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(base, cases, n, clients, deadline, results), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = max((end for _, end, _, _ in results), default=started)
    elapsed = max(finished - started, 1e-9)
    ok = [end - begin for begin, end, good, _ in results if good]
    errors = [status for _, _, good, status in results if not good]
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(results),
        "ok": len(ok),
        "errors": len(errors),
        "error_kinds": sorted({str(e) for e in errors}),
        "throughput_rps": len(ok) / elapsed,
        "latency": latency_summary(ok) if ok else {},
        "raw_ms": [s * 1000 for s in ok],
        "load": os.getloadavg()[0],
    }


def run_serve_bench(settings: Settings, cases: Sequence[QACase], work: Path, clients: int, seconds: float, log) -> dict[str, Any]:
    """Start the app, time its first answer over HTTP, load it with ``clients`` threads, read its memory."""
    with AppServer(settings, work) as server:
        log(f"serve: app ready after {server.ready_seconds:.1f} s on port {server.port}")
        started = time.perf_counter()
        first = httpx.post(f"{server.base}/api/ask", json={"question": cases[0].question}, timeout=120.0)
        first_ms = (time.perf_counter() - started) * 1000
        rss_idle = peak_rss_mb(server.pid)
        log(f"serve: {clients} clients for {seconds:.0f} s …")
        load = run_clients(server.base, cases, clients, seconds)
        load["app_ready_s"] = server.ready_seconds
        load["first_http_ask_ms"] = first_ms
        load["first_http_status"] = first.status_code
        load["peak_rss_mb_before_load"] = rss_idle
        load["peak_rss_mb"] = peak_rss_mb(server.pid)
    return load
