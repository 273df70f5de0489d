"""Refusal rules that read the library and the question (answer/answerability.py, #17)."""

from answer.answerability import missing_place_document, states_new_figure
from ingest.types import Document

LIBRARY = {
    "plan": Document("plan", "plan.txt", "宁波市科技创新“十四五”规划", "宁波市人民政府\n一、发展基础", "0"),
    "reply": Document("reply", "reply.txt", "关于市十六届人大一次会议第412号建议的答复", "张三代表：\n您提出的建议收悉。", "0",
                      meta={"发文机关": "湖州市科学技术局"}),
}


def test_a_plan_of_a_place_the_library_has_no_document_of_is_missing():
    assert missing_place_document("嘉兴市“十四五”科技创新规划的主要目标是什么？", LIBRARY) == "嘉兴市“十四五”科技创新规划"
    assert missing_place_document("北京市应急体系规划提出了哪些指标？", LIBRARY) == "北京市应急体系规划"


def test_a_place_whose_document_is_in_the_library_by_title_or_issuer_is_not_missing():
    assert missing_place_document("宁波市科技创新规划的主要目标是什么？", LIBRARY) == ""
    assert missing_place_document("湖州市对412号建议的答复是什么？", LIBRARY) == ""  # the reply's issuer


def test_a_place_without_a_document_kind_or_a_titled_document_is_for_other_rules():
    assert missing_place_document("嘉兴有多少家高新技术企业？", LIBRARY) == ""
    assert missing_place_document("《嘉兴市科技创新规划》的目标是什么？", LIBRARY) == ""  # missing_named_document's


def test_the_questions_own_numbers_are_no_figure():
    assert not states_new_figure("国务院办公厅对第2996号建议的答复", "对第2996号建议的答复中有多少个网站？")
    assert states_new_figure("有31个网站开通了外文版", "对第2996号建议的答复中有多少个网站？")
    assert states_new_figure("共29960个网站", "对第2996号建议的答复中有多少个网站？")  # not the question's number
