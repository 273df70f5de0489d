"""Nobody can lock others out of the server, post as the app's pages, or guess the admin token (issue #19).

Every test replays an attack of the probe against the real app on 127.0.0.1 (different loopback
addresses stand for different clients) and checks that it now does no harm. No timing assertion:
what is counted is who got a 429, which connection was closed, what was stored. docs/RELIABILITY.md.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import logging
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import uvicorn

from app import create_app, main
from tests.browser_helpers import FACT_ANSWER, FACT_QUESTION, build_fixture_answerer, fixture_settings
from tests.fakes import FakeEmbedder
from tests.test_hostile import held_answerer
from web.feedback import FeedbackStore
from web.security import escape_markdown
from web.server import server_config
from web.service import AnswerService, LibraryError

TOKEN = "tok-SECRET-4d1c9e-server"


@contextmanager
def serve(app, settings) -> Iterator[int]:
    """Serve ``app`` as ``python app.py`` does (``web.server.server_config``) on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(server_config(app, settings, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def call(port: int, path: str, body: bytes | None = None, *, source: str = "127.0.0.1", headers: dict | None = None,
         method: str = "POST") -> tuple[int, dict | str, dict]:
    """(status, JSON or text, headers) of one request from the loopback address ``source``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    try:
        return response.status, json.loads(text), {k.lower(): v for k, v in response.getheaders()}
    except json.JSONDecodeError:
        return response.status, text, {k.lower(): v for k, v in response.getheaders()}


def question(text: str = FACT_QUESTION, **fields) -> bytes:
    return json.dumps({"question": text, **fields}, ensure_ascii=False).encode("utf-8")


@pytest.fixture()
def held(tmp_path):
    """An app (queue 4 + 1 worker = 5 API slots, 2 per client) whose answerer holds every question at a
    gate the test opens: accepted requests wait, refused ones come back at once. Yields (port, gate)."""
    settings = fixture_settings(tmp_path, queue_size=4, concurrency_limit=1, per_client_concurrency=2)
    answerer, gate = held_answerer(settings)
    try:
        with serve(create_app(settings, answerer, feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
            yield port, gate
    finally:
        gate.set()


def test_one_client_flooding_cannot_give_other_users_429s(held):
    """Before: the API's slots were shared with no per-client share: 70 threads of one client gave
    every other user 429 (100%). Now the flooder holds its share (2) and the rest stay open."""
    port, gate = held
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        flood = [pool.submit(call, port, "/api/ask", question(), source="127.0.0.2") for _ in range(12)]
        refused = []  # the 10 refused come back at once; the 2 admitted wait at the answerer's gate
        for done in concurrent.futures.as_completed(flood, timeout=60):
            refused.append(done.result()[0])
            if len(refused) == 10:
                break
        users = [pool.submit(call, port, "/api/ask", question(), source=address)
                 for address in ("127.0.0.3", "127.0.0.3", "127.0.0.4")]
        concurrent.futures.wait(users, timeout=5)  # give them time to be admitted; none comes back early
        early = [u.result()[0] for u in users if u.done()]
        gate.set()
        flooded = [f.result()[0] for f in flood]
        served = [u.result() for u in users]
    assert refused == [429] * 10 and early == []
    assert sorted(flooded) == [200, 200] + [429] * 10
    assert [s for s, _, _ in served] == [200, 200, 200] and all(FACT_ANSWER in d["answer"] for _, d, _ in served)


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not(tmp_path):
    settings = fixture_settings(tmp_path, requests_per_minute=1, request_burst=3)
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
        statuses = [call(port, "/api/ask", question(), source="127.0.0.2") for _ in range(4)]
        other = call(port, "/api/ask", question(), source="127.0.0.3")
        # A forged X-Forwarded-For does not make a new client (uvicorn trusts it from 127.0.0.1 by default).
        forged = [call(port, "/api/ask", question(), headers={"X-Forwarded-For": f"10.9.8.{n}"})[0] for n in range(4)]
    assert [s for s, _, _ in statuses] == [200, 200, 200, 429] and forged == [200, 200, 200, 429]
    assert "请求过于频繁" in statuses[-1][1]["error"] and int(statuses[-1][2]["retry-after"]) >= 1
    assert other[0] == 200


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (read returns nothing) within 60 s."""
    sock.settimeout(60)
    try:
        return sock.recv(65536) == b"" or sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_half_sent_requests_are_closed_and_one_address_cannot_take_every_connection(tmp_path, caplog):
    """Before: 200 half-sent requests stayed open 60 s, starving everyone of file descriptors."""
    caplog.set_level(logging.INFO, logger="policyqa.server")
    settings = fixture_settings(tmp_path, header_timeout_s=1, body_timeout_s=1, max_connections_per_client=4)
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
        half_headers = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
        half_headers.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        half_body = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0))
        half_body.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"question\": ")
        assert closed_by_server(half_headers) and closed_by_server(half_body)
        extra = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.5", 0)) for _ in range(6)]
        for sock in extra:
            sock.sendall(b"GET /api/examples HTTP/1.1\r\nHost: x\r\n")  # never finished
        cut = sum(closed_by_server(sock) for sock in extra[4:])
        status, data, _ = call(port, "/api/ask", question(), source="127.0.0.6")  # someone else is served
        for sock in (half_headers, half_body, *extra):
            sock.close()
    assert cut == 2 and status == 200 and FACT_ANSWER in data["answer"]
    assert "request headers not received in time" in caplog.text and "request body not received" in caplog.text


