"""Which files really arrived through the upload endpoint: an admin upload takes only those.

Gradio's event API takes a file as a path; under ``mount_gradio_app`` it copies any readable server
file named there into its upload folder, so "inside the upload folder" does not prove a file was
uploaded (the probe of issue #19 published ``requirements.txt`` that way). :class:`UploadRecorder`
(ASGI middleware) reads the answer of ``POST …/gradio_api/upload``, the list of stored paths, into
an :class:`UploadRegistry`; the library accepts a path only if the registry holds it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KEEP_S = 3600.0  # an upload not used within this is forgotten (Gradio's cache is emptied as often)
MAX_ANSWER_BYTES = 1024 * 1024


class UploadRegistry:
    """Paths the upload endpoint stored, each remembered for :data:`KEEP_S` seconds.

    Example:
        >>> registry = UploadRegistry()
        >>> registry.record(["/tmp/gradio/ab/x.txt"]); registry.holds("/tmp/gradio/ab/x.txt"), registry.holds("/etc/passwd")
        (True, False)
    """

    def __init__(self) -> None:
        self._paths: dict[str, float] = {}
        self._lock = threading.Lock()

    def record(self, paths: list[str]) -> None:
        """Remember ``paths`` as uploaded now."""
        now = time.monotonic()
        with self._lock:
            self._paths = {p: t for p, t in self._paths.items() if now - t < KEEP_S}
            self._paths.update({os.path.realpath(p): now for p in paths})

    def holds(self, path: str | Path) -> bool:
        """True when ``path`` was stored by the upload endpoint (and not yet forgotten)."""
        with self._lock:
            seen = self._paths.get(os.path.realpath(path))
        return seen is not None and time.monotonic() - seen < KEEP_S

    def forget(self, path: str | Path) -> None:
        """Forget ``path`` (it has been used)."""
        with self._lock:
            self._paths.pop(os.path.realpath(path), None)


class UploadRecorder:
    """ASGI middleware: records the paths a successful upload answer lists in ``registry``."""

    def __init__(self, app: ASGIApp, registry: UploadRegistry, path: str = "/gradio_api/upload") -> None:
        self.app = app
        self.registry = registry
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        status, body = 0, bytearray()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200 and len(body) < MAX_ANSWER_BYTES:
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    try:
                        paths = json.loads(bytes(body))
                    except ValueError:
                        paths = []
                    if isinstance(paths, list):
                        self.registry.record([p for p in paths if isinstance(p, str)])
            await send(message)

        await self.app(scope, receive, recording_send)
