"""The place table built from the administrative-division library, and the steering and follow-up
behaviour that reads it."""

from __future__ import annotations

from answer.followup import rewrite_followup
from index.places import build_place_table, place_table
from index.steering import document_place, names_as_subject, place_names, question_places
from ingest.types import Document


def test_every_level_with_short_form_and_parents():
    table = place_table()
    assert table.places["鹿城"].names == ("鹿城区", "鹿城")
    assert table.places["鹿城"].parents == frozenset({"温州", "浙江"})
    assert table.places["温州"].level == 1 and table.places["浙江"].level == 0
    assert "鹿城市" not in table.by_name
    # places the old hand-written table never had
    assert {"海淀", "延边", "新疆"} <= set(table.places)


def test_ambiguous_and_ordinary_short_forms_need_the_full_name():
    table = place_table()
    for word in ("龙港", "朝阳", "长安", "普陀", "城区", "和平"):
        assert word not in table.by_name, word
    assert table.by_name["龙港市"] == "龙港市"
    assert table.places["普陀区"].parents >= {"上海", "舟山"}  # two 普陀区: both parents kept


def test_words_across_word_boundaries_are_not_places():
    assert question_places("创新平台和示范县建设情况") == set()
    assert question_places("新建多少个平台？") == set()


def test_address_prefix_counts_as_the_subdivision():
    assert question_places("温州市鹿城区2022年新增孵化面积是多少？") == {"鹿城"}
    assert question_places("浙江省舟山市的条例") == {"舟山"}
    assert question_places("温州和鹿城分别是多少") == {"温州", "鹿城"}


def test_english_names_match_whole_words_only():
    assert question_places("What is Hangzhou's R&D target?") == {"杭州"}
    assert question_places("the hangzhoux index") == set()
    # a county's pinyin is no place (a transliterated project name); a site glosses its own counties
    assert question_places("Which team does the 'Zhenan Meigu' project bring in?") == set()


def test_document_place_is_the_most_local():
    doc = Document("d", "d", "浙江省温州市鹿城区人民政府关于印发…的通知", "", "0")
    assert document_place(doc) == "鹿城"
    assert document_place(Document("e", "e", "舟山市科技创新促进条例", "", "0")) == "舟山"


def test_followup_names_the_district_not_a_city():
    rewritten = rewrite_followup("那鹿城呢？", ["温岭市十四五期间R&D经费投入强度目标是多少？"])
    assert rewritten == "鹿城十四五期间R&D经费投入强度目标是多少？"
    assert "鹿城市" not in rewritten


def test_build_from_a_small_division_list():
    table = build_place_table(
        {"330000": "浙江省", "330300": "温州市", "330302": "鹿城区", "130800": "承德市", "130821": "承德县",
         "130000": "河北省"},
        set(),
    )
    assert table.places["承德"].names == ("承德市", "承德")  # the county inside it keeps only its full name
    assert table.places["承德县"].parents == frozenset({"承德", "河北"})
    assert place_names("unknown place") == ("unknown place",)


def test_location_words_make_a_place_no_subject():
    assert not names_as_subject("温州（嘉定）科技创新园位于上海市嘉定区", {"上海"})
    assert not names_as_subject("浙江省舟山市科技创新促进条例", {"浙江"})
    assert names_as_subject("舟山市科技创新促进条例", {"舟山"})
    # 在 is too common to mark a location: an event or body named for the place is about it
    assert names_as_subject("谭望嵩在北京奥运会中国队与比利时队的比赛中", {"北京"})


def test_a_place_named_as_a_level_is_not_the_subject():
    assert not names_as_subject("建设湖州市级技术创新中心2家", {"湖州"})
    assert not names_as_subject("新建湖州级研发中心", {"湖州"})
    assert names_as_subject("湖州市高新技术企业达到500家", {"湖州"})
    assert names_as_subject("德清县省级高新园区", {"德清"})  # 德清's park, of provincial level
