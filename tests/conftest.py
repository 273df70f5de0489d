"""Shared fixtures: small corpora written into tmp_path, settings pointing at them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from settings import Settings  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402

REAL_CORPUS = ROOT / "corpus"

WENZHOU_PLAN = """温州市科技创新规划

一、发展目标
到2025年，高能级创新平台累计数达到30家，科技型中小企业数量达到16000家。
高新技术企业数量达到4400家。

二、重点任务
（一）建设创新平台
1.建设瓯江实验室。力争成为国家实验室分部。
2.建设科创走廊。打造环大罗山科创走廊。
"""

WENLING_PLAN = """温岭市科技创新发展规划

一、发展目标
到2025年，温岭科技型中小企业数达1800家，高新技术企业数达560家。

表1：温岭市规划目标
指标名称\t单位\t2020年\t2025年
省级众创空间\t家\t4\t8
创新飞地\t家\t4\t8
"""


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wenzhou.txt").write_text(WENZHOU_PLAN, encoding="utf-8")
    (corpus / "wenling.txt").write_text(WENLING_PLAN, encoding="utf-8")
    return corpus


@pytest.fixture()
def settings(tmp_path: Path, small_corpus: Path) -> Settings:
    return Settings(corpus_dir=small_corpus, store_dir=tmp_path / "store", embedder="fake", chunk_size=120, chunk_overlap=20)


@pytest.fixture()
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    """A copy of the real corpus that a test may change."""
    target = tmp_path / "seed-corpus"
    shutil.copytree(REAL_CORPUS, target)
    return target
