"""The admin's library tab in a real browser (chromium): no pre-selected delete, a confirmation naming the
document, the recycle bin, and a reloaded page that lists the library as it is now (issue #19)."""

from __future__ import annotations

from pathlib import Path

from app import create_app
from index.build import build_index
from tests.browser_helpers import build_fixture_answerer, fixture_settings, serve_app
from tests.fakes import FakeEmbedder
from tests.test_browser import browser, context  # noqa: F401 - the chromium fixtures

TOKEN = "tok-SECRET-4d1c9e-browser"


def open_admin(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="文件库").click()
    page.get_by_text("上传、删除与回收站（需要管理员令牌）").click()
    page.get_by_label("管理员令牌").fill(TOKEN)


def choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option").filter(has_text=option).first.click()


def test_delete_asks_naming_the_document_and_the_recycle_bin_restores_it(tmp_path, context):
    settings = fixture_settings(tmp_path, admin_token=TOKEN)
    embedder = FakeEmbedder()
    app = create_app(settings, build_fixture_answerer(settings, embedder), embedder=embedder,
                     feedback_db=tmp_path / "f.sqlite3")
    corpus = Path(settings.corpus_dir)
    with serve_app(app) as url:
        page = context.new_page()
        open_admin(page, url)
        assert page.get_by_label("要删除的文件").input_value() == ""  # nothing pre-selected
        page.locator("#qa-delete").click()
        page.get_by_text("请先在列表中选择要删除的文件").wait_for(timeout=30_000)
        choose(page, "要删除的文件", "温州市科技创新规划")
        page.locator("#qa-delete").click()
        page.get_by_text("确定删除《温州市科技创新规划》（wenzhou.txt）吗").wait_for(timeout=30_000)
        assert (corpus / "wenzhou.txt").is_file()  # asking deleted nothing
        page.locator("#qa-delete-confirm").click()
        page.get_by_text("已删除 wenzhou.txt").wait_for(timeout=60_000)
        assert not (corpus / "wenzhou.txt").exists()
        choose(page, "回收站", "wenzhou.txt")
        page.locator("#qa-restore").click()
        page.get_by_text("已恢复 wenzhou.txt").wait_for(timeout=60_000)
        assert (corpus / "wenzhou.txt").is_file()
        # A CLI ingest adds a document; a reloaded page lists it (before: the library as at app start).
        (corpus / "cli.txt").write_text("命令行入库通知\n\n一、说明\n命令行专用编号CLI-3131。\n", encoding="utf-8")
        build_index(settings, embedder)
        open_admin(page, url)
        page.locator("#qa-library").filter(has_text="命令行入库通知").wait_for(timeout=30_000)
        assert context.dialogs == []
        # Emptying the bin is its own action and asks first; dismissing the question keeps the entry.
        choose(page, "要删除的文件", "命令行入库通知")
        page.locator("#qa-delete").click()
        page.locator("#qa-delete-confirm").click()
        page.get_by_text("已删除 cli.txt").wait_for(timeout=60_000)
        choose(page, "回收站", "cli.txt")
        page.locator("#qa-bin-empty").click()
        for _ in range(100):  # the dialog handler (dismiss) runs on playwright's side
            if context.dialogs:
                break
            page.wait_for_timeout(100)
        assert context.dialogs == ["彻底删除后不能恢复。确定吗？"]
        assert [p.name for p in (corpus / ".recycle").glob("*/cli.txt")] == ["cli.txt"]
