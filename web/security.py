"""Guards of the HTTP edge: what pages may run and who may frame them, how big a JSON request may be,
who may post feedback and upload (how many at once: web.limits).

- :class:`SecurityHeaders` sends ``nosniff``, ``Referrer-Policy`` and a ``Content-Security-Policy``
  (scripts from this server only; ``frame-ancestors``: the configured sites for the widget and
  document view, never another site for the chat page with its admin form).
- :func:`cross_site_reason` tells a feedback post from another site; :class:`AnonymousUploadGate`
  closes Gradio's upload endpoint when the library is read-only; :func:`admin_token_problem`
  refuses a weak admin token; :func:`escape_markdown` shows a user's text as text.
- :class:`ApiBodyLimit` refuses a JSON API or Gradio queue-join body over its limit with ``413 {"error"}``,
  before it is parsed or kept (the rest is read and dropped, so the client gets the answer).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_API_BODY_BYTES = 1024 * 1024  # a question, 20 earlier ones and a document filter need a few KB
# Gradio's queue joins and calls carry the same question (≤ 500 characters, ≤ 20 earlier ones, filters):
GRADIO_JOB_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")
MAX_GRADIO_JOB_BODY_BYTES = 256 * 1024
BODY_LIMITS = (("/api/", MAX_API_BODY_BYTES), (GRADIO_JOB_PREFIXES, MAX_GRADIO_JOB_BODY_BYTES))
MAX_DISCARDED_BYTES = 64 * 1024 * 1024  # of a refused body, read and dropped; past this the connection is cut


class BusyError(Exception):
    """Too many requests are being answered or waiting; the message asks to try again."""


EMBEDDABLE_PREFIXES = ("/widget", "/doc/")  # pages other sites may frame (settings.frame_ancestors)
MAX_HTML_BYTES = 4 * 1024 * 1024  # HTML pages buffered to hash their inline scripts
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP ``'sha256-…'`` sources for the inline scripts of a page (the server's own, nothing a user wrote:
    every page escapes what users and documents write).

    Example:
        >>> inline_script_hashes(b"<p>x</p><script>var a=1;</script><script src='s.js'></script>")
        ["'sha256-gaaMFNHZyRta8zB2VHkWLMP4tMxJ+d8v3dTW7nw2r6M='"]
    """
    return [f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
            for m in _INLINE_SCRIPT.finditer(html)]


def content_security_policy(path: str, html: bytes, frame_ancestors: str, admin_enabled: bool) -> str:
    """The CSP of one HTML page: scripts only from this server (inline ones by hash), no plug-ins, images
    only from this server (a markdown image in a question is never fetched from elsewhere), and who may
    frame it: the configured sites for the widget and document view, only this site for the chat page
    when it carries the admin form.

    Example:
        >>> content_security_policy("/", b"", "*", admin_enabled=True).split("; ")[-1]
        "frame-ancestors 'self'"
    """
    own_page = path.startswith(EMBEDDABLE_PREFIXES)  # the widget and document view are ours; the rest is Gradio's
    ancestors = (frame_ancestors.strip() or "'self'") if own_page or not admin_enabled else "'self'"
    # Gradio's front end compiles some code at run time ('unsafe-eval'); no inline script but its own runs.
    scripts = " ".join(["'self'", *dict.fromkeys(inline_script_hashes(html)), *([] if own_page else ["'unsafe-eval'"])])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            f"base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}")


class SecurityHeaders:
    """ASGI middleware: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` on every response; a
    :func:`content_security_policy` on every HTML page (the page is buffered to hash its inline scripts).

    Args:
        frame_ancestors: CSP source list of the sites that may frame the widget and document view, e.g.
            ``"'self' https://oa.example.gov.cn"`` (``settings.frame_ancestors``).
        admin_enabled: the chat page carries the admin form; then only this site may frame it.
    """

    def __init__(self, app: ASGIApp, frame_ancestors: str, admin_enabled: bool = False) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors
        self.admin_enabled = admin_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if headers.get("content-type", "").startswith("text/html"):
                    held.append(message)  # sent with the policy once the page is complete
                    return
            elif held and message["type"] == "http.response.body":
                held.append(message)
                size = sum(len(m.get("body", b"")) for m in held[1:])
                if message.get("more_body", False) and size <= MAX_HTML_BYTES:
                    return
                page = b"".join(m.get("body", b"") for m in held[1:])
                policy = content_security_policy(scope["path"], page if size <= MAX_HTML_BYTES else b"",
                                                 self.frame_ancestors, self.admin_enabled)
                MutableHeaders(scope=held[0])["Content-Security-Policy"] = policy
                for part in held:
                    await send(part)
                held.clear()
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cross_site_reason(scope: Scope, public_url: str = "") -> str:
    """Why a browser request is not from this app's own pages (``""`` when it is, or not from a browser).

    A post from another site carries an ``Origin`` (or ``Sec-Fetch-Site``) naming it; a form or a
    ``text/plain`` fetch needs no preflight, so only ``application/json`` bodies are taken.

    Example:
        >>> scope = {"headers": [(b"host", b"qa.local:7860"), (b"origin", b"https://evil.example"),
        ...                      (b"content-type", b"text/plain")]}
        >>> cross_site_reason(scope)[:12]
        '只接受本站页面提交的反馈'
    """
    headers = Headers(scope=scope)
    refused = "只接受本站页面提交的反馈（JSON，同源）。(Feedback is taken from this site's pages only, as JSON.)"
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return refused
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return refused
    origin = headers.get("origin")
    if origin is None:
        return ""
    # Host names, not ports: behind nginx `proxy_set_header Host $host` drops the port the page was served on.
    own = {urlsplit("//" + headers.get("host", "")).hostname}
    if public_url:
        own.add(urlsplit(public_url).hostname)
    return "" if origin != "null" and urlsplit(origin).hostname in own - {None} else refused


