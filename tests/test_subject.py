"""What a question asks about a document's subject: the attribute sentence over the one naming the
subject, definitions, and times that answer 什么时候."""

from __future__ import annotations

import pytest

from answer.engine import Answerer
from answer.question import defined_subject
from answer.subject import attribute_terms, character_coverage, defines
from answer.extractive import states_time
from index.build import build_index
from index.search import Retriever, open_index


def answerer_with(settings, fake_embedder, files: dict[str, str]) -> Answerer:
    for name, text in files.items():
        (settings.corpus_dir / name).write_text(text, encoding="utf-8")
    build_index(settings, fake_embedder)
    return Answerer(Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings), settings)


FISH = ("蓝斑石鲈\n\n蓝斑石鲈，又称蓝点石鲈，为鲈形目石鲈科的一种近海鱼类。"
        "本鱼体型、体色和黄斑石鲈非常类似。通体呈暗绿色，背部有蓝色斑点。身长可达30厘米。"
        "蓝斑石鲈于1583年首次被记载，盛产期在每年秋季。\n")


def test_the_sentence_stating_the_asked_attribute_beats_the_one_naming_the_subject(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"fish.txt": FISH})
    answer = answerer.ask("蓝斑石鲈身长多少？")
    assert not answer.abstained and "30厘米" in answer.text
    assert "attribute_gap" not in dict(answer.scoring.contributions)  # 0: the document's best statement of 身长


def test_a_year_or_a_season_answers_when_and_a_refusal_needs_no_time_at_all(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"fish.txt": FISH})
    assert "1583年" in answerer.ask("蓝斑石鲈什么时候首次被记载？").text
    assert "秋季" in answerer.ask("蓝斑石鲈的盛产期是什么时候？").text


def test_a_definition_question_is_answered_by_the_sentence_that_defines_the_subject(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"frustum.txt": (
        "圆台\n\n若一个圆台的上底半径为r、下底半径为R，那么这个圆台的侧面积可由母线求出。"
        "圆台是用平行于底面的平面截圆锥所得的几何体。轴截面为等腰梯形的圆台叫做正圆台。\n")})
    answer = answerer.ask("什么是圆台？")
    assert "截圆锥所得的几何体" in answer.text


@pytest.mark.parametrize("question, subject", [
    ("什么是“里坊制”？", "里坊制"), ("联合攻关体是指什么？", "联合攻关体"), ("Open Lab Network指什么？", "Open Lab Network"),
    ("湖州“一廊两区”分别指什么？", "一廊两区"), ("蓝斑石鲈的用途是什么？", ""), ("专家库的管理单位是什么？", ""),
])
def test_the_subject_whose_definition_is_asked(question, subject):
    assert defined_subject(question) == subject


def test_a_definition_opens_with_its_subject():
    assert defines("联合攻关体是由企业牵头组建的创新组织", "联合攻关体")
    assert not defines("组建一批联合攻关体，每个最高支持500万元", "联合攻关体")


def test_a_two_character_term_is_half_there_per_character_and_title_terms_are_left_out():
    assert attribute_terms({"蓝斑": 1.0, "石鲈": 1.0, "颜色": 2.0}, "蓝斑石鲈") == {"颜色": 2.0}
    assert character_coverage("通体呈暗绿色", {"颜色": 2.0}) == 0.5
    assert character_coverage("背部有蓝斑", {"颜色": 2.0}) == 0.0


@pytest.mark.parametrize("text, is_time", [
    ("于宽永3年（1626年）建成", True), ("嘉靖五年重修", True), ("盛产期为6-9月", True), ("多在秋季迁徙", True),
    ("19世纪末传入", True), ("5年内完成", False), ("三年来累计投入", False), ("占地约两平方公里", False),
])
def test_a_time_that_answers_when(text, is_time):
    assert states_time(text) is is_time


def test_a_definition_of_something_no_passage_names_is_refused_saying_so(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"frustum.txt": (
        "圆台\n\n圆台是用平行于底面的平面截圆锥所得的几何体。轴截面为等腰梯形的圆台叫做正圆台。\n")})
    refused = answerer.ask("什么是斜圆台？")  # 圆台 is there, 斜圆台 nowhere
    assert refused.abstained and "“斜圆台”的定义" in refused.text
    assert not answerer.ask("什么是正圆台？").abstained
