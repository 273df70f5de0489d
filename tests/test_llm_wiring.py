"""The LLM path wired into the answerer, the service, the streaming API and the evaluation, against
hand-written fake servers (the main path against a real server is in tests/test_llm_server.py)."""

from __future__ import annotations

import json
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from answer.generative import (
    NOT_AN_ANSWER,
    NOTICE_TIMEOUT,
    NOTICE_UNAVAILABLE,
    NOTICE_UNVERIFIED,
    generate_answer,
    passages_for,
    verify_generation,
)
from answer.types import Answer, LLMOutcome
from answer.verify import UNSUPPORTED_MARK
from app import create_app
from eval import commands
from eval.qa import QACase
from settings import Settings, load_settings
from tests.browser_helpers import build_fixture_answerer, fixture_settings, serve_app
from tests.fakes import FakeEmbedder
from tests.test_llm_failures import (
    DOCUMENTS,
    TIMEOUT,
    FakeLLMServer,
    completion,
    extractive_answer,
    refused_port,
    hang,
    reply_with,
    send,
    settings_for,
)
from web.service import AnswerService, Draft

REWRITTEN = "温岭到2025年科技型中小企业数达到多少家？"
GOOD_REPLY = "温岭科技型中小企业数达1800家[1]。"


def answering(reply: str, rewrite: str = REWRITTEN):
    """A server that rewrites follow-ups as ``rewrite`` and answers with ``reply`` (streamed when asked)."""
    answer = reply_with(reply)

    def respond(handler: BaseHTTPRequestHandler, body: dict) -> None:
        if "改写后的问题：" in body["messages"][-1]["content"]:
            send(handler, 200, completion(rewrite))
        else:
            answer(handler, body)

    return respond


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory):
    """Settings of a fixture corpus, indexed with the fake embedder, and its embedder."""
    settings = fixture_settings(tmp_path_factory.mktemp("llm-wiring"))
    embedder = FakeEmbedder()
    build_fixture_answerer(settings, embedder)
    return settings, embedder


def service_for(fixture_index, **changes) -> AnswerService:
    settings, embedder = fixture_index
    settings = settings.replace(**changes)
    return AnswerService(settings, build_fixture_answerer(settings, embedder), embedder)


# --------------------------------------------------------------------------- settings


def test_llm_settings_come_from_the_environment() -> None:
    settings = load_settings(environ={"POLICYQA_LLM_REMOVE_UNSUPPORTED": "true", "POLICYQA_LLM_MAX_TOKENS": "120"})
    assert settings.llm_remove_unsupported is True and settings.llm_max_tokens == 120
    assert Settings().llm_remove_unsupported is False


def test_remove_unsupported_setting_drops_sentences_and_max_tokens_is_sent() -> None:
    reply = "温州达到16000家[1]。温岭达到18000家[2]。"
    with FakeLLMServer(reply_with(reply)) as server:
        marked = generate_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS)
        removed = generate_answer(settings_for(server.base_url).replace(llm_remove_unsupported=True, llm_max_tokens=77),
                                  extractive_answer(), DOCUMENTS)
        assert server.requests[0][1]["max_tokens"] == 400 and server.requests[1][1]["max_tokens"] == 77
    assert UNSUPPORTED_MARK in marked.text
    assert marked.llm == LLMOutcome("generated", sentences=2, unsupported=1)
    assert removed.text == "温州达到16000家[1]。" and "删去1句" in removed.notice
    assert removed.llm == LLMOutcome("generated", sentences=2, unsupported=1, removed=1)


# --------------------------------------------------------------------------- what the check counts