class AnonymousUploadGate:
    """ASGI middleware: Gradio's file-upload endpoint is closed (403) unless the library takes uploads."""

    def __init__(self, app: ASGIApp, open_: bool, path: str = "/gradio_api/upload") -> None:
        self.app = app
        self.open = open_
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.open and scope["path"].rstrip("/") == self.path:
            body = json.dumps({"error": "文件库为只读，不接受上传。(Uploads are off: no admin token is set.)"},
                              ensure_ascii=False).encode("utf-8")
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


MIN_ADMIN_TOKEN_CHARS = 16
MIN_ADMIN_TOKEN_DISTINCT = 10
MAKE_TOKEN_HINT = 'python -c "import secrets;print(secrets.token_urlsafe(24))"'


def admin_token_problem(token: str) -> str:
    """Why ``token`` is too weak to be the admin token (``""``: strong enough, or no token: read-only).

    Example:
        >>> admin_token_problem("1")[:30]
        'admin_token is too weak: 1 cha'
        >>> admin_token_problem("Zr4kT0_xQm9vLw2pBc7yHs")
        ''
    """
    if not token:
        return ""
    distinct = len(set(token))
    if len(token) >= MIN_ADMIN_TOKEN_CHARS and distinct >= MIN_ADMIN_TOKEN_DISTINCT and token == token.strip():
        return ""
    return (f"admin_token is too weak: {len(token)} characters, {distinct} different (at least "
            f"{MIN_ADMIN_TOKEN_CHARS} and {MIN_ADMIN_TOKEN_DISTINCT} are needed, no surrounding spaces); "
            f"make one with: {MAKE_TOKEN_HINT}")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_markdown(text: str) -> str:
    """``text`` shown as typed in a markdown view: HTML escaped, markdown punctuation backslashed, so
    a user's ``![x](http://…)`` is text, never an image fetched.

    Example:
        >>> print(escape_markdown("![图](http://x/a.png) <b>"))
        \\!\\[图\\]\\(http://x/a\\.png\\) &lt;b&gt;
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


class _BodyTooLarge(Exception):
    pass


class ApiBodyLimit:
    """ASGI middleware: a request body over the limit of its path get ``413 {"error": …}``.

    Args:
        limits: ``(path prefix or prefixes, most bytes)`` pairs, the first matching applies; other paths
            are not limited here (Gradio's upload has ``max_file_size``). Default: the JSON API 1 MB,
            Gradio's queue joins and calls 256 KB.

    The refused body is never kept: what the app has not read is read and dropped (up to
    :data:`MAX_DISCARDED_BYTES`), so that a client still sending it gets the 413, not a broken pipe.
    """

    def __init__(self, app: ASGIApp, limits: tuple[tuple[str | tuple[str, ...], int], ...] = BODY_LIMITS) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        max_bytes = next((n for prefix, n in self.limits if scope["type"] == "http" and scope["path"].startswith(prefix)), 0)
        if not max_bytes:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(max_bytes, receive, send)
            return
        received, finished, too_large = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, finished, too_large
            message = await receive()
            received += len(message.get("body", b""))
            finished = message["type"] != "http.request" or not message.get("more_body", False)
            if received > max_bytes:
                too_large = True
                raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:  # an app that caught the error answers 400 "could not parse": the 413 is ours
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            pass
        if too_large:
            await self._refuse(max_bytes, receive, send, finished)

    @staticmethod
    async def _refuse(max_bytes: int, receive: Receive, send: Send, finished: bool = False) -> None:
        dropped = 0
        while not finished and dropped <= MAX_DISCARDED_BYTES:
            message = await receive()
            dropped += len(message.get("body", b""))
            finished = message["type"] != "http.request" or not message.get("more_body", False)
        message = f"请求体过大（上限 {max_bytes // 1024} KB）。(Request body over {max_bytes} bytes.)"
        body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
