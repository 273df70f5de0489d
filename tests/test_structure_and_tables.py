"""Headings, heading paths and the three table shapes, on fixtures and on the seeds."""

from pathlib import Path

import pytest

from ingest.pipeline import load_document
from ingest.structure import find_headings, heading_level, heading_path_at
from ingest.tables import format_table_rows, rewrite_tables
from tests.conftest import REAL_CORPUS


@pytest.mark.parametrize(
    "line, level",
    [("一、现实基础与形势需求", 1), ("附件1", 1), ("附件 2", 1), ("（三）指导思想", 2), ("专栏3：省级高新区培育行动", 3),
     ("1.高能级平台建设有序推进。", 4), ("（2）改进人才遴选方式", 5), ("2022年温州国家高新区", None), ("一是企业投入", None),
     ("\t1", None), ("3.03", None)],
)
def test_heading_levels(line, level):
    assert heading_level(line) == level


def test_heading_path_nests_and_pops():
    text = "一、总则\n（一）目标\n专栏1：平台\n1.实验室。\n二、任务\n正文"
    headings = find_headings(text)
    assert heading_path_at(headings, text.index("1.实验室")) == "一、总则 > （一）目标 > 专栏1：平台 > 1.实验室"
    assert heading_path_at(headings, text.index("正文")) == "二、任务"


def test_tab_separated_rows_with_merged_first_column():
    text = "表1：规划目标\n指标类型\t指标名称\t单位\t2020年\t2025年\n科技投入\t全社会R&D经费投入\t亿元\t28.2\t58\n\t每万名就业人员中R&D人员数\t人年\t110\t130"
    rows = [line for line in rewrite_tables(text).split("\n") if "｜" in line]
    assert rows == [
        "表1：规划目标｜全社会R&D经费投入（亿元）：指标类型 科技投入；2020年 28.2亿元；2025年 58亿元",
        "表1：规划目标｜每万名就业人员中R&D人员数（人年）：指标类型 科技投入；2020年 110人年；2025年 130人年",
    ]


def test_repeated_header_after_page_break_is_skipped():
    text = "序号\t指 标\t2022年\n1\t技术交易额 (亿元)\t30\n\n序号\t指 标\t2022年\n2\t新增孵化面积 (万平方米)\t30"
    rows = [line for line in rewrite_tables(text).split("\n") if line]
    assert rows == ["表格｜技术交易额 (亿元)：2022年 30亿元；序号 1", "表格｜新增孵化面积 (万平方米)：2022年 30万平方米；序号 2"]


def test_one_cell_per_line_table_with_wrapped_header_cells():
    text = "主要指标\n\t指标\n\t单位\n\t2025年目标\n\t指标\n属性\n\n\t高新技术企业数量#\n\t家\n\t4400\n\t预期性\n\n注：完"
    assert "主要指标｜高新技术企业数量#（家）：2025年目标 4400家；指标属性 预期性" in rewrite_tables(text).split("\n")


def test_tab_indented_paragraph_is_not_a_table():
    text = "专栏4：攻关技术\n\t人工智能技术。研发知识计算引擎。\n新一代通信技术。研发5G终端。\n\n正文"
    assert rewrite_tables(text).split("\n")[:3] == ["专栏4：攻关技术", "人工智能技术。研发知识计算引擎。", "新一代通信技术。研发5G终端。"]


def test_long_cells_keep_their_row_label():
    rows = format_table_rows("重大平台清单", ["序号", "名称", "内容"], [["1", "瓯江实验室", "建设再生调控平台。" * 30]])
    assert rows[0].startswith("重大平台清单｜瓯江实验室：内容 建设再生调控平台。")


@pytest.mark.parametrize(
    "name, expected_row",
    [
        ("002_0e0d43181225949b.txt", "“十四五”科技创新主要指标｜高新技术企业数量#（家）：2020年基数 2404家；2025年目标 4400家"),
        ("002_0e0d43181225949b.txt", "重大项目｜瓯江实验室：项目类型 新建；项目期限 2021年—2025年；建设地点 龙湾区"),
        ("003_dc9f15ac38444f99.txt", "表1：温岭市科技创新发展“十四五”规划目标｜科技型中小企业数（家）：指标类型 技术创新；2020年 1283家；2025年 1800家"),
        ("004_4ed772c9b4959484.txt", "鹿城区创新型城区建设重点指标任务分解表｜新增孵化面积 (万平方米)：2022年 30万平方米；2023年 60万平方米；2024年 120万平方米"),
    ],
)
def test_seed_tables_become_rows_with_headers(name, expected_row):
    document = load_document(REAL_CORPUS / name, REAL_CORPUS)
    assert any(line.startswith(expected_row) for line in document.text.split("\n"))


def test_seed_indicator_table_has_all_sixteen_rows():
    document = load_document(REAL_CORPUS / "002_0e0d43181225949b.txt", REAL_CORPUS)
    rows = [line for line in document.text.split("\n") if line.startswith("“十四五”科技创新主要指标｜")]
    assert len(rows) == 16


@pytest.mark.parametrize(
    "name, meta",
    [
        ("000_3bf91eea4f9b71f1.txt", {"文号": "温科提复〔2023〕106号", "发文机关": "温州市科学技术局", "成文日期": "2023年6月29日", "文种": "答复函",
                                     "联系人": "刘焕斌", "联系电话": "88962078，13750908558"}),
        ("001_fa593211d8322c87.txt", {"文号": "温科提复〔2023〕94号", "发文机关": "温州市科学技术局", "成文日期": "2023年6月20日", "文种": "答复函",
                                     "联系人": "王小军", "联系电话": "88962001，13858866588",
                                     "所答建议": "关于聚焦“三力”推进高水平国家创新型城市建设的提案"}),
        ("003_dc9f15ac38444f99.txt", {"文号": "温发改〔2021〕170号", "成文日期": "2021年12月27日", "文种": "规划"}),
        ("004_4ed772c9b4959484.txt", {"文号": "温鹿政发〔2022〕68号", "发文机关": "温州市鹿城区人民政府", "成文日期": "2022年6月27日", "文种": "行动计划"}),
    ],
)
def test_seed_metadata(name, meta):
    document = load_document(REAL_CORPUS / name, REAL_CORPUS)
    for key, value in meta.items():
        assert document.meta.get(key) == value


def test_sidecar_sets_the_title_the_text_lacks():
    document = load_document(REAL_CORPUS / "002_0e0d43181225949b.txt", REAL_CORPUS)
    assert document.title == "温州市科技创新“十四五”规划"


def test_bad_sidecar_names_the_file(tmp_path: Path):
    from ingest.types import CorpusError

    (tmp_path / "a.txt").write_text("一、总则\n内容。", encoding="utf-8")
    (tmp_path / "a.txt.meta.json").write_text('{"titel": "x"}', encoding="utf-8")
    with pytest.raises(CorpusError, match="a.txt.meta.json"):
        load_document(tmp_path / "a.txt", tmp_path)
