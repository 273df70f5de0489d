"""The app over HTTP: JSON API, document view, widget and embed script, gradio_client, feedback, library."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from tests.browser_helpers import (
    FACT_ANSWER,
    FACT_QUESTION,
    build_fixture_answerer,
    fixture_settings,
    serve_app,
)
from tests.fakes import FakeEmbedder
from web.feedback import FeedbackError, FeedbackStore, export_draft_qa
from web.service import AnswerService, LibraryError


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app over the fixture corpus, served on a free loopback port: (base URL, answerer, feedback db)."""
    folder = tmp_path_factory.mktemp("app")
    settings = fixture_settings(folder)
    answerer = build_fixture_answerer(settings)
    feedback_db = folder / "feedback.sqlite3"
    with serve_app(create_app(settings, answerer, feedback_db=feedback_db)) as url:
        yield url, answerer, feedback_db


def request(url: str, body: bytes | None = None, method: str | None = None) -> tuple[int, str, str]:
    """(status, content type, text) of a request; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read().decode("utf-8")


def post_json(url: str, payload) -> tuple[int, dict]:
    status, _, text = request(url, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "POST")
    return status, json.loads(text)


def raw_get(base: str, path: str) -> tuple[int, str]:
    """GET a path exactly as written (no client-side normalisation of ``..``)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def test_ask_returns_answer_with_citations_that_point_into_the_document(served):
    url, answerer, _ = served
    status, data = post_json(url + "api/ask", {"question": FACT_QUESTION})
    assert status == 200
    assert FACT_ANSWER in data["answer"] and data["abstained"] is False
    first = data["citations"][0]
    assert first["doc_id"] == "wenzhou.txt" and first["n"] == 1
    assert answerer.documents["wenzhou.txt"].text[first["start"]:first["end"]] == first["quote"]
    assert first["url"] == f"{url}doc/wenzhou.txt?start={first['start']}&end={first['end']}#cited"
    assert data["searched_question"] == FACT_QUESTION and data["latency_ms"] >= 0


def test_ask_follow_up_reports_the_searched_question(served):
    url, _, _ = served
    status, data = post_json(url + "api/ask", {"question": "那温岭呢？", "history": [FACT_QUESTION]})
    assert status == 200
    assert data["searched_question"] != data["question"] and "温岭" in data["searched_question"]
    assert data["citations"] and data["citations"][0]["doc_id"] == "wenling.txt"


def test_ask_filtered_by_document_cites_only_that_document(served):
    url, _, _ = served
    status, data = post_json(url + "api/ask", {"question": FACT_QUESTION, "doc_ids": ["wenling.txt"]})
    assert status == 200
    shown = data["related"] if data["abstained"] else data["citations"]
    assert shown and {c["doc_id"] for c in shown} == {"wenling.txt"}


def test_ask_abstains_with_related_passages(served):
    url, _, _ = served
    status, data = post_json(url + "api/ask", {"question": "火星基地什么时候建成？"})
    assert status == 200 and data["abstained"] is True
    assert "未找到" in data["answer"] and data["citations"] == [] and data["related"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b'{"question": "   "}', "问题为空"),
        (b"{not json", "JSON"),
        (b'["a list"]', "JSON 对象"),
        (b'{"history": []}', "question"),
        (b'{"question": "a", "history": "not a list"}', "history"),
        ('{"question": "温州", "doc_ids": ["../settings.py"]}'.encode(), "未知的文件"),
        (json.dumps({"question": "长" * 600}).encode(), "问题过长"),
    ],
)
def test_ask_rejects_bad_requests_with_400_and_a_message(served, body, fragment):
    url, _, _ = served
    status, content_type, text = request(url + "api/ask", body, "POST")
    assert status == 400 and content_type.startswith("application/json")
    assert fragment in json.loads(text)["error"]


def test_ask_stream_without_an_llm_sends_the_final_answer_once(served):
    url, _, _ = served
    payload = json.dumps({"question": "那温岭呢？", "history": [FACT_QUESTION]}, ensure_ascii=False).encode("utf-8")
    status, content_type, text = request(url + "api/ask/stream", payload, "POST")
    assert status == 200 and content_type.startswith("application/x-ndjson")
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["type"] for e in events] == ["answer"]
    _, plain = post_json(url + "api/ask", {"question": "那温岭呢？", "history": [FACT_QUESTION]})
    streamed = events[0]["answer"]
    assert {k: v for k, v in streamed.items() if k != "latency_ms"} == {k: v for k, v in plain.items() if k != "latency_ms"}
    assert "温岭" in streamed["searched_question"] and streamed["citations"]


