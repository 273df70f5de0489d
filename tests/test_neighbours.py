"""A neighbouring measure stated in place of the one asked (answer/neighbours.py, #17)."""

from answer.answerability import question_words
from answer.neighbours import Neighbour, neighbouring_measure, other_row_subject


def neighbour(question: str, unit: str, context: str = ""):
    return neighbouring_measure(question, unit, context, question_words())


def test_a_row_of_another_indicator_is_a_neighbour():
    found = neighbour("规划对火灾死亡人数设定了什么目标？", "主要指标｜生产安全事故死亡人数：预期值 下降15%")
    assert found == Neighbour("火灾死亡人数", "安全事故死亡人数")


def test_another_grade_of_the_same_measure_is_a_neighbour():
    found = neighbour("较大生产安全事故起数下降多少？", "主要指标｜重特大生产安全事故起数：下降20%")
    assert found is not None and found.stated.startswith("重特大")


def test_a_word_that_ends_with_the_head_under_another_modifier_is_a_neighbour():
    assert neighbour("全市营业收入是多少亿元？", "全市检验检测机构全年业务收入468.4亿元") == Neighbour("营业收入", "业务收入")


def test_the_asked_modifier_in_the_unit_or_its_title_is_no_neighbour():
    assert neighbour("火灾死亡人数目标是多少？", "火灾死亡人数下降10%，生产安全事故死亡人数下降15%") is None
    assert neighbour("火灾死亡人数目标是多少？", "死亡人数下降10%", context="消防规划 火灾防控指标") is None


def test_abbreviations_paraphrases_places_and_actions_are_no_neighbours():
    assert neighbour("规上工业增加值增长多少？", "规模以上工业增加值增长8%") is None  # an abbreviation
    assert neighbour("研发投入强度达到多少？", "全社会研发经费投入强度达到3%") is None  # listed in paraphrases.tsv
    assert neighbour("宁波高新技术企业达到多少家？", "湖州高新技术企业达到900家") is None  # places: the place checks' job
    assert neighbour("区级概念验证平台支持多少万元？", "建设概念验证平台50家") is None  # 建设 acts on the head


def test_the_same_thing_measured_another_way_is_a_neighbour():
    found = neighbour("发明专利授权量的目标是多少件？", "主要指标｜每万人高价值发明专利拥有量（件）：2025年目标 9.7件")
    assert found == Neighbour("发明专利授权量", "发明专利拥有量")
    assert neighbour("发明专利拥有量的目标是多少件？", "每万人高价值发明专利拥有量（件）：9.7件") is None


def test_a_row_about_another_thing_of_the_asked_kind_is_a_neighbour():
    row = "重大项目｜宁波大学海洋研究院：建设内容和规模 用地面积约40亩"
    asking = frozenset({"多少", "什么"})
    assert other_row_subject("甬江科创（宁波）研究院的用地面积是多少亩？", row, asking) == Neighbour(
        "甬江科创（宁波）研究院", "宁波大学海洋研究院")
    assert other_row_subject("宁波大学海洋研究院的用地面积是多少亩？", row, asking) is None  # the row's own label
    assert other_row_subject("宁大海洋研究院用地多少亩？", row, asking) is None  # an abbreviation of it
    assert other_row_subject("海洋研究院用地多少亩？", row, asking) is None  # a shorter name the row writes
    assert other_row_subject("用地面积是多少亩？", "项目｜宁波大学海洋研究院：40亩", asking) is None  # no name asked
