"""Document kinds and their filing fields: each kind recognises itself; titles come from the
document's own title line; the info box is read as key/value pairs; every co-issuer is kept."""

from pathlib import Path

import pytest

from ingest.cleaning import clean_text
from ingest.infobox import key_value_lines, read_info_box
from ingest.kinds import all_kinds, read_filing
from ingest.loaders import read_raw_text
from ingest.pipeline import load_document

DEVCORPUS = Path(__file__).resolve().parents[2] / "shared" / "devcorpus" / "docs"

LAW = """某某市科技创新促进条例
2019年10月29日 某某市人民代表大会常务委员会第二十七次会议通过
2019年11月29日 某某省人民代表大会常务委员会第十五次会议批准
第一章 总则
第一条 为了促进科技创新，根据《中华人民共和国科学技术进步法》等法律，制定本条例。
第二条 本条例适用于本市。
第三条 市人民政府应当支持下列活动：
（一）研究开发；
（二）成果转化。
第二章 附则
第四条 本条例自2020年3月1日起施行。
"""

AMENDED = """国家某某奖励条例
1999年5月23日 中华人民共和国国务院令第265号发布
2024年5月26日 《国务院关于修改〈国家某某奖励条例〉的决定》第四次修订
第一章 总则
第一条 为了奖励，制定本条例。
第二条 国家设立下列奖：
第三条 本条例自2020年12月1日起施行。
"""

JOINT_NOTICE = """关于印发《某某市概念验证平台建设实施
方案》的通知
某科合〔2025〕17号
各有关单位：
经市政府同意，将《某某市概念验证平台建设实施方案》印发给你们，请认真组织实施。
附件：某某市概念验证平台建设实施方案
某某市科学技术委员会
某某市发展和改革委员会
某某市教育委员会
2025年7月10日
"""

REPLY = """索 引 号：
000014349/2006-00213
主题分类：
其他
发文机关：
国务院办公厅
成文日期：
2006年10月18日
标　　题：
国务院办公厅对全国政协十届四次会议第4626号提案的答复
发文字号：
国办函〔2006〕82号
发布日期：
2018年12月24日
国务院办公厅对全国政协十届
四次会议第4626号提案的答复
国办函〔2006〕82号
某某委员：
您提出的《关于设立某某热线电话的提案》收悉。经研究，答复如下：
感谢您对政府工作的关心与支持。
国务院办公厅
二〇〇六年十月十八日
"""


def test_a_law_is_titled_by_its_own_name_not_by_a_law_it_cites_or_an_amending_decision():
    law = read_filing(clean_text(LAW))
    assert law.kind == "law"
    assert law.meta["title"] == "某某市科技创新促进条例"
    assert law.meta["施行日期"] == "2020年3月1日"
    assert law.meta["成文日期"] == "2019年10月29日"
    assert "批准" in law.meta["批准"] and "主送" not in law.meta
    amended = read_filing(clean_text(AMENDED))
    assert amended.meta["title"] == "国家某某奖励条例"
    assert amended.meta["文号"].endswith("国务院令第265号") and amended.meta["发文机关"] == "中华人民共和国国务院"
    assert "第四次修订" in amended.meta["修订"]
    assert "主送" not in amended.meta  # "第二条 国家设立下列奖：" is not a salutation


def test_a_notice_title_broken_over_two_lines_is_joined_and_every_co_issuer_is_kept():
    notice = read_filing(clean_text(JOINT_NOTICE))
    assert notice.kind == "notice"
    assert notice.meta["title"] == "关于印发《某某市概念验证平台建设实施方案》的通知"
    assert notice.meta["印发文件"] == "某某市概念验证平台建设实施方案"
    assert notice.meta["发文机关"] == "某某市科学技术委员会、某某市发展和改革委员会、某某市教育委员会"
    assert notice.meta["文号"] == "某科合〔2025〕17号" and notice.meta["主送"] == "各有关单位"


def test_an_info_box_copied_as_text_gives_the_filing_fields_and_the_reply_its_addressee():
    reply = read_filing(clean_text(REPLY))
    assert (reply.kind, reply.layers) == ("reply", ("webpage",))
    assert reply.meta["title"] == "国务院办公厅对全国政协十届四次会议第4626号提案的答复"
    assert reply.meta["文号"] == "国办函〔2006〕82号"
    assert reply.meta["发文机关"] == "国务院办公厅"
    assert reply.meta["成文日期"] == "2006年10月18日" and reply.meta["发布日期"] == "2018年12月24日"
    assert reply.meta["主送"] == "某某委员" and reply.meta["文种"] == "答复函"