@pytest.mark.parametrize("body, fragment", [(b"{not json", "JSON"), (json.dumps({"question": "长" * 600}).encode(), "问题过长")])
def test_ask_stream_rejects_bad_requests_before_streaming(served, body, fragment):
    url, _, _ = served
    status, content_type, text = request(url + "api/ask/stream", body, "POST")
    assert status == 400 and content_type.startswith("application/json")
    assert fragment in json.loads(text)["error"]


def test_documents_lists_metadata_and_chunk_counts(served):
    url, answerer, _ = served
    status, _, text = request(url + "api/documents")
    rows = {row["doc_id"]: row for row in json.loads(text)["documents"]}
    assert status == 200 and set(rows) == set(answerer.documents)
    assert rows["wenzhou.txt"]["title"] == answerer.documents["wenzhou.txt"].title
    counts = {}
    for chunk in answerer.retriever.index.chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    assert all(rows[d]["chunks"] == counts[d] > 0 for d in rows)


def test_document_view_highlights_the_cited_span(served):
    url, answerer, _ = served
    text = answerer.documents["wenzhou.txt"].text
    start = text.index("高新技术企业数量")
    end = start + len("高新技术企业数量达到4400家")
    status, content_type, page = request(f"{url}doc/wenzhou.txt?start={start}&end={end}")
    assert status == 200 and content_type.startswith("text/html")
    assert '<mark id="cited">高新技术企业数量达到4400家</mark>' in page
    assert "scrollIntoView" in page


def test_document_view_escapes_html_in_documents(served):
    url, answerer, _ = served
    text = answerer.documents["xss.txt"].text
    start = text.index("<script>")
    status, _, page = request(f"{url}doc/xss.txt?start={start}&end={start + 8}")
    assert status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.replace('<mark id="cited">', "").replace("</mark>", "")
    assert "<script>alert(1)" not in page


def test_document_view_ignores_a_span_outside_the_text(served):
    url, _, _ = served
    status, _, page = request(f"{url}doc/wenzhou.txt?start=900000&end=900010")
    assert status == 200 and "<mark" not in page and "温州市科技创新规划" in page


@pytest.mark.parametrize(
    "path",
    ["/doc/..%2F..%2Fsettings.py", "/doc/%2e%2e/%2e%2e/settings.py", "/doc/../../settings.py",
     "/doc//etc/passwd", "/doc/nonexistent.txt"],
)
def test_document_view_rejects_paths_that_are_not_indexed_documents(served, path):
    url, _, _ = served
    status, body = raw_get(url, path)
    assert status == 404
    assert "load_settings" not in body and "root:" not in body


def test_embed_script_and_widget_are_served(served):
    url, _, _ = served
    status, content_type, script = request(url + "embed.js")
    assert status == 200 and "javascript" in content_type
    assert "currentScript" in script and "widget?title=" in script
    status, content_type, page = request(url + "widget")
    assert status == 200 and content_type.startswith("text/html") and 'id="qa-input"' in page
    status, content_type, code = request(url + "widget-assets/widget.js")
    assert status == 200 and "javascript" in content_type and "textContent" in code
    assert "innerHTML" not in code
    assert request(url + "widget-assets/widget.html")[0] == 404


def test_chat_page_is_served_without_external_assets(served):
    url, _, _ = served
    status, _, page = request(url)
    assert status == 200 and "政策问答助手" in page
    assert "fonts.googleapis" not in page and "cdn.jsdelivr" not in page


def test_gradio_client_ask_endpoint(served):
    from gradio_client import Client

    url, answerer, _ = served
    client = Client(url, verbose=False)
    result = client.predict(FACT_QUESTION, api_name="/ask")
    assert FACT_ANSWER in result["answer"]
    assert result["citations"][0]["doc_id"] == "wenzhou.txt"
    followup = client.predict("那温岭呢？", [FACT_QUESTION], None, api_name="/ask")
    assert followup["citations"][0]["doc_id"] == "wenling.txt"
    with pytest.raises(Exception, match="问题为空"):
        client.predict("   ", api_name="/ask")


