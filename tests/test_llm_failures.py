"""The LLM path against hand-written fake servers: every failure gives the extractive answer with
a notice, within the timeout, never an exception; good replies are verified and renumbered."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import pytest

from answer import llm
from answer.generative import (
    NOTICE_BAD_RESPONSE,
    NOTICE_MARKED,
    NOTICE_NOT_FOUND,
    NOTICE_RATE_LIMITED,
    NOTICE_TIMEOUT,
    NOTICE_UNAVAILABLE,
    NOTICE_UNVERIFIED,
    generate_answer,
    stream_generative_answer,
)
from answer.types import Answer, Citation
from answer.verify import UNSUPPORTED_MARK
from index.types import Hit
from ingest.types import Chunk, Document
from settings import Settings
from tests.llm_server import refused_port

SECRET = "sk-test-SECRET-0123456789"
TIMEOUT = 1.0
WENZHOU = "到2025年，科技型中小企业数量达到16000家，高新技术企业数量达到4400家。"
WENLING = "到2025年，温岭科技型中小企业数达1800家，高新技术企业数达560家。"


# --------------------------------------------------------------------------- fake server


class FakeLLMServer:
    """A loopback HTTP server whose reply to POST /v1/chat/completions is ``respond(handler, body)``."""

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler, dict], None]) -> None:
        self.requests: list[tuple[dict, dict]] = []  # (headers, body)
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append((dict(self.headers), body))
                respond(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeLLMServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def completion(content: object) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


def sse(events: list[object], done: bool = True) -> bytes:
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e, ensure_ascii=False)}\n\n" for e in events]
    return ("".join(lines) + ("data: [DONE]\n\n" if done else "")).encode()


def delta(text: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}}]}


def reply_with(content: str) -> Callable[[BaseHTTPRequestHandler, dict], None]:
    """A working server: ``content`` as JSON, or streamed in three pieces when asked to stream."""

    def respond(handler: BaseHTTPRequestHandler, body: dict) -> None:
        if body.get("stream"):
            third = max(1, len(content) // 3)
            pieces = [content[:third], content[third:2 * third], content[2 * third:]]
            send(handler, 200, sse([delta(p) for p in pieces]), "text/event-stream")
        else:
            send(handler, 200, completion(content))

    return respond


# --------------------------------------------------------------------------- fixtures


def _document(doc_id: str, title: str, text: str, number: str) -> Document:
    return Document(doc_id, doc_id, title, text, "0" * 64, {"文号": number})


DOCUMENTS = {
    "wenzhou.txt": _document("wenzhou.txt", "温州市科技创新规划", WENZHOU, "温政发〔2021〕12号"),
    "wenling.txt": _document("wenling.txt", "温岭市科技创新发展规划", WENLING, "温岭政发〔2021〕3号"),
}


def extractive_answer(abstained: bool = False) -> Answer:
    hits = tuple(
        Hit(Chunk(f"{doc_id}#0", doc_id, doc.text, 0, len(doc.text), "一、发展目标"), 1.0 / rank, rank, "hybrid")
        for rank, (doc_id, doc) in enumerate(DOCUMENTS.items(), start=1)
    )
    citation = Citation(1, "wenzhou.txt", "温州市科技创新规划", "一、发展目标", WENZHOU, 0, len(WENZHOU), "温政发〔2021〕12号")
    return Answer(
        question="温州和温岭到2025年科技型中小企业分别要达到多少家？",
        text="资料中未找到相关内容。" if abstained else f"{WENZHOU}[1]",
        citations=() if abstained else (citation,),
        hits=hits,
        abstained=abstained,
        latency_ms=12.0,
        searched_question="温州和温岭到2025年科技型中小企业分别要达到多少家？",
    )


def settings_for(base_url: str) -> Settings:
    return Settings(llm_base_url=base_url, llm_model="fake", llm_api_key=SECRET, llm_timeout=TIMEOUT)


def assert_fallback(result: Answer, notice: str) -> None:
    extractive = extractive_answer()
    assert result.text == extractive.text
    assert result.citations == extractive.citations
    assert result.notice == notice
    assert SECRET not in result.notice


def run_both(settings: Settings) -> Iterator[tuple[str, Answer]]:
    """The blocking and the streamed answer."""
    yield "blocking", generate_answer(settings, extractive_answer(), DOCUMENTS)
    items = list(stream_generative_answer(settings, extractive_answer(), DOCUMENTS))
    assert isinstance(items[-1], Answer) and all(isinstance(i, str) for i in items[:-1])
    yield "stream", items[-1]


# --------------------------------------------------------------------------- failures


def hang(server_holder: list) -> Callable[[BaseHTTPRequestHandler, dict], None]:
    def respond(handler: BaseHTTPRequestHandler, body: dict) -> None:
        server_holder[0].release.wait(30)

    return respond


def test_server_that_never_answers_times_out_into_the_extractive_answer() -> None:
    holder: list = []
    with FakeLLMServer(hang(holder)) as server:
        holder.append(server)
        for _mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_TIMEOUT)  # returned while the server still holds the request


def test_stream_that_stalls_after_the_first_piece_times_out() -> None:
    holder: list = []

    def respond(handler: BaseHTTPRequestHandler, body: dict) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.wfile.write(sse([delta("温州达到")], done=False))
        handler.wfile.flush()
        holder[0].release.wait(30)

    with FakeLLMServer(respond) as server:
        holder.append(server)
        items = list(stream_generative_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS))
        assert items[0] == "温州达到"
        assert_fallback(items[-1], NOTICE_TIMEOUT)


def test_server_down_gives_the_extractive_answer_at_once() -> None:
    with refused_port() as port:
        results = list(run_both(settings_for(f"http://127.0.0.1:{port}/v1")))
    for _mode, result in results:
        assert_fallback(result, NOTICE_UNAVAILABLE)  # not a timeout: the refused connection is seen at once


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(lambda h, b: send(h, 200, b"{not json"), id="malformed-json"),
        pytest.param(lambda h, b: send(h, 200, b'{"choices": []}', "text/event-stream" if b.get("stream") else "application/json"), id="empty-choices"),
        pytest.param(lambda h, b: send(h, 200, sse([{"choices": []}]) if b.get("stream") else completion(None), "text/event-stream" if b.get("stream") else "application/json"), id="no-content"),
        pytest.param(lambda h, b: send(h, 200, sse([delta("")]) if b.get("stream") else completion("   "), "text/event-stream" if b.get("stream") else "application/json"), id="blank-content"),
        pytest.param(lambda h, b: send(h, 200, sse(["{broken"]) if b.get("stream") else b'{"id": 1}', "text/event-stream" if b.get("stream") else "application/json"), id="malformed-event"),
    ],
)
def test_malformed_or_empty_reply_gives_the_extractive_answer(respond) -> None:
    with FakeLLMServer(respond) as server:
        for mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_BAD_RESPONSE)


def test_rate_limit_gives_the_extractive_answer_and_reads_retry_after() -> None:
    respond = lambda h, b: send(h, 429, b'{"error": "too many requests"}', headers={"Retry-After": "7"})  # noqa: E731
    with FakeLLMServer(respond) as server:
        for mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_RATE_LIMITED)
        with pytest.raises(llm.LLMRateLimitedError) as caught:
            llm.complete(settings_for(server.base_url), [{"role": "user", "content": "hi"}])
        assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [401, 404, 500, 503])
def test_http_errors_give_the_extractive_answer_without_leaking_the_key(status: int, caplog) -> None:
    # The server echoes the key back in its error body; neither the error nor the log may show it.
    respond = lambda h, b: send(h, status, json.dumps({"error": f"bad key {SECRET}"}).encode())  # noqa: E731
    with FakeLLMServer(respond) as server, caplog.at_level(logging.WARNING):
        for mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_UNAVAILABLE)
        with pytest.raises(llm.LLMUnavailableError) as caught:
            llm.complete(settings_for(server.base_url), [{"role": "user", "content": "hi"}])
        assert server.requests[0][0]["Authorization"] == f"Bearer {SECRET}"
    assert f"HTTP {status}" in str(caught.value) and SECRET not in str(caught.value)
    assert caplog.records and all(SECRET not in r.getMessage() for r in caplog.records)
    assert SECRET not in repr(settings_for("http://x"))


def test_unsupported_reply_falls_back_with_the_verification_notice() -> None:
    with FakeLLMServer(reply_with("温州科技型中小企业达到4400家[1]。温岭科技型中小企业达到18000家[2]。")) as server:
        for mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_UNVERIFIED)


def test_not_found_reply_keeps_the_extractive_answer_with_its_notice() -> None:
    with FakeLLMServer(reply_with("资料中未找到相关内容。")) as server:
        for mode, result in run_both(settings_for(server.base_url)):
            assert_fallback(result, NOTICE_NOT_FOUND)


# --------------------------------------------------------------------------- working server


def test_partly_supported_reply_is_marked_and_renumbered() -> None:
    reply = "温岭到2025年达到1800家[2]。温州达到18000家[1]。"
    with FakeLLMServer(reply_with(reply)) as server:
        for mode, result in run_both(settings_for(server.base_url)):
            assert result.text == f"温岭到2025年达到1800家[1]。温州达到18000家[2]。{UNSUPPORTED_MARK}", mode
            assert [c.doc_id for c in result.citations] == ["wenling.txt", "wenzhou.txt"]
            assert [c.n for c in result.citations] == [1, 2]
            assert result.citations[0].quote == WENLING and result.citations[0].doc_number == "温岭政发〔2021〕3号"
            assert result.notice == NOTICE_MARKED and not result.abstained
        _, body = server.requests[0]
        prompt = body["messages"][-1]["content"]
        assert "[1] 《温州市科技创新规划》（温政发〔2021〕12号） 一、发展目标" in prompt and WENLING in prompt and "问题：" in prompt
        assert body["model"] == "fake" and body["temperature"] == pytest.approx(0.1)


def test_remove_unsupported_drops_the_sentence() -> None:
    with FakeLLMServer(reply_with("温岭达到1800家[2]。温州达到18000家[1]。")) as server:
        result = generate_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS, remove_unsupported=True)
    assert result.text == "温岭达到1800家[1]。"
    assert [c.doc_id for c in result.citations] == ["wenling.txt"]
    assert "删去1句" in result.notice


def test_streamed_drafts_grow_and_end_in_the_verified_answer() -> None:
    reply = "<think>找数字</think>温州达到16000家[1]，温岭达到1800家[2]。"
    with FakeLLMServer(reply_with(reply)) as server:
        items = list(stream_generative_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS))
    drafts, final = items[:-1], items[-1]
    assert drafts and all(b.startswith(a) for a, b in zip(drafts, drafts[1:]))
    assert "<think>" not in "".join(drafts)
    assert final.text == "温州达到16000家[1]，温岭达到1800家[2]。" and final.notice == ""


def test_no_server_configured_or_extractive_abstention_makes_no_request() -> None:
    with FakeLLMServer(reply_with("温州达到16000家[1]。")) as server:
        assert generate_answer(Settings(), extractive_answer(), DOCUMENTS) == extractive_answer()
        abstained = extractive_answer(abstained=True)
        assert generate_answer(settings_for(server.base_url), abstained, DOCUMENTS) == abstained
        assert list(stream_generative_answer(settings_for(server.base_url), abstained, DOCUMENTS)) == [abstained]
        assert server.requests == []
        answered = generate_answer(settings_for(server.base_url), abstained, DOCUMENTS, answer_abstained=True)
        assert answered.text == "温州达到16000家[1]。" and not answered.abstained


def test_followup_rewrite_uses_the_reply_and_falls_back_on_any_failure() -> None:
    history = ["温州到2025年科技型中小企业要达到多少家？"]
    with FakeLLMServer(reply_with("改写后的问题：温岭到2025年科技型中小企业要达到多少家？\n")) as server:
        rewritten = llm.rewrite_followup_with_llm(settings_for(server.base_url), "那温岭呢？", history)
        assert rewritten == "温岭到2025年科技型中小企业要达到多少家？"
        assert "温州到2025年" in server.requests[0][1]["messages"][-1]["content"]
        assert llm.rewrite_followup_with_llm(settings_for(server.base_url), "那温岭呢？", []) == "那温岭呢？"
        assert len(server.requests) == 1
    with refused_port() as port:
        assert llm.rewrite_followup_with_llm(settings_for(f"http://127.0.0.1:{port}/v1"), "那温岭呢？", history) == "那温岭呢？"
    with FakeLLMServer(lambda h, b: send(h, 200, b"{not json")) as server:
        assert llm.rewrite_followup_with_llm(settings_for(server.base_url), "那温岭呢？", history) == "那温岭呢？"
