"""Hostile content, limits and access: what a document or a visitor sends must never run script,
escape the corpus, crash the server or reveal a secret.

Browser checks use Debian's chromium (they fail, never skip, when it is missing). Every payload
sets ``window.__pwned`` and calls ``alert``: a test asserts the global stays undefined and no
dialog opens. Results and the longer scripted runs: docs/RELIABILITY.md.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import logging
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from app import create_app
from tests.browser_helpers import (
    FACT_ANSWER,
    FACT_QUESTION,
    ask_in_chat_page,
    build_fixture_answerer,
    fixture_settings,
    serve_app,
    serve_static,
)
from settings import Settings
from tests.fakes import FakeEmbedder
from tests.test_app_api import raw_get
from tests.test_browser import browser, context  # noqa: F401 - the chromium fixtures (context records dialogs)
from web.presenters import doc_path
from web.service import AnswerService, LibraryError, check_admin_token

ADMIN_TOKEN = "tok-SECRET-4d1c9e"
API_KEY = "sk-SECRET-77aa01"
HOSTILE_DOC = "hostile.txt"
HOSTILE_TEXT = """关于脚本注入测试的通知

一、说明
注入测试专用编号为INJ-7777，正文含有脚本<script>window.__pwned='script';alert('script')</script>。
图片<img src=x onerror="window.__pwned='img';alert('img')">与<svg onload="window.__pwned='svg'"></svg>。
链接[点我](javascript:window.__pwned='mdlink') 和 <a href="javascript:window.__pwned='a'">这里</a>，<iframe src="javascript:window.__pwned='iframe'"></iframe>。
图![图](x" onerror="window.__pwned='mdimg')、<style>body{display:none}</style>、</textarea></title>结尾。
"""
HOSTILE_SIDECAR = {"title": "<img src=x onerror=\"window.__pwned='title';alert('title')\">注入通知",
                   "文号": "<b onmouseover=\"window.__pwned='docno'\">温科〔2024〕7号</b>"}
HOSTILE_NAME = "'\"><img src=x onerror=alert('name')>.txt"
HOSTILE_NAME_TEXT = "文件名测试通知\n\n一、说明\n文件名测试专用编号为NAME-5555。\n"
HOSTILE_QUESTION = "<img src=x onerror=\"window.__pwned='question';alert('question')\">注入测试专用编号INJ-7777是什么？"
MARKDOWN_QUESTION = "[点我](javascript:window.__pwned='qlink') <script>alert('qs')</script> **粗** INJ-7777 是什么？"


def write_hostile_corpus(folder: Path):
    settings = fixture_settings(folder, admin_token=ADMIN_TOKEN, llm_api_key=API_KEY)
    corpus = Path(settings.corpus_dir)
    (corpus / HOSTILE_DOC).write_text(HOSTILE_TEXT, encoding="utf-8")
    (corpus / (HOSTILE_DOC + ".meta.json")).write_text(json.dumps(HOSTILE_SIDECAR, ensure_ascii=False), encoding="utf-8")
    (corpus / HOSTILE_NAME).write_text(HOSTILE_NAME_TEXT, encoding="utf-8")
    return settings


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The app over the fixture corpus plus hostile documents: (base URL, answerer, settings)."""
    folder = tmp_path_factory.mktemp("hostile")
    settings = write_hostile_corpus(folder)
    embedder = FakeEmbedder()
    answerer = build_fixture_answerer(settings, embedder)
    assert {HOSTILE_DOC, HOSTILE_NAME} <= set(answerer.documents)
    with serve_app(create_app(settings, answerer, embedder=embedder, feedback_db=folder / "fb.sqlite3")) as url:
        yield url, answerer, settings


def assert_no_script_ran(page, context) -> None:
    """No dialog opened and no payload set its global, in the page or any of its frames."""
    page.wait_for_timeout(300)  # let an onerror of a broken image fire
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned === undefined"), f"payload ran in {frame.url}"
    assert context.dialogs == []


def links_in(locator) -> list[str]:
    return locator.evaluate_all("els => els.map(e => (e.getAttribute('href') || '').trim().toLowerCase())")


