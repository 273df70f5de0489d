"""One client cannot fill Gradio's queue, send it huge bodies, or fill the disk with uploads (issue #19,
second probe). Each test replays the probe's attack against the real app on 127.0.0.x (one loopback
address per client) and counts outcomes: who got a 429 or 413, which questions were answered. Accepted
questions wait at a gate the test opens, so nothing depends on the machine's speed. docs/RELIABILITY.md.
"""

from __future__ import annotations

import http.client
import json
import uuid

import pytest

from app import create_app
from tests.browser_helpers import FACT_ANSWER, FACT_QUESTION, build_fixture_answerer, fixture_settings
from tests.test_hostile import held_answerer
from tests.test_server_safety import TOKEN, call, multipart, serve
from web.limits import PENDING_JOBS_PER_CLIENT


@pytest.fixture()
def held_queue(tmp_path):
    """An app with a chat queue of 8 and one worker whose answerer holds every question until the test
    opens the gate. Yields (port, gate, fn_index of the public ``ask``)."""
    settings = fixture_settings(tmp_path, queue_size=8, concurrency_limit=1)
    answerer, gate = held_answerer(settings)
    try:
        with serve(create_app(settings, answerer, feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
            _, config, _ = call(port, "/config", method="GET")
            ask = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
            yield port, gate, ask
    finally:
        gate.set()


def join(port: int, source: str, text: str, fn_index: int | None = None, session: str = "") -> tuple[int, dict]:
    """Join Gradio's queue with the public ``ask``: the raw queue (``fn_index``) or the call API."""
    if fn_index is None:
        status, data, _ = call(port, "/gradio_api/call/ask", json.dumps({"data": [text, None, None]}).encode(),
                               source=source)
    else:
        body = {"data": [text, None, None], "fn_index": fn_index, "session_hash": session or uuid.uuid4().hex[:11],
                "trigger_id": None, "event_data": None}
        status, data, _ = call(port, "/gradio_api/queue/join", json.dumps(body).encode(), source=source)
    return status, data


def call_result(port: int, event_id: str, source: str) -> str:
    """The stream of a call-API event, read to its end (it ends when the answer is complete)."""
    return call(port, f"/gradio_api/call/ask/{event_id}", source=source, method="GET")[1]


def queue_results(port: int, session: str, count: int, source: str) -> int:
    """Read the session's queue stream until ``count`` jobs completed; the number of successes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
    connection.request("GET", f"/gradio_api/queue/data?session_hash={session}")
    done = ok = 0
    for line in connection.getresponse():
        if line.startswith(b"data:") and json.loads(line[5:]).get("msg") == "process_completed":
            done += 1
            ok += bool(json.loads(line[5:]).get("success"))
            if done == count:
                break
    connection.close()
    return ok


def test_one_client_cannot_fill_the_chat_queue(held_queue):
    """Second probe: one client joining unique questions filled the 64-place queue (chat users got
    "Queue is full", 31/47 answered). Now it holds at most PENDING_JOBS_PER_CLIENT places; others get in."""
    port, gate, ask = held_queue
    session = uuid.uuid4().hex[:11]
    flood = [join(port, "127.0.0.2", f"{FACT_QUESTION}#{n}", ask if n % 2 else None, session) for n in range(12)]
    users = [join(port, address, FACT_QUESTION) for address in ("127.0.0.3", "127.0.0.3", "127.0.0.4", "127.0.0.4")]
    gate.set()
    answers = [call_result(port, data["event_id"], "127.0.0.3") for _, data in users]
    accepted = [(n, data) for n, (status, data) in enumerate(flood) if status == 200]
    flooder_calls = [call_result(port, data["event_id"], "127.0.0.2") for n, data in accepted if n % 2 == 0]
    flooder_queued = queue_results(port, session, sum(n % 2 for n, _ in accepted), "127.0.0.2")
    again = join(port, "127.0.0.2", FACT_QUESTION)  # its jobs are done: the flooder may ask again
    refused = [data for status, data in flood if status != 200]
    assert [status for status, _ in flood] == [200] * PENDING_JOBS_PER_CLIENT + [429] * (12 - PENDING_JOBS_PER_CLIENT)
    assert all("排队或处理中" in data["error"] for data in refused)
    assert [status for status, _ in users] == [200] * 4
    assert all("event: complete" in a and FACT_ANSWER in a for a in answers)
    assert all(FACT_ANSWER in a for a in flooder_calls) and flooder_queued == PENDING_JOBS_PER_CLIENT // 2
    assert again[0] == 200


def test_huge_bodies_to_gradios_queue_are_refused_before_they_are_kept(tmp_path):
    """Second probe: three queue joins with a 20 MB history were accepted (no limit on Gradio's paths)."""
    settings = fixture_settings(tmp_path)
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
        _, config, _ = call(port, "/config", method="GET")
        ask = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "ask")
        history = ["历" * 200] * 1000  # ≈ 600 KB: over the 256 KB limit, under the JSON API's 1 MB
        big_join = json.dumps({"data": ["问题", history, None], "fn_index": ask, "session_hash": "s" * 11,
                               "trigger_id": None, "event_data": None}).encode()
        refused = [call(port, "/gradio_api/queue/join", big_join, source="127.0.0.2"),
                   call(port, "/gradio_api/call/ask", json.dumps({"data": ["问题", history, None]}).encode(),
                        source="127.0.0.2")]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=("127.0.0.3", 0))
        big = json.dumps({"data": ["问题", history, None]}).encode()  # no length declared: counted as it arrives
        connection.request("POST", "/gradio_api/call/ask", body=iter([big[:100_000], big[100_000:]]), encode_chunked=True,
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        chunked = connection.getresponse().status
        connection.close()
        status, data = join(port, "127.0.0.4", FACT_QUESTION)
        answer = call_result(port, data["event_id"], "127.0.0.4")
    assert [s for s, _, _ in refused] == [413, 413] and all("请求体过大" in d["error"] for _, d, _ in refused)
    assert chunked == 413
    assert status == 200 and FACT_ANSWER in answer


def test_anonymous_uploads_have_a_byte_budget_per_client(tmp_path, monkeypatch):
    """Second probe: with the admin tab on, 20 × 5 MB anonymous uploads were stored in 0.8 s. Now one
    client may send UPLOAD_BYTES_PER_WINDOW each half hour (here 3 MB), then 429; others still upload."""
    monkeypatch.setattr("web.limits.UPLOAD_BYTES_PER_WINDOW", 3 * 1024 * 1024)
    settings = fixture_settings(tmp_path, admin_token=TOKEN)
    body, headers = multipart("a.txt", b"x" * (900 * 1024))
    with serve(create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3"), settings) as port:
        flood = [call(port, "/gradio_api/upload", body, source="127.0.0.2", headers=headers) for _ in range(5)]
        other = call(port, "/gradio_api/upload", body, source="127.0.0.3", headers=headers)
    assert [s for s, _, _ in flood] == [200, 200, 200, 429, 429] and other[0] == 200
    assert "上传过多" in flood[-1][1]["error"] and int(flood[-1][2]["retry-after"]) >= 1
    assert sum(len(d) for s, d, _ in flood if s == 200) == 3  # three files stored, none of the refused
