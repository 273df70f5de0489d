"""The HTTP server's own guards: deadlines for slow clients, a connection share per address, and
one short log line (not a traceback) when a client goes away mid-request.

``uvicorn`` keeps a connection open for as long as its client sends a byte now and then: 200
half-sent requests stayed open a minute and starved everyone else of file descriptors. Here:

- :func:`deadline_protocol` makes a ``uvicorn`` HTTP protocol (h11) that closes a connection whose
  request line and headers have not all arrived ``header_timeout_s`` after it opened (or after its
  previous response), whose body has not all arrived ``body_timeout_s`` after its headers, and any
  connection past ``max_per_client`` open ones from the same address.
- :class:`QuietDisconnects` (ASGI middleware) turns a client disconnect into one ``INFO`` line.
- :func:`server_config` assembles the ``uvicorn.Config`` the app is served with.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import uvicorn
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("policyqa.server")
KEEP_ALIVE_S = 5  # idle time between requests on one connection


class _DeadlineH11Protocol(H11Protocol):
    """h11 protocol with header and body deadlines and a per-address connection cap (class attributes)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 120.0
    max_per_client: int = 0  # 0: no cap (behind a proxy every connection has the proxy's address)
    open_by_client: dict[str, int] = {}

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._counted = self.client[0] if self.client else ""
        if self.max_per_client and self._counted:
            held = self.open_by_client.get(self._counted, 0)
            self.open_by_client[self._counted] = held + 1
            if held >= self.max_per_client:
                log.info("client %s: over %d open connections, closed", self._counted, self.max_per_client)
                transport.close()
                return
        self._arm(self.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.max_per_client and self._counted:
            left = self.open_by_client.get(self._counted, 1) - 1
            if left > 0:
                self.open_by_client[self._counted] = left
            else:
                self.open_by_client.pop(self._counted, None)
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._deadline_passed)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()
            self._deadline = None

    def handle_events(self) -> None:
        was_idle = self.conn.their_state is h11.IDLE
        super().handle_events()
        if was_idle and self.conn.their_state is h11.SEND_BODY:
            self._arm(self.body_timeout_s)  # the headers are in; now the body has its own deadline
        elif was_idle and self.conn.their_state is h11.DONE:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.header_timeout_s + KEEP_ALIVE_S)

    def _deadline_passed(self) -> None:
        self._deadline = None
        state = self.conn.their_state
        if self.transport.is_closing() or state not in (h11.IDLE, h11.SEND_BODY):
            return
        if state is h11.IDLE and self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being written (pipelining)
        where = "headers" if state is h11.IDLE else "body"
        log.info("client %s: request %s not received in time, connection closed", self._counted or "?", where)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()


def deadline_protocol(header_timeout_s: float, body_timeout_s: float, max_per_client: int) -> type[H11Protocol]:
    """A ``uvicorn`` HTTP protocol class (pass as ``uvicorn.Config(http=...)``) with these limits."""
    return type("DeadlineH11Protocol", (_DeadlineH11Protocol,), {
        "header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s,
        "max_per_client": max_per_client, "open_by_client": {}})


class QuietDisconnects:
    """ASGI middleware: a client that went away mid-request is logged in one line, not a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except (ClientDisconnect, ConnectionError, asyncio.CancelledError) as exc:
            client = scope.get("client") or ("?",)
            log.info("client %s disconnected during %s %s (%s)", client[0], scope["method"], scope["path"],
                     type(exc).__name__)
            if isinstance(exc, asyncio.CancelledError):
                raise


def server_config(app: Any, settings: Any, **changes: Any) -> uvicorn.Config:
    """The ``uvicorn.Config`` to serve ``app`` with the settings' timeouts and connection share.

    ``changes`` go to ``uvicorn.Config`` as they are (``log_level``, ``lifespan`` …).
    """
    per_client = 0 if settings.trusted_proxy_header else settings.max_connections_per_client
    protocol = deadline_protocol(settings.header_timeout_s, settings.body_timeout_s, per_client)
    # proxy_headers off: uvicorn would take X-Forwarded-For from any local client as its address, and a
    # flooder rotating it would escape its share; settings.trusted_proxy_header decides that instead.
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, http=protocol, timeout_keep_alive=KEEP_ALIVE_S,
                                   h11_max_incomplete_event_size=32 * 1024, proxy_headers=False)
    options.update(changes)
    return uvicorn.Config(app, **options)