def test_a_signature_date_in_chinese_numerals_is_read_as_digits():
    text = clean_text(REPLY.split("国务院办公厅对全国政协十届\n", 1)[1])
    assert read_filing(text).meta["成文日期"] == "2006年10月18日"


def test_an_html_info_box_table_becomes_key_value_lines():
    rows = [["索 引 号：", "000014349/2006-00211", "主题分类：", "其他"], ["发文机关：", "国务院办公厅", "成文日期：", "2006年09月07日"],
            ["标\u3000\u3000题：", "某答复"], ["发文字号：", "国办函〔2006〕70号", "发布日期：", "2018年12月24日"]]
    lines = key_value_lines(rows)
    assert lines[:2] == ["索引号：000014349/2006-00211", "主题分类：其他"]
    assert read_info_box("\n".join(lines)) == {"索引号": "000014349/2006-00211", "主题分类": "其他", "发文机关": "国务院办公厅",
                                               "成文日期": "2006年09月07日", "title": "某答复", "文号": "国办函〔2006〕70号",
                                               "发布日期": "2018年12月24日"}
    assert key_value_lines([["指标", "2025年"], ["企业数", "560"]]) is None  # a data table stays a table


def test_an_html_page_laid_out_in_a_table_keeps_its_paragraphs_and_reads_its_box(tmp_path):
    body = "".join(f"<p>第{i}段，" + "内容" * 100 + "。</p>" for i in range(3))
    page = (f"<html><head><title>某答复_政府信息公开专栏</title></head><body><table><tr><td>索 引 号：</td><td>1/2006-1</td>"
            f"<td>发文机关：</td><td>国务院办公厅</td></tr><tr><td>标　　题：</td><td>某答复</td><td>发文字号：</td>"
            f"<td>国办函〔2006〕70号</td></tr></table><table><tr><td>{body}</td></tr></table></body></html>")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    raw, _ = read_raw_text(tmp_path / "page.html")
    assert "发文机关：国务院办公厅" in raw
    assert "第0段" in raw and "第2段" in raw and "\t" not in raw.split("第0段")[1]  # paragraphs are not cells
    document = load_document(tmp_path / "page.html", tmp_path)
    assert document.title == "某答复" and document.meta["文号"] == "国办函〔2006〕70号"


def test_every_kind_is_a_module_with_a_unique_name():
    names = [kind.name for kind in all_kinds()]
    assert len(names) == len(set(names))
    assert {"law", "notice", "reply", "plan", "webpage", "generic"} <= set(names)


@pytest.mark.skipif(not DEVCORPUS.is_dir(), reason="devcorpus not present")
@pytest.mark.parametrize(
    "name, kind, title, number",
    [("dev_reg_gjkjjl.md", "law", "国家科学技术奖励条例", None),
     ("dev_reg_zskjcx.md", "law", "舟山市科技创新促进条例", None),
     ("dev_reg_shkczx.pdf", "law", "上海市推进科技创新中心建设条例", None),
     ("dev_notice_gbf127.html", "notice", "国务院办公厅关于抓好赋予科研机构和人员更大自主权有关文件贯彻落实工作的通知", "国办发〔2018〕127号"),
     ("dev_reply_2996.html", "reply", "国务院办公厅对十届全国人大四次会议第2996号建议的答复", "国办函〔2006〕70号"),
     ("dev_rules_shzjk.docx", "notice", "关于印发《上海市科技专家库管理办法》的通知", "沪科规〔2025〕5号"),
     ("dev_notice_gnyz.pdf", "notice", "关于印发《上海市高质量概念验证平台建设实施方案》的通知", "沪科合〔2025〕17号")],
)
def test_devcorpus_titles_kinds_and_numbers(name, kind, title, number):
    document = load_document(DEVCORPUS / name, DEVCORPUS)
    assert (document.kind, document.title) == (kind, title)
    assert document.meta.get("文号") == number or number is None
    assert not any(0x2E80 <= ord(ch) <= 0x2FDF for ch in document.text)
