"""The pure parts of the benchmark: percentiles, recall@k, the synthetic corpus, targets. Nothing is timed."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings as hyp_settings, strategies as st

import eval.bench_stats
import eval.bench_targets
from eval.bench_query import settings_environment
from eval.bench_stats import (
    SyntheticChunk, concatenated_tokens, gaussian_like, latency_summary, linear_crossing, mean_pairwise_cosine, percentiles,
    random_unit_vectors, recall_at_k, smallest_at_least, split_sentences, synthetic_chunks,
)
from eval.bench_targets import check_targets, hnsw_threshold, round_down_one_digit
from settings import Settings, load_settings

POOL = ["到2025年，高新技术企业达到560家。", "研发投入占比达到3.2%。", "建设省级以上创新平台30家；", "科技型中小企业累计1200家！"]


# Percentiles and latency summaries

def test_percentiles_interpolate_like_numpy():
    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    result = percentiles(values, (50, 95, 99))
    assert result == {f"p{p}": pytest.approx(float(np.percentile(values, p))) for p in (50, 95, 99)}
    assert result["p50"] == pytest.approx(3.5)


def test_percentiles_of_one_value_are_that_value():
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0, "p99": 7.0}


def test_percentiles_refuse_an_empty_measurement():
    with pytest.raises(ValueError, match="measured nothing"):
        percentiles([])


def test_latency_summary_converts_seconds_to_milliseconds():
    summary = latency_summary([0.001 * i for i in range(1, 101)])
    assert summary["n"] == 100
    assert summary["mean_ms"] == pytest.approx(50.5)
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p95_ms"] == pytest.approx(95.05)
    assert summary["p99_ms"] == pytest.approx(99.01)


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=50))
@hyp_settings(max_examples=50, deadline=None)
def test_percentiles_are_ordered_and_within_range(values):
    result = percentiles(values)
    assert min(values) - 1e-9 <= result["p50"] <= result["p95"] + 1e-9 <= result["p99"] + 2e-9
    assert result["p99"] <= max(values) + 1e-9


# recall@k

def test_recall_counts_the_share_of_the_exact_top_k_found():
    exact = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]]
    approx = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 99, 98, 97, 96, 95]]
    assert recall_at_k(exact, approx, 10) == pytest.approx(0.75)


def test_recall_ignores_order_padding_and_duplicates_and_only_looks_at_the_top_k():
    exact = [[3, 1, 2, -1, -1]]
    assert recall_at_k(exact, [[2, 2, 1, 3]], 3) == pytest.approx(1.0)  # unique top 3 of approx: 2, 1, 3
    assert recall_at_k(exact, [[2, 2, 1, 9, 3]], 3) == pytest.approx(2 / 3)  # 3 is 4th unique: out of the top 3
    assert recall_at_k(exact, [[2, 1, 3]], 3) == pytest.approx(1.0)
    assert recall_at_k(exact, [[-1, 7, 8, 3]], 3) == pytest.approx(1 / 3)  # padding dropped: top 3 is 7, 8, 3


def test_recall_skips_queries_without_exact_results_and_rejects_mismatched_lists():
    assert recall_at_k([[], [1, 2]], [[5], [2, 9]], 2) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same queries"):
        recall_at_k([[1]], [[1], [2]], 10)
    with pytest.raises(ValueError, match="undefined"):
        recall_at_k([[-1]], [[1]], 10)


def test_recall_of_faiss_hnsw_against_itself_is_one():
    faiss = pytest.importorskip("faiss")
    vectors = random_unit_vectors(300, 16, seed=3)
    index = faiss.IndexFlatIP(16)
    index.add(vectors)
    _, ids = index.search(vectors[:20], 10)
    assert recall_at_k(ids.tolist(), ids.tolist(), 10) == 1.0


# The synthetic corpus

def test_split_sentences_cuts_at_chinese_sentence_ends_and_line_breaks():
    text = "一、目标\n到2025年，企业达到560家。研发投入增长；好。\n\n（二）任务！完成了吗？"
    assert split_sentences(text, min_chars=4) == ["一、目标", "到2025年，企业达到560家。", "研发投入增长；", "（二）任务！", "完成了吗？"]
    assert split_sentences("短。", min_chars=6) == []


def test_synthetic_chunks_are_real_sentences_of_about_the_target_size():
    chunks = synthetic_chunks(POOL, 50, target_chars=60, seed=7)
    assert len(chunks) == 50
    for chunk in chunks:
        assert chunk.text == "".join(POOL[i] for i in chunk.sentences)
        assert len(chunk.text) >= 60
        assert len(chunk.text) - len(POOL[chunk.sentences[-1]]) < 60  # stops as soon as the target is reached


def test_synthetic_chunks_are_deterministic_by_seed_and_recombine_sentences():
    first = synthetic_chunks(POOL, 30, target_chars=50, seed=1)
    assert first == synthetic_chunks(POOL, 30, target_chars=50, seed=1)
    assert first != synthetic_chunks(POOL, 30, target_chars=50, seed=2)
    assert len({c.sentences for c in first}) > 10  # new combinations, not copies
    assert {i for c in first for i in c.sentences} == set(range(len(POOL)))  # term statistics come from every sentence


def test_synthetic_chunks_with_runs_take_consecutive_sentences():
    pool = [f"第{i}句话的内容。" for i in range(100)]
    chunks = synthetic_chunks(pool, 200, target_chars=40, seed=0, max_run=3)
    steps = [b - a for c in chunks for a, b in zip(c.sentences, c.sentences[1:])]
    assert steps.count(1) > len(steps) / 4  # many neighbours in corpus order
    assert any(step != 1 for step in steps)  # but still recombined


@pytest.mark.parametrize("pool, target, run", [([], 300, 1), (POOL, 0, 1), (POOL, 300, 0)])
def test_synthetic_chunks_reject_bad_arguments(pool, target, run):
    with pytest.raises(ValueError):
        synthetic_chunks(pool, 3, target_chars=target, max_run=run)


def test_concatenated_tokens_follow_the_sentences():
    assert concatenated_tokens(SyntheticChunk("", (2, 0)), [["甲"], ["乙"], ["丙", "丁"]]) == ["丙", "丁", "甲"]


def test_gaussian_like_keeps_the_shape_of_the_reference_vectors():
    rng = np.random.default_rng(4)
    common = rng.standard_normal(64)
    reference = (common * 3 + rng.standard_normal((300, 64)) * np.linspace(2.0, 0.1, 64)).astype(np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    drawn = gaussian_like(reference, 2000, seed=1)
    assert drawn.shape == (2000, 64) and drawn.dtype == np.float32
    assert np.allclose(np.linalg.norm(drawn, axis=1), 1.0, atol=1e-5)
    assert mean_pairwise_cosine(drawn) == pytest.approx(mean_pairwise_cosine(reference), abs=0.03)
    assert mean_pairwise_cosine(random_unit_vectors(2000, 64)) < 0.05  # what uniform vectors would look like
    assert len(np.unique(drawn.round(4), axis=0)) == 2000  # every vector is new
    assert np.array_equal(drawn, gaussian_like(reference, 2000, seed=1))


def test_gaussian_like_needs_two_reference_vectors():
    with pytest.raises(ValueError, match="at least two"):
        gaussian_like(np.ones((1, 4), dtype=np.float32), 3)


def test_mean_pairwise_cosine_excludes_each_vector_with_itself():
    assert mean_pairwise_cosine(np.eye(3, dtype=np.float32)) == pytest.approx(0.0)
    assert mean_pairwise_cosine(np.ones((4, 2), dtype=np.float32)) == pytest.approx(1.0)


def test_random_unit_vectors_are_deterministic_and_normalised():
    vectors = random_unit_vectors(10, 8, seed=2)
    assert vectors.shape == (10, 8) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, random_unit_vectors(10, 8, seed=2))


# Choosing efSearch and the HNSW threshold

def test_smallest_at_least_picks_the_cheapest_passing_setting():
    assert smallest_at_least({16: 0.8, 32: 0.95, 64: 0.99}, 0.95) == 32
    assert smallest_at_least({16: 0.8}, 0.95) is None


def test_linear_crossing_and_rounding_down():
    assert linear_crossing([10_000, 100_000], [2.0, 20.0], 25.0) == pytest.approx(125_000)
    assert linear_crossing([10_000, 100_000], [5.0, 5.0], 25.0) is None
    assert [round_down_one_digit(v) for v in (0.5, 7, 125_000, 260_000, 999_999)] == [0, 7, 100_000, 200_000, 900_000]


def test_hnsw_threshold_from_exact_search_times():
    scale = {"sizes": [{"chunks": 10_000, "flat_search": {"p95_ms": 2.5}}, {"chunks": 100_000, "flat_search": {"p95_ms": 25.0}}]}
    result = hnsw_threshold(scale, budget_ms=25.0)
    assert result["crossing_chunks"] == pytest.approx(100_000)
    assert result["recommended_chunks"] == 100_000
    one = hnsw_threshold({"sizes": [{"chunks": 2_000, "flat_search": {"p95_ms": 0.5}}]}, budget_ms=25.0)
    assert one["recommended_chunks"] == 100_000  # 2000 * 25 / 0.5 = 100k


def _results(answer_p95=80.0, errors=0, rss=400.0, overhead=0.05, noop=0.1, hnsw_p95=120.0, recall=0.97):
    summary = lambda p95: {"n": 10, "mean_ms": p95 / 2, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95}  # noqa: E731
    return {
        "machine": {"cpus": 2},
        "queries": {"answer": summary(answer_p95), "retrieval": summary(40.0), "query_embedding": summary(30.0),
                    "embeddings_per_answer": 1.2, "embedding_share_of_answer": 0.6},
        "ingest": {"noop": {"seconds": noop}, "overhead": overhead, "overhead_wall": overhead,
                   "cold": {"seconds": 100.0, "timings": {"embed": 95.0}, "load": 2.0}, "raw": {"load": 2.0}},
        "serve": {"clients": 16, "errors": errors, "requests": 100, "throughput_rps": 10.0,
                  "latency": summary(900.0), "peak_rss_mb": rss},
        "cold": {"peak_rss_mb": 200.0},
        "scale": {"sizes": [{"chunks": 100_000, "hybrid_hnsw": summary(hnsw_p95), "hybrid_exact": summary(140.0),
                             "ef_sweep": {64: {"recall_at_10": recall}}, "chosen_ef": 64,
                             "bm25_scores": summary(50.0), "flat_search": summary(30.0),
                             "index_only_exact": summary(100.0), "index_only_hnsw": summary(60.0)}]},
    }


def test_check_targets_marks_met_and_missed():
    met = check_targets(_results())
    assert len(met) == 6 and all(row.met for row in met)
    missed = check_targets(_results(answer_p95=130.0, errors=2, rss=2000.0, overhead=0.3, noop=5.0, recall=0.9))
    assert [row.met for row in missed] == [False, False, False, False, False, False]
    assert all(row.bound for row in missed)  # a miss always says what bounds it


def test_settings_environment_round_trips_through_load_settings():
    original = Settings().replace(top_k=7, store_dir="/tmp/x-store", dense_weight=0.25)
    rebuilt = load_settings(environ=settings_environment(original))
    assert rebuilt == original


@pytest.mark.parametrize("module", [eval.bench_stats, eval.bench_targets])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
