"""The chat page, the document view and the embedded widget in a real browser (Debian's chromium).

These tests fail (they never skip) when chromium is missing: install it with
``apt-get install -y chromium fonts-noto-cjk``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright import sync_api

from app import create_app
from tests.browser_helpers import (
    FACT_ANSWER,
    FACT_QUESTION,
    LONG_ANSWER,
    LONG_QUESTION,
    XSS_QUESTION,
    ask_in_chat_page,
    build_fixture_answerer,
    chromium_missing_message,
    fixture_settings,
    launch_chromium,
    open_widget,
    record_requests,
    serve_app,
    serve_static,
    write_embed_page,
)
from tests.fakes import FakeEmbedder
from web.feedback import FeedbackStore


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """The app over the fixture corpus on a free loopback port: (base URL, answerer)."""
    folder = tmp_path_factory.mktemp("browser-app")
    # Every browser test asks from 127.0.0.1: a per-client POST limit for staff would stop the suite midway.
    settings = fixture_settings(folder, with_meta=True, requests_per_minute=100_000, request_burst=10_000)
    answerer = build_fixture_answerer(settings)
    with serve_app(create_app(settings, answerer, feedback_db=folder / "feedback.sqlite3")) as url:
        yield url, answerer


@pytest.fixture(scope="module")
def browser():
    missing = chromium_missing_message()
    if missing:
        pytest.fail(missing)
    with sync_api.sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture()
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 850})
    dialogs: list[str] = []
    context.on("page", lambda page: page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
    context.dialogs = dialogs
    yield context
    context.close()


@pytest.fixture()
def embed_page_url(app_server, tmp_path):
    """A copy of docs/embed-example.html served from another port, its script tag pointing at the app."""
    url, _ = app_server
    write_embed_page(tmp_path, url)
    with serve_static(tmp_path) as static_url:
        yield static_url + "index.html"


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def assert_cited_mark_shown(page, answerer) -> None:
    """The document view marks exactly the cited span, one sentence, and has scrolled it into view."""
    page.wait_for_load_state("load")
    query = parse_qs(urlsplit(page.url).query)
    doc_id = urlsplit(page.url).path.rsplit("/doc/", 1)[1]
    start, end = int(query["start"][0]), int(query["end"][0])
    mark = page.locator("mark#cited")
    assert mark.count() == 1
    assert mark.text_content() == answerer.documents[doc_id].text[start:end]
    assert "\n" not in mark.text_content().strip() and mark.text_content().count("。") <= 1, "more than a sentence"
    page.wait_for_function(
        "() => { const r = document.getElementById('cited').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }", timeout=30_000)


def test_chat_page_answers_and_source_opens_highlighted_document(app_server, context):
    url, answerer = app_server
    page = context.new_page()
    page.goto(url)
    link = ask_in_chat_page(page, FACT_QUESTION)
    answer = page.locator("#qa-chatbot .qa-lead").last
    assert FACT_ANSWER in answer.locator("strong").first.text_content()
    assert link.text_content().startswith("[1]") and "温州市科技创新规划" in link.text_content()
    assert page.locator("#qa-chatbot .qa-quote").first.text_content().strip()
    with context.expect_page() as opened:
        link.click()
    document_page = opened.value
    assert "/doc/wenzhou.txt" in document_page.url
    assert_cited_mark_shown(document_page, answerer)
    assert FACT_ANSWER in document_page.locator("mark#cited").text_content()


def test_chat_page_follow_up_filter_and_new_conversation(app_server, context):
    url, answerer = app_server
    page = context.new_page()
    page.goto(url)
    ask_in_chat_page(page, FACT_QUESTION)
    page.locator("#qa-question textarea").fill("那温岭呢？")
    page.locator("#qa-send").click()
    searched = page.locator("#qa-chatbot .qa-searched")
    searched.wait_for(timeout=60_000)
    page.locator("#qa-chatbot .qa-sources").nth(1).wait_for(timeout=60_000)  # the answer is complete
    assert searched.text_content().startswith("检索问题：") and "温岭" in searched.text_content()
    page.locator("#qa-new").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chatbot .qa-lead').length === 0", timeout=30_000)
    # A source far down a long document: the document view scrolls to it.
    link = ask_in_chat_page(page, LONG_QUESTION)
    assert LONG_ANSWER in page.locator("#qa-chatbot .qa-lead").last.text_content()
    with context.expect_page() as opened:
        link.click()
    assert_cited_mark_shown(opened.value, answerer)
    assert opened.value.evaluate("window.scrollY") > 0


def test_chat_page_escapes_document_text_and_fits_a_phone(app_server, browser):
    url, _ = app_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    ask_in_chat_page(page, XSS_QUESTION)
    quote = page.locator("#qa-chatbot .qa-quote").first.text_content()
    assert "<script>alert(1)</script>" in quote and dialogs == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the chat page is {overflow}px wider than a phone screen"
    context.close()


def test_widget_embedded_in_another_page_answers_with_sources(app_server, context, embed_page_url):
    url, answerer = app_server
    assert host_of(embed_page_url) != host_of(url)
    page = context.new_page()
    page.goto(embed_page_url)
    launcher = page.locator("#policyqa-launcher")
    assert launcher.text_content() == "政策问答"
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 111, 235)"
    frame = open_widget(page, FACT_QUESTION)
    iframe_src = page.locator("#policyqa-panel iframe").get_attribute("src")
    assert iframe_src.startswith(url + "widget?")
    assert FACT_ANSWER in frame.locator(".qa-bot .qa-lead strong").last.text_content()
    source = frame.locator(".qa-bot .qa-source").first
    assert source.get_attribute("href").startswith(url + "doc/wenzhou.txt?")
    with context.expect_page() as opened:
        source.click()
    assert_cited_mark_shown(opened.value, answerer)
    # Untrusted document text is shown as text inside the widget too.
    frame.locator("#qa-input").fill(XSS_QUESTION)
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot").nth(1).locator(".qa-quote").first.wait_for(timeout=60_000)
    assert "<script>alert(1)</script>" in frame.locator(".qa-bot").nth(1).locator(".qa-quote").first.text_content()
    assert context.dialogs == []
    # Feedback from the widget is accepted.
    frame.locator(".qa-bot").first.get_by_role("button", name="没用").click()
    frame.locator(".qa-bot").first.locator(".qa-feedback-note").filter(has_text="谢谢反馈").wait_for(timeout=30_000)


def test_no_request_leaves_the_app_or_the_embedding_page(app_server, context, embed_page_url):
    url, _ = app_server
    log = record_requests(context)
    page = context.new_page()
    page.goto(url)
    link = ask_in_chat_page(page, FACT_QUESTION)
    with context.expect_page() as opened:
        link.click()
    opened.value.wait_for_load_state("load")
    page.get_by_role("tab", name="文件库").click()
    page.locator("#qa-library").filter(has_text="温州市科技创新规划").wait_for(timeout=30_000)
    embed = context.new_page()
    embed.goto(embed_page_url)
    open_widget(embed, FACT_QUESTION)
    page.wait_for_timeout(1000)  # let late font or analytics requests show up
    allowed = {host_of(url), host_of(embed_page_url)}
    hosts = {host_of(u) for u in log.urls}
    assert host_of(url) in hosts and host_of(embed_page_url) in hosts and len(log.urls) > 10
    assert all(u.startswith("http://127.0.0.1:") for u in log.urls if "://" in u and not u.startswith(("data:", "blob:")))
    assert log.outside(allowed) == [], f"requests outside the app and the embedding page: {log.outside(allowed)}"


def test_feedback_and_library_upload_in_the_chat_page(browser, tmp_path):
    settings = fixture_settings(tmp_path, admin_token="tok")
    embedder = FakeEmbedder()
    app = create_app(settings, build_fixture_answerer(settings, embedder), embedder=embedder,
                     feedback_db=tmp_path / "feedback.sqlite3")
    upload = tmp_path / "新区规划.txt"
    upload.write_text("新区规划\n\n一、目标\n新区孵化器面积达到99万平方米。\n", encoding="utf-8")
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    with serve_app(app) as url:
        page = context.new_page()
        page.goto(url)
        ask_in_chat_page(page, FACT_QUESTION)
        page.locator("#qa-chatbot button[aria-label='Dislike']").last.click()
        page.get_by_text("已记录：没用").wait_for(timeout=30_000)
        box = page.get_by_label("补充说明（可选）").bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 900, f"the comment box opened out of view: {box}"
        page.get_by_label("补充说明（可选）").fill("应该引用温州规划的指标表")
        page.get_by_role("button", name="提交说明").click()
        page.get_by_text("已记录说明").wait_for(timeout=30_000)
        page.get_by_role("tab", name="文件库").click()
        page.get_by_text("上传、删除与回收站").click()
        page.get_by_label("管理员令牌").fill("tok")
        page.locator("input[type=file][multiple]").set_input_files(str(upload))
        page.get_by_text("新区规划.txt").first.wait_for(timeout=30_000)
        page.get_by_role("button", name="上传并更新索引").click()
        page.get_by_text("已上传 新区规划.txt").wait_for(timeout=60_000)
        assert "新区规划.txt" in page.locator("#qa-library").inner_text()
    context.close()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    rows = store.rows()
    store.close()
    assert [(r.rating, r.question, r.comment) for r in rows] == [("down", FACT_QUESTION, "应该引用温州规划的指标表")]
    assert rows[0].sources and rows[0].sources[0]["doc_id"] == "wenzhou.txt"
    assert (settings.corpus_dir / "新区规划.txt").is_file()


def test_screenshots_exist_in_the_docs():
    for name in ("chat.png", "widget.png", "document.png", "library.png"):
        path = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / name
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"missing {path}"