def assert_no_live_payload_elements(scope) -> None:
    for selector in ("img[src='x']", "svg[onload]", "iframe", "script", "[onerror]", "[onmouseover]"):
        assert scope.locator(selector).count() == 0, selector
    styles = scope.locator("style").evaluate_all("els => els.map(e => e.textContent)")
    assert not [s for s in styles if "display:none" in s.replace(" ", "")]  # Gradio's own icon styles are fine
    assert not [h for h in links_in(scope.locator("a")) if h.startswith(("javascript:", "data:", "vbscript:"))]


# --- hostile content in the browser ------------------------------------------------------------


def test_chat_page_shows_hostile_questions_and_documents_as_text(hostile_app, context):
    url, _, _ = hostile_app
    page = context.new_page()
    page.goto(url)
    ask_in_chat_page(page, HOSTILE_QUESTION)
    chat = page.locator("#qa-chatbot")
    shown = chat.inner_text()
    assert "onerror" in shown and "INJ-7777" in shown  # the question and the document text, as text
    assert "<img src=x" in shown
    page.locator("#qa-question textarea").fill(MARKDOWN_QUESTION)
    page.locator("#qa-send").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chatbot .qa-sources').length >= 2", timeout=60_000)
    page.wait_for_timeout(500)
    assert_no_live_payload_elements(chat)
    assert_no_script_ran(page, context)
    # The source links open the document view, where the payloads are text too.
    with context.expect_page() as opened:
        chat.locator("a.qa-source").first.click()
    view = opened.value
    view.wait_for_load_state("load")
    assert "/doc/" in view.url and "<script>" in view.locator(".text").inner_text()
    assert_no_live_payload_elements(view.locator("main"))
    assert_no_script_ran(view, context)


def test_library_tab_and_document_filter_show_hostile_names_as_text(hostile_app, context):
    url, _, _ = hostile_app
    page = context.new_page()
    page.goto(url)
    page.get_by_role("tab", name="文件库").click()
    library = page.locator("#qa-library")
    library.filter(has_text="onerror=alert('name')").wait_for(timeout=10_000)
    assert "onerror=\"window.__pwned='title'" in library.inner_text()
    assert_no_live_payload_elements(library)
    page.get_by_role("tab", name="问答").click()
    page.locator("#qa-filters").get_by_text("筛选文件").click()  # the filters are folded away (#18)
    page.get_by_label("限定文件（可选，不选则检索全部）").click()
    page.get_by_role("option").filter(has_text="注入通知").first.wait_for(timeout=10_000)
    assert_no_script_ran(page, context)


@pytest.mark.parametrize("doc_id", [HOSTILE_DOC, HOSTILE_NAME])
def test_document_view_shows_hostile_text_titles_and_names_as_text(hostile_app, context, doc_id):
    url, answerer, _ = hostile_app
    text = answerer.documents[doc_id].text
    start = text.index("一、说明")
    page = context.new_page()
    page.goto(url + doc_path(doc_id, start, start + 40))
    page.wait_for_load_state("load")
    assert page.locator("mark#cited").count() == 1
    main = page.locator("main")
    assert_no_live_payload_elements(main)
    if doc_id == HOSTILE_DOC:
        assert "<img src=x" in page.locator("h1").inner_text() and "<img src=x" in page.title()
        assert "<script>" in main.inner_text()
    else:
        assert HOSTILE_NAME in page.locator("aside").inner_text()  # the file name, in the filing panel
    assert_no_live_payload_elements(page.locator("aside"))
    assert_no_script_ran(page, context)


def test_widget_shows_hostile_answers_and_parameters_as_text(hostile_app, context):
    url, _, _ = hostile_app
    page = context.new_page()
    title = "<img src=x onerror=\"window.__pwned='wtitle';alert('wtitle')\">"
    page.goto(f"{url}widget?title={quote(title)}&color={quote('red;background:url(javascript:alert(1))')}")
    assert page.locator("#qa-title").inner_text() == title[:40]
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--qa-color')").strip() != "red"
    for question in (HOSTILE_QUESTION, MARKDOWN_QUESTION):
        page.locator("#qa-input").fill(question)
        page.locator("#qa-send").click()
    page.wait_for_function("() => document.querySelectorAll('.qa-bot .qa-source').length >= 2", timeout=60_000)
    messages = page.locator("#qa-messages")
    assert HOSTILE_QUESTION in messages.inner_text() and "<script>" in messages.inner_text()
    assert all(h.startswith(url.lower()) for h in links_in(messages.locator("a")))
    assert_no_live_payload_elements(messages)
    assert_no_script_ran(page, context)


