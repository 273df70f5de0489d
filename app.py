"""政策问答助手: the chat page (Gradio), document view, widget, embed script and JSON API in one server.

Run ``python app.py [--host 127.0.0.1] [--port 7860] [--root-path /qa] [--config policyqa.toml]``.
The index is brought up to date before serving (with a progress bar); everything is served
locally (system fonts, no analytics, no CDN), on loopback unless told otherwise.

Routes: ``/`` chat page and document library (Gradio; ``gradio_client`` endpoint ``/ask``),
``/doc/{doc_id}?start=&end=`` full document with the cited span highlighted, ``/widget``
compact chat for an iframe, ``/embed.js`` floating-button embed script, ``POST /api/ask``,
``GET /api/documents``, ``GET /api/examples``, ``POST /api/feedback``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Sequence  # noqa: E402

import gradio as gr  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from answer.assembly import load_answerer  # noqa: E402
from answer.lead import lead_sentence  # noqa: E402
from answer.engine import Answerer  # noqa: E402
from answer.types import AnswerError  # noqa: E402
from index.cli import run_ingest  # noqa: E402
from index.embedders import Embedder, load_embedder  # noqa: E402
from index.types import IndexError_  # noqa: E402
from ingest.loaders import MAX_FILE_BYTES, SUPPORTED_SUFFIXES  # noqa: E402
from ingest.types import CorpusError  # noqa: E402
from settings import Settings, SettingsError, load_settings  # noqa: E402
from web.feedback import FeedbackStore  # noqa: E402
from web.catalog import LIBRARY_HEADERS, LIBRARY_WIDTHS, filter_choices, filtered_doc_ids, report_text  # noqa: E402
from web.presenters import (  # noqa: E402
    EXAMPLE_QUESTIONS, answer_html, answer_json, document_label, draft_html, library_rows, notice_html,
    readable_error, stream_prefixes,
)
from web.routes import build_router  # noqa: E402
from web.admin import bin_choices, outcome_message  # noqa: E402
from web.limits import ClientRateLimit, PendingJobLimit, UploadBudget, client_of  # noqa: E402
from web.security import (  # noqa: E402
    AnonymousUploadGate, ApiBodyLimit, SecurityHeaders, admin_token_problem, escape_markdown,
)
from web.server import QuietDisconnects, server_config  # noqa: E402
from web.uploads import UploadRecorder, UploadRegistry  # noqa: E402
from web.service import AnswerService, Draft, LibraryError  # noqa: E402

STREAM_DELAY_S = 0.02
DRAFT_INTERVAL_S = 0.1  # the chat shows an LLM's reply at most this often while it streams
SYSTEM_FONTS = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC", "system-ui", "sans-serif"]
MONO_FONTS = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "Consolas", "monospace"]
THEME = gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS)  # system fonts only: no Google Fonts
CSS = """
.gradio-container {max-width: 1080px !important; width: 100% !important; margin: 0 auto;}
.gradio-container .main {max-width: 1080px !important;}
footer {display: none !important;}
.qa-searched {font-size: .85em; color: #57606a; margin-bottom: 4px;}
.qa-lead {font-size: 1.05em; line-height: 1.75;}
.qa-lead strong {color: #0a3069; background: #ddf4ff; padding: 0 3px; border-radius: 3px;}
.qa-ref {color: #0969da; font-size: .75em; margin-left: 1px;}
ul.qa-answer {margin: 6px 0 0 0 !important; padding-left: 1.2em !important; color: #424a53;}
.qa-notice {font-size: .9em; color: #9a6700; margin-top: 4px;}
.qa-sources {margin-top: 8px; border-top: 1px dashed #d0d7de; padding-top: 6px; font-size: .92em;}
.qa-sources ol {margin: 4px 0 0 0 !important; padding-left: 0 !important; list-style: none !important;}
.qa-sources li {margin: 6px 0;}
.qa-docno, .qa-heading {color: #57606a;}
.qa-quote {margin: 3px 0 0 0 !important; padding: 2px 8px !important; border-left: 3px solid #d0d7de;
  color: #424a53; font-size: .95em;}
.qa-quote mark {background: #fff3a3; color: inherit; padding: 0 1px;}
.qa-context {color: #8c959f;}
#qa-library table {font-size: .92em;}
.cell-menu button[role=menuitem]:nth-of-type(n+4) {display: none !important;}  /* the library's untranslated Filter items */
@media (max-width: 640px) {.gradio-container {padding: 4px !important;}}
"""


def _doc_choices(service: AnswerService) -> list[tuple[str, str]]:
    return [(document_label(d), d.doc_id) for d in sorted(service.documents.values(), key=lambda d: d.doc_id)]


def _citation_record(citations) -> list[dict[str, Any]]:
    return [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "heading_path": c.heading_path,
             "quote": c.quote, "start": c.start, "end": c.end} for c in citations]


def _chat_tab(settings: Settings, service: AnswerService, feedback: FeedbackStore) -> gr.Dropdown:
    """The 问答 tab; returns the document filter so the library tab can refresh its choices."""
    root = settings.root_path.rstrip("/")
    conversation = gr.State([])  # chat messages as plain dicts
    asked = gr.State([])  # earlier questions: the history of follow-ups
    records = gr.State({})  # assistant message index -> what was asked, answered and cited
    last_feedback = gr.State(None)
    choices = filter_choices(service.documents)
    with gr.Accordion("筛选文件（可选：按发文机关、年份、文种或具体文件，不选则检索全部）", open=False, elem_id="qa-filters"):
        with gr.Row():
            by_issuer = gr.Dropdown(choices=choices["发文机关"], multiselect=True, value=[], label="发文机关",
                                    elem_id="qa-filter-issuer")
            by_year = gr.Dropdown(choices=choices["年份"], multiselect=True, value=[], label="年份", elem_id="qa-filter-year")
            by_kind = gr.Dropdown(choices=choices["文种"], multiselect=True, value=[], label="文种", elem_id="qa-filter-kind")
        doc_filter = gr.Dropdown(choices=_doc_choices(service), multiselect=True, value=[],
                                 label="限定文件（可选，不选则检索全部）")
    chatbot = gr.Chatbot(elem_id="qa-chatbot", label="对话", height="calc(100dvh - 330px)", min_height=360,
                         latex_delimiters=[], sanitize_html=True, feedback_options=("Like", "Dislike"), buttons=["copy"],
                         examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                         placeholder="请输入关于政策文件的问题，或点选下面的示例。回答先给结论，再列出处；点击出处查看原文中引用的句子。")
    # The comment box opens right under the chat, above the question box: in view when "没用" is clicked.
    with gr.Row(visible=False, elem_id="qa-comment") as comment_row:
        comment = gr.Textbox(label="补充说明（可选）", placeholder="哪里不对？正确答案在哪份文件？", scale=5)
        comment_send = gr.Button("提交说明", scale=1, min_width=80)
    feedback_note = gr.Markdown()
    with gr.Row(equal_height=True):
        question = gr.Textbox(elem_id="qa-question", label="问题", show_label=False, placeholder="输入问题，回车发送",
                              max_length=settings.max_question_chars, scale=5, lines=1)
        send = gr.Button("发送", elem_id="qa-send", variant="primary", scale=1, min_width=80)
        new_chat = gr.Button("新对话", elem_id="qa-new", scale=1, min_width=80)

    def chat(text: str, messages: list, history: list, recs: dict, doc_ids: list, issuer: list, year: list, kind: list):
        if not (text or "").strip():  # an empty send does nothing
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        limited = filtered_doc_ids(service.documents, issuer or (), year or (), kind or (), doc_ids or ())
        if limited == []:
            messages = list(messages) + [{"role": "user", "content": escape_markdown(text.strip())}, {
                "role": "assistant", "content": notice_html("没有符合筛选条件的文件：请放宽发文机关、年份或文种的筛选。")}]
            yield messages, "", messages, history, recs
            return
        items = service.ask_stream(text, history, limited)
        try:
            answer = next(items)
        except AnswerError as exc:  # too long, or nothing to ask: said in the chat, in Chinese
            messages = list(messages) + [{"role": "assistant", "content": notice_html(readable_error(str(exc)))}]
            yield messages, gr.skip(), messages, history, recs
            return
        basis = answer.basis if isinstance(answer, Draft) else answer
        messages = list(messages) + [{"role": "user", "content": escape_markdown(basis.question)},
                                     {"role": "assistant", "content": ""}]
        if isinstance(answer, Draft):  # an LLM is writing: show its reply as it comes, then the checked one
            shown_at = 0.0
            for answer in itertools.chain([answer], items):  # the last item is the final Answer
                if isinstance(answer, Draft) and time.monotonic() - shown_at >= DRAFT_INTERVAL_S:
                    messages[-1] = {"role": "assistant", "content": draft_html(answer.basis, answer.text, root)}
                    yield messages, "", messages, history, recs
                    shown_at = time.monotonic()
        else:
            for prefix in stream_prefixes(lead_sentence(answer).text)[:-1]:
                messages[-1] = {"role": "assistant", "content": answer_html(answer, root, text=prefix)}
                yield messages, "", messages, history, recs
                time.sleep(STREAM_DELAY_S)
        messages[-1] = {"role": "assistant", "content": answer_html(answer, root)}
        recs = {**recs, len(messages) - 1: {
            "question": answer.question, "searched_question": answer.searched_question, "history": list(history),
            "answer": answer.text, "abstained": answer.abstained,
            "sources": _citation_record(answer.related if answer.abstained else answer.citations)}}
        yield messages, "", messages, list(history) + [answer.question], recs

    chat_io = dict(inputs=[question, conversation, asked, records, doc_filter, by_issuer, by_year, by_kind],
                   outputs=[chatbot, question, conversation, asked, records])
    # One event for Enter and the send button. "always_last": a send while the previous one is still on its
    # way (an empty send, say) runs once that one is done, with the box's text then — not dropped, not doubled.
    gr.on([question.submit, send.click], chat, **chat_io, api_name="chat", trigger_mode="always_last")
    def pick_example(data: gr.SelectData) -> str:
        return data.value["text"]

    chatbot.example_select(pick_example, None, question, api_visibility="private").then(
        chat, **chat_io, api_visibility="private")

    def reset():
        return [], "", [], [], {}, None, gr.update(visible=False), ""

    reset_outputs = [chatbot, question, conversation, asked, records, last_feedback, comment_row, feedback_note]
    new_chat.click(reset, outputs=reset_outputs, api_visibility="private")
    chatbot.clear(reset, outputs=reset_outputs, api_visibility="private")

    def on_like(recs: dict, data: gr.LikeData):
        index = data.index if isinstance(data.index, int) else data.index[0]
        record = recs.get(index)
        if record is None or data.liked not in (True, False):
            return None, gr.update(visible=False), ""
        rating = "up" if data.liked is True else "down"
        feedback_id = feedback.add(rating, record["question"], record["answer"], record["sources"],
                                   searched_question=record["searched_question"], history=record["history"],
                                   abstained=record["abstained"], channel="chat")
        return feedback_id, gr.update(visible=True), f"已记录：{'有用' if rating == 'up' else '没用'}。谢谢反馈。"

    chatbot.like(on_like, inputs=[records], outputs=[last_feedback, comment_row, feedback_note],
                 api_visibility="private")

    def on_comment(feedback_id, text: str):
        if feedback_id is None or not text.strip():
            return gr.update(), "请先点“有用”或“没用”，再填写说明。"
        feedback.set_comment(feedback_id, text.strip())
        return "", "已记录说明，谢谢。"

    comment_send.click(on_comment, inputs=[last_feedback, comment], outputs=[comment, feedback_note],
                       api_visibility="private")

    def ask(question: str, history: list[str] | None = None, doc_ids: list[str] | None = None) -> dict:
        """Answer a question about the policy documents; returns the answer, abstention flag and sources."""
        try:
            answer = service.ask(question, history or [], doc_ids or None)
        except AnswerError as exc:
            raise gr.Error(str(exc)) from exc
        return answer_json(answer, f"{root}/")

    gr.api(ask, api_name="ask")
    return doc_filter


def _library_tab(settings: Settings, service: AnswerService, doc_filter: gr.Dropdown) -> None:
    """The 文件库 tab: the document table, and (with an admin token) upload, delete to the recycle
    bin with a confirmation, restore and emptying the bin. The work is in ``web.admin``; every list
    is read again when the page loads, so a reloaded page shows the library as it is now."""
    table = gr.Dataframe(value=lambda: library_rows(service.documents, service.counts), headers=LIBRARY_HEADERS,
                         interactive=False, wrap=True, elem_id="qa-library", column_widths=LIBRARY_WIDTHS)
    if not settings.admin_token:
        gr.Markdown("文件库为只读：在配置中设置 `admin_token` 后，可在此上传和删除文件。")
        gr.on(triggers=None, fn=lambda: gr.update(choices=_doc_choices(service)), outputs=[doc_filter],
              api_visibility="private")
        return
    admin = service.library
    with gr.Accordion("上传、删除与回收站（需要管理员令牌）", open=False):
        token = gr.Textbox(label="管理员令牌", type="password")
        uploads = gr.File(label="上传文件（PDF/DOCX/TXT/HTML/MD）", file_count="multiple",
                          file_types=list(SUPPORTED_SUFFIXES))
        on_conflict = gr.Radio([("不上传（提示我）", "refuse"), ("替换（旧版本移入回收站）", "replace"),
                                ("保留两份（新文件改名）", "keep_both")], value="refuse", label="文件库中已有同名文件时")
        upload = gr.Button("上传并更新索引", variant="primary")
        to_delete = gr.Dropdown(choices=_doc_choices(service), value=None, label="要删除的文件", elem_id="qa-delete-choice")
        delete = gr.Button("删除…", variant="stop", elem_id="qa-delete")
        pending = gr.State(None)  # the document a confirmation is asked for
        with gr.Row(visible=False) as confirm_row:
            confirm_text = gr.Markdown()
            confirm = gr.Button("确认删除（移入回收站）", variant="stop", elem_id="qa-delete-confirm")
            cancel = gr.Button("取消", elem_id="qa-delete-cancel")
        binned = gr.Dropdown(choices=bin_choices(admin.bin_entries()), value=None, label="回收站", elem_id="qa-bin")
        with gr.Row():
            restore = gr.Button("恢复所选文件", elem_id="qa-restore")
            empty = gr.Button("彻底删除所选（不可恢复）", variant="stop", elem_id="qa-bin-empty")
        status = gr.Markdown()

    def lists(message=gr.skip()):
        choices = _doc_choices(service)
        return (message, library_rows(service.documents, service.counts), gr.update(choices=choices),
                gr.update(choices=choices, value=None), gr.update(choices=bin_choices(admin.bin_entries()), value=None),
                None, gr.update(visible=False))

    def client(request: gr.Request) -> str:
        peer = request.client.host if request and request.client else "unknown"
        return client_of(peer, dict(request.headers) if request else {}, settings.trusted_proxy_header)

    def progress_callback(progress: gr.Progress):
        return lambda done, total: progress((done, total), desc="正在生成向量", unit="段") if total else None

    def on_upload(token_value: str, files: list | None, conflict: str, request: gr.Request, progress=gr.Progress()):
        try:
            pairs = [(Path(f).name, Path(f)) for f in (files or [])]
            outcome = admin.add_files(token_value, pairs, progress_callback(progress), on_conflict=conflict,
                                      client=client(request))
        except (LibraryError, IndexError_, CorpusError) as exc:
            return lists(f"未完成：{escape_markdown(str(exc))}")
        return lists(outcome_message("已上传", outcome, report_text(outcome.report)))

    def on_delete_asked(doc_id: str | None):
        document = service.documents.get(doc_id or "")
        if document is None:
            return None, gr.update(visible=False), "", "请先在列表中选择要删除的文件。"
        question = f"确定删除《{escape_markdown(document.title or doc_id)}》（{escape_markdown(doc_id)}）吗？删除后可在回收站恢复。"
        return doc_id, gr.update(visible=True), question, ""

    def changed(verb: str, change):
        try:
            outcome = change()
        except (LibraryError, IndexError_, CorpusError) as exc:
            return lists(f"未完成：{escape_markdown(str(exc))}")
        return lists(outcome_message(verb, outcome, report_text(outcome.report)))

    def on_delete(token_value: str, doc_id: str | None, request: gr.Request, progress=gr.Progress()):
        return changed("已删除", lambda: admin.delete(token_value, doc_id or "", progress_callback(progress),
                                                    client=client(request)))

    def on_restore(token_value: str, entry_id: str | None, request: gr.Request, progress=gr.Progress()):
        return changed("已恢复", lambda: admin.restore(token_value, entry_id or "", progress_callback(progress),
                                                     client=client(request)))

    def on_empty(token_value: str, entry_id: str | None, request: gr.Request):
        try:
            if not entry_id:
                raise LibraryError("请先在回收站中选择要彻底删除的一项。")
            admin.empty_bin(token_value, [entry_id], client=client(request))
        except LibraryError as exc:
            return lists(f"未完成：{escape_markdown(str(exc))}")
        return lists("已彻底删除回收站中的所选文件。")

    outputs = [status, table, doc_filter, to_delete, binned, pending, confirm_row]
    upload.click(on_upload, inputs=[token, uploads, on_conflict], outputs=outputs, api_visibility="private")
    delete.click(on_delete_asked, inputs=[to_delete], outputs=[pending, confirm_row, confirm_text, status],
                 api_visibility="private")
    confirm.click(on_delete, inputs=[token, pending], outputs=outputs, api_visibility="private")
    cancel.click(lambda: (None, gr.update(visible=False)), outputs=[pending, confirm_row], api_visibility="private")
    restore.click(on_restore, inputs=[token, binned], outputs=outputs, api_visibility="private")
    empty.click(on_empty, inputs=[token, binned], outputs=outputs, api_visibility="private",
                js="(t, e) => { if (!e || !confirm('彻底删除后不能恢复。确定吗？')) { throw new Error('cancelled'); } return [t, e]; }")
    gr.on(triggers=None, fn=lists, outputs=outputs, api_visibility="private")  # on page load: the library now


def build_blocks(settings: Settings, service: AnswerService, feedback: FeedbackStore) -> gr.Blocks:
    """The Gradio UI: the 问答 tab and the 文件库 tab."""
    # Uploaded files are removed from Gradio's upload folder once used (web.admin) or after an hour.
    with gr.Blocks(title="政策问答助手", analytics_enabled=False, delete_cache=(600, 3600)) as blocks:
        gr.Markdown("## 政策问答助手\n就政策文件提问：每个回答都注明出处，点击出处查看原文中的引用段落。")
        with gr.Tab("问答"):
            doc_filter = _chat_tab(settings, service, feedback)
        with gr.Tab("文件库"):
            _library_tab(settings, service, doc_filter)
    return blocks


def create_app(
    settings: Settings,
    answerer: Answerer,
    *,
    embedder: Embedder | None = None,
    feedback_db: str | Path | None = None,
    queue_size: int | None = None,
    concurrency_limit: int | None = None,
) -> FastAPI:
    """Assemble the whole app: JSON API, document view, widget, embed script and the Gradio UI at ``/``.

    Args:
        embedder: used to re-index after uploads/deletes (loaded from the settings when needed).
        feedback_db: SQLite file for 👍/👎 feedback (created if missing; default ``settings.feedback_db``).
        queue_size: most chat events waiting in Gradio's queue (default ``settings.queue_size``).
        concurrency_limit: chat events processed at once (default ``settings.concurrency_limit``).
    """
    # An upload is only taken from Gradio's upload folder: never a path on the server.
    uploads = UploadRegistry()  # what Gradio's upload endpoint stored: the only files an upload takes
    service = AnswerService(settings, answerer, embedder, upload_dirs=[Path(gr.utils.get_upload_folder())],
                            uploads=uploads)
    feedback = FeedbackStore(feedback_db or settings.feedback_db)
    queue_size = queue_size or settings.queue_size
    concurrency_limit = concurrency_limit or settings.concurrency_limit
    # FastAPI's own /docs page loads Swagger UI from a CDN: keep it off (offline intranet).
    app = FastAPI(title="政策问答助手", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(build_router(settings, service, feedback))
    blocks = build_blocks(settings, service, feedback)
    blocks.queue(max_size=queue_size, default_concurrency_limit=concurrency_limit)
    app.add_middleware(ApiBodyLimit)
    app.add_middleware(UploadRecorder, registry=uploads)
    app.add_middleware(UploadBudget, trusted_header=settings.trusted_proxy_header)  # upload bytes per client
    app.add_middleware(AnonymousUploadGate, open_=bool(settings.admin_token))
    app.add_middleware(PendingJobLimit, blocks=blocks, trusted_header=settings.trusted_proxy_header)  # jobs per client
    app.add_middleware(ClientRateLimit, per_minute=settings.requests_per_minute, burst=settings.request_burst,
                       trusted_header=settings.trusted_proxy_header)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors, admin_enabled=bool(settings.admin_token))
    app.add_middleware(QuietDisconnects)
    return gr.mount_gradio_app(
        app, blocks, path="/", root_path=settings.root_path or None, theme=THEME, css=CSS,
        footer_links=[], show_error=True, ssr_mode=False, mcp_server=False, max_file_size=MAX_FILE_BYTES,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line flags; those with a Settings field override it."""
    parser = argparse.ArgumentParser(description="政策问答助手: chat page, widget and API")
    parser.add_argument("--config", help="TOML settings file (default policyqa.toml if present)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, help="port (default 7860)")
    parser.add_argument("--root-path", help="public path prefix behind a reverse proxy, e.g. /policyqa")
    parser.add_argument("--feedback-db", help="feedback SQLite file (default data/feedback.sqlite3)")
    parser.add_argument("--queue-size", type=int, help="chat queue size (default 64)")
    parser.add_argument("--concurrency-limit", type=int, help="chat events answered at once (default 2)")
    parser.add_argument("--no-ingest", action="store_true", help="serve the existing index without updating it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load settings, bring the index up to date, load the answerer once and serve."""
    args = parse_args(argv)
    try:
        settings = load_settings(args.config, overrides={
            "host": args.host, "port": args.port, "root_path": args.root_path, "feedback_db": args.feedback_db,
            "queue_size": args.queue_size, "concurrency_limit": args.concurrency_limit,
        })
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if admin_token_problem(settings.admin_token):  # refuse to start with a guessable admin token
        print(f"error: {admin_token_problem(settings.admin_token)}", file=sys.stderr)
        return 2
    if not args.no_ingest:
        print(f"Checking the index in {settings.store_dir} against {settings.corpus_dir} …", flush=True)
        if run_ingest(settings) == 2:
            return 2  # the reason was printed by run_ingest
    try:
        embedder = load_embedder(settings.embedder)
        answerer = load_answerer(settings, embedder)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        answerer.ask("温州")  # warm up the tokenizer and the embedder before the first user waits
    except AnswerError:
        pass
    app = create_app(settings, answerer, embedder=embedder)
    base = f"http://{settings.host}:{settings.port}{settings.root_path.rstrip('/')}"
    print(f"政策问答助手 serving {len(answerer.documents)} documents at {base}/  "
          f"(widget {base}/widget, embed script {base}/embed.js, API POST {base}/api/ask)", flush=True)
    uvicorn.Server(server_config(app, settings, log_level="info")).run()  # with the slow-client deadlines
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
