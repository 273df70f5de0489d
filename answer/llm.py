"""A small client for an OpenAI-compatible chat-completions server (vLLM, Ollama, Xinference,
llama.cpp), the prompts sent to it, and streaming.

Standard library only (``urllib``). The API key is sent as a bearer token and never appears in
an error message. Every failure is one of the :class:`LLMError` subclasses, so the caller can
fall back to the extractive answer.

``settings.llm_base_url`` is the server's OpenAI base URL, usually ending in ``/v1``
(``http://10.0.0.5:8000/v1`` for vLLM, ``http://127.0.0.1:11434/v1`` for Ollama).
``settings.llm_timeout`` bounds the whole request of :func:`complete`; in :func:`stream` it bounds
the wait for the first token and between tokens, and the whole stream is cut off after
``STREAM_TIMEOUT_FACTOR`` times that.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Iterator, Sequence

from answer.types import Citation
from answer.verify import word_overlap
from settings import Settings

MAX_ANSWER_TOKENS = 400
MAX_REWRITE_TOKENS = 80
STREAM_TIMEOUT_FACTOR = 4
REWRITE_MIN_OVERLAP = 0.5
REWRITE_MIN_KEPT = 0.3
NOT_FOUND = "资料中未找到"
_READ_BYTES = 65536
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_THINK_BLOCK = re.compile(r"<think>.*?</think>\s*", re.S)


class LLMError(Exception):
    """The LLM server could not give an answer; the message says why (never the API key)."""


class LLMUnavailableError(LLMError):
    """The server cannot be reached, or refused the request (wrong URL, key, model, 5xx)."""


class LLMTimeoutError(LLMError):
    """The server did not answer within ``settings.llm_timeout`` seconds."""


class LLMBadResponseError(LLMError):
    """The server answered with something that is not a usable chat completion (malformed, empty)."""


class LLMRateLimitedError(LLMError):
    """The server answered HTTP 429; ``retry_after`` is its Retry-After in seconds, if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def llm_enabled(settings: Settings) -> bool:
    """Whether an LLM server is configured (``llm_base_url`` set).

    Example:
        >>> llm_enabled(Settings()), llm_enabled(Settings(llm_base_url="http://127.0.0.1:8000/v1"))
        (False, True)
    """
    return bool(settings.llm_base_url.strip())


def is_english(question: str) -> bool:
    """Whether the question is written in English rather than Chinese.

    Example:
        >>> is_english("What is Wenzhou's 2025 target?"), is_english("温州2025年的目标是什么？")
        (True, False)
    """
    return len(_LATIN.findall(question)) > 2 * len(_CJK.findall(question))


# ---------------------------------------------------------------------------------------------
# Prompts


ANSWER_RULES = """你是科技局工作人员的政策文件问答助手。只能依据下面编号的资料段落回答问题。
要求：
1. 每一句陈述之后都用方括号标注所依据的段落编号，例如“……达到30家[1]。”；依据多个段落时写[1][2]。
2. 数字、年份、百分比必须与资料原文完全一致，不得推算、换算或编造；资料中没有的数字不要写。
3. 如果资料不包含问题的答案，只回答“资料中未找到相关内容”，不要猜测。
4. 回答简短：一到三句话，不要复述问题，不要添加资料以外的背景。
5. 用提问所用的语言回答（中文提问用中文回答，英文提问用英文回答），引用编号照常标注。"""


def format_passage(n: int, passage: Citation) -> str:
    """One numbered passage as shown to the model: number, title, 文号, section, text.

    Example:
        >>> c = Citation(1, "a.txt", "温州市科技创新规划", "一、发展目标", "达到30家。", 0, 6, "温政发〔2021〕5号")
        >>> print(format_passage(1, c))
        [1] 《温州市科技创新规划》（温政发〔2021〕5号） 一、发展目标
        达到30家。
    """
    header = f"[{n}] 《{passage.title}》" if passage.title else f"[{n}]"
    if passage.doc_number:
        header += f"（{passage.doc_number}）"
    if passage.heading_path:
        header += f" {passage.heading_path}"
    return f"{header}\n{passage.quote.strip()}"


def build_system_prompt(passages: Sequence[Citation]) -> str:
    """The instructions: the rules, then the passages numbered 1..n in the given order."""
    numbered = "\n\n".join(format_passage(i, p) for i, p in enumerate(passages, start=1))
    return f"{ANSWER_RULES}\n\n资料：\n{numbered}"


