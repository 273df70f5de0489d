"""Flood: one client floods the JSON API while a few normal users ask; their success rate and latency.

Bounded by ``--seconds``. The server runs in a child process (this script's ``serve`` command),
served as ``python app.py`` serves (``web.server.server_config``). Clients are told apart by their
loopback source address: the flooder is 127.0.0.2, the users 127.0.0.3 and up.

The flooder runs ``--flood-threads`` threads, each asking unique questions with a long history
(20 earlier questions of 400 characters) back to back, as the probe of issue #19 did. Each user
asks a question, waits ``--user-pause`` seconds, and asks again.

``--unfair`` serves without the per-client share and rate limit (one client may take every slot,
as before issue #19) to show the difference on the same machine. Default corpus: the fixture
corpus with the fake embedder; ``--real``: the real corpus and index (copied) with the real model.

    nice -n 5 .venv/bin/python -m scripts.reliability.flood --seconds 60 --out runs/reliability/flood
    nice -n 5 .venv/bin/python -m scripts.reliability.flood --seconds 60 --unfair --out runs/reliability/flood-unfair

Writes ``summary.json``: per role, requests, status counts, success rate, p50/p95 latency (ms).
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOODER = "127.0.0.2"
USER_QUESTIONS = ("温州高新技术企业数量达到多少家？", "温岭科技型中小企业数达到多少家？", "瓯江实验室的目标是什么？")


def serve(folder: Path, real: bool, unfair: bool, port_file: Path) -> None:
    """Run the app on a free loopback port (written to ``port_file``) until killed."""
    import uvicorn

    from scripts.reliability.soak import build_app
    from settings import Settings
    from tests.browser_helpers import loopback_socket
    from web.server import server_config

    changes = {}
    if unfair:  # as before issue #19: no share per client, no rate limit, no connection cap
        defaults = Settings()
        changes = dict(per_client_concurrency=defaults.queue_size + defaults.concurrency_limit, requests_per_minute=1e9,
                       request_burst=10**9, max_connections_per_client=0)
    app, settings = build_app(folder, real, **changes)
    sock = loopback_socket()
    port_file.write_text(str(sock.getsockname()[1]))
    uvicorn.Server(server_config(app, settings, log_level="warning")).run(sockets=[sock])


def ask(port: int, source: str, body: dict) -> tuple[int, float]:
    """(status, seconds) of one ``POST /api/ask`` from ``source``; a failed connection is status 0."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=180, source_address=(source, 0))
    try:
        connection.request("POST", "/api/ask", body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except OSError:
        return 0, time.monotonic() - started
    finally:
        connection.close()


def flooder(port: int, stop: threading.Event, seed: int, results: list) -> None:
    n = 0
    history = [f"第{i}个较长的历史问题：" + "温州高新技术企业研发投入" * 30 for i in range(20)]
    while not stop.is_set():
        n += 1
        status, seconds = ask(port, FLOODER, {"question": f"温州第{seed}-{n}号问题：高新技术企业达到多少家？",
                                              "history": [h[:400] for h in history]})
        results.append((status, seconds))
        if status == 429:
            time.sleep(0.05)  # a flooder that retries at once after a refusal


def user(port: int, stop: threading.Event, address: str, pause: float, results: list) -> None:
    n = 0
    while not stop.is_set():
        status, seconds = ask(port, address, {"question": USER_QUESTIONS[n % len(USER_QUESTIONS)]})
        results.append((status, seconds))
        n += 1
        stop.wait(pause)


def summarize(results: list[tuple[int, float]]) -> dict:
    statuses = Counter(str(s) for s, _ in results)
    ok = [t * 1000 for s, t in results if s == 200]
    latencies = sorted(t * 1000 for _, t in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else None
    return {"requests": len(results), "statuses": dict(statuses),
            "success_rate": round(len(ok) / len(results), 4) if results else None,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(p95, 1) if p95 is not None else None,
            "p95_ok_ms": round(sorted(ok)[int(0.95 * (len(ok) - 1))], 1) if ok else None}


def run(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="flood-"))
    port_file = folder / "port"
    command = [sys.executable, "-m", "scripts.reliability.flood", "serve", "--folder", str(folder),
               "--port-file", str(port_file)] + (["--real"] if args.real else []) + (["--unfair"] if args.unfair else [])
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(out / "server.log", "w"))
    try:
        deadline = time.monotonic() + 300
        while not port_file.exists() or not port_file.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {out / 'server.log'}")
            time.sleep(0.2)
        time.sleep(1.0)
        port = int(port_file.read_text())
        stop = threading.Event()
        flood_results: list = []
        user_results: dict[str, list] = {f"127.0.0.{3 + i}": [] for i in range(args.users)}
        threads = [threading.Thread(target=flooder, args=(port, stop, i, flood_results), daemon=True)
                   for i in range(args.flood_threads)]
        threads += [threading.Thread(target=user, args=(port, stop, a, args.user_pause, r), daemon=True)
                    for a, r in user_results.items()]
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=200)
        users = [r for results in user_results.values() for r in results]
        summary = {"seconds": args.seconds, "unfair": args.unfair, "real": args.real,
                   "flood_threads": args.flood_threads, "users": args.users,
                   "user": summarize(users), "flooder": summarize(flood_results),
                   "server_log_lines": sum(1 for _ in (out / "server.log").open(encoding="utf-8", errors="replace"))}
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "serve"))
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--flood-threads", type=int, default=70)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--user-pause", type=float, default=1.0)
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--unfair", action="store_true")
    parser.add_argument("--out", default="runs/reliability/flood")
    parser.add_argument("--folder")
    parser.add_argument("--port-file")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(Path(args.folder), args.real, args.unfair, Path(args.port_file))
        return 0
    print(json.dumps(run(args), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
