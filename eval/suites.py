"""The evaluation suites: a corpus folder, its Q&A files and the index built for it.

- ``bundled``: the five documents in ``corpus/`` with ``eval/qa.jsonl`` and the near-miss set.
- ``devcorpus``: the 14 documents of ``../shared/devcorpus/`` (laws, 办法, notices, replies, plans
  as PDF/DOCX/HTML/GBK) with their 98 questions and our near-miss set.
- ``cmrc``: the public CMRC 2018 trial set asked open-book: each Wikipedia paragraph is a document
  of one corpus and every question is asked over all of them (general Chinese, not 公文).

Each suite's index lives in its own git-ignored store under ``.cache/suites/`` so that suites never
overwrite each other's (or the app's) index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from eval.qa import QACase, load_qa_set
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SUITE_CACHE = ROOT / ".cache" / "suites"
CMRC_FILE = SHARED / "datasets" / "cmrc2018-trial" / "cmrc2018_trial.json"
CMRC_DEFAULT_PARAGRAPHS = 120  # the CI subset: ~2 minutes to embed on two cores; 0 = all 848
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


class SuiteError(ValueError):
    """A suite cannot be prepared (its files are missing); the message says which and what to do."""


@dataclass(frozen=True)
class Suite:
    """One corpus with its questions."""

    name: str
    corpus_dir: Path
    qa_files: tuple[Path, ...]
    store_dir: Path

    def settings(self, base: Settings) -> Settings:
        """``base`` pointed at this suite's corpus and index."""
        return base.replace(corpus_dir=self.corpus_dir, store_dir=self.store_dir)

    def cases(self) -> list[QACase]:
        """Every question of every Q&A file of the suite, in file order."""
        return [case for path in self.qa_files for case in load_qa_set(path)]


def bundled_suite() -> Suite:
    return Suite("bundled", ROOT / "corpus", (ROOT / "eval" / "qa.jsonl", ROOT / "eval" / "qa_nearmiss.jsonl"),
                 SUITE_CACHE / "bundled" / "store")


def devcorpus_suite() -> Suite:
    devcorpus = SHARED / "devcorpus"
    if not (devcorpus / "qa.jsonl").is_file():
        raise SuiteError(f"{devcorpus}/qa.jsonl not found; the devcorpus suite needs ../shared/devcorpus beside the repository")
    return Suite("devcorpus", devcorpus / "docs", (devcorpus / "qa.jsonl", ROOT / "eval" / "dev_nearmiss.jsonl"),
                 SUITE_CACHE / "devcorpus" / "store")


def cmrc_suite(paragraphs: int = CMRC_DEFAULT_PARAGRAPHS) -> Suite:
    """The CMRC trial set as a corpus (one text file per paragraph) and a Q&A file, written once."""
    if not CMRC_FILE.is_file():
        raise SuiteError(f"{CMRC_FILE} not found; the cmrc suite needs ../shared/datasets/cmrc2018-trial")
    folder = SUITE_CACHE / f"cmrc-{paragraphs or 'all'}"
    corpus, qa = folder / "corpus", folder / "qa.jsonl"
    if not qa.is_file():
        write_cmrc_suite(json.loads(CMRC_FILE.read_text(encoding="utf-8")), corpus, qa, paragraphs)
    return Suite("cmrc", corpus, (qa,), folder / "store")


def write_cmrc_suite(data: dict, corpus: Path, qa: Path, paragraphs: int) -> None:
    """Write each SQuAD-format paragraph as ``<id>.txt`` (its article title, then the text) and its
    questions as Q&A rows (evidence: the sentence that holds the first gold answer)."""
    corpus.mkdir(parents=True, exist_ok=True)
    rows, written = [], 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if paragraphs and written >= paragraphs:
                break
            name = f"{paragraph['id']}.txt"
            title = article.get("title") or paragraph["context"][:20]
            (corpus / name).write_text(f"{title}\n\n{paragraph['context']}\n", encoding="utf-8")
            written += 1
            for qa_row in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa_row["answers"] if a["text"].strip()))
                if not answers or not qa_row["question"].strip():
                    continue  # the trial set has a few rows with no question or no answer text
                rows.append({
                    "id": qa_row["id"], "question": qa_row["question"], "answers": list(answers), "answer_mode": "any",
                    "evidence": [evidence_sentence(paragraph["context"], answers[0])], "docs": [name], "type": "fact",
                })
    qa.parent.mkdir(parents=True, exist_ok=True)
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def evidence_sentence(context: str, answer: str, limit: int = 60) -> str:
    """The sentence of ``context`` holding ``answer``, cut to ``limit`` characters around it.

    Example:
        >>> evidence_sentence("甲是乙。生命数耗完即算为踢爆。丙。", "踢爆")
        '生命数耗完即算为踢爆。'
    """
    for sentence in _SENTENCE_END.split(context):
        at = sentence.find(answer)
        if at >= 0:
            start = max(0, min(at - (limit - len(answer)) // 2, len(sentence) - limit))
            return sentence[start:start + limit].strip() or answer
    return answer


def named_suites(names: Sequence[str], cmrc_paragraphs: int = CMRC_DEFAULT_PARAGRAPHS) -> list[Suite]:
    """The suites called ``names`` (``bundled``, ``devcorpus``, ``cmrc``).

    Raises:
        SuiteError: an unknown name or a suite whose files are missing.
    """
    makers = {"bundled": bundled_suite, "devcorpus": devcorpus_suite, "cmrc": lambda: cmrc_suite(cmrc_paragraphs)}
    unknown = [n for n in names if n not in makers]
    if unknown:
        raise SuiteError(f"unknown suite(s) {unknown}; choose from {sorted(makers)}")
    return [makers[name]() for name in names]
