"""Guards of the HTTP edge: who may frame the pages, how big a JSON request may be, how many at once.

- :class:`FrameAncestorsPolicy` sends ``Content-Security-Policy: frame-ancestors …`` with every
  HTML page (chat page, widget, document view): only the configured sites may frame them.
- :class:`ApiBodyLimit` refuses a JSON API request body over the limit with ``413 {"error"}``,
  before it is parsed or kept (the rest is read and dropped, so the client gets the answer).
- :class:`AdmissionGate` lets a bounded number of API questions in at once; the next get ``429``.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Iterator

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_API_BODY_BYTES = 1024 * 1024  # a question, 20 earlier ones and a document filter need a few KB
MAX_DISCARDED_BYTES = 64 * 1024 * 1024  # of a refused body, read and dropped; past this the connection is cut


class BusyError(Exception):
    """Too many requests are being answered or waiting; the message asks to try again."""


class FrameAncestorsPolicy:
    """ASGI middleware: ``Content-Security-Policy: frame-ancestors <sources>`` on every HTML response.

    Args:
        sources: CSP source list, e.g. ``"'self' https://oa.example.gov.cn"`` (``settings.frame_ancestors``).
    """

    def __init__(self, app: ASGIApp, sources: str) -> None:
        self.app = app
        self.policy = "frame-ancestors " + (sources.strip() or "'self'")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = self.policy
            await send(message)

        await self.app(scope, receive, send_with_policy)


class _BodyTooLarge(Exception):
    pass


class ApiBodyLimit:
    """ASGI middleware: request bodies under ``prefix`` over ``max_bytes`` get ``413 {"error": …}``.

    The refused body is never kept: what the app has not read is read and dropped (up to
    :data:`MAX_DISCARDED_BYTES`), so that a client still sending it gets the 413, not a broken pipe.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_API_BODY_BYTES, prefix: str = "/api/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(receive, send)
            return
        received, finished = 0, False

        async def counted_receive() -> Message:
            nonlocal received, finished
            message = await receive()
            received += len(message.get("body", b""))
            finished = message["type"] != "http.request" or not message.get("more_body", False)
            if received > self.max_bytes:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except _BodyTooLarge:
            await self._refuse(receive, send, finished)

    async def _refuse(self, receive: Receive, send: Send, finished: bool = False) -> None:
        dropped = 0
        while not finished and dropped <= MAX_DISCARDED_BYTES:
            message = await receive()
            dropped += len(message.get("body", b""))
            finished = message["type"] != "http.request" or not message.get("more_body", False)
        message = f"请求体过大（上限 {self.max_bytes // 1024} KB）。(Request body over {self.max_bytes} bytes.)"
        body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class AdmissionGate:
    """Lets at most ``limit`` callers in at once; the next is refused at once, not queued.

    Example:
        >>> gate = AdmissionGate(1)
        >>> with gate.admit():
        ...     gate.admit().__enter__()
        Traceback (most recent call last):
        ...
        web.security.BusyError: 服务繁忙：已有 1 个问题在处理或等待，请稍后再试。(Too many questions at once; try again shortly.)
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._slots = threading.BoundedSemaphore(self.limit)

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one slot for the block.

        Raises:
            BusyError: every slot is taken.
        """
        if not self._slots.acquire(blocking=False):
            raise BusyError(f"服务繁忙：已有 {self.limit} 个问题在处理或等待，请稍后再试。"
                            "(Too many questions at once; try again shortly.)")
        try:
            yield
        finally:
            self._slots.release()