def build_answer_messages(question: str, passages: Sequence[Citation]) -> list[dict[str, str]]:
    """Chat messages asking ``question`` over ``passages`` (numbered 1..n in the given order).

    The rules and passages go in the user message, not a system message: some servers' chat
    templates drop system messages (llama.cpp's Gemma format does), every template keeps this.
    It ends with "回答：", which keeps a small model answering rather than copying the passages.
    """
    if is_english(question):
        ask = f"Question: {question}\nAnswer in English, with [n] after each claim.\nAnswer:"
    else:
        ask = f"问题：{question}\n回答："
    return [{"role": "user", "content": f"{build_system_prompt(passages)}\n\n{ask}"}]


REWRITE_RULES = """把用户的最后一个问题改写成一个不依赖上下文、可以单独检索的完整问题。
补全省略的地区、年份、指标等；问题本身已经完整时原样输出。只输出改写后的问题，不要回答它，不要解释。"""


def build_rewrite_messages(question: str, history: Sequence[str]) -> list[dict[str, str]]:
    """Chat messages asking for a stand-alone version of ``question`` given earlier questions
    (one user message, like :func:`build_answer_messages`)."""
    earlier = "\n".join(f"- {h.strip()}" for h in history if h and h.strip())
    user = f"{REWRITE_RULES}\n\n之前的问题：\n{earlier}\n\n最后一个问题：{question.strip()}\n\n改写后的问题："
    return [{"role": "user", "content": user}]


# ---------------------------------------------------------------------------------------------
# Transport


def _endpoint(settings: Settings) -> str:
    base = settings.llm_base_url.strip().rstrip("/")
    if not base:
        raise LLMUnavailableError("no LLM server configured: set llm_base_url (e.g. http://127.0.0.1:8000/v1)")
    return f"{base}/chat/completions"


def _scrub(text: str, settings: Settings) -> str:
    """Remove the API key from a message, however it got there."""
    key = settings.llm_api_key
    return text.replace(key, "***") if key else text


def _request(settings: Settings, messages: Sequence[dict[str, str]], stream: bool, max_tokens: int) -> urllib.request.Request:
    body = {
        "model": settings.llm_model or "default",
        "messages": list(messages),
        "temperature": settings.llm_temperature,
        "max_tokens": max_tokens,
        "stream": stream,
    }
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if stream else "application/json"}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key}"
    return urllib.request.Request(
        _endpoint(settings), data=json.dumps(body, ensure_ascii=False).encode("utf-8"), headers=headers, method="POST"
    )


def _http_error(exc: urllib.error.HTTPError, settings: Settings, url: str) -> LLMError:
    try:
        detail = exc.read(300).decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        detail = ""
    detail = _scrub(detail, settings)[:200]
    if exc.code == 429:
        retry = exc.headers.get("Retry-After", "")
        seconds = float(retry) if re.fullmatch(r"\d+(\.\d+)?", retry.strip()) else None
        return LLMRateLimitedError(f"LLM server {url} is rate limiting requests (HTTP 429); try again later", seconds)
    hint = {
        401: "check llm_api_key",
        403: "check llm_api_key",
        404: "check llm_base_url (it usually ends in /v1) and llm_model",
    }.get(exc.code, "see the server's log")
    return LLMUnavailableError(f"LLM server {url} answered HTTP {exc.code} ({hint}): {detail}")


def _open(settings: Settings, request: urllib.request.Request):
    url = request.full_url
    try:
        return urllib.request.urlopen(request, timeout=settings.llm_timeout)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc, settings, url) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise LLMTimeoutError(f"LLM server {url} did not answer within {settings.llm_timeout:g} s") from None
        raise LLMUnavailableError(f"LLM server {url} cannot be reached: {_scrub(str(exc.reason), settings)}") from None
    except TimeoutError:
        raise LLMTimeoutError(f"LLM server {url} did not answer within {settings.llm_timeout:g} s") from None
    except OSError as exc:
        raise LLMUnavailableError(f"LLM server {url} cannot be reached: {_scrub(str(exc), settings)}") from None


def _read_body(response, deadline: float, settings: Settings, url: str) -> bytes:
    parts = []
    try:
        while True:
            if time.monotonic() > deadline:
                raise LLMTimeoutError(f"LLM server {url} did not finish within {settings.llm_timeout:g} s")
            block = response.read1(_READ_BYTES)
            if not block:
                return b"".join(parts)
            parts.append(block)
    except TimeoutError:
        raise LLMTimeoutError(f"LLM server {url} did not finish within {settings.llm_timeout:g} s") from None
    except OSError as exc:
        raise LLMUnavailableError(f"LLM server {url} broke off the answer: {_scrub(str(exc), settings)}") from None


