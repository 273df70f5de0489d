"""Bad-file fuzz: write 500+ bad files beside good ones, load each with limits, then ingest them all.

Bounded: every file gets at most ``--timeout`` seconds and ``--memory-mb`` MB in a forked child;
the script stops after the last file. Run from the repository root::

    .venv/bin/python -m scripts.reliability.fuzz_bad_files --count 520 --slow --huge --out runs/reliability/fuzz

Phase 1 loads every file on its own (``scripts.reliability.harness``) and records the outcome,
seconds and peak memory. Phase 2 runs a real ``build_index`` (fake embedder, the default per-file
limits of ``settings``) over the whole corpus, good and bad files together, and checks that every
good file is indexed and answerable and that every failed file is named in the report. Writes
``results.jsonl`` and ``summary.json`` to ``--out`` and prints a Markdown table. Exit code 1 when
any file crashed, hung, died or was not named, or the ingest failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.reliability.badfiles import write_bad_files  # noqa: E402
from scripts.reliability.harness import BAD_OUTCOMES, OUTCOMES, load_with_limits  # noqa: E402

GOOD_FILES = {  # facts that no bad file mentions
    "good-ouhai.txt": ("瓯海区科创走廊建设方案\n\n一、建设目标\n瓯海区科创走廊年度投资额为七十七亿元。\n",
                       "瓯海区科创走廊年度投资额是多少？", "七十七亿元"),
    "good-yueqing.txt": ("乐清市智能电气产业规划\n\n一、发展目标\n到2025年，乐清智能电气产业集群产值达到3200亿元。\n",
                         "乐清智能电气产业集群产值达到多少？", "3200亿元"),
}


def ingest_everything(corpus: Path, store: Path) -> dict:
    """Phase 2: one build_index over the whole corpus; check good files and named failures."""
    from answer.engine import Answerer
    from index.build import build_index
    from index.search import Retriever, open_index
    from settings import Settings
    from tests.fakes import FakeEmbedder

    settings = Settings(corpus_dir=corpus, store_dir=store, embedder="fake", chunk_size=300, chunk_overlap=60)
    embedder = FakeEmbedder()
    started = time.monotonic()
    report = build_index(settings, embedder)  # an exception here is the finding: ingest_in_child reports it
    seconds = time.monotonic() - started
    answerer = Answerer(Retriever(open_index(settings, embedder.model_id), embedder, settings), settings)
    answered = {name: expected in answerer.ask(question).text for name, (_, question, expected) in GOOD_FILES.items()}
    failed_text = [str(e) for e in report.failed]
    return {
        "seconds": round(seconds, 1),
        "files": report.files,
        "indexed_documents": len(answerer.documents),
        "chunks": report.chunks,
        "failed": len(report.failed),
        "good_files_indexed": all(name in answerer.documents for name in GOOD_FILES),
        "good_files_answered": answered,
        "failures_all_named": all(any(msg.startswith(name + ":") for name in (p.name for p in corpus.iterdir()))
                                  for msg in failed_text),
    }


def ingest_in_child(corpus: Path, store: Path, memory_mb: int, timeout_s: float) -> dict:
    """Run :func:`ingest_everything` in a forked child capped at ``memory_mb``; report how it ended."""
    import os
    import resource
    import select
    import signal

    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 0
        try:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            result = ingest_everything(corpus, store)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = {"ingest_failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
            code = 1
        os.write(write_fd, json.dumps(result, ensure_ascii=False).encode("utf-8"))
        os.close(write_fd)
        os._exit(code)
    os.close(write_fd)
    chunks = []
    while time.monotonic() - started < timeout_s:
        ready, _, _ = select.select([read_fd], [], [], 1.0)
        if ready:
            data = os.read(read_fd, 1 << 16)
            if not data:
                break
            chunks.append(data)
    else:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    os.close(read_fd)
    result = json.loads(b"".join(chunks)) if chunks else {
        "ingest_failed": f"the ingest process ended without a result ({'killed by signal ' + str(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else 'exit ' + str(os.waitstatus_to_exitcode(status))})"}
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    result["wall_seconds"] = round(time.monotonic() - started)
    return result


def summarize(outcomes: list[dict]) -> dict:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    worst: dict[str, dict] = {}
    for row in outcomes:
        by_kind[row["kind"]][row["outcome"]] += 1
        w = worst.setdefault(row["kind"], {"max_seconds": 0.0, "max_peak_rss_mb": 0.0, "example": ""})
        w["max_seconds"] = max(w["max_seconds"], round(row["seconds"], 2))
        w["max_peak_rss_mb"] = max(w["max_peak_rss_mb"], round(row["peak_rss_mb"]))
        if not w["example"] or row["outcome"] in BAD_OUTCOMES:
            w["example"] = row["message"].split("\n")[0][:160]
    return {
        "files": len(outcomes),
        "outcomes": dict(Counter(row["outcome"] for row in outcomes)),
        "by_kind": {k: {"tried": sum(c.values()), **dict(c), **worst[k]} for k, c in sorted(by_kind.items())},
    }


def markdown_table(summary: dict) -> str:
    lines = ["| kind | tried | " + " | ".join(OUTCOMES) + " | max s | max MB | example message |",
             "|---|---|" + "---|" * len(OUTCOMES) + "---|---|---|"]
    for kind, row in summary["by_kind"].items():
        cells = " | ".join(str(row.get(o, 0) or "") for o in OUTCOMES)
        example = row["example"].split(": ", 1)[-1].replace("|", "\\|")[:90]
        lines.append(f"| {kind} | {row['tried']} | {cells} | {row['max_seconds']} | {row['max_peak_rss_mb']} | {example} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=520, help="bad files cycling through the fast kinds")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--slow", action="store_true", help="also one of each algorithmic-complexity attack")
    parser.add_argument("--huge", action="store_true", help="also one of each huge kind (50 MB text, bombs)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per file")
    parser.add_argument("--memory-mb", type=int, default=4096, help="memory per file, above the forked parent")
    parser.add_argument("--ingest-memory-mb", type=int, default=12288, help="memory for the phase-2 ingest")
    parser.add_argument("--out", default="runs/reliability/fuzz")
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fuzz-"))
    corpus = work / "corpus"
    try:
        started = time.monotonic()
        bad = write_bad_files(corpus, args.count, seed=args.seed, huge=args.huge, slow=args.slow)
        for name, (text, _, _) in GOOD_FILES.items():
            (corpus / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(bad)} bad files in {time.monotonic() - started:.0f} s", flush=True)
        outcomes = []
        with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
            for number, item in enumerate(bad, start=1):
                result = load_with_limits(item.path, corpus, item.kind, args.timeout, args.memory_mb).as_json()
                outcomes.append(result)
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
                if result["outcome"] in BAD_OUTCOMES or result["seconds"] > 5:
                    print(f"[{number}/{len(bad)}] {item.kind}: {result['outcome']} in {result['seconds']:.1f} s "
                          f"({result['peak_rss_mb']:.0f} MB) {result['message'][:120]}", flush=True)
        summary = summarize(outcomes)
        summary["ingest"] = ingest_in_child(corpus, work / "store", args.ingest_memory_mb, 3600)
        summary["seconds"] = round(time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown_table(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "by_kind"}, ensure_ascii=False, indent=2))
    bad_count = sum(summary["outcomes"].get(o, 0) for o in BAD_OUTCOMES)
    ingest = summary["ingest"]
    ok = bad_count == 0 and not ingest.get("ingest_failed") and ingest["good_files_indexed"] \
        and all(ingest["good_files_answered"].values()) and ingest["failures_all_named"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
