"""Fair shares for every client: who a client is, how often it may ask, how much it may hold at once.

- :func:`client_address` names the client of a request: the peer address, or the last address a
  trusted proxy wrote into the header ``settings.trusted_proxy_header`` names.
- :class:`RateLimiter` is a token bucket per client (requests a minute, with a burst).
- :class:`ClientShareGate` bounds the slots all clients hold together *and* what one client holds,
  so one client flooding gets 429s while everyone else still gets in.
- :class:`ClientRateLimit` (ASGI middleware) applies a :class:`RateLimiter` to the POSTs of the
  JSON API and Gradio (questions, queue joins, uploads): ``429 {"error"}`` with ``Retry-After``.
- :class:`PendingJobLimit` (ASGI middleware) bounds the jobs one client has waiting or running in
  Gradio's queue (``queue/join``, ``call/…``): one client can no longer fill the queue for everyone.
- :class:`UploadBudget` (ASGI middleware) bounds the bytes one client may send to Gradio's upload
  endpoint in a window (the files are kept until Gradio's ``delete_cache`` removes them).
- :class:`FailureLimiter` counts failed admin-token attempts per client and locks the client out.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.security import BusyError

log = logging.getLogger("policyqa.limits")
MAX_TRACKED_CLIENTS = 10_000  # least recently seen clients are forgotten past this
LIMITED_PREFIXES = ("/api/", "/gradio_api/")
QUEUE_JOIN_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/call/")  # every POST that adds a job to Gradio's queue
PENDING_JOBS_PER_CLIENT = 4  # a chat question, the page's load events and a spare; the queue holds 64
# Uploads per client: a file of the 50 MB maximum and more, or dozens of usual documents, each half hour.
# Gradio keeps an unused upload up to 70 minutes (delete_cache): one client holds at most ~140 MB of them.
UPLOAD_BYTES_PER_WINDOW = 60 * 1024 * 1024
UPLOAD_WINDOW_S = 1800.0


def client_address(scope: Scope, trusted_header: str = "") -> str:
    """The client's address: the peer, or the last entry of the trusted proxy's header.

    Only the *last* entry counts: a client can put anything in front of it, the proxy appends.

    Example:
        >>> scope = {"client": ("10.0.0.1", 5), "headers": [(b"x-forwarded-for", b"6.6.6.6, 192.0.2.7")]}
        >>> client_address(scope), client_address(scope, "X-Forwarded-For")
        ('10.0.0.1', '192.0.2.7')
    """
    client = scope.get("client")
    return client_of(str(client[0]) if client else "unknown", Headers(scope=scope), trusted_header)


def client_of(peer: str, headers: Mapping[str, str], trusted_header: str = "") -> str:
    """As :func:`client_address`, from a peer address and the request's headers (e.g. a Gradio event's).

    Example:
        >>> client_of("10.0.0.1", {"x-real-ip": "192.0.2.9"}, "X-Real-IP")
        '192.0.2.9'
    """
    if trusted_header:
        value = next((v for k, v in headers.items() if k.lower() == trusted_header.lower()), "")
        last = str(value).rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return peer or "unknown"


class _Recent(OrderedDict):
    """A dict that forgets its least recently used keys past :data:`MAX_TRACKED_CLIENTS`."""

    def touch(self, key: str, default):
        value = self.pop(key, default)
        self[key] = value
        while len(self) > MAX_TRACKED_CLIENTS:
            self.popitem(last=False)
        return value


class RateLimiter:
    """A token bucket per key: ``per_minute`` tokens a minute, at most ``burst`` saved up.

    Example:
        >>> now = [0.0]
        >>> limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
        >>> [limiter.allow("a") for _ in range(3)], limiter.allow("b")
        ([0.0, 0.0, 1.0], 0.0)
        >>> now[0] = 1.0; limiter.allow("a")
        0.0
    """

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(per_minute, 1e-9) / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets = _Recent()
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """Take a token for ``key``: ``0.0`` when allowed, else the seconds until one is free."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.touch(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class ClientShareGate:
    """At most ``total`` callers in at once, and at most ``per_client`` of them from one client.

    Refused callers get :class:`~web.security.BusyError` at once (never queued).

    Example:
        >>> gate = ClientShareGate(total=3, per_client=1)
        >>> with gate.admit("flooder"):
        ...     with gate.admit("someone else"):
        ...         gate.admit("flooder").__enter__()
        Traceback (most recent call last):
        ...
        web.security.BusyError: 您的请求过多：同一来源最多同时处理 1 个问题，请等前面的回答完成后再试。(Too many questions at once from you; wait for your earlier answers.)
    """

    def __init__(self, total: int, per_client: int) -> None:
        self.total = max(1, total)
        self.per_client = max(1, min(per_client, self.total))
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def held(self, client: str) -> int:
        """Slots ``client`` holds now."""
        with self._lock:
            return self._held.get(client, 0)

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Hold one slot for ``client`` for the block.

        Raises:
            BusyError: the client already holds its share, or every slot is taken.
        """
        with self._lock:
            mine = self._held.get(client, 0)
            if mine >= self.per_client:
                raise BusyError(f"您的请求过多：同一来源最多同时处理 {self.per_client} 个问题，请等前面的回答完成后再试。"
                                "(Too many questions at once from you; wait for your earlier answers.)")
            if sum(self._held.values()) >= self.total:
                raise BusyError(f"服务繁忙：已有 {self.total} 个问题在处理或等待，请稍后再试。"
                                "(Too many questions at once; try again shortly.)")
            self._held[client] = mine + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._held.get(client, 1) - 1
                if left > 0:
                    self._held[client] = left
                else:
                    self._held.pop(client, None)


def too_many_requests(retry_after: float, message: str) -> tuple[dict, bytes]:
    """The start message and body of a ``429`` JSON response with ``Retry-After``."""
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    start = {"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(1, math.ceil(retry_after))).encode())]}
    return start, body


class ClientRateLimit:
    """ASGI middleware: POSTs under ``/api/`` and ``/gradio_api/`` are rate-limited per client.

    Args:
        per_minute, burst: the :class:`RateLimiter` of each client.
        trusted_header: the proxy header naming the client (``settings.trusted_proxy_header``).
    """

    def __init__(self, app: ASGIApp, per_minute: float, burst: int, trusted_header: str = "") -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute, burst)
        self.trusted_header = trusted_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(LIMITED_PREFIXES):
            client = client_address(scope, self.trusted_header)
            wait = self.limiter.allow(client)
            if wait:
                await _refuse(send, wait, f"请求过于频繁，请 {math.ceil(wait)} 秒后再试。(Too many requests from you; slow down.)")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, retry_after: float, message: str) -> None:
    start, body = too_many_requests(retry_after, message)
    await send(start)
    await send({"type": "http.response.body", "body": body})


class PendingJobLimit:
    """ASGI middleware: a client with ``per_client`` jobs waiting or running in Gradio's queue gets ``429``
    for its next join, until one of them has finished.

    The jobs are Gradio's own (``blocks._queue.event_ids_to_events``: an event is there from its join
    until it is finished or its client has gone), each with the request that joined it, so nothing has to
    watch streams to know when a job is done. Joins still being handled count too (two at once cannot
    both slip under the cap).

    Args:
        blocks: the Gradio ``Blocks`` whose queue is counted (after ``blocks.queue()``).
        trusted_header: the proxy header naming the client (``settings.trusted_proxy_header``).
    """

    def __init__(self, app: ASGIApp, blocks: Any, per_client: int = PENDING_JOBS_PER_CLIENT,
                 trusted_header: str = "") -> None:
        self.app = app
        self.blocks = blocks
        self.per_client = max(1, per_client)
        self.trusted_header = trusted_header
        self._joining: dict[str, int] = {}

    def pending(self, client: str) -> int:
        """Jobs of ``client`` in Gradio's queue (waiting or running) plus its joins being handled now."""
        events = getattr(getattr(self.blocks, "_queue", None), "event_ids_to_events", {})
        queued = 0
        for event in list(events.values()):
            request = getattr(event, "request", None)
            peer = request.client.host if request is not None and request.client else ""
            queued += client_of(peer, request.headers if request is not None else {}, self.trusted_header) == client
        return queued + self._joining.get(client, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(QUEUE_JOIN_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted_header)
        if self.pending(client) >= self.per_client:
            await _refuse(send, 5, f"您已有 {self.per_client} 个问题在排队或处理中，请等前面的回答完成后再提问。"
                                   "(You have too many questions waiting; wait for your earlier answers.)")
            return
        self._joining[client] = self._joining.get(client, 0) + 1
        counted = True

        def release() -> None:
            nonlocal counted
            if counted:
                counted = False
                left = self._joining.get(client, 1) - 1
                if left > 0:
                    self._joining[client] = left
                else:
                    self._joining.pop(client, None)

        async def releasing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # the job (if any) is in Gradio's queue now and counted there
            await send(message)

        try:
            await self.app(scope, receive, releasing_send)
        finally:
            release()


class UploadBudget:
    """ASGI middleware: one client may send at most ``max_bytes`` to Gradio's upload endpoint within
    ``window_s`` seconds; past that ``429`` (the declared length is checked first, what arrives is counted).

    Example:
        >>> now = [0.0]
        >>> budget = UploadBudget(None, max_bytes=10, window_s=60, clock=lambda: now[0])
        >>> budget.spend("a", 8), budget.wait_for("a", 5), budget.wait_for("b", 5)
        (None, 60.0, 0.0)
        >>> now[0] = 61.0; budget.wait_for("a", 5)
        0.0
    """

    def __init__(self, app: ASGIApp, max_bytes: int | None = None, window_s: float | None = None,
                 trusted_header: str = "", path: str = "/gradio_api/upload",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.max_bytes = max_bytes or UPLOAD_BYTES_PER_WINDOW
        self.window_s = window_s or UPLOAD_WINDOW_S
        self.trusted_header = trusted_header
        self.path = path
        self.clock = clock
        self._spent = _Recent()
        self._lock = threading.Lock()

    def _recent(self, client: str) -> list[tuple[float, int]]:
        now = self.clock()
        return [(t, n) for t, n in self._spent.get(client, []) if now - t < self.window_s]

    def wait_for(self, client: str, size: int) -> float:
        """Seconds until ``client`` may send ``size`` more bytes (``0.0``: now)."""
        with self._lock:
            now, recent = self.clock(), self._recent(client)
            over = sum(n for _, n in recent) + size - self.max_bytes
            if over <= 0:
                return 0.0
            for sent_at, n in recent:  # the oldest sends leave the window first
                over -= n
                if over <= 0:
                    return max(0.001, self.window_s - (now - sent_at))
            return self.window_s

    def spend(self, client: str, size: int) -> None:
        """Count ``size`` bytes sent by ``client`` now (merged with a send of the last second)."""
        with self._lock:
            now, recent = self.clock(), self._recent(client)
            if recent and now - recent[-1][0] < 1.0:
                recent[-1] = (recent[-1][0], recent[-1][1] + size)
            else:
                recent.append((now, size))
            self._spent.touch(client, [])
            self._spent[client] = recent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted_header)
        declared = Headers(scope=scope).get("content-length", "")
        wait = self.wait_for(client, int(declared) if declared.isdigit() else 1)
        if wait:
            await _refuse(send, wait, f"上传过多：同一来源每 {self.window_s / 60:.0f} 分钟最多上传 "
                                      f"{self.max_bytes // (1024 * 1024)} MB，请 {math.ceil(wait / 60)} 分钟后再试。"
                                      "(Upload budget used up; try again later.)")
            return

        if declared.isdigit():
            self.spend(client, int(declared))  # reserved now: uploads sent at once cannot all slip under
            await self.app(scope, receive, send)
            return

        async def counted_receive() -> Message:  # chunked: counted as it arrives
            message = await receive()
            self.spend(client, len(message.get("body", b"")))
            return message

        await self.app(scope, counted_receive, send)


class FailureLimiter:
    """Failed attempts per client: after ``limit`` failures within ``window_s`` the client is refused
    until the window has passed since its last failure; every failure is logged (without the guess).

    Example:
        >>> now = [0.0]
        >>> guard = FailureLimiter(limit=2, window_s=60, clock=lambda: now[0])
        >>> guard.failed("10.0.0.9"); guard.failed("10.0.0.9"); guard.locked_for("10.0.0.9") > 0
        True
        >>> now[0] = 61.0; guard.locked_for("10.0.0.9")
        0.0
    """

    def __init__(self, limit: int = 5, window_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, limit)
        self.window_s = window_s
        self.clock = clock
        self._failures = _Recent()
        self._lock = threading.Lock()

    def _recent(self, client: str) -> list[float]:
        now = self.clock()
        return [t for t in self._failures.get(client, []) if now - t < self.window_s]

    def locked_for(self, client: str) -> float:
        """Seconds ``client`` must wait before its next attempt is even compared (``0.0``: may try)."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, self.window_s - (self.clock() - recent[-1]))

    def failed(self, client: str) -> None:
        """Record (and log) a failed attempt of ``client``."""
        with self._lock:
            recent = self._recent(client) + [self.clock()]
            self._failures.touch(client, [])
            self._failures[client] = recent[-self.limit:]
        log.warning("admin token refused for client %s (%d recent failures)", client, len(recent))
