"""Second, independent probe of issue #19's findings against the real running app (loopback only).

Starts ``python app.py --no-ingest`` (real model) on a copy of a built store and of the corpus in
``--work``, with a strong admin token and ``frame_ancestors='*'`` (the widget's most permissive
setting), then replays each attack of the issue over HTTP: raw Gradio queue events, the JSON API,
half-sent sockets, a CLI ``python -m ingest`` holding the lock. Clients are told apart by their loopback
source address (127.0.0.2 floods, 127.0.0.3+ are normal users). Every probe is bounded in time and size.

    # once: build a store from a copy of corpus/ (real model, ~2 min)
    cp -r corpus /tmp/probe-corpus
    POLICYQA_STORE_DIR=/tmp/probe-store POLICYQA_CORPUS_DIR=/tmp/probe-corpus .venv/bin/python -m ingest
    nice -n 10 .venv/bin/python -m scripts.reliability.probe_second --store /tmp/probe-store \
        --corpus /tmp/probe-corpus --out runs/reliability/probe-second

Writes ``summary.json`` (one entry per probe: what was sent, what came back, figures) and the app logs.
``--only name,name`` runs some probes.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
CANARY = "探针金丝雀" + secrets.token_hex(4)


# --- HTTP helpers ---------------------------------------------------------------------------------

class Http:
    """Requests to one server from a chosen loopback source address."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 60.0) -> None:
        self.port, self.source, self.timeout = port, source, timeout

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        if isinstance(body, dict) or isinstance(body, list):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        if isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout,
                                          source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            return 0, {"error": type(exc).__name__}, b""
        finally:
            conn.close()

    def event(self, fn_index: int, data: list, session: str | None = None, trigger: int | None = None,
              wait_s: float = 120.0) -> dict:
        """Join Gradio's queue with one event (as the page's script does) and read its result."""
        session = session or uuid.uuid4().hex[:11]
        status, _, body = self.request("POST", "/gradio_api/queue/join", {
            "data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": trigger, "event_data": None})
        if status != 200:
            return {"ok": False, "join_status": status, "error": body.decode("utf-8", "replace")[:300]}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=wait_s, source_address=(self.source, 0))
        try:
            conn.request("GET", f"/gradio_api/queue/data?session_hash={session}")
            resp = conn.getresponse()
            ranks = []
            for raw in resp:
                if not raw.startswith(b"data:"):
                    continue
                message = json.loads(raw[5:])
                if message.get("msg") == "estimation":
                    ranks.append((message.get("rank"), message.get("queue_size")))
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    return {"ok": bool(message.get("success")), "data": output.get("data"),
                            "error": output.get("error"), "ranks": ranks}
                if message.get("msg") == "unexpected_error":
                    return {"ok": False, "error": message.get("message"), "ranks": ranks}
            return {"ok": False, "error": "stream ended", "ranks": ranks}
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return {"ok": False, "error": type(exc).__name__}
        finally:
            conn.close()

    def upload(self, name: str, content: bytes) -> tuple[int, object]:
        """POST one file to Gradio's upload endpoint (multipart); returns status and the JSON answer."""
        boundary = "probe" + secrets.token_hex(8)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        status, _, answer = self.request("POST", "/gradio_api/upload", body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            return status, json.loads(answer)
        except ValueError:
            return status, answer.decode("utf-8", "replace")[:200]


def file_data(path: str, name: str | None = None) -> dict:
    return {"path": path, "url": None, "size": None, "orig_name": name or Path(path).name, "mime_type": None,
            "is_stream": False, "meta": {"_type": "gradio.FileData"}}


def text_of(result: dict) -> str:
    """The status markdown of a library event (first output), or its error."""
    data = result.get("data") or []
    first = data[0] if data else None
    return str(first if isinstance(first, str) else result.get("error") or first)[:400]


# --- the app under test ---------------------------------------------------------------------------

class App:
    """``python app.py --no-ingest`` on a free loopback port, with its own store, corpus and temp folders."""

    def __init__(self, work: Path, store: Path, corpus: Path, name: str, token: str, **env: str) -> None:
        self.dir = work / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.store, self.corpus = self.dir / "store", self.dir / "corpus"
        shutil.copytree(store, self.store, symlinks=True)
        shutil.copytree(corpus, self.corpus, symlinks=True)
        self.log = self.dir / "app.log"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = {**os.environ, "POLICYQA_STORE_DIR": str(self.store), "POLICYQA_CORPUS_DIR": str(self.corpus),
                    "POLICYQA_FEEDBACK_DB": str(self.dir / "feedback.sqlite3"), "POLICYQA_ADMIN_TOKEN": token,
                    "GRADIO_TEMP_DIR": str(self.dir / "gradio"), **{f"POLICYQA_{k.upper()}": v for k, v in env.items()}}
        self.token = token
        self.proc: subprocess.Popen | None = None

    def start(self, wait_s: float = 240.0) -> "App":
        self.proc = subprocess.Popen(["nice", "-n", "10", PY, "app.py", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--no-ingest"], cwd=ROOT, env=self.env, stdout=self.log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if Http(self.port, timeout=2).request("GET", "/api/examples")[0] == 200:
                return self
            time.sleep(1)
        raise RuntimeError("app did not start in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def fn(self, name: str) -> tuple[int, int | None]:
        """fn_index and trigger id of the page's event handler ``name`` (from /config)."""
        config = json.loads(Http(self.port).request("GET", "/config")[2])
        dep = next(d for d in config["dependencies"] if d.get("api_name") == name)
        return dep["id"], (dep["targets"][0][0] if dep["targets"] else None)

    def corpus_listing(self) -> dict[str, str]:
        out = {}
        for p in sorted(self.corpus.rglob("*")):
            if p.is_file() and not p.is_symlink():
                out[str(p.relative_to(self.corpus))] = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        return out

    def lock_held(self) -> bool:
        with (self.store / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


# --- High ------------------------------------------------------------------------------------------

def probe_server_path_upload(app: App) -> dict:
    """The upload event called with server paths in place of an uploaded file (raw queue, gradio_client)."""
    canary = app.dir / "server_secret.txt"
    canary.write_text(f"服务器上的私密文件 {CANARY}\n", encoding="utf-8")
    fn, trigger = app.fn("on_upload")
    before = app.corpus_listing()
    client = Http(app.port)
    # a real upload first: its folder is the one Gradio copies server files into
    status, stored = client.upload("legit_probe.txt", "合法上传的探针文件。".encode())
    upload_dir = str(Path(stored[0]).parent.parent) if status == 200 and isinstance(stored, list) else "/tmp/gradio"
    attempts = {
        "canary": [file_data(str(canary))],
        "requirements": [file_data(str(ROOT / "requirements.txt"))],
        "readme": [file_data(str(ROOT / "README.md"))],
        "dotdot_from_upload_dir": [file_data(upload_dir + "/.." * len(Path(upload_dir).parts) + str(canary), "x.txt")],
        "url_field": [{**file_data(str(canary)), "path": None, "url": f"file://{canary}"}],
        "http_url_to_gradio_file": [{**file_data(str(canary)), "url": f"http://127.0.0.1:{app.port}/gradio_api/file={canary}"}],
        "legit_plus_server": [file_data(stored[0]) if isinstance(stored, list) else {}, file_data(str(canary))],
    }
    results = {}
    for label, files in attempts.items():
        r = client.event(fn, [app.token, files, "keep_both"], trigger=trigger)
        results[label] = text_of(r)
    # gradio_client, as a script would call it
    try:
        from gradio_client import Client
        gc = Client(f"http://127.0.0.1:{app.port}/", verbose=False)
        try:
            out = gc.predict(app.token, [file_data(str(canary))], "keep_both", fn_index=fn)
            results["gradio_client_dict"] = str(out[0])[:300]
        except Exception as exc:  # noqa: BLE001 - the refusal is the finding
            results["gradio_client_dict"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        try:
            out = gc.predict(app.token, [str(canary)], "keep_both", fn_index=fn)
            results["gradio_client_str"] = str(out[0])[:300]
        except Exception as exc:  # noqa: BLE001
            results["gradio_client_str"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    except ImportError:
        results["gradio_client"] = "not installed"
    after = app.corpus_listing()
    added = sorted(set(after) - set(before))
    canary_served = []
    for name in added + ["server_secret.txt", "requirements.txt", "README.md"]:
        for route in ("/doc/", "/file/"):
            s, _, body = client.request("GET", route + name)
            if s == 200 and (CANARY.encode() in body or b"==" in body and name == "requirements.txt"):
                canary_served.append(route + name)
    leaked = [n for n in added if CANARY.encode() in (app.corpus / n).read_bytes()
              or (app.corpus / n).read_bytes() == (ROOT / "requirements.txt").read_bytes()
              or (app.corpus / n).read_bytes() == (ROOT / "README.md").read_bytes()]
    return {"messages": results, "added_to_corpus": added, "server_files_in_corpus": leaked,
            "served": canary_served, "harm": bool(leaked or canary_served)}


def _ask_body(i: int, long_history: bool) -> dict:
    history = [f"第{j}个历史问题：" + "关于研发投入与高新技术企业的政策要求" * 20 for j in range(20)] if long_history else []
    return {"question": f"温州高新技术企业的目标是多少？（编号{i}-{secrets.token_hex(3)}）", "history": [h[:400] for h in history]}


def _users(port: int, addresses: list[str], stop: threading.Event, call) -> list[tuple[float, bool, str]]:
    results: list[tuple[float, bool, str]] = []

    def user(address: str) -> None:
        i = 0
        while not stop.is_set():
            t0 = time.monotonic()
            ok, why, *extra = call(Http(port, address, timeout=150), i)
            results.append(((time.monotonic() - t0) * 1000, ok, why, extra[0] if extra else []))
            i += 1
            stop.wait(1.0)

    threads = [threading.Thread(target=user, args=(a,), daemon=True) for a in addresses]
    for t in threads:
        t.start()
    return results, threads


def _user_figures(results) -> dict:
    lat = [r[0] for r in results]
    ok = [r for r in results if r[1]]
    return {"requests": len(results), "ok": len(ok), "success_rate": round(len(ok) / max(1, len(results)), 3),
            "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "max_ms": round(max(lat), 1) if lat else None,
            "failures": dict(Counter(r[2] for r in results if not r[1]))}


def probe_api_flood(app: App, seconds: float, threads: int) -> dict:
    """One client (127.0.0.2), many threads of unique long-history questions on /api/ask; three users."""
    stop = threading.Event()
    flood_status: Counter = Counter()

    def flooder(k: int) -> None:
        http_ = Http(app.port, "127.0.0.2", timeout=150)
        i = 0
        while not stop.is_set():
            s, _, _ = http_.request("POST", "/api/ask", _ask_body(k * 100000 + i, True))
            flood_status[s] += 1
            i += 1
            if s != 200:
                time.sleep(0.05)

    def ask(h: Http, i: int):
        s, _, body = h.request("POST", "/api/ask", {"question": "温州高新技术企业数量达到多少家？"})
        return s == 200, str(s)

    workers = [threading.Thread(target=flooder, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    time.sleep(2)
    results, users = _users(app.port, ["127.0.0.3", "127.0.0.4", "127.0.0.5"], stop, ask)
    time.sleep(seconds)
    stop.set()
    for t in users + workers:
        t.join(160)
    return {"seconds": seconds, "flood_threads": threads, "user": _user_figures(results),
            "flooder_statuses": dict(flood_status)}


def probe_queue_flood(app: App, seconds: float) -> dict:
    """One client (127.0.0.6) joins Gradio's queue with the public ``ask`` (long history) as fast as it is
    let, never waiting for answers; two users ask on the chat page's ``chat`` event."""
    ask_fn, _ = app.fn("ask")
    chat_fn, chat_trigger = app.fn("chat")
    stop = threading.Event()
    joins: Counter = Counter()
    session = uuid.uuid4().hex[:11]
    terms = "研发投入 高新技术企业 科技型中小企业 专利 人才 实验室 产业园区 数字经济 制造业 碳排放 财政补贴 税收优惠 土地 融资".split()

    def costly_question(i: int) -> str:  # unique 499-character questions of many terms: ~0.5 s each to answer
        shift = i % len(terms)
        return (f"{i}-{secrets.token_hex(3)}" + "和".join((terms[shift:] + terms[:shift]) * 20))[:499]

    history = [("和".join(terms[::-1]) * 10)[:499] for _ in range(20)]
    completed = Counter()

    def reader() -> None:  # the flooder reads its answers too (the stream ends when nothing is pending: reopen)
        time.sleep(0.5)
        while not stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30, source_address=("127.0.0.6", 0))
            try:
                conn.request("GET", f"/gradio_api/queue/data?session_hash={session}")
                for raw in conn.getresponse():
                    if b'"process_completed"' in raw:
                        completed["ok" if b'"success": true' in raw or b'"success":true' in raw else "failed"] += 1
                    if stop.is_set():
                        break
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            stop.wait(0.2)

    def joiner() -> None:
        h = Http(app.port, "127.0.0.6", timeout=30)
        i = 0
        while not stop.is_set():
            s, headers, body = h.request("POST", "/gradio_api/queue/join", {
                "data": [costly_question(i), history, None], "fn_index": ask_fn,
                "session_hash": session, "trigger_id": None, "event_data": None})
            joins[s if s != 429 and s != 503 else f"{s}"] += 1
            if s != 200:
                joins[body.decode("utf-8", "replace")[:60]] += 0
                time.sleep(min(float(headers.get("retry-after", 0.5) or 0.5), 1.0))
            i += 1

    def chat(h: Http, i: int):
        r = h.event(chat_fn, ["温州高新技术企业数量达到多少家？", None, None, None, [], [], [], []], trigger=chat_trigger,
                    wait_s=150)
        return (r.get("ok", False), str(r.get("error") or r.get("join_status") or "ok")[:60],
                [q for _, q in r.get("ranks") or []])

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=joiner, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(3)
    results, users = _users(app.port, ["127.0.0.7", "127.0.0.8"], stop, chat)
    time.sleep(seconds)
    stop.set()
    for t in users:
        t.join(160)
    queue_sizes = [q for r in results for q in r[3] if q is not None]
    return {"seconds": seconds, "user_chat": _user_figures(results), "flooder_joins": dict(joins),
            "flooder_answers_read": dict(completed), "queue_size_seen_by_users_max": max(queue_sizes, default=None),
            "queue_size_seen_by_users_last": queue_sizes[-1] if queue_sizes else None}


def probe_slowloris(app: App, seconds: float) -> dict:
    """Half-sent requests: header trickle and body trickle from 4 addresses (50 each), a 100-connection
    burst from one address; a user fetching /api/examples meanwhile; log growth."""
    log0 = app.log_size()
    socks: list[tuple[str, socket.socket]] = []

    def open_conn(source: str, kind: str) -> None:
        s = socket.socket()
        s.settimeout(5)
        try:
            s.bind((source, 0))
            s.connect(("127.0.0.1", app.port))
            if kind == "headers":
                s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100000\r\n\r\n{")
            s.setblocking(False)
            socks.append((kind, s))
        except OSError:
            s.close()

    for a in range(4):
        for _ in range(50):
            open_conn(f"127.0.0.{20 + a}", "headers")
            open_conn(f"127.0.0.{30 + a}", "body")
    opened = Counter(k for k, _ in socks)

    def alive(s: socket.socket) -> bool:
        try:
            data = s.recv(1024)
            return data != b"" and not data.startswith(b"HTTP/1.1 4")
        except BlockingIOError:
            return True
        except OSError:
            return False

    samples = {}
    user_ok = user_all = 0
    t0 = time.monotonic()
    next_sample = [5, 15, 30, 45, 58]
    while time.monotonic() - t0 < seconds:
        for kind, s in socks:
            try:
                s.send(b"X" if kind == "headers" else b" ")  # one byte keeps the connection busy
            except OSError:
                pass
        s_, _, _ = Http(app.port, "127.0.0.3", timeout=5).request("GET", "/api/examples")
        user_all += 1
        user_ok += s_ == 200
        elapsed = time.monotonic() - t0
        if next_sample and elapsed >= next_sample[0]:
            samples[f"{next_sample.pop(0)}s"] = dict(Counter(k for k, s in socks if alive(s)))
        time.sleep(1.0)
    for _, s in socks:
        s.close()
    # one address, 100 connections at once: how many are kept
    burst = []
    for _ in range(100):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.bind(("127.0.0.40", 0))
            s.connect(("127.0.0.1", app.port))
            burst.append(s)
        except OSError:
            s.close()
    time.sleep(1)
    for s in burst:
        s.setblocking(False)
    burst_open = sum(alive(s) for s in burst)
    for s in burst:
        s.close()
    time.sleep(1)
    return {"opened": dict(opened), "open_after": samples, "user_requests": user_all, "user_ok": user_ok,
            "one_address_burst_100_kept": burst_open, "log_bytes_added": app.log_size() - log0}


def probe_disconnects(app: App, count: int = 60) -> dict:
    """Clients that send a question and leave before the answer: log lines and bytes per disconnect."""
    log0, lines0 = app.log_size(), app.log.read_bytes().count(b"\n")
    for i in range(count):
        s = socket.socket()
        try:
            s.bind((f"127.0.0.{50 + i % 4}", 0))
            s.connect(("127.0.0.1", app.port))
            body = json.dumps(_ask_body(i, True)).encode()
            head = (f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            s.sendall(head + (body if i % 2 else body[: len(body) // 2]))
            time.sleep(0.05)
        except OSError:
            pass
        finally:
            s.close()
    time.sleep(8)
    added = app.log.read_bytes()[log0:]
    return {"disconnects": count, "log_bytes_added": len(added), "log_lines_added": added.count(b"\n"),
            "tracebacks": added.count(b"Traceback"), "sample": added.decode("utf-8", "replace")[-600:]}


# --- Medium ----------------------------------------------------------------------------------------

def _upload_event(app: App, name: str, content: bytes, conflict: str, source: str = "127.0.0.1") -> str:
    client = Http(app.port, source)
    status, stored = client.upload(name, content)
    if status != 200 or not isinstance(stored, list):
        return f"upload endpoint {status}: {stored}"
    fn, trigger = app.fn("on_upload")
    return text_of(client.event(fn, [app.token, [file_data(stored[0], name)], conflict], trigger=trigger))


def probe_same_name(app: App) -> dict:
    """Upload under an existing name that has a sidecar: refuse / replace / keep both."""
    name = next(p.name for p in sorted(app.corpus.iterdir()) if p.name.endswith(".txt")
                and (app.corpus / (p.name + ".meta.json")).is_file())
    old_title = json.loads((app.corpus / (name + ".meta.json")).read_text())["title"]
    old_hash = hashlib.sha256((app.corpus / name).read_bytes()).hexdigest()
    new_text = f"探针新版本标题{CANARY}\n\n这是同名上传的新版本正文，内容与旧文件完全不同。" * 3
    refused = _upload_event(app, name, new_text.encode(), "refuse")
    unchanged = hashlib.sha256((app.corpus / name).read_bytes()).hexdigest() == old_hash
    replaced = _upload_event(app, name, new_text.encode(), "replace")
    bins = [p for p in (app.corpus / ".recycle").glob("*/*") if p.name in (name, name + ".meta.json")]
    _, _, page = Http(app.port).request("GET", "/doc/" + name)
    page_text = page.decode("utf-8", "replace")
    kept = _upload_event(app, name, ("第三个版本" + new_text).encode(), "keep_both")
    leftovers = [p.name for p in app.corpus.iterdir() if p.name.startswith(".upload-")]
    return {"document": name, "refuse": refused, "unchanged_after_refuse": unchanged, "replace": replaced,
            "in_recycle_bin": sorted(p.name for p in bins), "new_text_served": CANARY in page_text,
            "old_sidecar_title_on_new_text": old_title in page_text and CANARY in page_text,
            "keep_both": kept, "part_files_left": leftovers,
            "harm": not unchanged or (old_title in page_text and CANARY in page_text)}


def probe_delete(app: App) -> dict:
    """One click: the delete list's initial value; the confirm event without the ask; ask + confirm; restore."""
    config = json.loads(Http(app.port).request("GET", "/config")[2])
    initial = {c["props"].get("label"): c["props"].get("value") for c in config["components"]
               if c.get("type") == "dropdown" and c["props"].get("label") in ("要删除的文件", "回收站")}
    ask_fn, ask_trigger = app.fn("on_delete_asked")
    del_fn, del_trigger = app.fn("on_delete")
    restore_fn, restore_trigger = app.fn("on_restore")
    doc = sorted(p.name for p in app.corpus.iterdir() if p.name.endswith(".txt") and p.is_file())[1]
    h = Http(app.port)
    session = uuid.uuid4().hex[:11]
    direct = text_of(h.event(del_fn, [app.token, doc], session=session, trigger=del_trigger))
    still_there = (app.corpus / doc).is_file()
    session = uuid.uuid4().hex[:11]
    asked = h.event(ask_fn, [doc], session=session, trigger=ask_trigger)
    question = str((asked.get("data") or [None, None, ""])[2])[:200]
    confirmed = text_of(h.event(del_fn, [app.token, None], session=session, trigger=del_trigger))
    gone = not (app.corpus / doc).exists()
    served_after = h.request("GET", "/doc/" + doc)[0]
    entries = sorted((app.corpus / ".recycle").glob("*/" + doc))
    entry_id = entries[0].parent.name if entries else ""
    # the page's own session: the bin list it was shown after the delete
    restored = text_of(h.event(restore_fn, [app.token, entry_id], session=session, trigger=restore_trigger)) \
        if entry_id else "no entry"
    back = (app.corpus / doc).is_file() and h.request("GET", "/doc/" + doc)[0] == 200
    return {"initial_values": initial, "confirm_without_ask": direct, "still_there_after_direct": still_there,
            "confirmation_question": question, "confirmed": confirmed, "moved_out": gone,
            "doc_status_after_delete": served_after, "bin_entry": entry_id, "restore": restored,
            "answerable_again": back, "harm": bool(initial.get("要删除的文件")) or not still_there or not back}


def probe_links_and_cli_ingest(app: App, cli_seconds: float = 240.0) -> dict:
    """Links in corpus/ (to a canary outside, to a copy of app.py, a linked folder); a new file; then a
    CLI ``python -m ingest`` runs: while it holds the lock, an upload and a delete are tried; afterwards the
    running app must serve the new index, a new page must list the new document, and it must be deletable."""
    outside = app.dir / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text(f"链接指向的私密文件 {CANARY}\n" * 5, encoding="utf-8")
    app_copy = outside / "app_copy.py"
    shutil.copy(ROOT / "app.py", app_copy)
    links = {"link_secret.txt": outside / "secret.txt", "link_app.txt": app_copy, "link_dir": outside}
    for name, target in links.items():
        (app.corpus / name).symlink_to(target)
    paragraph = "本探针文件用于检验命令行入库。探针专用条款规定：试点单位应当在三十日内完成登记备案。"
    (app.corpus / "cli_probe_new.txt").write_text("命令行入库探针文件\n\n" + "\n".join(
        f"第{i}条 {paragraph}" for i in range(120)), encoding="utf-8")
    before = app.corpus_listing()
    env = {**app.env}
    cli = subprocess.Popen(["nice", "-n", "10", PY, "-m", "ingest"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, start_new_session=True)
    held_at, during = None, {}
    deadline = time.monotonic() + cli_seconds
    while time.monotonic() < deadline and cli.poll() is None:
        if app.lock_held():
            held_at = time.monotonic()
            break
        time.sleep(0.3)
    if held_at:
        during["upload"] = _upload_event(app, "during_cli.txt", "命令行入库期间上传的文件。".encode(), "refuse")
        doc = "001_fa593211d8322c87.txt" if (app.corpus / "001_fa593211d8322c87.txt").is_file() else sorted(before)[0]
        h = Http(app.port)
        session = uuid.uuid4().hex[:11]
        ask_fn, ask_trigger = app.fn("on_delete_asked")
        del_fn, del_trigger = app.fn("on_delete")
        h.event(ask_fn, [doc], session=session, trigger=ask_trigger)
        during["delete"] = text_of(h.event(del_fn, [app.token, None], session=session, trigger=del_trigger))
        during["lock_still_held_after"] = app.lock_held()
        during["corpus_unchanged"] = app.corpus_listing() == before
        during["deleted_doc_still_served"] = h.request("GET", "/doc/" + doc)[0] == 200
    try:
        out, _ = cli.communicate(timeout=max(5.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(cli.pid, signal.SIGKILL)
        out, _ = cli.communicate()
    h = Http(app.port)
    docs = json.loads(h.request("GET", "/api/documents")[2]).get("documents", [])
    ids = [d.get("doc_id") or d.get("id") for d in docs]
    lists_fn, _ = app.fn("lists")
    page = h.event(lists_fn, [])
    page_choices = json.dumps(page.get("data"), ensure_ascii=False)
    served = {}
    for name in ("link_secret.txt", "link_app.txt", "link_dir/secret.txt", "cli_probe_new.txt"):
        for route in ("/doc/", "/file/"):
            s, _, body = h.request("GET", route + name)
            served[route + name] = (s, CANARY.encode() in body or b"import gradio" in body)
    # delete through a link (not in the library) and delete the new document from the new page
    session = uuid.uuid4().hex[:11]
    ask_fn, ask_trigger = app.fn("on_delete_asked")
    del_fn, del_trigger = app.fn("on_delete")
    link_ask = text_of(h.event(ask_fn, ["link_app.txt"], session=session, trigger=ask_trigger))
    link_del = text_of(h.event(del_fn, [app.token, "link_app.txt"], session=session, trigger=del_trigger))
    session = uuid.uuid4().hex[:11]
    h.event(lists_fn, [], session=session)  # a page opened now: its load event fills the lists
    h.event(ask_fn, ["cli_probe_new.txt"], session=session, trigger=ask_trigger)
    new_del = text_of(h.event(del_fn, [app.token, None], session=session, trigger=del_trigger))
    targets_intact = (outside / "secret.txt").is_file() and app_copy.read_bytes() == (ROOT / "app.py").read_bytes()
    link_served = [k for k, (s, leak) in served.items() if "link" in k and (s == 200 or leak)]
    return {"cli_rc": cli.returncode, "cli_output_tail": (out or b"").decode("utf-8", "replace")[-400:],
            "lock_seen_held": bool(held_at), "during_cli": during,
            "api_documents_has_new": "cli_probe_new.txt" in ids, "api_documents_has_links": [i for i in ids if "link" in str(i)],
            "new_page_lists_new": "cli_probe_new.txt" in page_choices, "served": served,
            "delete_link_ask": link_ask, "delete_link_confirm": link_del, "link_targets_intact": targets_intact,
            "delete_new_from_new_page": new_del, "new_doc_moved_to_bin": not (app.corpus / "cli_probe_new.txt").exists(),
            "harm": bool(link_served) or not targets_intact or (bool(during) and not during.get("corpus_unchanged", True))}


def probe_vanishing_file(trials: int = 30) -> dict:
    """A file deleted at a random moment while a real ``build_index`` (fake embedder) starts: crashes?"""
    import random
    import tempfile

    sys.path.insert(0, str(ROOT))
    from index.build import build_index
    from settings import Settings
    from tests.fakes import FakeEmbedder

    outcomes: Counter = Counter()
    examples = {}
    for trial in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            for i in range(12):
                (corpus / f"doc{i:02d}.txt").write_text(f"第{i}号文件\n\n" + "这是一段政策文本，规定了相关事项。" * 60,
                                                         encoding="utf-8")
            settings = Settings(corpus_dir=corpus, store_dir=Path(tmp) / "store")
            victim = corpus / f"doc{random.randrange(12):02d}.txt"
            delay = random.uniform(0.0, 0.4)
            timer = threading.Timer(delay, lambda: victim.unlink(missing_ok=True))
            timer.start()
            try:
                report = build_index(settings, FakeEmbedder())
                named = victim.name in report.removed or any(victim.name in str(f) for f in report.failed)
                indexed = victim.name in json.dumps([str(x) for x in report.added])
                outcomes["ok_named" if named else ("ok_indexed_before_delete" if indexed else "ok_other")] += 1
            except Exception as exc:  # noqa: BLE001 - a crash is the finding
                outcomes["crash"] += 1
                examples.setdefault(type(exc).__name__, f"{delay:.3f}s: {str(exc)[:200]}")
            timer.cancel()
    return {"trials": trials, "outcomes": dict(outcomes), "crash_examples": examples, "harm": outcomes["crash"] > 0}


def probe_feedback(app: App) -> dict:
    """Cross-site posts, id overwrite, size and rate (from 127.0.0.60-62)."""
    h = Http(app.port, "127.0.0.60")
    good = {"rating": "down", "question": "问题", "answer": "回答", "comment": "正常"}
    raw = json.dumps(good).encode()
    cases = {
        "text_plain_no_origin": (raw, {"Content-Type": "text/plain"}),
        "text_plain_evil_origin": (raw, {"Content-Type": "text/plain", "Origin": "https://evil.example"}),
        "form_evil_origin": (b"rating=down", {"Content-Type": "application/x-www-form-urlencoded",
                                              "Origin": "https://evil.example"}),
        "json_evil_origin": (raw, {"Content-Type": "application/json", "Origin": "https://evil.example"}),
        "json_null_origin": (raw, {"Content-Type": "application/json", "Origin": "null"}),
        "json_cross_site_fetch": (raw, {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}),
        "json_other_port_same_host": (raw, {"Content-Type": "application/json", "Origin": "http://127.0.0.1:1"}),
        "json_evil_host_and_origin": (raw, {"Content-Type": "application/json", "Origin": "http://evil.example",
                                            "Host": "evil.example"}),
        "json_same_origin": (raw, {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{app.port}"}),
    }
    statuses = {k: h.request("POST", "/api/feedback", body, headers)[0] for k, (body, headers) in cases.items()}
    s, hdrs, body = Http(app.port, "127.0.0.61").request("OPTIONS", "/api/feedback", None, {
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    preflight = {"status": s, "allow_origin": hdrs.get("access-control-allow-origin")}
    s, hdrs, body = Http(app.port, "127.0.0.61").request("OPTIONS", "/gradio_api/queue/join", None, {
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    preflight_gradio = {"status": s, "allow_origin": hdrs.get("access-control-allow-origin")}
    # a text/plain (no preflight) event join from another site: does Gradio take it?
    chat_fn, chat_trigger = app.fn("chat")
    s, _, body = Http(app.port, "127.0.0.61").request("POST", "/gradio_api/queue/join", json.dumps({
        "data": ["问题", None, None, None, [], [], [], []], "fn_index": chat_fn, "session_hash": "xsite123456",
        "trigger_id": chat_trigger, "event_data": None}), {"Content-Type": "text/plain", "Origin": "https://evil.example"})
    xsite_join = {"status": s, "body": body.decode("utf-8", "replace")[:120]}
    # ids: made from the page's own post, then guessed ones
    h2 = Http(app.port, "127.0.0.61")
    s, _, body = h2.request("POST", "/api/feedback", good)
    fid = json.loads(body).get("id") if s == 200 else None
    guessed = {g: h2.request("POST", f"/api/feedback/{g}/comment", {"comment": "被改写"})[0] for g in ("1", "2", "0", "-1")}
    own = h2.request("POST", f"/api/feedback/{fid}/comment", {"comment": "本人补充"})[0] if fid else None
    # size and rate: 12 posts of ~900 KB from one client
    db = app.dir / "feedback.sqlite3"
    size0 = db.stat().st_size if db.exists() else 0
    big = {**good, "comment": "长" * 100_000, "answer": "答" * 30_000}  # ~780 KB as \\u escapes: under the 1 MB limit
    h3 = Http(app.port, "127.0.0.62")
    t0 = time.monotonic()
    big_statuses = Counter(h3.request("POST", "/api/feedback", big)[0] for _ in range(12))
    elapsed = time.monotonic() - t0
    size1 = db.stat().st_size if db.exists() else 0
    import sqlite3
    with sqlite3.connect(db) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(feedback)")]
        longest = conn.execute(f"SELECT max(length(comment)), max(length(answer)) FROM feedback").fetchone() \
            if "comment" in cols else None
    accepted_xsite = [k for k, v in statuses.items() if v == 200 and k not in ("json_same_origin", "text_plain_no_origin")]
    return {"statuses": statuses, "preflight_api_feedback": preflight, "preflight_gradio_join": preflight_gradio,
            "xsite_text_plain_queue_join": xsite_join, "id_example": fid, "guessed_id_comment": guessed,
            "own_id_comment": own, "big_posts": dict(big_statuses), "big_seconds": round(elapsed, 2),
            "db_bytes_added": size1 - size0, "longest_comment_answer": longest,
            "harm": bool(accepted_xsite) or any(v == 200 for v in guessed.values())}


def probe_anonymous_upload(app_on: App, app_off: App | None) -> dict:
    """Gradio's upload endpoint without a token: admin off (should be shut), admin on (open: how much,
    how fast, cleaned?). 20 × 5 MB at most."""
    out = {}
    if app_off:
        h = Http(app_off.port, "127.0.0.70")
        out["admin_off"] = {p: h.upload("a.txt", b"x" * 1000)[0] if p == "/gradio_api/upload" else
                            h.request("POST", p, b"--b\r\n", {"Content-Type": "multipart/form-data; boundary=b"})[0]
                            for p in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api//upload",
                                      "/gradio_api/upload?upload_id=x", "/upload", "/gradio_api/Upload",
                                      "/gradio_api/upload%2F")}
        files_off = [p for p in (app_off.dir / "gradio").rglob("*") if p.is_file()]
        out["admin_off_files_stored"] = len(files_off)
    h = Http(app_on.port, "127.0.0.71")
    t0 = time.monotonic()
    statuses: Counter = Counter()
    for i in range(20):
        statuses[h.upload(f"anon{i}.txt", os.urandom(5 * 1024 * 1024))[0]] += 1
    elapsed = time.monotonic() - t0
    stored = sum(p.stat().st_size for p in (app_on.dir / "gradio").rglob("anon*.txt") if p.is_file())
    out["admin_on_anonymous"] = {"statuses": dict(statuses), "seconds": round(elapsed, 2),
                                 "bytes_stored": stored, "mb_per_s": round(stored / 1e6 / max(elapsed, 1e-6), 1)}
    out["over_cap_51mb"] = Http(app_on.port, "127.0.0.72").upload("big.txt", b"x" * (51 * 1024 * 1024))[0]
    for p in (app_on.dir / "gradio").rglob("anon*.txt"):
        p.unlink()
    out["harm_admin_off"] = bool(app_off) and (out["admin_off_files_stored"] > 0 or
                                               any(v == 200 for v in out["admin_off"].values()))
    return out


def probe_admin_token(app: App) -> dict:
    """Guessing: 20 wrong tokens from one address, then the right one from it and from another; 10 more
    addresses × 6 guesses; the log; weak tokens at start-up."""
    fn, trigger = app.fn("on_upload")  # the token is checked first; no files: "请先选择要上传的文件"
    log0 = app.log_size()
    h = Http(app.port, "127.0.0.80")
    t0 = time.monotonic()
    replies = Counter()
    for i in range(20):
        msg = text_of(h.event(fn, [f"guess-{secrets.token_urlsafe(18)}", None, "refuse"], trigger=trigger))
        replies["locked" if ("稍后" in msg or "锁" in msg or "过多" in msg or "分钟" in msg) else
                ("refused" if "令牌" in msg else msg[:50])] += 1
    rate = 20 / (time.monotonic() - t0)
    right_same = text_of(h.event(fn, [app.token, None, "refuse"], trigger=trigger))
    right_other = text_of(Http(app.port, "127.0.0.81").event(fn, [app.token, None, "refuse"], trigger=trigger))
    rotated = Counter()
    for a in range(10):
        hh = Http(app.port, f"127.0.0.{90 + a}")
        for _ in range(6):
            msg = text_of(hh.event(fn, [secrets.token_urlsafe(18), None, "refuse"], trigger=trigger))
            rotated["locked" if ("稍后" in msg or "过多" in msg or "分钟" in msg) else "compared"] += 1
    added = app.log.read_bytes()[log0:].decode("utf-8", "replace")
    weak = {}
    for token in (" ", "1", "aaaaaaaaaaaaaaaaaaaa", "passwordpassword", "0123456789abcdef", "Password12345678",
                  " " + app.token):
        p = subprocess.run([PY, "app.py", "--no-ingest", "--port", "1"], cwd=ROOT, capture_output=True, timeout=120,
                           env={**app.env, "POLICYQA_ADMIN_TOKEN": token, "POLICYQA_STORE_DIR": "/nonexistent-probe"})
        weak[repr(token[:20])] = {"rc": p.returncode, "refused_weak": b"too weak" in p.stderr}
    return {"single_address": dict(replies), "guesses_per_s": round(rate, 1), "right_token_same_address": right_same,
            "right_token_other_address": right_other, "ten_addresses_x6": dict(rotated),
            "failure_log_lines": added.count("admin token refused"), "token_in_log": app.token in added,
            "weak_tokens_at_start": weak}


# --- Low -------------------------------------------------------------------------------------------

def probe_surrogate(app: App) -> dict:
    h = Http(app.port, "127.0.0.110")
    lone = '"\\ud800"'
    bodies = {
        "/api/ask question": ("/api/ask", '{"question": ' + lone + "}"),
        "/api/ask history": ("/api/ask", '{"question": "温州", "history": [' + lone + "]}"),
        "/api/ask key": ("/api/ask", '{"question": "温州", ' + lone + ": 1}"),
        "/api/ask/stream": ("/api/ask/stream", '{"question": "a' + lone[1:] + "}"),
        "/api/feedback": ("/api/feedback", '{"rating": "up", "question": ' + lone + ', "answer": "x"}'),
        "/api/ask bad utf-8": ("/api/ask", b'{"question": "\xed\xa0\x80"}'),
    }
    out = {}
    for label, (path, body) in bodies.items():
        s, _, answer = h.request("POST", path, body, {"Content-Type": "application/json",
                                                      "Origin": f"http://127.0.0.1:{app.port}"})
        out[label] = (s, answer.decode("utf-8", "replace")[:90])
    for path in ("/doc/%ED%A0%80", "/doc/x?start=%ED%A0%80", "/file/%ED%A0%80", "/widget-assets/%ED%A0%80",
                 "/gradio_api/file=%ED%A0%80"):
        s, _, answer = h.request("GET", path)
        out["GET " + path] = (s, answer.decode("utf-8", "replace")[:60])
    ask_fn, _ = app.fn("ask")
    chat_fn, chat_trigger = app.fn("chat")
    r = h.event(ask_fn, ["\ud800", None, None])
    out["gradio ask"] = (r.get("ok"), str(r.get("error"))[:90])
    r = h.event(chat_fn, ["\ud800温州", None, None, None, [], [], [], []], trigger=chat_trigger)
    out["gradio chat"] = (r.get("ok"), str(r.get("error") or json.dumps(r.get("data"), ensure_ascii=False))[:120])
    fn, trigger = app.fn("on_upload")
    r = h.event(fn, ["\ud800", None, "refuse"], trigger=trigger)
    out["gradio admin token"] = (r.get("ok"), text_of(r)[:90])
    out["bare_500"] = [k for k, v in out.items() if isinstance(v[0], int) and v[0] >= 500]
    return out


def probe_headers_framing_host(app: App) -> dict:
    """Security headers, frame-ancestors of the admin page (frame_ancestors='*'), Host reflection."""
    h = Http(app.port, "127.0.0.111")
    pages = ("/", "/?view=api", "/widget", "/widget/", "/widgetx", "/widget-assets/x", "/doc/000_3bf91eea4f9b71f1.txt",
             "/doc/nope", "/api/documents", "/gradio_api/info", "/config", "/embed.js", "/nope", "/gradio_api/upload")
    headers = {}
    for p in pages:
        s, hd, body = h.request("GET", p)
        csp = hd.get("content-security-policy", "")
        headers[p] = {"status": s, "type": hd.get("content-type", "")[:24], "nosniff": hd.get("x-content-type-options"),
                      "referrer": hd.get("referrer-policy"),
                      "frame_ancestors": csp.split("frame-ancestors")[-1].strip() if csp else None,
                      "gradio_page": b"gradio_config" in body or b"window.gradio_config" in body}
    admin_frameable = [p for p, v in headers.items() if v["gradio_page"] and v["frame_ancestors"] not in ("'self'",)
                       and v["status"] == 200]
    only_host = h.request("GET", "/config", None, {"Host": "evil.example:666"})[2]
    only_xfh = h.request("GET", "/config", None, {"X-Forwarded-Host": "evil.example"})[2]
    evil = {"Host": "evil.example:666", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    s, _, docs = h.request("GET", "/api/documents", None, evil)
    s2, _, ans = h.request("POST", "/api/ask", {"question": "温州高新技术企业数量达到多少家？"}, evil)
    s3, _, stream = h.request("POST", "/api/ask/stream", {"question": "温州高新技术企业数量达到多少家？"}, evil)
    s4, _, config = h.request("GET", "/config", None, evil)
    s5, _, page = h.request("GET", "/", None, evil)
    reflected = {"api_documents": b"evil.example" in docs, "api_ask": b"evil.example" in ans,
                 "api_ask_stream": b"evil.example" in stream, "gradio_config_root": b"evil.example" in config,
                 "chat_page": b"evil.example" in page, "config_root_from_host_alone": b"evil.example" in only_host,
                 "config_root_from_x_forwarded_host_alone": b"evil.example" in only_xfh,
                 "page_cache_control": h.request("GET", "/")[1].get("cache-control")}
    return {"headers": headers, "admin_page_frameable_by_any_site": admin_frameable, "host_reflected": reflected,
            "statuses": [s, s2, s3, s4, s5]}


def probe_markdown_image(app: App) -> dict:
    """A user's own markdown image (and HTML) in a question: what the chat shows."""
    chat_fn, chat_trigger = app.fn("chat")
    h = Http(app.port, "127.0.0.112")
    out = {}
    for label, q in {"md_image": "![x](http://127.0.0.9:9/probe.png) 温州高新技术企业数量达到多少家？",
                     "html_img": "<img src=http://127.0.0.9:9/p.png> 温州的研发投入目标？",
                     "md_link_refusal": "![探针](http://127.0.0.9:9/q.png) 火星殖民补贴标准是多少？"}.items():
        r = h.event(chat_fn, [q, None, None, None, [], [], [], []], trigger=chat_trigger)
        messages = (r.get("data") or [[]])[0] or []
        shown = json.dumps(messages, ensure_ascii=False)
        out[label] = {"ok": r.get("ok"), "raw_markdown_image": "![" in shown.replace("\\\\!\\\\[", ""),
                      "raw_img_tag": "<img" in shown, "external_url_unescaped": "](http://127.0.0.9" in shown,
                      "sample": shown[:300]}
    out["harm"] = any(v.get("raw_markdown_image") or v.get("raw_img_tag") for v in out.values() if isinstance(v, dict))
    return out


def probe_big_gradio_body(app: App, megabytes: int = 20, count: int = 3) -> dict:
    """Bodies the JSON API would refuse (1 MB limit) sent to Gradio's queue instead: a ``megabytes`` MB
    history for the public ``ask``; the server's time to refuse and its memory."""
    ask_fn, _ = app.fn("ask")
    python_pid = next((c for c in _children(app.proc.pid)), app.proc.pid)
    rss = lambda: int(next(l.split()[1] for l in open(f"/proc/{python_pid}/status") if l.startswith("VmRSS")))  # noqa: E731
    before = rss()
    out = []
    item = "历" * 200
    history = [item] * (megabytes * 1024 * 1024 // (len(item.encode()) + 3))
    h = Http(app.port, "127.0.0.120", timeout=120)
    for i in range(count):
        t0 = time.monotonic()
        session = uuid.uuid4().hex[:11]
        s, _, body = h.request("POST", "/gradio_api/queue/join", {"data": [f"问题{i}", history, None], "fn_index": ask_fn,
                                                                 "session_hash": session, "trigger_id": None,
                                                                 "event_data": None})
        out.append({"status": s, "seconds": round(time.monotonic() - t0, 2), "body": body.decode("utf-8", "replace")[:80]})
    after = rss()
    chat_fn, chat_trigger = app.fn("chat")
    t0 = time.monotonic()
    user = Http(app.port, "127.0.0.121").event(chat_fn, ["温州高新技术企业数量达到多少家？", None, None, None, [], [], [], []],
                                               trigger=chat_trigger, wait_s=150)
    return {"body_mb": megabytes, "posts": out, "server_rss_kb_before": before, "server_rss_kb_after_posts": after,
            "user_chat_after": {"ok": user.get("ok"), "seconds": round(time.monotonic() - t0, 2)},
            "server_rss_kb_after_user": rss()}


def _children(pid: int) -> list[int]:
    """Descendant process ids of ``pid`` (the app behind ``nice``), deepest last."""
    try:
        kids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [k for kid in kids for k in [kid] + _children(kid)]


# --- driver ----------------------------------------------------------------------------------------

PROBES = ("server_path", "api_flood", "queue_flood", "slowloris", "disconnects", "same_name", "delete",
          "links_cli", "vanishing", "feedback", "anon_upload", "admin_token", "surrogate", "headers", "markdown", "big_body")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a built index store (copied)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="its corpus (copied)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/probe-second"))
    parser.add_argument("--out", type=Path, default=ROOT / "runs/reliability/probe-second")
    parser.add_argument("--flood-seconds", type=float, default=45.0)
    parser.add_argument("--flood-threads", type=int, default=40)
    parser.add_argument("--only", default=",".join(PROBES))
    args = parser.parse_args(argv)
    only = [p for p in args.only.split(",") if p]
    unknown = sorted(set(only) - set(PROBES))
    if unknown:
        parser.error(f"unknown probes {unknown}; known: {', '.join(PROBES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    app = App(args.work, args.store, args.corpus, "admin-on", token, frame_ancestors="*")
    app_off = None
    summary: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "probes": {}}
    try:
        app.start()
        summary["port"] = app.port

        def anonymous_upload() -> dict:
            nonlocal app_off
            app_off = App(args.work, args.store, args.corpus, "admin-off", "").start()
            try:
                return probe_anonymous_upload(app, app_off)
            finally:
                app_off.stop()

        runners = {
            "server_path": lambda: probe_server_path_upload(app),
            "api_flood": lambda: probe_api_flood(app, args.flood_seconds, args.flood_threads),
            "queue_flood": lambda: probe_queue_flood(app, args.flood_seconds),
            "slowloris": lambda: probe_slowloris(app, min(58.0, args.flood_seconds + 13)),
            "disconnects": lambda: probe_disconnects(app), "same_name": lambda: probe_same_name(app),
            "delete": lambda: probe_delete(app), "links_cli": lambda: probe_links_and_cli_ingest(app),
            "vanishing": probe_vanishing_file, "feedback": lambda: probe_feedback(app),
            "anon_upload": anonymous_upload, "admin_token": lambda: probe_admin_token(app),
            "surrogate": lambda: probe_surrogate(app), "headers": lambda: probe_headers_framing_host(app),
            "markdown": lambda: probe_markdown_image(app), "big_body": lambda: probe_big_gradio_body(app),
        }
        for name in only:
            t0 = time.monotonic()
            print(f"[{time.strftime('%H:%M:%S')}] {name} …", flush=True)
            try:
                result = runners[name]()
            except Exception as exc:  # noqa: BLE001 - a probe that breaks is reported, the rest still run
                import traceback
                result = {"probe_error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-1500:]}
            result["seconds"] = round(time.monotonic() - t0, 1)
            summary["probes"][name] = result
            print(json.dumps(result, ensure_ascii=False, default=str)[:1500], flush=True)
            (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    finally:
        app.stop()
        if app_off:
            app_off.stop()
        for a in (app, app_off):
            if a and a.log.exists():
                shutil.copy(a.log, args.out / f"{a.dir.name}.log")
    summary["app_log_bytes"] = app.log.stat().st_size if app.log.exists() else None
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