def test_a_client_disconnect_is_one_log_line_not_a_traceback(tmp_path, caplog):
    """Before: each disconnect mid-request wrote a ~70-line traceback (219 MB of log in 60 s)."""
    caplog.set_level(logging.INFO)
    settings = fixture_settings(tmp_path)
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"question\": \"")
            sock.close()
        deadline = time.monotonic() + 60
        while caplog.text.count("disconnected during POST /api/ask") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert call(port, "/api/ask", question())[0] == 200
    assert caplog.text.count("disconnected during POST /api/ask") == 3
    assert "Traceback" not in caplog.text and "Exception in ASGI application" not in caplog.text


def test_feedback_only_from_the_apps_own_pages_with_unguessable_ids_and_a_rate(tmp_path):
    """Before: any website could post feedback (text/plain, no preflight) and overwrite any entry's
    comment by its sequential id; 150 posts added 81.6 MB in 1.6 s."""
    settings = fixture_settings(tmp_path, feedback_per_minute=4)
    db = tmp_path / "fb.sqlite3"
    row = {"rating": "down", "question": "温州的目标？", "answer": "答", "comment": "原来的说明"}
    body = json.dumps(row, ensure_ascii=False).encode("utf-8")
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=db), settings) as port:
        here = f"http://127.0.0.1:{port}"
        cross_site = [
            call(port, "/api/feedback", body, headers={"Content-Type": "text/plain", "Origin": "https://evil.example"}),
            call(port, "/api/feedback", body, headers={"Origin": "https://evil.example"}),
            call(port, "/api/feedback", body, headers={"Sec-Fetch-Site": "cross-site"}),
            call(port, "/api/feedback", body, headers={"Content-Type": "application/x-www-form-urlencoded"}),
        ]
        own = call(port, "/api/feedback", body, headers={"Origin": here, "Sec-Fetch-Site": "same-origin"})
        guessed = [call(port, f"/api/feedback/{n}/comment", b'{"comment": "overwritten"}', source="127.0.0.2")
                   for n in (1, 2)]
        big = call(port, "/api/feedback", json.dumps({**row, "answer": "x" * 900_000}).encode(), source="127.0.0.3")
        flood = [call(port, "/api/feedback", body, source="127.0.0.4")[0] for _ in range(6)]
    assert [s for s, _, _ in cross_site] == [403] * 4 and own[0] == 200 and len(own[1]["id"]) >= 16
    assert [s for s, _, _ in guessed] == [400, 400]
    assert flood == [200] * 4 + [429] * 2 and big[0] == 200
    store = FeedbackStore(db)
    try:
        rows = store.rows()
    finally:
        store.close()
    assert len(rows) == 1 + 1 + 4 and all(r.comment in ("原来的说明",) for r in rows)
    assert max(len(r.answer) for r in rows) <= 4000 and db.stat().st_size < 2_000_000


def multipart(name: str, data: bytes) -> tuple[bytes, dict]:
    boundary = "safety-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_gradio_upload_endpoint_is_closed_when_the_library_is_read_only(tmp_path):
    """Before: Gradio's upload endpoint stored anonymous files (100 MB at 87 MB/s) even with the admin off."""
    body, headers = multipart("x.txt", b"anonymous upload")
    results = {}
    for name, token in (("read_only", ""), ("admin", TOKEN)):
        settings = fixture_settings(tmp_path / name, admin_token=token)
        app = create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / f"{name}.sqlite3")
        with serve(app, settings) as port:
            results[name] = call(port, "/gradio_api/upload", body, headers=headers)
    assert results["read_only"][0] == 403 and "只读" in results["read_only"][1]["error"]
    assert results["admin"][0] == 200  # the admin's upload form still works


