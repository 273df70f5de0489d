"""Pure helpers of the benchmark: latency percentiles, recall@k, synthetic corpora from real sentences.

Nothing here times anything or touches the disk, so all of it is unit-tested.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

DEFAULT_PERCENTILES = (50, 95, 99)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")


def percentiles(values: Sequence[float], points: Iterable[int] = DEFAULT_PERCENTILES) -> dict[str, float]:
    """Percentiles of ``values`` keyed ``p50``, ``p95``… (linear interpolation, like numpy).

    Raises:
        ValueError: ``values`` is empty (a benchmark that measured nothing must say so).

    Example:
        >>> percentiles([1, 2, 3, 4, 5], (50, 100))
        {'p50': 3.0, 'p100': 5.0}
    """
    if len(values) == 0:
        raise ValueError("no measurements to take percentiles of; the benchmark step measured nothing")
    array = np.asarray(values, dtype=np.float64)
    return {f"p{p}": float(np.percentile(array, p)) for p in points}


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Count, mean and p50/p95/p99 in milliseconds of per-call durations given in seconds.

    Example:
        >>> s = latency_summary([0.010, 0.020, 0.030])
        >>> (s["n"], s["mean_ms"], s["p50_ms"])
        (3, 20.0, 20.0)
    """
    ms = [s * 1000.0 for s in seconds]
    summary: dict[str, float] = {"n": len(ms), "mean_ms": float(np.mean(ms)) if ms else float("nan")}
    summary.update({f"{key}_ms": value for key, value in percentiles(ms).items()})
    return summary


def recall_at_k(exact: Sequence[Sequence[int]], approximate: Sequence[Sequence[int]], k: int = 10) -> float:
    """Mean share of each query's exact top ``k`` that the approximate top ``k`` also found.

    Negative ids (FAISS padding) are ignored; a query whose exact list is empty is skipped.

    Raises:
        ValueError: the two lists cover a different number of queries, or no query has results.

    Example:
        >>> recall_at_k([[1, 2, 3, 4]], [[4, 3, 9, -1]], k=4)
        0.5
    """
    if len(exact) != len(approximate):
        raise ValueError(f"exact has {len(exact)} queries but approximate has {len(approximate)}; pass the same queries")
    shares = []
    for truth, found in zip(exact, approximate):
        wanted = [int(i) for i in truth if i >= 0][:k]
        if not wanted:
            continue
        got = set(list(dict.fromkeys(int(i) for i in found if i >= 0))[:k])
        shares.append(len(got.intersection(wanted)) / len(wanted))
    if not shares:
        raise ValueError("no query had exact results; recall is undefined")
    return float(np.mean(shares))


def split_sentences(text: str, min_chars: int = 6) -> list[str]:
    """Split Chinese text into sentences at 。！？； and line breaks, dropping fragments.

    Example:
        >>> split_sentences("一、目标\\n到2025年，企业达到560家。研发投入增长；好。", min_chars=5)
        ['到2025年，企业达到560家。', '研发投入增长；']
    """
    pieces = (piece.strip() for piece in _SENTENCE_END.split(text))
    return [piece for piece in pieces if len(piece) >= min_chars]


@dataclass(frozen=True)
class SyntheticChunk:
    """A made-up chunk: real sentences recombined, and where each sentence came from."""

    text: str
    sentences: tuple[int, ...]  # indices into the sentence pool, in order


def synthetic_chunks(
    pool: Sequence[str], count: int, target_chars: int = 300, seed: int = 0, max_run: int = 1
) -> list[SyntheticChunk]:
    """``count`` chunks of about ``target_chars`` characters, each real sentences drawn at random.

    Sentences are drawn with replacement, so term frequencies and document frequencies follow
    the real corpus (what BM25 needs) while every chunk is a new combination. With
    ``max_run > 1`` each draw takes a run of 1 to ``max_run`` consecutive sentences of the pool
    (in corpus order), so a chunk keeps some of the topical coherence of a real passage.

    Raises:
        ValueError: an empty sentence pool, or a non-positive ``target_chars`` or ``max_run``.

    Example:
        >>> chunks = synthetic_chunks(["甲乙丙。", "丁戊己庚。"], 3, target_chars=8, seed=1)
        >>> len(chunks), all(len(c.text) >= 8 for c in chunks)
        (3, True)
    """
    if not pool:
        raise ValueError("the sentence pool is empty; build it from a corpus with split_sentences")
    if target_chars <= 0 or max_run <= 0:
        raise ValueError(f"target_chars and max_run must be positive, got {target_chars} and {max_run}")
    rng = random.Random(seed)
    lengths = [len(s) for s in pool]
    chunks = []
    for _ in range(count):
        picked: list[int] = []
        size = 0
        while size < target_chars:
            start, run = rng.randrange(len(pool)), rng.randint(1, max_run)
            for index in range(start, min(start + run, len(pool))):
                picked.append(index)
                size += lengths[index]
                if size >= target_chars:
                    break
        chunks.append(SyntheticChunk("".join(pool[i] for i in picked), tuple(picked)))
    return chunks


