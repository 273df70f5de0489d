"""What staff read, checked in a real browser (#18): the lead sentence, no internal markers, the
preview holding the cited sentence, the document view highlighting just that sentence, an empty
send doing nothing, an English lead for an English question, the filing filter narrowing answers,
the library's columns and sorting, the widget's copy button and scrolling, Chinese text only, and a
phone-width screen. Debian chromium; the fixture corpus with filing fields (tests.browser_helpers).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from tests.browser_helpers import FACT_QUESTION, LONG_QUESTION, ask_in_chat_page, open_widget, wait_until_idle
from web.presenters import EXAMPLE_QUESTIONS
from tests.test_browser import app_server, browser, context, embed_page_url  # noqa: F401 - shared fixtures

MARKERS = re.compile(r"[#｜]|【|】")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
ENGLISH_UI = re.compile(r"\b(API|Gradio|Error|Textbox|Loading|Built with)\b")
SENTENCE = "到2025年，高能级创新平台累计数达到30家，科技型中小企业数量达到16000家。"
COUNT_QUESTION = "科技型中小企业数量达到多少家？"


def newer_first(table_text: str) -> bool:
    """Whether the 2022 plan is listed before the 2021 one."""
    return 0 <= table_text.index("温岭市科技创新发展规划") < table_text.index("温州市科技创新规划")


def chinese_page(browser, width: int = 1100, height: int = 850, **options):
    """A page in a zh-CN browser (as staff's), recording page errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **options)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return context, page


def test_the_answer_leads_with_the_figure_and_its_source_shows_the_cited_sentence(app_server, context):
    url, answerer = app_server
    page = context.new_page()
    page.goto(url)
    link = ask_in_chat_page(page, COUNT_QUESTION)
    message = page.locator("#qa-chatbot .qa-lead").last
    assert "科技型中小企业数量达到16000家。" in message.inner_text()
    assert message.locator("strong").all_inner_texts() == ["16000家"]  # the asked figure, not the 30家 beside it
    chat_text = page.locator("#qa-chatbot").inner_text()
    assert not MARKERS.search(chat_text), MARKERS.search(chat_text)
    preview = page.locator("#qa-chatbot .qa-quote").first
    assert preview.inner_text().endswith(SENTENCE)  # the cited sentence, not the passage's first characters
    assert preview.locator("mark").all_inner_texts() == ["16000家"]
    with context.expect_page() as opened:
        link.click()
    view = opened.value
    view.wait_for_load_state("load")
    assert view.locator("mark#cited").inner_text() == SENTENCE  # just the sentence is highlighted
    view.wait_for_function("() => { const r = document.getElementById('cited').getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }", timeout=30_000)
    assert "文件信息" not in view.locator(".text").inner_text()  # the generated card is not body text
    panel = view.locator("aside").inner_text()
    assert "温政发〔2021〕7号" in panel and "温州市人民政府" in panel
    download = view.locator("a.download")
    response = view.request.get(urljoin(view.url, download.get_attribute("href")))
    assert response.status == 200 and response.headers["content-disposition"].startswith("attachment")
    assert response.text() == (answerer.settings.corpus_dir / "wenzhou.txt").read_text(encoding="utf-8")


def test_a_table_answer_reads_plainly_and_its_row_is_highlighted_in_a_table(app_server, context):
    url, _ = app_server
    page = context.new_page()
    page.goto(url)
    link = ask_in_chat_page(page, "温岭省级众创空间2025年目标是多少？")
    assert page.locator("#qa-chatbot .qa-lead").last.inner_text().startswith("省级众创空间 — 2025年目标：8家")
    assert not MARKERS.search(page.locator("#qa-chatbot").inner_text())
    with context.expect_page() as opened:
        link.click()
    view = opened.value
    view.wait_for_load_state("load")
    assert view.locator(".text table").count() == 1
    assert view.locator(".text").inner_text().count("表1：温岭市规划目标") == 1  # said once, not per row
    row = view.locator("tr#cited")
    assert row.locator("th").inner_text() == "省级众创空间（家）" and "8家" in row.inner_text()


def test_an_empty_send_does_nothing(browser, app_server):
    url, _ = app_server
    context, page = chinese_page(browser)
    page.goto(url)
    wait_until_idle(page)  # the page has loaded its filters
    page.locator("#qa-question textarea").fill("   ")
    page.locator("#qa-send").click()
    page.locator("#qa-question textarea").press("Enter")
    wait_until_idle(page)  # the empty sends are done …
    assert page.locator("#qa-chatbot [data-testid='user']").count() == 0
    ask_in_chat_page(page, FACT_QUESTION)  # a question after them is answered as usual
    assert page.locator("#qa-chatbot .message-row, #qa-chatbot [data-testid='user']").count() >= 1
    assert page.locator("#qa-chatbot [data-testid='user']").count() == 1  # the empty sends added no message
    assert page.locator(".toast-body").count() == 0  # no red error toast
    assert not ENGLISH_UI.search(page.locator("body").inner_text())
    assert page.errors == []
    context.close()


def test_an_english_question_gets_an_english_lead(app_server, context):
    url, _ = app_server
    page = context.new_page()
    page.goto(url)
    ask_in_chat_page(page, "How many high-tech enterprises will Wenzhou have?")
    lead = page.locator("#qa-chatbot .qa-lead").last
    assert lead.inner_text().startswith("The documents give 4400家")


def test_the_filing_filter_narrows_the_answer(browser, app_server):
    url, _ = app_server
    context, page = chinese_page(browser)
    page.goto(url)
    page.locator("#qa-filters").get_by_text("筛选文件").click()
    page.locator("#qa-filter-year input").click()
    page.get_by_role("option", name="2022").click()
    page.keyboard.press("Escape")
    link = ask_in_chat_page(page, COUNT_QUESTION)
    assert "/doc/wenling.txt?" in link.get_attribute("href")
    assert "1800家" in page.locator("#qa-chatbot .qa-lead").last.inner_text()
    page.locator("#qa-filter-kind input").click()
    page.get_by_role("option", name="规划").click()  # 2022 and 规划: no document
    page.keyboard.press("Escape")
    page.locator("#qa-question textarea").fill(COUNT_QUESTION)
    page.locator("#qa-send").click()
    page.locator("#qa-chatbot .qa-notice").filter(has_text="没有符合筛选条件的文件").wait_for(timeout=30_000)
    context.close()


def test_the_library_shows_filing_fields_in_chinese_and_sorts(browser, app_server):
    url, _ = app_server
    context, page = chinese_page(browser)
    page.goto(url)
    page.get_by_role("tab", name="文件库").click()
    library = page.locator("#qa-library")
    library.filter(has_text="温岭科〔2022〕3号").wait_for(timeout=30_000)
    for header in ("标题", "文号", "发文机关", "日期", "文种"):
        box = library.locator("th", has_text=header).first.bounding_box()
        assert box and box["x"] + box["width"] <= 1100, f"{header} is off screen"
    assert newer_first(library.inner_text())  # newest first
    library.locator("th", has_text="日期").first.click()
    library.locator("th", has_text="日期").first.locator("button.cell-menu-button").click()
    page.get_by_text("升序排序").wait_for(timeout=30_000)
    assert not page.get_by_text("Filter", exact=True).is_visible()  # Gradio's untranslated items are hidden
    page.get_by_text("升序排序").click()
    page.wait_for_function("() => { const t = document.querySelector('#qa-library').innerText;"
                           " return t.indexOf('温州市科技创新规划') < t.indexOf('温岭市科技创新发展规划'); }", timeout=30_000)
    context.close()


def test_the_widget_leads_copies_scrolls_to_each_new_answer_and_shows_the_comment_box(browser, app_server, embed_page_url):
    url, _ = app_server
    context, page = chinese_page(browser, permissions=["clipboard-read", "clipboard-write"])
    page.goto(embed_page_url)
    frame = open_widget(page, FACT_QUESTION)
    assert frame.locator(".qa-bot .qa-lead strong").first.inner_text() == "4400家"
    assert not EMOJI.search(frame.locator("body").inner_text())
    frame.locator(".qa-bot").first.get_by_role("button", name="复制").click()
    frame.locator(".qa-bot").first.locator(".qa-feedback-note").filter(has_text="已复制").wait_for(timeout=30_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("高新技术企业数量达到4400家") and "来源" in copied and "**" not in copied
    for question in (LONG_QUESTION, COUNT_QUESTION):
        count = frame.locator(".qa-bot .qa-sources").count()
        frame.locator("#qa-input").fill(question)
        frame.locator("#qa-send").click()
        frame.locator(".qa-bot .qa-sources").nth(count).wait_for(timeout=60_000)
    offset = frame.locator("#qa-messages").evaluate(
        "m => { const asked = m.querySelectorAll('.qa-user'); const last = asked[asked.length - 1];"
        " return last.getBoundingClientRect().top - m.getBoundingClientRect().top; }")
    assert 0 <= offset <= 24, f"the new answer's question is {offset}px from the top of the messages"
    last = frame.locator(".qa-bot").last
    last.get_by_role("button", name="没用").click()
    comment = last.locator(".qa-feedback input")
    comment.wait_for(timeout=30_000)
    box = frame.locator("#qa-messages").evaluate(
        "m => { const c = m.querySelector('.qa-bot:last-child .qa-feedback input').getBoundingClientRect();"
        " const r = m.getBoundingClientRect(); return [c.top, c.bottom, r.top, r.bottom]; }")
    assert box[0] >= box[2] - 1 and box[1] <= box[3] + 1, f"the comment box opened out of view: {box}"
    context.close()


def test_pages_fit_a_phone_and_speak_chinese(browser, app_server):
    url, answerer = app_server
    context, page = chinese_page(browser, width=390, height=844, is_mobile=True, has_touch=True)
    for path in ("", "widget", "doc/wenling.txt?start=1&end=20"):
        page.goto(url + path)
        page.wait_for_load_state("load")
        if path == "":
            ask_in_chat_page(page, COUNT_QUESTION)
        if path == "widget":
            page.locator(".qa-example").first.wait_for(timeout=30_000)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"/{path} is {overflow}px wider than a phone screen"
        text = page.locator("body").inner_text()
        assert not ENGLISH_UI.search(text) and not EMOJI.search(text), path
    assert page.errors == []
    context.close()


def test_an_example_card_in_the_empty_chat_asks_its_question(app_server, context):
    url, _ = app_server
    page = context.new_page()
    page.goto(url)
    card = page.locator("#qa-chatbot").get_by_text(EXAMPLE_QUESTIONS[1])
    box = card.bounding_box()
    assert box and box["y"] + box["height"] <= 850, "the example cards are below the fold"
    card.click()
    page.locator("#qa-chatbot .qa-lead").first.wait_for(timeout=60_000)
    assert page.locator("#qa-chatbot [data-testid='user']").first.inner_text().strip() == EXAMPLE_QUESTIONS[1]