def test_headers_csp_and_citation_urls_do_not_come_from_the_client(tmp_path):
    """Before: no nosniff, Referrer-Policy or script-src; the Host header was reflected into citation URLs."""
    settings = fixture_settings(tmp_path)
    app = create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3")
    with serve(app, settings) as port:
        _, data, _ = call(port, "/api/ask", question(), headers={"Host": "evil.example"})
        pages = {path: call(port, path, method="GET")[2] for path in ("/", "/widget", "/doc/wenzhou.txt", "/api/examples")}
    assert data["citations"] and all(c["url"].startswith(f"http://127.0.0.1:{port}/doc/") for c in data["citations"])
    for path, headers in pages.items():
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin", path
    for path in ("/widget", "/doc/wenzhou.txt"):
        policy = pages[path]["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "img-src 'self' data: blob:" in policy and "object-src 'none'" in policy
    assert "'sha256-" in pages["/"]["content-security-policy"]  # Gradio's own inline scripts, by hash
    public = settings.replace(public_url="https://oa.example.gov.cn/policyqa")
    with serve(create_app(public, build_fixture_answerer(public), feedback_db=tmp_path / "p.sqlite3"), public) as port:
        _, data, _ = call(port, "/api/ask", question())
    assert data["citations"][0]["url"].startswith("https://oa.example.gov.cn/policyqa/doc/wenzhou.txt?")


def test_a_lone_surrogate_gets_a_400_with_a_message_on_every_way_in(tmp_path):
    """Before: ``\\ud800`` gave a bare 500 on ask, stream and feedback."""
    settings = fixture_settings(tmp_path)
    app = create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3")
    bad = b'{"question": "\\ud800\xe6\xb8\xa9\xe5\xb7\x9e", "rating": "up", "answer": "a"}'
    with serve(app, settings) as port:
        results = [call(port, path, bad) for path in ("/api/ask", "/api/ask/stream", "/api/feedback")]
        history = call(port, "/api/ask", b'{"question": "q", "history": ["\\udfff"]}')
        # gradio_client cannot even send one: the raw call API, as the probe did.
        status, event, _ = call(port, "/gradio_api/call/ask", b'{"data": ["\\ud800\\u6e29", null, null]}')
        _, stream, _ = call(port, f"/gradio_api/call/ask/{event['event_id']}", method="GET")
        assert call(port, "/api/ask", question())[0] == 200
    for status, data, _ in [*results, history]:
        assert status == 400 and "无效的 Unicode" in data["error"]
    assert "event: error" in stream and "无效的 Unicode" in json.loads(stream.split("data:", 1)[1].splitlines()[0])["error"]


def test_a_users_markdown_image_is_shown_as_text():
    """Before: a user's own ``![x](http://…)`` in a question was fetched by every browser showing it."""
    shown = escape_markdown("![x](http://198.51.100.7/track.png) 温州？")
    assert "![" not in shown and "](" not in shown and shown.replace("\\", "") == "![x](http://198.51.100.7/track.png) 温州？"


@pytest.mark.parametrize("token", [" ", "1", "s3cret", "aaaaaaaaaaaaaaaaaaaa"])
def test_the_app_refuses_to_start_with_a_weak_admin_token(tmp_path, monkeypatch, capsys, token):
    """Before: ``" "`` and ``"1"`` were accepted as the admin token."""
    config = tmp_path / "weak.toml"
    config.write_text(f"admin_token = {json.dumps(token)}\ncorpus_dir = {json.dumps(str(tmp_path / 'none'))}\n",
                      encoding="utf-8")
    assert main(["--config", str(config), "--no-ingest"]) == 2
    error = capsys.readouterr().err
    assert "admin_token is too weak" in error and "secrets.token_urlsafe(24)" in error


def test_wrong_admin_tokens_are_logged_and_the_client_is_locked_out(tmp_path, caplog):
    """Before: no rate limit (64 guesses/s) and no log line for a failure."""
    caplog.set_level(logging.WARNING)
    settings = fixture_settings(tmp_path, admin_token=TOKEN, admin_failures_allowed=3)
    service = AnswerService(settings, build_fixture_answerer(settings), FakeEmbedder())
    for guess in ("a", "b", "c"):
        with pytest.raises(LibraryError, match="不正确"):
            service.library.delete(guess, "wenzhou.txt", client="10.0.0.66")
    with pytest.raises(LibraryError, match="错误次数过多"):  # even the right token: no more guesses
        service.library.delete(TOKEN, "wenzhou.txt", client="10.0.0.66")
    service.library.delete(TOKEN, "wenzhou.txt", client="10.0.0.7")  # the admin elsewhere is not locked out
    assert caplog.text.count("admin token refused for client 10.0.0.66") == 3 and TOKEN not in caplog.text
    assert "wenzhou.txt" not in service.documents and Path(settings.corpus_dir, ".recycle").is_dir()


def test_an_admin_token_with_a_lone_surrogate_is_a_counted_wrong_token():
    """Second probe of #19: a token holding ``\\ud800`` showed Python's encoding error and was not counted."""
    from settings import Settings
    from web.limits import FailureLimiter
    from web.service import check_admin_token

    failures = FailureLimiter(limit=2, window_s=60)
    for _ in range(2):
        with pytest.raises(LibraryError, match="令牌不正确"):
            check_admin_token(Settings(admin_token="Zr4kT0_xQm9vLw2pBc7yHs"), "\ud800", "10.0.0.9", failures)
    assert failures.locked_for("10.0.0.9") > 0  # both attempts were counted
