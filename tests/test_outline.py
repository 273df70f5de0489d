"""Lists written as sibling headings are answered with every item, each cited to its passage."""

from __future__ import annotations

import pytest

from answer.engine import Answerer
from answer.extractive import Unit
from answer.outline import Enumeration, answers_with, heading_groups, item_label
from index.build import build_index
from index.search import Retriever, open_index
from index.types import Hit
from ingest.structure import find_headings
from ingest.types import Chunk
from settings import Settings

REPLY = """关于加强山区县高新区建设建议的答复函

您提出的建议收悉。现答复如下：
近年来，我局重点发展智能装备、生命健康、新能源三大产业，成效明显。
下一步，我局将从以下四个方面指导山区县创建高新区。
一、指导山区县加强新兴产业集群培育。深化链长制，推进产业链、供应链、创新链深度融合。
二、指导山区县加强关键核心技术攻坚。围绕产业链部署创新链，组建创新联合体。
三、指导山区县加强创新领军企业培育。实施创新型领军企业百家计划，培育科技小巨人。
四、指导山区县加强创新平台提质增效。实施创新平台分类管理，以绩效考核为抓手。
"""

PLAN = """温岭市新兴产业发展规划

一、重点领域
（一）推动两大新兴产业创新发展
1. 激光电子
围绕激光产品及应用、装备电子等方向，支持龙头企业做大做强。
2. 医疗健康
深入发展制药、医疗器械等产业，加强新药研发。
专栏1：八大攻坚行动
五年累计培育创新型领军企业50家以上，招引重大项目100个以上。

附件1

重点指标任务分解表

附件2

重大项目清单
"""


@pytest.fixture()
def answerer(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "reply.txt").write_text(REPLY, encoding="utf-8")
    (corpus / "plan.txt").write_text(PLAN, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, store_dir=tmp_path / "store", embedder="fake", chunk_size=120, chunk_overlap=20)
    build_index(settings, fake_embedder)
    return Answerer(Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings), settings)


def test_groups_split_children_by_kind():
    groups = heading_groups(find_headings(PLAN))
    titles = [[h.title for h in items] for _, items in groups]
    assert ["1. 激光电子", "2. 医疗健康"] in titles
    assert ["附件1", "附件2"] in titles
    assert ["一、重点领域"] in titles  # the 附件 items are not mixed into the 一、 items


def test_bare_annex_heading_is_labelled_with_its_name():
    headings = find_headings(PLAN)
    annex = next(h for h in headings if h.title == "附件1")
    assert item_label(PLAN, annex) == "附件1 重点指标任务分解表"


def test_heading_list_is_answered_with_every_item_cited(answerer):
    answer = answerer.ask("答复中提到下一步从哪几个方面指导山区县创建高新区？")
    assert not answer.abstained
    for item in ("新兴产业集群培育", "关键核心技术攻坚", "创新领军企业培育", "创新平台提质增效"):
        assert item in answer.text
    assert answer.citations and all(c.doc_id == "reply.txt" for c in answer.citations)
    cited = " ".join(c.quote for c in answer.citations)
    assert "一、指导山区县" in cited and "四、指导山区县" in cited
    shown_first = [h.chunk.text for h in answer.hits[: len(answer.citations)]]
    assert shown_first == [c.quote for c in answer.citations]  # the cited items lead the passages shown


def test_counted_list_under_a_heading(answerer):
    answer = answerer.ask("温岭规划里的两大新兴产业是哪两个？")
    assert "激光电子" in answer.text and "医疗健康" in answer.text


def test_a_listing_sentence_still_answers_when_the_count_fits_it(answerer):
    answer = answerer.ask("答复说近年来重点发展哪三大产业？")
    assert "智能装备、生命健康、新能源" in answer.text
    assert "一、指导山区县" not in answer.text


def test_a_figure_question_is_not_answered_with_headings(answerer):
    answer = answerer.ask("八大攻坚行动要求五年累计培育多少家创新型领军企业？")
    assert "50家" in answer.text
    assert not answer.text.startswith("专栏1")


def test_annexes_asked_for_by_name_are_listed(answerer):
    answer = answerer.ask("温岭这份规划后附了哪几个附件？")
    assert "重点指标任务分解表" in answer.text and "重大项目清单" in answer.text


def test_the_documents_own_outline_does_not_answer_a_counted_list(answerer):
    """'哪五项' matches the count of no heading group here, and 一、 headings share no words with it."""
    answer = answerer.ask("温岭规划里的五大攻坚行动是哪五项？")
    assert "一、重点领域" not in answer.text


def test_annexes_asked_for_in_english_are_listed(answerer):
    answer = answerer.ask("Which annexes are attached to the Wenling plan?")
    assert "重点指标任务分解表" in answer.text and "重大项目清单" in answer.text


def test_a_sentence_inside_a_section_that_names_the_items_asked_beats_the_section_titles():
    text = "一、加强组织领导\n二、下放管理权限\n请甲部、乙部、丙部等部门在年底前完成。\n三、加强督查指导\n"
    headings = find_headings(text)
    hit = Hit(Chunk("c", "d", text, 0, len(text)), 1.0, 1, "bm25")
    start = text.index("请")
    naming = Unit(hit, start, text.index("\n", start), 1.8, 0.8)
    outline = Enumeration("d", "", tuple(headings), tuple(h.title for h in headings), 1.1, 0, len(text))
    assert not answers_with([naming], outline)
    assert answers_with([Unit(hit, 0, 7, 1.0, 0.3)], outline)  # a sentence that lists nothing is no rival
