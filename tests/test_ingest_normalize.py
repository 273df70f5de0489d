"""Character repairs (radical look-alikes, page footers), whitespace-heavy text accepted, and the
search form of Chinese numerals."""

import unicodedata

import pytest

from ingest.cleaning import clean_text
from ingest.loaders import decode_text
from ingest.normalize import fix_radicals, numeral_value, radical_map, remove_inline_page_footers, search_form
from ingest.types import CorpusError


@pytest.mark.parametrize(
    "extracted, standard",
    [("⼈⺠", "人民"), ("部⻔", "部门"), ("⻓期", "长期"), ("⻅证", "见证"), ("⻛险", "风险"), ("⻘年", "青年"),
     ("⻆⾊", "角色"), ("⼾籍", "户籍"), ("中⼼", "中心"), ("第⼆条", "第二条")],
)
def test_radical_look_alikes_become_standard_characters(extracted, standard):
    assert fix_radicals(extracted) == standard


def test_radical_repair_leaves_full_width_punctuation_and_digits_alone():
    text = "（一）第１条：到2025年，占比５０％。"
    assert fix_radicals(text) == text


def test_every_mapped_radical_is_in_a_radical_block_and_maps_to_an_ideograph():
    for code, char in radical_map().items():
        assert 0x2E80 <= code <= 0x2FDF
        assert unicodedata.category(char) == "Lo" and not 0x2E80 <= ord(char) <= 0x2FDF


def test_no_radical_survives_cleaning():
    raw = "第⼀章 总则\n第⼀条 为了深⼊实施创新驱动发展战略，⼈⺠政府有关部⻔负责\n— 2 —\n⼾籍管理。"
    cleaned = clean_text(raw)
    assert not any(0x2E80 <= ord(ch) <= 0x2FDF for ch in cleaned)
    assert "人民政府有关部门负责户籍管理。" in cleaned


def test_page_footer_in_mid_sentence_is_removed_and_the_sentence_joined():
    raw = "推动5款以上侵入式、— 2 —半侵入式脑机接口产品获批上市，形成具有国际影响力的产业集群。"
    assert clean_text(raw) == "推动5款以上侵入式、半侵入式脑机接口产品获批上市，形成具有国际影响力的产业集群。"


def test_page_footer_at_a_page_start_is_removed_and_the_broken_line_joined():
    raw = "第五条 本市建立科技创新中心建设议事协调机制，统筹协调科技\n— 2 —\n创新中心建设的重大问题和重要事项。"
    assert clean_text(raw) == "第五条 本市建立科技创新中心建设议事协调机制，统筹协调科技创新中心建设的重大问题和重要事项。"


@pytest.mark.parametrize("text", ["2021—2025年", "第1—3项", "增长—3—倍", "——2——"])
def test_dashes_that_are_not_footers_are_kept(text):
    assert remove_inline_page_footers(text) == text


def test_text_indented_with_full_width_and_no_break_spaces_is_accepted():
    text = ("\u3000\u3000第一条\u3000\u3000为了规范管理。\u00a0\u00a0\u00a0\n" * 3) + "\u3000" * 200
    assert decode_text(text.encode("utf-8"), "a.txt") == text


def test_control_characters_are_still_rejected():
    with pytest.raises(CorpusError, match="a.txt"):
        decode_text(("\x07\x08" * 100 + "正文").encode("utf-8"), "a.txt")


@pytest.mark.parametrize(
    "numeral, value", [("二〇〇六", 2006), ("二十三", 23), ("十", 10), ("十八", 18), ("三十", 30), ("一百零五", 105),
                       ("两千", 2000), ("四十七", 47)],
)
def test_numeral_values(numeral, value):
    assert numeral_value(numeral) == value


@pytest.mark.parametrize(
    "text, searched",
    [("二〇〇六年九月七日", "2006年9月7日"), ("二〇〇六年十月十八日", "2006年10月18日"), ("共二十三项", "共23项"),
     ("三月三十日", "3月30日"), ("第四十三条", "第43条"), ("一是加强", "一是加强"), ("统一一个", "统一一个"),
     ("“十四五”时期", "“十四五”时期"), ("二〇三五年远景目标纲要", "二〇三五年远景目标纲要")],
)
def test_search_form_writes_dates_and_counts_in_digits(text, searched):
    assert search_form(text) == searched
