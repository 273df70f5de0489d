"""The app's plain HTTP routes: JSON API, document view, widget page and the embed script.

These are an edge: library errors become ``400 {"error": message}`` here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from answer.types import AnswerError
from settings import Settings
from web.feedback import FeedbackError, FeedbackStore
from web.presenters import EXAMPLE_QUESTIONS, answer_json, document_json, document_page_html, stream_events
from web.docview import download_name, original_file  # the original-file download (issue #18)
from web.limits import ClientShareGate, RateLimiter, client_address
from web.security import BusyError, cross_site_reason
from web.service import MAX_HISTORY, AnswerService, LibraryError, check_unicode

STATIC_DIR = Path(__file__).resolve().parent / "static"
WIDGET_ASSETS = {"widget.js": "application/javascript", "widget.css": "text/css"}
NO_CACHE = {"Cache-Control": "no-cache"}


class BadRequest(ValueError):
    """The request body is not what the endpoint accepts."""


def public_base_url(request: Request, settings: Settings) -> str:
    """The app's public base URL (ending in ``/``): ``settings.public_url``, else the address the
    request arrived at (the server's own socket, never the client's ``Host`` header), with the root path."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/"
    host, port = request.scope.get("server") or (settings.host, settings.port)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.url.scheme}://{host}:{port}{settings.root_path.rstrip('/')}/"


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"请求体不是合法的 JSON：{exc}") from exc
    except RecursionError as exc:
        raise BadRequest("请求体的 JSON 嵌套过深。(JSON nested too deeply.)") from exc
    if not isinstance(body, dict):
        raise BadRequest('请求体应是 JSON 对象，例如 {"question": "…"}')
    try:
        check_unicode(json.dumps(body, ensure_ascii=False))
    except AnswerError as exc:
        raise BadRequest(str(exc)) from exc
    return body


def _string_list(body: dict[str, Any], key: str, limit: int) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"“{key}”应是字符串数组")
    if len(value) > limit:
        raise BadRequest(f"“{key}”最多 {limit} 项")
    return value


def _ask_arguments(body: dict[str, Any], known_docs: set[str]) -> tuple[str, list[str], list[str] | None]:
    question = body.get("question")
    if not isinstance(question, str):
        raise BadRequest('缺少“question”字段（字符串），例如 {"question": "温州市的研发投入目标是多少？"}')
    history = _string_list(body, "history", MAX_HISTORY) or []
    doc_ids = _string_list(body, "doc_ids", max(1, len(known_docs)))
    unknown = sorted(set(doc_ids or ()) - known_docs)
    if unknown:
        raise BadRequest(f"未知的文件：{'、'.join(unknown)}（可用的文件见 GET /api/documents）")
    return question, history, (doc_ids or None)


