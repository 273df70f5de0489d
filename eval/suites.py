"""The evaluation suites: a corpus folder, its Q&A files and the index built for it.

- ``bundled``: the five documents in ``corpus/`` with ``eval/qa.jsonl`` and the near-miss set.
- ``devcorpus``: the 14 documents of ``../shared/devcorpus/`` (laws, 办法, notices, replies, plans
  as PDF/DOCX/HTML/GBK) with their 98 questions and our near-miss set.
- ``cmrc``: the public CMRC 2018 trial set asked open-book: each Wikipedia paragraph is a document
  of one corpus and every question is asked over all of them (general Chinese, not 公文).
- ``cmrc_negative``: the same corpus and index, each question asked over every paragraph except its
  own (``exclude_docs``), so the nearest passages are same-topic ones that lack the answer; a question
  whose gold answer occurs in another paragraph is dropped. Right behaviour: refuse (a public stand-in
  for RGB's negative-rejection test). The library's term statistics still include the excluded
  paragraph, so a check that asks "does the library use this word at all" sees it.

Each suite's index lives in its own git-ignored store under ``.cache/suites/`` so that suites never
overwrite each other's (or the app's) index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from eval.qa import QACase, load_qa_set
from eval.textmatch import normalize_for_match
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
    folder, corpus, qa = _cmrc_files(paragraphs)
    return Suite("cmrc", corpus, (qa,), folder / "store")


def cmrc_negative_suite(paragraphs: int = CMRC_DEFAULT_PARAGRAPHS) -> Suite:
    """The ``cmrc`` corpus and index with every question asked without its own paragraph (written once)."""
    folder, corpus, _ = _cmrc_files(paragraphs)
    qa = folder / "negative.jsonl"
    if not qa.is_file():
        rows = cmrc_negative_rows(_read_cmrc(), paragraphs)
        qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return Suite("cmrc_negative", corpus, (qa,), folder / "store")


def _read_cmrc() -> dict:
    if not CMRC_FILE.is_file():
        raise SuiteError(f"{CMRC_FILE} not found; the cmrc suites need ../shared/datasets/cmrc2018-trial")
    return json.loads(CMRC_FILE.read_text(encoding="utf-8"))


def _cmrc_files(paragraphs: int) -> tuple[Path, Path, Path]:
    """The CMRC subset's folder, corpus folder and Q&A file, written on first use."""
    folder = SUITE_CACHE / f"cmrc-{paragraphs or 'all'}"
    corpus, qa = folder / "corpus", folder / "qa.jsonl"
    if not qa.is_file():
        write_cmrc_suite(_read_cmrc(), corpus, qa, paragraphs)
    return folder, corpus, qa


@dataclass(frozen=True)
class CmrcParagraph:
    """One SQuAD-format paragraph of the subset: its corpus file name, the file's text and its questions."""

    name: str
    text: str
    context: str
    qas: tuple[dict, ...]


def cmrc_paragraphs(data: dict, paragraphs: int) -> Iterator[CmrcParagraph]:
    """The first ``paragraphs`` paragraphs of a SQuAD-format dict (0 = all), each as its corpus file
    (``<id>.txt``: the article title, then the text)."""
    written = 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if paragraphs and written >= paragraphs:
                return
            title = article.get("title") or paragraph["context"][:20]
            yield CmrcParagraph(f"{paragraph['id']}.txt", f"{title}\n\n{paragraph['context']}\n",
                                paragraph["context"], tuple(paragraph["qas"]))
            written += 1


def gold_answers(qa_row: dict) -> tuple[str, ...]:
    """A question's distinct non-empty gold answer strings (empty: the row has none, or no question)."""
    if not qa_row["question"].strip():
        return ()  # the trial set has a few rows with no question or no answer text
    return tuple(dict.fromkeys(a["text"].strip() for a in qa_row["answers"] if a["text"].strip()))


def write_cmrc_suite(data: dict, corpus: Path, qa: Path, paragraphs: int) -> None:
    """Write each SQuAD-format paragraph as ``<id>.txt`` (its article title, then the text) and its
    questions as Q&A rows (evidence: the sentence that holds the first gold answer)."""
    corpus.mkdir(parents=True, exist_ok=True)
    rows = []
    for paragraph in cmrc_paragraphs(data, paragraphs):
        (corpus / paragraph.name).write_text(paragraph.text, encoding="utf-8")
        for qa_row in paragraph.qas:
            answers = gold_answers(qa_row)
            if answers:
                rows.append({
                    "id": qa_row["id"], "question": qa_row["question"], "answers": list(answers), "answer_mode": "any",
                    "evidence": [evidence_sentence(paragraph.context, answers[0])], "docs": [paragraph.name], "type": "fact",
                })
    qa.parent.mkdir(parents=True, exist_ok=True)
    qa.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def cmrc_negative_rows(data: dict, paragraphs: int) -> list[dict]:
    """Every question of the subset as an unanswerable row that excludes its own paragraph, unless one
    of its gold answers occurs (normalised) in another paragraph of the subset: then it may be answerable.

    Example:
        >>> data = {"data": [{"title": "甲", "paragraphs": [{"id": "P1", "context": "甲生于1900年。", "qas": [
        ...     {"id": "Q1", "question": "甲生于哪年？", "answers": [{"text": "1900年"}]}]}]},
        ...     {"title": "乙", "paragraphs": [{"id": "P2", "context": "乙生于1901年。", "qas": []}]}]}
        >>> [(r["id"], r["type"], r["exclude_docs"]) for r in cmrc_negative_rows(data, 0)]
        [('Q1', 'unanswerable', ['P1.txt'])]
    """
    subset = list(cmrc_paragraphs(data, paragraphs))
    texts = {p.name: normalize_for_match(p.text) for p in subset}
    rows = []
    for paragraph in subset:
        others = [text for name, text in texts.items() if name != paragraph.name]
        for qa_row in paragraph.qas:
            answers = gold_answers(qa_row)
            if not answers or any(normalize_for_match(a) in text for a in answers for text in others):
                continue
            rows.append({
                "id": qa_row["id"], "question": qa_row["question"], "answers": [], "answer_mode": "any",
                "evidence": [], "docs": [], "type": "unanswerable", "exclude_docs": [paragraph.name],
                "note": "CMRC gold answer (in the excluded paragraph): " + " | ".join(answers),
            })
    return rows


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
    """The suites called ``names`` (``bundled``, ``devcorpus``, ``cmrc``, ``cmrc_negative``).

    Raises:
        SuiteError: an unknown name or a suite whose files are missing.
    """
    makers = {"bundled": bundled_suite, "devcorpus": devcorpus_suite, "cmrc": lambda: cmrc_suite(cmrc_paragraphs),
              "cmrc_negative": lambda: cmrc_negative_suite(cmrc_paragraphs)}
    unknown = [n for n in names if n not in makers]
    if unknown:
        raise SuiteError(f"unknown suite(s) {unknown}; choose from {sorted(makers)}")
    return [makers[name]() for name in names]