def test_a_copy_of_the_passage_list_is_not_an_answer() -> None:
    # What gemma-3-270m often does: the prompt's passage list again, titles and table cells.
    reply = ("[1] 《温州市科技创新规划》（温政发〔2021〕12号）\n[2] 《温岭市科技创新发展规划》（温岭政发〔2021〕3号） 一、发展目标"
             "\n[2] 2025年，温岭科技型中小企业数达1800家")
    with FakeLLMServer(reply_with(reply)) as server:
        result = generate_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS)
    assert result.text == extractive_answer().text and result.notice == NOTICE_UNVERIFIED
    assert result.llm == LLMOutcome("unverified", sentences=3, unsupported=3)
    generation = verify_generation(reply, passages_for(extractive_answer(), DOCUMENTS))
    assert {c.reason for c in generation.verification.sentences} == {NOT_AN_ANSWER}
    # The same facts written as an answer, markers after the claims, pass.
    answered = verify_generation("温岭科技型中小企业数到2025年达1800家[2]。", passages_for(extractive_answer(), DOCUMENTS))
    assert answered.verification.supported_count == 1


def test_failures_and_bad_citations_are_counted() -> None:
    holder: list = []
    with FakeLLMServer(hang(holder)) as server:
        holder.append(server)
        timed_out = generate_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS)
    assert timed_out.notice == NOTICE_TIMEOUT and timed_out.llm == LLMOutcome("timeout")
    with FakeLLMServer(reply_with("温州达到16000家[1]。温岭达到1800家[7]。")) as server:
        result = generate_answer(settings_for(server.base_url), extractive_answer(), DOCUMENTS)
    assert result.llm == LLMOutcome("generated", sentences=2, unsupported=1, bad_citations=1)
    assert generate_answer(Settings(), extractive_answer(), DOCUMENTS).llm is None


# --------------------------------------------------------------------------- follow-up rewriting


def test_followup_is_rewritten_by_the_llm_and_the_searched_question_is_shown(fixture_index) -> None:
    history = ["温州到2025年科技型中小企业要达到多少家？"]
    with FakeLLMServer(answering(GOOD_REPLY)) as server:
        service = service_for(fixture_index, llm_base_url=server.base_url, llm_timeout=TIMEOUT)
        answer = service.ask("那温岭呢？", history)
    assert answer.searched_question == REWRITTEN
    assert answer.text == GOOD_REPLY and answer.citations[0].doc_id == "wenling.txt"


@pytest.mark.parametrize("trouble", ["down", "echo", "invented year"])
def test_followup_falls_back_to_the_rules_when_the_llm_rewrite_fails(fixture_index, trouble) -> None:
    history = ["温州到2025年科技型中小企业要达到多少家？"]
    rules = service_for(fixture_index).ask("那温岭呢？", history).searched_question
    assert "温岭" in rules
    if trouble == "down":
        with refused_port() as port:
            answer = service_for(fixture_index, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=TIMEOUT)\
                .ask("那温岭呢？", history)
        assert answer.notice == NOTICE_UNAVAILABLE
    else:
        rewrite = history[0] if trouble == "echo" else "2023年温岭科技型中小企业要达到多少家？"
        with FakeLLMServer(answering(GOOD_REPLY, rewrite=rewrite)) as server:
            answer = service_for(fixture_index, llm_base_url=server.base_url, llm_timeout=TIMEOUT).ask("那温岭呢？", history)
    assert answer.searched_question == rules


# --------------------------------------------------------------------------- streaming


def test_service_streams_drafts_then_the_verified_answer(fixture_index) -> None:
    with FakeLLMServer(answering(GOOD_REPLY)) as server:
        items = list(service_for(fixture_index, llm_base_url=server.base_url, llm_timeout=TIMEOUT)
                     .ask_stream("温岭科技型中小企业数到2025年达到多少家？"))
    drafts, final = items[:-1], items[-1]
    assert drafts and all(isinstance(d, Draft) for d in drafts)
    assert [d.text for d in drafts][-1] == GOOD_REPLY and isinstance(final, Answer)
    assert final.text == GOOD_REPLY and final.llm == LLMOutcome("generated", sentences=1)
    assert drafts[0].basis.question == final.question


