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


FISH = ("黄鳍紫鱼\n\n黄鳍紫鱼，又称黄鳍姬鲷，为辐鳍鱼纲鲈形目笛鲷科的其中一个种。"
        "本鱼体型、体色和丝鳍紫鱼非常类似。体呈淡蓝红色，头部有网状斑点。体长可达50公分。"
        "黄鳍紫鱼于1628年首次被记载，盛产期在每年冬季。\n")


def test_the_sentence_stating_the_asked_attribute_beats_the_one_naming_the_subject(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"fish.txt": FISH})
    answer = answerer.ask("黄鳍紫鱼体长多少？")
    assert not answer.abstained and "50公分" in answer.text
    assert "attribute_gap" not in dict(answer.scoring.contributions)  # 0: the document's best statement of 体长


def test_a_year_or_a_season_answers_when_and_a_refusal_needs_no_time_at_all(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"fish.txt": FISH})
    assert "1628年" in answerer.ask("黄鳍紫鱼什么时候首次被记载？").text
    assert "冬季" in answerer.ask("黄鳍紫鱼的盛产期是什么时候？").text


def test_a_definition_question_is_answered_by_the_sentence_that_defines_the_subject(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"prism.txt": (
        "棱柱\n\n假设一个棱柱的底面面积为S，高为h，那么这个棱柱的体积为Sh。"
        "棱柱是几何学中的一种常见的三维多面体。侧棱不垂直于底面的棱柱叫做斜棱柱。\n")})
    answer = answerer.ask("什么是棱柱？")
    assert "三维多面体" in answer.text


@pytest.mark.parametrize("question, subject", [
    ("什么是“乡里制”？", "乡里制"), ("概念验证平台是指什么？", "概念验证平台"), ("MIT OpenCourseWare指什么？", "MIT OpenCourseWare"),
    ("纽西兰鸡毛松的用途是什么？", ""), ("专家库的管理单位是什么？", ""),
])
def test_the_subject_whose_definition_is_asked(question, subject):
    assert defined_subject(question) == subject


def test_a_definition_opens_with_its_subject():
    assert defines("概念验证平台是有组织开展概念验证活动的载体", "概念验证平台")
    assert not defines("新建一批概念验证平台，支持金额最高可至3000万元", "概念验证平台")


def test_a_two_character_term_is_half_there_per_character_and_title_terms_are_left_out():
    assert attribute_terms({"黄鳍": 1.0, "紫鱼": 1.0, "颜色": 2.0}, "黄鳍紫鱼") == {"颜色": 2.0}
    assert character_coverage("体呈淡蓝红色", {"颜色": 2.0}) == 0.5
    assert character_coverage("头部有网状斑点", {"颜色": 2.0}) == 0.0


@pytest.mark.parametrize("text, is_time", [
    ("在永禄5年（1562年）元服", True), ("正德五年起义", True), ("花期为5-8月", True), ("生殖季在冬季", True),
    ("19世纪末传入", True), ("5年内完成", False), ("三年来累计投入", False), ("占地约两平方公里", False),
])
def test_a_time_that_answers_when(text, is_time):
    assert states_time(text) is is_time


def test_a_definition_of_something_no_passage_names_is_refused_saying_so(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, {"prism.txt": (
        "棱柱\n\n棱柱是几何学中的一种常见的三维多面体。侧棱不垂直于底面的棱柱叫做斜棱柱。\n")})
    refused = answerer.ask("什么是正棱柱？")  # 棱柱 is there, 正棱柱 nowhere
    assert refused.abstained and "“正棱柱”的定义" in refused.text
    assert not answerer.ask("什么是斜棱柱？").abstained