def gaussian_like(reference: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` unit vectors drawn from a Gaussian with the mean and covariance of ``reference``'s rows.

    Real sentence embeddings are far from uniform on the sphere: they share a strong common
    direction and most of their variance lies in a few dozen directions. Drawing from a Gaussian
    fitted to real vectors keeps that shape (and so the difficulty of approximate search), while
    every drawn vector is new. Directions the reference does not span get the smallest observed
    variance, so no vector is degenerate.

    Raises:
        ValueError: fewer than two reference vectors.

    Example:
        >>> ref = normalise_rows(np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32) + 3.0)
        >>> drawn = gaussian_like(ref, 200, seed=1)
        >>> drawn.shape, bool(np.allclose(np.linalg.norm(drawn, axis=1), 1.0, atol=1e-5))
        ((200, 8), True)
    """
    if len(reference) < 2:
        raise ValueError(f"need at least two reference vectors to fit a covariance, got {len(reference)}")
    reference = np.asarray(reference, dtype=np.float64)
    mean = reference.mean(axis=0)
    _, singular, directions = np.linalg.svd(reference - mean, full_matrices=False)
    variance = singular**2 / (len(reference) - 1)
    floor = max(float(variance[variance > 1e-12].min(initial=1e-6)), 1e-12)
    rng = np.random.default_rng(seed)
    drawn = mean + (rng.standard_normal((count, len(variance))) * np.sqrt(variance)) @ directions
    drawn += rng.standard_normal((count, reference.shape[1])) * np.sqrt(floor)
    return normalise_rows(drawn.astype(np.float32))


def mean_pairwise_cosine(vectors: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Mean cosine between distinct rows (of a random sample of at most ``sample`` rows).

    Example:
        >>> round(mean_pairwise_cosine(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])), 3)
        0.333
    """
    rng = np.random.default_rng(seed)
    rows = vectors if len(vectors) <= sample else vectors[rng.choice(len(vectors), sample, replace=False)]
    rows = normalise_rows(np.asarray(rows, dtype=np.float32))
    similarity = rows @ rows.T
    n = len(rows)
    return float((similarity.sum() - np.trace(similarity)) / (n * (n - 1)))


def random_unit_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """``count`` random directions in ``dim`` dimensions (the worst case for approximate search).

    Example:
        >>> np.allclose(np.linalg.norm(random_unit_vectors(3, 4), axis=1), 1.0)
        True
    """
    rng = np.random.default_rng(seed)
    return normalise_rows(rng.standard_normal((count, dim), dtype=np.float32))


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    Example:
        >>> normalise_rows(np.array([[3.0, 4.0]], dtype=np.float32)).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def concatenated_tokens(chunk: SyntheticChunk, sentence_tokens: Sequence[Sequence[str]]) -> list[str]:
    """The tokens of a synthetic chunk, as the concatenation of its sentences' tokens.

    Tokenising sentences once and concatenating is what makes a 100k-chunk BM25 index cheap to
    build here; jieba cuts at sentence ends anyway, so the tokens are the same but for rare
    joins across a sentence boundary.

    Example:
        >>> concatenated_tokens(SyntheticChunk("", (1, 0, 1)), [["a"], ["b", "c"]])
        ['b', 'c', 'a', 'b', 'c']
    """
    return [token for index in chunk.sentences for token in sentence_tokens[index]]


def smallest_at_least(table: Mapping[int, float], target: float) -> int | None:
    """The smallest key whose value reaches ``target`` (e.g. the efSearch giving recall ≥ 0.95).

    Example:
        >>> smallest_at_least({16: 0.8, 64: 0.96, 32: 0.95}, 0.95)
        32
    """
    passing = [key for key, value in table.items() if value >= target]
    return min(passing) if passing else None


def linear_crossing(sizes: Sequence[float], values: Sequence[float], budget: float) -> float | None:
    """Where a least-squares line through ``(size, value)`` reaches ``budget`` (None if it never does).

    Used to find the corpus size at which exact search would exceed its share of the latency
    budget.

    A slope whose rise over the sizes measured is within floating-point noise of the values
    (``np.polyfit`` gives about 1e-21, not 0, for flat timings) counts as flat.

    Example:
        >>> round(linear_crossing([1000, 2000], [2.0, 4.0], 10.0))
        5000
        >>> linear_crossing([10_000, 100_000], [5.0, 5.0], 25.0) is None
        True
    """
    if len(sizes) < 2:
        raise ValueError("need at least two sizes to fit a line")
    x, y = np.asarray(sizes, float), np.asarray(values, float)
    slope, intercept = np.polyfit(x, y, 1)
    rise = slope * (x.max() - x.min())
    if rise <= 1e-9 * max(float(np.abs(y).max()), 1e-12):
        return None
    return float((budget - intercept) / slope)