def stream_lines(url: str, payload: dict) -> tuple[int, str, list[dict]]:
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode("utf-8")
        return response.status, response.headers.get("content-type", ""), [json.loads(line) for line in text.splitlines()]


def test_api_stream_sends_start_deltas_and_the_final_answer(fixture_index, tmp_path) -> None:
    settings, embedder = fixture_index
    with FakeLLMServer(answering(GOOD_REPLY)) as server:
        llm_settings = settings.replace(llm_base_url=server.base_url, llm_timeout=TIMEOUT)
        app = create_app(llm_settings, build_fixture_answerer(llm_settings, embedder), embedder=embedder,
                         feedback_db=tmp_path / "fb.sqlite3")
        with serve_app(app) as url:
            status, content_type, events = stream_lines(url + "api/ask/stream", {"question": "温岭科技型中小企业数达到多少家？"})
            # A server that stops answering: the stream still ends in the extractive answer.
            server.httpd.shutdown()
            _, _, fallback = stream_lines(url + "api/ask/stream", {"question": "温岭科技型中小企业数达到多少家？"})
    assert status == 200 and content_type.startswith("application/x-ndjson")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"delta"}
    assert "".join(e["text"] for e in events[1:-1]) == GOOD_REPLY
    assert events[-1]["answer"]["answer"] == GOOD_REPLY and events[-1]["answer"]["citations"][0]["doc_id"] == "wenling.txt"
    assert fallback[-1]["type"] == "answer" and fallback[-1]["answer"]["notice"]
    assert "1800" in fallback[-1]["answer"]["answer"]


# --------------------------------------------------------------------------- evaluation


def test_compare_has_an_llm_row_with_the_check_counts(fixture_index, tmp_path, monkeypatch, capsys) -> None:
    settings, embedder = fixture_index
    monkeypatch.setattr(commands, "load_embedder", lambda spec: embedder)
    cases = [
        QACase("t1", "温岭科技型中小企业数到2025年达到多少家？", ("1800",), "any", ("温岭科技型中小企业数达1800家",),
               ("wenling.txt",), "fact"),
        QACase("t2", "温州高新技术企业数量达到多少家？", ("4400",), "any", ("高新技术企业数量达到4400家",),
               ("wenzhou.txt",), "fact"),
    ]
    reply = "温岭科技型中小企业数达1800家[1]。温州高新技术企业达到5000家[1]。"
    with FakeLLMServer(answering(reply)) as server:
        code = commands.compare_configurations(settings, cases, tmp_path, ["hybrid", "llm"], llm_url=server.base_url)
    out = capsys.readouterr().out
    assert code == 0
    assert "LLM answers and the citation check" in out
    llm_row = [line for line in out.splitlines() if line.startswith("llm ")]
    assert len(llm_row) == 2  # the comparison table's row and the check's row
    summary = json.loads((tmp_path / "llm" / "summary.json").read_text(encoding="utf-8"))["llm"]
    assert summary["asked"] == 2 and summary["sentences"] == 4 and summary["unsupported"] >= 2
    assert "llm" not in json.loads((tmp_path / "hybrid" / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (tmp_path / "llm" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(row["llm"]["sentences"] == 2 for row in rows)


def test_compare_picks_the_llm_server_and_spreads_a_limit() -> None:
    assert commands.select_cases(list(range(212)), 4) == [0, 53, 106, 159]
    configured = Settings(llm_base_url="http://10.0.0.5:8000/v1", llm_model="qwen")
    with commands.llm_settings(configured, "http://127.0.0.1:9/v1") as given:
        assert given.llm_base_url == "http://127.0.0.1:9/v1"
    with commands.llm_settings(configured, None) as kept:
        assert kept == configured
    extractive, mode = commands._configured(configured, "lexical", commands.Path("runs"))
    assert extractive.llm_base_url == "" and mode == "lexical"