def test_embed_script_treats_hostile_attributes_as_text(hostile_app, context, tmp_path):
    url, _, _ = hostile_app
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'></head><body><p>内网页面</p>"
        f"<script src=\"{url}embed.js\" data-title=\"&lt;img src=x onerror=alert('embed')&gt;\" "
        "data-color=\"red;}body{display:none\" data-position=\"left;top:0\"></script></body></html>",
        encoding="utf-8")
    with serve_static(tmp_path) as static_url:
        page = context.new_page()
        page.goto(static_url + "index.html")
        launcher = page.locator("#policyqa-launcher")
        assert launcher.inner_text() == "<img src=x onerror=alert('embed')>"
        assert page.locator("p").is_visible()  # the colour did not inject CSS
        launcher.click()
        frame = page.frame_locator("#policyqa-panel iframe")
        frame.locator("#qa-input").fill(HOSTILE_QUESTION)
        frame.locator("#qa-send").click()
        frame.locator(".qa-bot .qa-source").first.wait_for(timeout=60_000)
        assert_no_script_ran(page, context)


# --- routes that must not leave the corpus -----------------------------------------------------


@pytest.mark.parametrize("path", [
    "/doc/..%2F..%2Fsettings.py", "/doc/%2e%2e%2f%2e%2e%2fapp.py", "/doc/....//....//settings.py",
    "/doc/%252e%252e%252fsettings.py", "/doc/..%5C..%5Csettings.py", "/doc/wenzhou.txt%00.py",
    "/doc/%2Fetc%2Fpasswd", "/doc/corpus/../app.py", "/doc/wenzhou.txt.meta.json",
    "/widget-assets/..%2Fwidget.html", "/widget-assets/..%2F..%2Fservice.py", "/widget-assets/%2e%2e%2fpresenters.py",
    "/gradio_api/file=/etc/passwd", "/gradio_api/file=app.py", "/gradio_api/file=settings.py",
    "/gradio_api/file=../../../../etc/passwd", "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=index/store/current/manifest.json", "/gradio_api/file=corpus/wenzhou.txt",
    "/static/../settings.py", "/assets/..%2F..%2Fapp.py", "/file=/etc/passwd",
])
def test_no_route_serves_files_outside_what_it_owns(hostile_app, path):
    url, _, settings = hostile_app
    status, body = raw_get(url, path)
    assert status in (400, 403, 404), (status, body[:200])
    for leaked in ("root:x:0", "load_settings", "import ", "高新技术企业数量达到4400家", '"chunk_size"'):
        assert leaked not in body


def test_document_view_serves_only_indexed_documents_from_memory(hostile_app):
    url, _, settings = hostile_app
    secret = Path(settings.corpus_dir) / "not-indexed-yet.txt"
    secret.write_text("尚未入库的文件内容", encoding="utf-8")
    try:
        assert raw_get(url, "/doc/not-indexed-yet.txt")[0] == 404
    finally:
        secret.unlink()


# --- limits ------------------------------------------------------------------------------------


def post(url: str, path: str, body: bytes, timeout: float = 60) -> tuple[int, dict | str, float]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    started = time.monotonic()
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = text
    return response.status, data, time.monotonic() - started


def ask_body(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def test_question_length_limit_on_every_way_in(hostile_app):
    from gradio_client import Client

    url, _, _ = hostile_app
    status, data, _ = post(url, "/api/ask", ask_body(question="长" * 501))
    assert status == 400 and "问题过长" in data["error"]
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="问题过长"):
        client.predict("长" * 501, api_name="/ask")
    shown = client.predict("长" * 501, api_name="/chat")  # the chat says why in the conversation
    assert "问题过长" in json.dumps(shown, ensure_ascii=False)
    assert FACT_ANSWER in post(url, "/api/ask", ask_body(question=FACT_QUESTION))[1]["answer"]


def test_malformed_requests_get_a_message_and_the_server_stays_up(hostile_app):
    url, _, _ = hostile_app
    for body in (b"\xff\xfe", b"{", b"null", b"[]", b'{"question": 5}', b'{"question": "a", "doc_ids": "x"}',
                 ask_body(question="温州", history=["a"] * 21), ask_body(question="温州", doc_ids=["x"] * 500)):
        status, data, _ = post(url, "/api/ask", body)
        assert status == 400 and data["error"], body
    status, data, _ = post(url, "/api/feedback", ask_body(rating="up", question="q" * 1_000_000, answer="a"))
    assert status == 200  # stored clipped (web/feedback.py MAX_TEXT_CHARS)
    assert FACT_ANSWER in post(url, "/api/ask", ask_body(question=FACT_QUESTION))[1]["answer"]


