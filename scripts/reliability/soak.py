"""Soak: minutes of mixed chat, widget and API traffic on loopback; errors, latency and server memory.

Bounded by ``--minutes``. The server runs in a child process (this script's ``serve`` command) so
that its memory can be sampled from ``/proc``; the load comes from ``--workers`` threads::

    .venv/bin/python -m scripts.reliability.soak --minutes 10 --workers 6 --out runs/reliability/soak
    .venv/bin/python -m scripts.reliability.soak --minutes 5 --real --out runs/reliability/soak-real

Default: the fixture corpus with the fake embedder. ``--real``: the real corpus and index (a copy
of ``index/store``, never written) with the configured embedder, questions from ``eval/qa.jsonl``.

Traffic: JSON API questions (facts, follow-ups with history, hostile text, unanswerable, English),
malformed requests (must get 400), document list, document views, widget page and scripts,
feedback, and Gradio client calls of ``/ask`` and of the streaming ``/chat`` event (new sessions
now and then). An error is any unexpected status, an exception, a timeout, or a wrong answer to a
fixture fact. Writes ``summary.json`` (per-minute requests, errors, p50/p95 latency, RSS) and
prints a Markdown table; exit code 1 on any error or when memory grew more than ``--max-growth-mb``
after the first minute.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXTURE_FACTS = [
    ("温州高新技术企业数量达到多少家？", "4400"),
    ("瓯海区科创走廊年度投资额是多少？", "七十七亿元"),
    ("温岭高新技术企业数达多少家？", "560"),
]
OTHER_QUESTIONS = [
    "<img src=x onerror=alert(1)>转义测试专用编号XSS-4242是什么通知？",
    "火星基地什么时候建成？",
    "What is the target number of high-tech enterprises in Wenzhou?",
    "[链接](javascript:alert(1)) 温州的目标？",
    "温州",
]


# --- the server ---------------------------------------------------------------------------------


def serve(folder: Path, real: bool, port_file: Path) -> None:
    import uvicorn

    from tests.browser_helpers import loopback_socket

    # The soak's threads all come from 127.0.0.1 and stand for many users: no per-client rate limit.
    app, _ = build_app(folder, real, requests_per_minute=1e9, request_burst=10**9)
    sock = loopback_socket()
    port_file.write_text(str(sock.getsockname()[1]))
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


def build_app(folder: Path, real: bool, **changes):
    """(app, settings): the app over the fixture corpus (fake embedder) or a copy of the real index,
    with ``changes`` applied to the settings."""
    from app import create_app
    from tests.browser_helpers import build_fixture_answerer, fixture_settings

    if real:
        from answer.assembly import load_answerer
        from index.embedders import load_embedder
        from settings import load_settings

        settings = load_settings()
        store = folder / "store"
        shutil.copytree(settings.store_dir, store, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
        settings = settings.replace(store_dir=store, feedback_db=folder / "feedback.sqlite3")
        embedder = load_embedder(settings.embedder)
        answerer = load_answerer(settings, embedder)
    else:
        from tests.fakes import FakeEmbedder

        settings = fixture_settings(folder)
        embedder = FakeEmbedder()
        answerer = build_fixture_answerer(settings, embedder)
    settings = settings.replace(**changes) if changes else settings
    return create_app(settings, answerer, embedder=embedder, feedback_db=folder / "feedback.sqlite3"), settings


# --- the load -----------------------------------------------------------------------------------


class Stats:
    """Thread-safe request outcomes, bucketed by minute."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[int, list[float]] = defaultdict(list)
        self.errors: dict[int, list[str]] = defaultdict(list)
        self.kinds: dict[str, int] = defaultdict(int)
        self.started = time.monotonic()

    def record(self, kind: str, seconds: float, error: str = "") -> None:
        minute = int((time.monotonic() - self.started) // 60)
        with self.lock:
            self.kinds[kind] += 1
            self.latency[minute].append(seconds)
            if error:
                self.errors[minute].append(f"{kind}: {error}"[:300])


def http_call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def load_questions(real: bool) -> tuple[list[tuple[str, str | None]], list[str]]:
    if not real:
        return [(q, a) for q, a in FIXTURE_FACTS], [d for d in ("wenzhou.txt", "wenling.txt", "xss.txt", "long.txt")]
    rows = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = sorted({d for r in rows for d in r.get("docs", [])})
    return [(r["question"], None) for r in rows], docs


def worker(port: int, stats: Stats, stop: threading.Event, seed: int, real: bool) -> None:
    from gradio_client import Client

    rng = random.Random(seed)
    facts, docs = load_questions(real)
    client, client_calls = None, 0
    asked: list[str] = []
    while not stop.is_set():
        roll = rng.random()
        started = time.monotonic()
        kind, error = "", ""
        try:
            if roll < 0.35:
                kind = "api_ask"
                question, expected = rng.choice(facts) if rng.random() < 0.7 else (rng.choice(OTHER_QUESTIONS), None)
                history = asked[-3:] if rng.random() < 0.3 else []
                status, body = http_call(port, "POST", "/api/ask",
                                         json.dumps({"question": question, "history": history}, ensure_ascii=False).encode())
                data = json.loads(body)
                if status != 200:
                    error = f"HTTP {status} {body[:120]!r}"
                elif expected and not history and expected not in data["answer"]:
                    error = f"wrong answer to {question}: {data['answer'][:80]}"
                asked = (asked + [question])[-5:]
            elif roll < 0.45:
                kind = "api_bad_request"
                body = rng.choice([b"{", json.dumps({"question": "长" * 600}).encode(), b'{"question": 3}', b"[]"])
                status, _ = http_call(port, "POST", "/api/ask", body)
                if status != 400:
                    error = f"HTTP {status} for a malformed request"
            elif roll < 0.55:
                kind = "api_documents"
                path = rng.choice(["/api/documents", "/api/examples"])
                status, _ = http_call(port, "GET", path)
                error = "" if status == 200 else f"HTTP {status} {path}"
            elif roll < 0.65:
                kind = "doc_view"
                doc = rng.choice(docs)
                start = rng.randint(0, 400)
                status, _ = http_call(port, "GET", f"/doc/{quote(doc)}?start={start}&end={start + 60}")
                error = "" if status == 200 else f"HTTP {status} /doc/{doc}"
            elif roll < 0.70:
                kind = "widget_assets"
                path = rng.choice(["/widget", "/embed.js", "/widget-assets/widget.js", "/widget-assets/widget.css"])
                status, _ = http_call(port, "GET", path)
                error = "" if status == 200 else f"HTTP {status} {path}"
            elif roll < 0.75:
                kind = "feedback"
                status, _ = http_call(port, "POST", "/api/feedback", json.dumps(
                    {"rating": rng.choice(["up", "down"]), "question": "温州的目标？", "answer": "…", "channel": "soak"},
                    ensure_ascii=False).encode())
                error = "" if status == 200 else f"HTTP {status}"
            else:
                if client is None or client_calls >= 20:  # a new browser session now and then
                    client, client_calls = Client(f"http://127.0.0.1:{port}/", verbose=False), 0
                client_calls += 1
                question, expected = rng.choice(facts)
                if rng.random() < 0.5:
                    kind = "gradio_ask"
                    result = client.predict(question, api_name="/ask")
                    answer = result["answer"]
                else:
                    kind = "gradio_chat"
                    result = client.predict(question, api_name="/chat")
                    answer = json.dumps(result, ensure_ascii=False)
                if expected and expected not in answer:
                    error = f"wrong answer to {question}: {answer[:80]}"
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            error = f"{type(exc).__name__}: {exc}"
        stats.record(kind or "unknown", time.monotonic() - started, error)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    serve_command = commands.add_parser("serve", help="(internal) run the server")
    serve_command.add_argument("--folder", required=True)
    serve_command.add_argument("--real", action="store_true")
    serve_command.add_argument("--port-file", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--sample-seconds", type=float, default=5)
    parser.add_argument("--max-growth-mb", type=float, default=50)
    parser.add_argument("--out", default="runs/reliability/soak")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(Path(args.folder), args.real, Path(args.port_file))
        return 0

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    port_file = folder / "port"
    command = [sys.executable, "-m", "scripts.reliability.soak", "serve", "--folder", str(folder),
               "--port-file", str(port_file)] + (["--real"] if args.real else [])
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 300
        while not port_file.exists() or not port_file.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the soak server did not start")
            time.sleep(0.5)
        port = int(port_file.read_text())
        for _ in range(120):  # wait until it answers
            try:
                if http_call(port, "GET", "/api/examples")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        rss_start = rss_mb(server.pid)
        stats, stop = Stats(), threading.Event()
        threads = [threading.Thread(target=worker, args=(port, stats, stop, i, args.real), daemon=True)
                   for i in range(args.workers)]
        for thread in threads:
            thread.start()
        samples: list[tuple[float, float]] = []
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            samples.append((round(time.monotonic() - stats.started, 1), round(rss_mb(server.pid), 1)))
            if server.poll() is not None:
                stats.record("server", 0, f"the server exited with {server.returncode}")
                break
            time.sleep(args.sample_seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)

    minutes = []
    for minute in sorted(stats.latency):
        rss = [r for t, r in samples if minute * 60 <= t < (minute + 1) * 60]
        values = stats.latency[minute]
        minutes.append({"minute": minute + 1, "requests": len(values), "errors": len(stats.errors[minute]),
                        "p50_ms": round(1000 * statistics.median(values)), "p95_ms": round(1000 * percentile(values, 0.95)),
                        "rss_mb_max": max(rss) if rss else None})
    after_warmup = [r for t, r in samples if t >= 60] or [r for _, r in samples]
    growth = round(after_warmup[-1] - after_warmup[0], 1) if after_warmup else 0.0
    errors = [e for minute in sorted(stats.errors) for e in stats.errors[minute]]
    summary = {
        "mode": "real corpus and model" if args.real else "fixture corpus, fake embedder",
        "minutes": args.minutes, "workers": args.workers,
        "requests": sum(m["requests"] for m in minutes), "errors": len(errors), "by_kind": dict(stats.kinds),
        "server_alive_at_end": alive, "rss_mb_at_start": round(rss_start, 1),
        "rss_mb_after_first_minute": after_warmup[0] if after_warmup else None,
        "rss_mb_at_end": samples[-1][1] if samples else None, "rss_growth_after_first_minute_mb": growth,
        "per_minute": minutes, "rss_samples": samples, "first_errors": errors[:20],
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print("| minute | requests | errors | p50 ms | p95 ms | server RSS MB (max) |")
    print("|---|---|---|---|---|---|")
    for m in minutes:
        print(f"| {m['minute']} | {m['requests']} | {m['errors']} | {m['p50_ms']} | {m['p95_ms']} | {m['rss_mb_max']} |")
    print(json.dumps({k: v for k, v in summary.items() if k not in ("per_minute", "rss_samples")}, ensure_ascii=False, indent=2))
    return 0 if not errors and alive and growth <= args.max_growth_mb else 1


if __name__ == "__main__":
    raise SystemExit(main())
