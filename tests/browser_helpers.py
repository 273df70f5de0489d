"""Helpers for the app tests: a fixture corpus, serving the app and static pages on loopback, chromium.

Also a script that takes the screenshots in ``docs/screenshots/`` from the real index::

    .venv/bin/python -m tests.browser_helpers --out docs/screenshots
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import uvicorn

from answer.engine import Answerer
from index.build import build_index
from index.search import Retriever, open_index
from settings import Settings
from tests.conftest import WENLING_PLAN, WENZHOU_PLAN
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
EXAMPLE_PAGE = ROOT / "docs" / "embed-example.html"
EXAMPLE_APP_URL = "http://127.0.0.1:7860/"
# Pages that embed the widget in the tests are served from other loopback ports: let them frame it.
LOOPBACK_FRAME_ANCESTORS = "'self' http://127.0.0.1:*"

XSS_DOC = """关于测试转义的通知

一、说明
本通知的正文含有一段脚本标记，显示时必须原样转义。
转义测试专用编号为XSS-4242，编号说明写作<script>alert(1)</script>。
"""
# A long document whose fact sits far below the fold, so the document view must scroll to it.
LONG_DOC = "瓯海区长篇测试文件\n\n一、背景\n" + "".join(
    f"第{i}段：这是一段占位文字，用来把正文拉长。\n" for i in range(1, 181)
) + "二、投资\n瓯海区科创走廊年度投资额为七十七亿元。\n"

FACT_QUESTION = "温州高新技术企业数量达到多少家？"
FACT_ANSWER = "4400"
LONG_QUESTION = "瓯海区科创走廊年度投资额是多少？"
LONG_ANSWER = "七十七亿元"
XSS_QUESTION = "转义测试专用编号XSS-4242是什么通知？"


# Filing fields of the two plans (sidecars), for the library table and the chat's filing filter.
FIXTURE_META = {
    "wenzhou.txt": {"发文机关": "温州市人民政府", "文号": "温政发〔2021〕7号", "成文日期": "2021年8月2日", "文种": "规划"},
    "wenling.txt": {"发文机关": "温岭市科学技术局", "文号": "温岭科〔2022〕3号", "成文日期": "2022年1月5日", "文种": "通知"},
}


def write_fixture_corpus(corpus: Path, with_meta: bool = False) -> Path:
    """Write the small test corpus (two plans, an HTML-injection document, a long document); with
    ``with_meta``, the plans' filing fields (:data:`FIXTURE_META`) as sidecars."""
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in (("wenzhou.txt", WENZHOU_PLAN), ("wenling.txt", WENLING_PLAN),
                       ("xss.txt", XSS_DOC), ("long.txt", LONG_DOC)):
        (corpus / name).write_text(text, encoding="utf-8")
    if with_meta:
        for name, meta in FIXTURE_META.items():
            (corpus / f"{name}.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return corpus


def fixture_settings(folder: Path, with_meta: bool = False, **changes) -> Settings:
    """Settings for a fixture corpus and index inside ``folder``."""
    corpus = write_fixture_corpus(folder / "corpus", with_meta)
    base = Settings(corpus_dir=corpus, store_dir=folder / "store", embedder="fake", chunk_size=120, chunk_overlap=20,
                    frame_ancestors=LOOPBACK_FRAME_ANCESTORS)
    return base.replace(**changes) if changes else base


def build_fixture_answerer(settings: Settings, embedder: FakeEmbedder | None = None) -> Answerer:
    """Index the settings' corpus with the fake embedder and return an answerer over it."""
    embedder = embedder or FakeEmbedder()
    build_index(settings, embedder)
    return Answerer(Retriever(open_index(settings, embedder.model_id), embedder, settings), settings)


def loopback_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_app(app, timeout: float = 60.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; yield its base URL (``/``-ended)."""
    sock = loopback_socket()
    # Open event streams (gradio clients) would otherwise hold the shutdown until the join times out.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start (see the uvicorn log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@contextmanager
def serve_static(directory: Path) -> Iterator[str]:
    """Serve ``directory`` with Python's http.server on a free loopback port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def write_embed_page(directory: Path, app_url: str) -> Path:
    """A copy of ``docs/embed-example.html`` in ``directory`` whose script tag points at ``app_url``."""
    text = EXAMPLE_PAGE.read_text(encoding="utf-8")
    if EXAMPLE_APP_URL not in text:
        raise AssertionError(f"{EXAMPLE_PAGE} no longer loads {EXAMPLE_APP_URL}embed.js")
    page = directory / "index.html"
    page.write_text(text.replace(EXAMPLE_APP_URL, app_url), encoding="utf-8")
    return page


def chromium_missing_message() -> str | None:
    """Why chromium cannot run here, or ``None`` when it is installed."""
    if CHROMIUM.exists():
        return None
    return (f"{CHROMIUM} is missing: the browser tests need Debian's chromium. Install it with "
            "`apt-get update && apt-get install -y chromium fonts-noto-cjk`.")


def launch_chromium(playwright):
    """Launch the system chromium headless (raises if it is missing)."""
    missing = chromium_missing_message()
    if missing:
        raise RuntimeError(missing)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class RequestLog:
    """Every URL a browser context requested."""

    urls: list[str]

    def outside(self, allowed_hosts: set[str]) -> list[str]:
        """The requested network URLs whose ``host:port`` is not in ``allowed_hosts``."""
        found = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.scheme not in ("http", "https", "ws", "wss") or parts.netloc not in allowed_hosts:
                found.append(url)
        return found


def record_requests(context) -> RequestLog:
    """Record every request of a playwright browser context (its pages, popups and iframes)."""
    log = RequestLog([])
    context.on("request", lambda request: log.urls.append(request.url))
    return log


def wait_until_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait until no event of the chat page is pending: every progress tracker hidden again."""
    page.wait_for_function("() => Array.from(document.querySelectorAll(\"[data-testid='status-tracker']\"))"
                           ".every(tracker => tracker.classList.contains('hide'))", timeout=timeout_ms)


def ask_in_chat_page(page, question: str, timeout_ms: int = 60_000):
    """Type ``question`` on the chat page, send it, and return the first source link of the answer."""
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-send").click()
    link = page.locator("#qa-chatbot a.qa-source").first
    link.wait_for(timeout=timeout_ms)
    return link


def open_widget(page, question: str, timeout_ms: int = 60_000):
    """Open the embedded widget, ask ``question``; return the widget frame locator once sources show."""
    page.locator("#policyqa-launcher").click()
    frame = page.frame_locator("#policyqa-panel iframe")
    frame.locator("#qa-input").fill(question)
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot .qa-source").first.wait_for(timeout=timeout_ms)
    return frame


def take_screenshots(out: Path, keep_store: Path | None = None) -> None:
    """Screenshots of the chat page, the widget embedded in the example page, the document view and
    the library, on the real index, in a zh-CN browser (as staff's). ``keep_store``: build the index
    there and keep it for the next run (default: a temporary copy of the configured index)."""
    from playwright.sync_api import sync_playwright

    from answer.assembly import load_answerer
    from app import create_app
    from index.cli import run_ingest
    from settings import load_settings

    settings = load_settings()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        # Bring a copy of the index up to date (reusing its vectors), leaving index/store alone.
        store = keep_store or Path(folder) / "store"
        if not keep_store and Path(settings.store_dir).is_dir():
            shutil.copytree(settings.store_dir, store, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
        settings = settings.replace(store_dir=store, frame_ancestors=LOOPBACK_FRAME_ANCESTORS)
        if run_ingest(settings) == 2:
            raise SystemExit("could not build the index for the screenshots")
        app = create_app(settings, load_answerer(settings), feedback_db=Path(folder) / "feedback.sqlite3")
        with serve_app(app) as app_url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.goto(app_url)
            link = ask_in_chat_page(page, "温岭全社会R&D经费投入2025年目标是多少？")
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "chat.png"))
            with context.expect_page() as opened:
                link.click()
            view = opened.value
            view.set_viewport_size({"width": 1100, "height": 800})
            view.wait_for_load_state("load")
            view.wait_for_timeout(500)
            view.screenshot(path=str(out / "document.png"))
            page.get_by_role("tab", name="文件库").click()
            page.locator("#qa-library").filter(has_text="文号").wait_for(timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "library.png"))
            write_embed_page(Path(folder), app_url)
            with serve_static(Path(folder)) as static_url:
                page = context.new_page()
                page.set_viewport_size({"width": 1000, "height": 760})
                page.goto(static_url + "index.html")
                open_widget(page, "2022年温州国家高新区在全国排第几位？")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / "widget.png"))
            browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Take the screenshots of docs/screenshots from the real index.")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--keep-store", help="build the index in this folder and keep it (faster retakes)")
    arguments = parser.parse_args()
    take_screenshots(Path(arguments.out), Path(arguments.keep_store) if arguments.keep_store else None)