def test_deeply_nested_json_gets_a_400_not_a_500(hostile_app):
    """``json.loads`` raises RecursionError on this: a bare 500 and a logged traceback before."""
    url, _, _ = hostile_app
    status, data, _ = post(url, "/api/ask", b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert status == 400 and isinstance(data, dict) and data["error"]


def test_oversized_request_body_is_refused_before_it_is_parsed(hostile_app):
    """Any body size used to be read into memory and parsed."""
    url, _, _ = hostile_app
    status, data, _ = post(url, "/api/ask", ask_body(question="温州", pad="x" * 2_000_000))
    assert status == 413 and isinstance(data, dict) and data["error"]
    # The same without a Content-Length (chunked): cut off once it passes the limit.
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    chunks = (b'{"question": "wz", "pad": "' if i == 0 else b"x" * 65536 for i in range(40))
    connection.request("POST", "/api/ask", body=chunks, encode_chunked=True,
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["error"]
    assert FACT_ANSWER in post(url, "/api/ask", ask_body(question=FACT_QUESTION))[1]["answer"]


def test_long_history_cannot_tie_up_the_answerer(hostile_app, monkeypatch):
    """The Gradio ``/ask`` endpoint passes any history list through: 20 items of 100 000 characters
    kept the answerer, which serves one question at a time, busy for seconds. Now an over-long item
    is refused before the answerer is asked, and of a long history only the last 20 reach it."""
    from gradio_client import Client

    url, answerer, _ = hostile_app
    histories: list[tuple] = []
    original = answerer.ask

    def recording_ask(question, history=(), **kwargs):
        histories.append(tuple(history))
        return original(question, history=history, **kwargs)

    monkeypatch.setattr(answerer, "ask", recording_ask)
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="过长"):
        client.predict("那温岭呢？", ["温州高新技术企业" * 75] * 20, None, api_name="/ask")  # 600 > 500 characters
    with pytest.raises(Exception, match="413"):  # 20 × 100 000 characters: a body over Gradio's 256 KB (#19)
        client.predict("那温岭呢？", ["温州高新技术企业" * 12_500] * 20, None, api_name="/ask")
    assert histories == []  # refused before any search
    many = ["温州高新技术企业数量达到多少家？"] * 1000  # ≈ 90 KB as gradio_client sends it
    assert FACT_ANSWER in client.predict("那温州呢？", many, None, api_name="/ask")["answer"]
    assert [len(h) for h in histories] == [20]


def held_answerer(settings):
    """An answerer over the fixture corpus that holds every question until ``gate`` is set: (answerer, gate)."""
    answerer = build_fixture_answerer(settings)
    original, gate = answerer.ask, threading.Event()

    def held_ask(*args, **kwargs):
        gate.wait(120)
        return original(*args, **kwargs)

    answerer.ask = held_ask
    return answerer, gate


@pytest.fixture()
def held_app(tmp_path):
    """An app whose answerer holds every question until the test opens ``gate``: a queue of 2, one worker.

    Yields ``(url, gate)``. Requests the server accepts wait at the gate; the ones it refuses come back
    at once, so which is which does not depend on how fast or loaded the machine is.
    """
    settings = fixture_settings(tmp_path, queue_size=2, concurrency_limit=1)
    answerer, gate = held_answerer(settings)
    try:
        with serve_app(create_app(settings, answerer, feedback_db=tmp_path / "fb.sqlite3")) as url:
            yield url, gate
    finally:
        gate.set()


def open_gate_after_first_done(futures, gate: threading.Event) -> None:
    """Wait (at most 60 s) for the first request to finish (a refusal, since accepted ones wait), then open."""
    concurrent.futures.wait(futures, timeout=60, return_when=concurrent.futures.FIRST_COMPLETED)
    gate.set()


def test_chat_queue_full_gives_a_clear_message(held_app):
    from gradio_client import Client

    url, gate = held_app
    jobs = [Client(url, verbose=False).submit(FACT_QUESTION, api_name="/ask") for _ in range(6)]
    open_gate_after_first_done(jobs, gate)
    answered, refused = 0, []
    for job in jobs:
        try:
            answered += FACT_ANSWER in job.result(timeout=120)["answer"]
        except Exception as exc:  # noqa: BLE001 - the refusal is what is tested
            refused.append(str(exc))
    assert answered >= 1 and refused and all("Queue is full" in message for message in refused)
    assert FACT_ANSWER in Client(url, verbose=False).predict(FACT_QUESTION, api_name="/ask")["answer"]


def test_api_flood_beyond_the_queue_gets_429_with_a_message(held_app):
    """``POST /api/ask`` was not queued or limited: a flood waited on the answerer lock in up to 40
    threads, and every later request waited behind it."""
    url, gate = held_app
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(post, url, "/api/ask", ask_body(question=FACT_QUESTION), 180) for _ in range(12)]
        open_gate_after_first_done(futures, gate)
        results = [f.result() for f in futures]
    statuses = [r[0] for r in results]
    assert set(statuses) <= {200, 429} and 429 in statuses and 200 in statuses
    assert all(r[1]["error"] for r in results if r[0] == 429)