def test_feedback_api_stores_rows_and_exports_thumbs_down(served, tmp_path):
    url, _, feedback_db = served
    status, saved = post_json(url + "api/feedback", {
        "rating": "down", "question": "温州的目标？", "answer": "不对的回答", "history": ["前一问"],
        "sources": [{"doc_id": "wenzhou.txt", "quote": "…"}], "channel": "widget"})
    assert status == 200 and isinstance(saved["id"], str) and len(saved["id"]) >= 16  # random, not a counter
    status, _ = post_json(url + f"api/feedback/{saved['id']}/comment", {"comment": "答案在温州规划里"})
    assert status == 200
    assert post_json(url + "api/feedback", {"rating": "meh", "question": "q"})[0] == 400
    assert post_json(url + "api/feedback/999999/comment", {"comment": "x"})[0] == 400
    store = FeedbackStore(feedback_db)
    out = tmp_path / "drafts.jsonl"
    try:
        assert export_draft_qa(store, out) >= 1
    finally:
        store.close()
    drafts = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    draft = next(d for d in drafts if d["question"] == "温州的目标？")
    assert draft["question"] == "温州的目标？" and draft["answers"] == [] and draft["evidence"] == []
    assert draft["history"] == ["前一问"] and "答案在温州规划里" in draft["note"]
    assert {"id", "question", "answers", "answer_mode", "evidence", "docs", "type"} <= set(draft)


def test_feedback_store_keeps_ratings_apart(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "fb.sqlite3")
    store.add("up", "好问题", "好回答")
    down = store.add("down", "坏问题", "坏回答", [{"doc_id": "a.txt"}], abstained=True)
    with pytest.raises(FeedbackError):
        store.add("down", "  ", "没有问题")
    store.set_comment(down, "应当回答")
    rows = store.rows(rating="down")
    assert [r.question for r in rows] == ["坏问题"] and rows[0].comment == "应当回答" and rows[0].abstained
    assert len(store.rows()) == 2
    store.close()


def test_library_upload_and_delete_need_the_token_and_reindex(tmp_path):
    settings = fixture_settings(tmp_path, admin_token="s3cret")
    embedder = FakeEmbedder()
    service = AnswerService(settings, build_fixture_answerer(settings, embedder), embedder)
    upload = tmp_path / "新文件.txt"
    upload.write_text("新区规划\n\n一、目标\n新区孵化器面积达到99万平方米。\n", encoding="utf-8")
    with pytest.raises(LibraryError, match="令牌"):
        service.add_files("wrong", [("新文件.txt", upload)])
    with pytest.raises(LibraryError, match="不支持"):
        service.add_files("s3cret", [("evil.exe", upload)])
    progress: list[tuple[int, int]] = []
    names, report = service.add_files("s3cret", [("../../新文件.txt", upload)], lambda d, t: progress.append((d, t)))
    assert names == ["新文件.txt"] and report.added == ("新文件.txt",)
    assert (Path(settings.corpus_dir) / "新文件.txt").is_file() and progress[-1][0] == progress[-1][1] > 0
    assert "99万" in service.ask("新区孵化器面积达到多少？").text
    report = service.delete_document("s3cret", "新文件.txt")
    assert report.removed == ("新文件.txt",) and "新文件.txt" not in service.documents
    with pytest.raises(LibraryError):
        service.delete_document("s3cret", "../settings.py")


def test_library_is_read_only_without_an_admin_token(tmp_path):
    settings = fixture_settings(tmp_path)
    service = AnswerService(settings, build_fixture_answerer(settings), FakeEmbedder())
    with pytest.raises(LibraryError, match="只读"):
        service.delete_document("", "wenzhou.txt")
    assert (Path(settings.corpus_dir) / "wenzhou.txt").is_file()


def test_root_path_is_used_in_links(tmp_path):
    settings = fixture_settings(tmp_path, root_path="/policyqa")
    app = create_app(settings, build_fixture_answerer(settings), feedback_db=tmp_path / "fb.sqlite3")
    with serve_app(app) as url:
        status, data = post_json(url + "api/ask", {"question": FACT_QUESTION})
    assert status == 200 and data["citations"][0]["url"].startswith(url + "policyqa/doc/wenzhou.txt?")