def _static_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def build_router(settings: Settings, service: AnswerService, feedback: FeedbackStore) -> APIRouter:
    """All plain HTTP routes of the app, bound to ``service`` and ``feedback``."""
    router = APIRouter()
    # Beyond these: 429, not a pile-up; one client holds at most its share of the slots.
    ask_gate = ClientShareGate(settings.queue_size + settings.concurrency_limit, settings.per_client_concurrency)
    feedback_limit = RateLimiter(settings.feedback_per_minute, burst=max(1, int(settings.feedback_per_minute)))

    def client(request: Request) -> str:
        return client_address(request.scope, settings.trusted_proxy_header)

    @router.post("/api/ask")
    async def api_ask(request: Request) -> Response:
        try:
            body = await _json_object(request)
            question, history, doc_ids = _ask_arguments(body, set(service.documents))
        except BadRequest as exc:
            return _error(str(exc))
        try:
            with ask_gate.admit(client(request)):
                # Answering is CPU-bound and synchronous: run it off the event loop.
                answer = await run_in_threadpool(service.ask, question, history, doc_ids)
        except BusyError as exc:
            return _error(str(exc), 429)
        except AnswerError as exc:
            return _error(str(exc))
        return JSONResponse(answer_json(answer, public_base_url(request, settings)))

    @router.post("/api/ask/stream")
    async def api_ask_stream(request: Request) -> Response:
        """As ``/api/ask``, streamed as NDJSON: one JSON event a line (see ``web.presenters.stream_events``)."""
        try:
            question, history, doc_ids = _ask_arguments(await _json_object(request), set(service.documents))
        except BadRequest as exc:
            return _error(str(exc))
        admitted = contextlib.ExitStack()  # the slot is held until the stream ends (close() is idempotent)
        try:
            admitted.enter_context(ask_gate.admit(client(request)))
            items = service.ask_stream(question, history, doc_ids)
            first = await run_in_threadpool(next, items)  # retrieval, and errors while a status can still be sent
        except (BusyError, AnswerError) as exc:
            admitted.close()
            return _error(str(exc), 429 if isinstance(exc, BusyError) else 400)
        except BaseException:
            admitted.close()
            raise
        base = public_base_url(request, settings)

        def lines():
            with admitted:
                for event in stream_events(itertools.chain([first], items), base):
                    yield json.dumps(event, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson", headers=NO_CACHE,
                                 background=BackgroundTask(admitted.close))

    @router.get("/api/documents")
    def api_documents(request: Request) -> Response:
        base, counts = public_base_url(request, settings), service.counts
        rows = [document_json(d, counts.get(d.doc_id, 0), base)
                for d in sorted(service.documents.values(), key=lambda d: d.doc_id)]
        return JSONResponse({"documents": rows})

    @router.get("/api/examples")
    def api_examples() -> Response:
        return JSONResponse({"examples": list(EXAMPLE_QUESTIONS)})

    def feedback_refused(request: Request) -> Response | None:
        reason = cross_site_reason(request.scope, settings.public_url)
        if reason:
            return _error(reason, 403)
        wait = feedback_limit.allow(client(request))
        if wait:
            return JSONResponse({"error": f"反馈过于频繁，请 {int(wait) + 1} 秒后再试。(Too much feedback; slow down.)"},
                                status_code=429, headers={"Retry-After": str(int(wait) + 1)})
        return None

    @router.post("/api/feedback")
    async def api_feedback(request: Request) -> Response:
        refused = feedback_refused(request)
        if refused:
            return refused
        try:
            body = await _json_object(request)
            sources = body.get("sources") or []
            if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
                raise BadRequest("“sources”应是对象数组")
            feedback_id = feedback.add(
                str(body.get("rating", "")), str(body.get("question", "")), str(body.get("answer", "")),
                sources[:20], searched_question=str(body.get("searched_question", "")),
                history=_string_list(body, "history", MAX_HISTORY) or [],
                abstained=bool(body.get("abstained")), comment=str(body.get("comment", "")),
                channel=str(body.get("channel", "api"))[:20],
            )
        except (BadRequest, FeedbackError) as exc:
            return _error(str(exc))
        return JSONResponse({"id": feedback_id})

    @router.post("/api/feedback/{feedback_id}/comment")
    async def api_feedback_comment(feedback_id: str, request: Request) -> Response:
        refused = feedback_refused(request)
        if refused:
            return refused
        try:
            body = await _json_object(request)
            feedback.set_comment(feedback_id, str(body.get("comment", "")))
        except (BadRequest, FeedbackError) as exc:
            return _error(str(exc))
        return JSONResponse({"id": feedback_id})

    @router.get("/doc/{doc_id:path}")
    def document_view(doc_id: str, start: int | None = None, end: int | None = None) -> Response:
        document = service.documents.get(doc_id)  # only indexed ids: nothing is read from disk here
        if document is None:
            return HTMLResponse("<!doctype html><meta charset=utf-8><p>没有这个文件。</p>", status_code=404)
        return HTMLResponse(document_page_html(document, start, end))

    @router.get("/file/{doc_id:path}")
    def original_file_download(doc_id: str) -> Response:
        """The original corpus file of an indexed document, as a download (nothing outside the corpus)."""
        from fastapi.responses import FileResponse

        documents = service.documents
        path = original_file(settings.corpus_dir, documents, doc_id)
        try:
            service.library.files.document_path(doc_id)  # never through a symbolic link
        except LibraryError:
            path = None
        if path is None:
            return HTMLResponse("<!doctype html><meta charset=utf-8><p>没有这个文件。</p>", status_code=404)
        return FileResponse(path, filename=download_name(documents[doc_id]), headers=NO_CACHE)

    @router.get("/widget")
    def widget_page() -> Response:
        return HTMLResponse(_static_text("widget.html"), headers=NO_CACHE)

    @router.get("/widget-assets/{name}")
    def widget_asset(name: str) -> Response:
        if name not in WIDGET_ASSETS:
            return Response(status_code=404)
        return Response(_static_text(name), media_type=WIDGET_ASSETS[name], headers=NO_CACHE)

    @router.get("/embed.js")
    def embed_script() -> Response:
        return Response(_static_text("embed.js"), media_type="application/javascript", headers=NO_CACHE)

    return router