def test_upload_type_and_size_are_checked_and_the_corpus_is_unchanged(tmp_path):
    settings = write_hostile_corpus(tmp_path)
    service = AnswerService(settings, build_fixture_answerer(settings), FakeEmbedder())
    before = sorted(p.name for p in Path(settings.corpus_dir).iterdir())
    exe = tmp_path / "evil.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(LibraryError, match="不支持的文件类型"):
        service.add_files(ADMIN_TOKEN, [("evil.exe", exe)])
    with pytest.raises(LibraryError, match="超过"):
        service.add_files(ADMIN_TOKEN, [("big.txt", big)])
    with pytest.raises(LibraryError, match="文件名不可用"):
        service.add_files(ADMIN_TOKEN, [("../.hidden.txt", exe)])
    assert sorted(p.name for p in Path(settings.corpus_dir).iterdir()) == before


def test_upload_endpoint_refuses_files_over_the_size_limit(hostile_app):
    """Gradio's ``/gradio_api/upload`` takes files from anyone (the token is needed only to add one
    to the corpus): ``max_file_size`` bounds what it takes."""
    url, _, _ = hostile_app
    boundary = "reliability-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + b"x" * (51 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.request("POST", "/gradio_api/upload", body=body,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    assert response.status == 413, response.read()[:200]


# --- access ------------------------------------------------------------------------------------


def test_upload_and_delete_need_the_admin_token(tmp_path):
    settings = write_hostile_corpus(tmp_path)
    service = AnswerService(settings, build_fixture_answerer(settings), FakeEmbedder())
    note = tmp_path / "note.txt"
    note.write_text("通知\n\n一、说明\n内容。", encoding="utf-8")
    for token in ("", "wrong", ADMIN_TOKEN[:-1], ADMIN_TOKEN + " ", None):
        with pytest.raises(LibraryError, match="令牌") as error:
            service.add_files(token, [("note.txt", note)])
        assert ADMIN_TOKEN not in str(error.value)
        with pytest.raises(LibraryError, match="令牌"):
            service.delete_document(token, "wenzhou.txt")
    assert not (Path(settings.corpus_dir) / "note.txt").exists()
    assert (Path(settings.corpus_dir) / "wenzhou.txt").exists()
    read_only = AnswerService(settings.replace(admin_token=""), build_fixture_answerer(settings), FakeEmbedder())
    with pytest.raises(LibraryError, match="只读"):
        read_only.delete_document("", "wenzhou.txt")


def test_admin_token_is_compared_in_constant_time(monkeypatch):
    import hmac

    import web.service

    from settings import Settings

    calls, original = [], hmac.compare_digest

    def recording(a, b):
        calls.append((type(a), type(b)))
        return original(a, b)

    monkeypatch.setattr(web.service.hmac, "compare_digest", recording)
    with pytest.raises(LibraryError):
        check_admin_token(Settings(admin_token=ADMIN_TOKEN), "guess")
    check_admin_token(Settings(admin_token=ADMIN_TOKEN), ADMIN_TOKEN)
    assert calls == [(bytes, bytes), (bytes, bytes)]