def strip_thinking(text: str) -> str:
    """Drop a reasoning model's ``<think>…</think>`` block (DeepSeek-R1, Qwen3).

    Example:
        >>> strip_thinking("<think>先找数字</think>达到30家[1]。")
        '达到30家[1]。'
    """
    return _THINK_BLOCK.sub("", text).strip()


def complete(settings: Settings, messages: Sequence[dict[str, str]], max_tokens: int = MAX_ANSWER_TOKENS) -> str:
    """Send ``messages`` and return the reply's text (stripped, without a ``<think>`` block).

    Raises:
        LLMUnavailableError, LLMTimeoutError, LLMBadResponseError, LLMRateLimitedError.
    """
    request = _request(settings, messages, stream=False, max_tokens=max_tokens)
    deadline = time.monotonic() + settings.llm_timeout
    with _open(settings, request) as response:
        raw = _read_body(response, deadline, settings, request.full_url)
    return text_of_completion(raw, request.full_url, settings)


def text_of_completion(raw: bytes, url: str, settings: Settings) -> str:
    """The reply text of a chat-completion body, without a ``<think>`` block.

    Raises:
        LLMBadResponseError: not JSON, no ``choices[0].message.content``, or empty text.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LLMBadResponseError(f"LLM server {url} sent malformed JSON: {exc}") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        excerpt = _scrub(raw[:200].decode("utf-8", "replace"), settings)
        raise LLMBadResponseError(f"LLM server {url} sent no choices[0].message.content: {excerpt}") from None
    text = strip_thinking(content) if isinstance(content, str) else ""
    if not text:
        raise LLMBadResponseError(f"LLM server {url} sent an empty answer")
    return text


class _ThinkFilter:
    """Streaming counterpart of :func:`strip_thinking`: holds back a leading ``<think>`` block."""

    def __init__(self) -> None:
        self.buffer = ""
        self.decided = False

    def feed(self, piece: str) -> str:
        if self.decided:
            return piece
        self.buffer += piece
        head = self.buffer.lstrip()
        if head.startswith("<think>"):
            end = head.find("</think>")
            if end < 0:
                return ""
            self.decided, out = True, head[end + len("</think>"):].lstrip()
            return out
        if "<think>".startswith(head):  # could still become "<think>"
            return ""
        self.decided, out = True, self.buffer
        return out

    def flush(self) -> str:
        if self.decided or self.buffer.lstrip().startswith("<think>"):
            return ""
        self.decided = True
        return self.buffer


def _delta_text(payload: str, url: str) -> str:
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise LLMBadResponseError(f"LLM server {url} sent a malformed stream event: {exc}") from None
    if not isinstance(data, dict):
        raise LLMBadResponseError(f"LLM server {url} sent a stream event that is not an object")
    if "error" in data:
        raise LLMUnavailableError(f"LLM server {url} reported an error mid-stream: {str(data['error'])[:200]}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise LLMBadResponseError(f"LLM server {url} sent a stream event without choices")
    if not choices:
        return ""  # e.g. a final usage-only event
    delta = choices[0].get("delta") or choices[0].get("message") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def stream(settings: Settings, messages: Sequence[dict[str, str]], max_tokens: int = MAX_ANSWER_TOKENS) -> Iterator[str]:
    """Send ``messages`` with ``stream: true`` and yield the reply's text pieces as they arrive.

    Reads server-sent events (``data: {...}`` lines, ending with ``data: [DONE]``).

    Raises:
        LLMUnavailableError, LLMTimeoutError, LLMBadResponseError, LLMRateLimitedError; raised
        on iteration. An answer with no text at all is an :class:`LLMBadResponseError`.
    """
    request = _request(settings, messages, stream=True, max_tokens=max_tokens)
    url = request.full_url
    deadline = time.monotonic() + settings.llm_timeout * STREAM_TIMEOUT_FACTOR
    think = _ThinkFilter()
    produced = False
    with _open(settings, request) as response:
        content_type = response.headers.get("Content-Type", "")
        if "application/json" in content_type:  # a server that ignores stream=true
            yield text_of_completion(_read_body(response, deadline, settings, url), url, settings)
            return
        try:
            for raw_line in response:
                if time.monotonic() > deadline:
                    raise LLMTimeoutError(
                        f"LLM server {url} was still streaming after {settings.llm_timeout * STREAM_TIMEOUT_FACTOR:g} s"
                    )
                line = raw_line.decode("utf-8", "replace").strip()
                if not line or line.startswith(":") or not line.startswith("data:"):
                    continue
                payload = line[len("data:"):].strip()
                if payload == "[DONE]":
                    break
                piece = think.feed(_delta_text(payload, url))
                if piece:
                    produced = produced or bool(piece.strip())
                    yield piece
        except TimeoutError:
            raise LLMTimeoutError(f"LLM server {url} stopped sending for {settings.llm_timeout:g} s") from None
        except OSError as exc:
            raise LLMUnavailableError(f"LLM server {url} broke off the answer: {_scrub(str(exc), settings)}") from None
    rest = think.flush()
    if rest:
        produced = produced or bool(rest.strip())
        yield rest
    if not produced:
        raise LLMBadResponseError(f"LLM server {url} streamed an empty answer")


# ---------------------------------------------------------------------------------------------
# Follow-up rewriting

_REWRITE_PREFIX = re.compile(r"^(?:[-*•]\s*)?(?:(?:改写后的问题|独立问题|问题|Question|Rewritten question)\s*[:：]\s*)?", re.I)
_NOT_CJK = re.compile(r"[^\u4e00-\u9fff]+")
_DIGITS = re.compile(r"\d+")


def _cjk_bigrams(text: str) -> set[str]:
    chars = _NOT_CJK.sub(" ", text)
    return {a + b for a, b in zip(chars, chars[1:]) if a != " " and b != " "}


def keeps_the_question(rewrite: str, question: str, history: Sequence[str]) -> bool:
    """Whether a rewrite keeps what the follow-up itself asks: at least ``REWRITE_MIN_KEPT`` of
    the follow-up's own wording (character pairs the earlier questions lack), and no number
    that neither the follow-up nor the earlier questions contain. A weak model often answers
    with an earlier question, or one with a year it made up.

    Example:
        >>> h = ["2022年温州国家高新区在全国排第几位？"]
        >>> keeps_the_question("2022年乐清、瑞安两个省级高新园区在全省排第几？", "乐清、瑞安两个省级高新园区呢，在全省排第几？", h)
        True
        >>> keeps_the_question("2023年温州国家高新区在全国排第几位？", "乐清、瑞安两个省级高新园区呢，在全省排第几？", h)
        False
    """
    source = " ".join([*history, question])
    if set(_DIGITS.findall(rewrite)) - set(_DIGITS.findall(source)):
        return False
    own = _cjk_bigrams(question) - _cjk_bigrams(" ".join(history))
    return not own or len(own & _cjk_bigrams(rewrite)) >= REWRITE_MIN_KEPT * len(own)


def clean_rewrite(reply: str, question: str, history: Sequence[str] = ()) -> str:
    """The stand-alone question in a rewrite reply, or ``question`` when the reply is unusable:
    empty, far too long, (for Chinese) mostly words that neither the question nor the earlier
    questions contain, like a weak model echoing its instructions, or dropping what the
    follow-up asks (:func:`keeps_the_question`).

    Example:
        >>> h = ["温州到2025年的目标是什么？"]
        >>> clean_rewrite("改写后的问题：温岭到2025年的目标是什么？", "那温岭呢？", h)
        '温岭到2025年的目标是什么？'
        >>> clean_rewrite("把问题改写成一个不依赖上下文的完整问题。", "那温岭呢？", h)
        '那温岭呢？'
        >>> clean_rewrite("- 温州到2025年的目标是什么？", "那温岭呢？", h)
        '那温岭呢？'
    """
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return question
    text = _REWRITE_PREFIX.sub("", lines[0]).strip().strip("\"'“”「」*").strip()
    if not text or len(text) > 3 * len(question) + 60:
        return question
    overlap = word_overlap(text, " ".join([*history, question]))
    if overlap is not None and overlap < REWRITE_MIN_OVERLAP:
        return question
    if not keeps_the_question(text, question, history):
        return question
    return text


def rewrite_followup_with_llm(settings: Settings, question: str, history: Sequence[str]) -> str:
    """Ask the model for a stand-alone version of ``question`` given the earlier questions.

    Returns ``question`` unchanged when there is no history, no server is configured, or the
    server fails in any way (this never raises an :class:`LLMError`).
    """
    earlier = [h for h in history if h and h.strip()]
    if not earlier or not llm_enabled(settings):
        return question
    try:
        reply = complete(settings, build_rewrite_messages(question, earlier), max_tokens=MAX_REWRITE_TOKENS)
    except LLMError:
        return question
    return clean_rewrite(reply, question, earlier)