def test_secrets_never_appear_in_responses_logs_or_reprs(hostile_app, caplog):
    from gradio_client import Client

    url, _, settings = hostile_app
    caplog.set_level(logging.DEBUG)
    seen = [repr(settings), str(settings)]
    for path in ("/", "/config", "/gradio_api/info", "/widget", "/embed.js", "/api/documents", "/api/examples",
                 "/doc/wenzhou.txt", "/doc/none.txt"):
        seen.append(raw_get(url, path)[1])
    seen.append(json.dumps(post(url, "/api/ask", ask_body(question=FACT_QUESTION))[1], ensure_ascii=False))
    seen.append(json.dumps(post(url, "/api/ask", ask_body(question=ADMIN_TOKEN[:3]))[1], ensure_ascii=False))
    seen.append(json.dumps(Client(url, verbose=False).predict(FACT_QUESTION, api_name="/ask"), ensure_ascii=False))
    service = AnswerService(settings, build_fixture_answerer(settings), FakeEmbedder())
    for attempt in ("wrong", ""):
        try:
            service.delete_document(attempt, "wenzhou.txt")
        except LibraryError as exc:
            seen.append(str(exc))
    seen.append(caplog.text)
    for text in seen:
        assert ADMIN_TOKEN not in text and API_KEY not in text


def test_widget_sends_a_frame_ancestors_policy_with_a_safe_default(tmp_path):
    """The widget, the chat page (with its upload/delete form) and the document view say which
    sites may frame them: ``settings.frame_ancestors``, default ``'self'``."""
    settings = fixture_settings(tmp_path, frame_ancestors=Settings().frame_ancestors)
    answerer = build_fixture_answerer(settings)
    pages = ("widget", "", "doc/wenzhou.txt")
    with serve_app(create_app(settings, answerer, feedback_db=tmp_path / "a.sqlite3")) as url:
        policies = [frame_ancestors(url + page) for page in pages]
        api = dict(urlopen_headers(url + "api/examples"))
    assert policies == ["frame-ancestors 'self'"] * 3
    assert "content-security-policy" not in api  # JSON is not framed
    allowed = settings.replace(frame_ancestors="'self' https://oa.example.gov.cn")
    with serve_app(create_app(allowed, answerer, feedback_db=tmp_path / "b.sqlite3")) as url:
        policies = [frame_ancestors(url + page) for page in pages]
    assert policies == ["frame-ancestors 'self' https://oa.example.gov.cn"] * 3
    # With the admin form on the chat page, no other site may frame it, whatever the widget allows.
    admin = allowed.replace(frame_ancestors="*", admin_token=ADMIN_TOKEN)
    with serve_app(create_app(admin, answerer, feedback_db=tmp_path / "c.sqlite3")) as url:
        policies = [frame_ancestors(url + page) for page in pages]
    assert policies == ["frame-ancestors *", "frame-ancestors 'self'", "frame-ancestors *"]


def frame_ancestors(url: str) -> str | None:
    """The ``frame-ancestors`` directive of a page's Content-Security-Policy."""
    policy = dict(urlopen_headers(url)).get("content-security-policy") or ""
    return next((d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")), None)


def urlopen_headers(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
    response = connection.getresponse()
    response.read()
    return [(k.lower(), v) for k, v in response.getheaders()]


def test_widget_cannot_be_framed_by_a_site_that_is_not_allowed(browser, tmp_path):
    """The browser side of the frame-ancestors policy: the default keeps another origin out, a
    site named in the setting gets the widget."""
    settings = fixture_settings(tmp_path, frame_ancestors=Settings().frame_ancestors)
    answerer = build_fixture_answerer(settings)
    page_dir = tmp_path / "site"
    page_dir.mkdir()
    framed = {}
    with serve_static(page_dir) as static_url:
        for name, sources in (("default", settings.frame_ancestors), ("allowed", f"'self' {static_url.rstrip('/')}")):
            app = create_app(settings.replace(frame_ancestors=sources), answerer, feedback_db=tmp_path / f"{name}.sqlite3")
            with serve_app(app) as url:
                (page_dir / "index.html").write_text(f"<!doctype html><iframe id=w src='{url}widget'></iframe>",
                                                     encoding="utf-8")
                context = browser.new_context()
                page = context.new_page()
                page.goto(static_url + "index.html")
                frame = page.frame_locator("#w")
                if name == "allowed":
                    frame.locator("#qa-input").wait_for(timeout=30_000)
                else:
                    page.wait_for_timeout(1500)
                framed[name] = frame.locator("#qa-input").count()
                context.close()
    assert framed == {"default": 0, "allowed": 1}, "the frame-ancestors policy did not decide who frames the widget"
