"""Each cleaning rule on its own, and all of them on the five seed files."""

from pathlib import Path

import pytest

from ingest.cleaning import (
    clean_text,
    join_broken_lines,
    normalize_number_spacing,
    remove_bookmarks,
    remove_markdown_bold,
    remove_page_footers,
)
from ingest.loaders import read_raw_text
from tests.conftest import REAL_CORPUS

SEEDS = sorted(p for p in REAL_CORPUS.glob("*.txt"))


def test_bookmarks_removed():
    assert remove_bookmarks("[bookmark: _Toc57043391][bookmark: _Toc24576]一、开启新征程") == "一、开启新征程"


def test_markdown_bold_removed_but_punctuation_kept():
    assert remove_markdown_bold("——**六提升**：全社会R&D") == "——六提升：全社会R&D"


@pytest.mark.parametrize("footer", ["— 3 —", "- 12 -", "  —  7  —  ", "－ 4 －"])
def test_page_footers_removed(footer):
    assert remove_page_footers(f"上一页的句子\n{footer}\n下一页") == "上一页的句子\n下一页"


def test_footer_like_text_inside_a_sentence_is_kept():
    assert remove_page_footers("增长—3—倍") == "增长—3—倍"


@pytest.mark.parametrize(
    "raw, clean",
    [("2022 年", "2022年"), ("第 68位", "第68位"), ("423家、省科技型中小企业 1097家", "423家、省科技型中小企业1097家"),
     ("占 20%", "占20%"), ("R&D 经费", "R&D 经费"), ("1.7 左右", "1.7左右")],
)
def test_number_spacing(raw, clean):
    assert normalize_number_spacing(raw) == clean


def test_tabs_are_not_number_spacing():
    assert normalize_number_spacing("2022 年\t30\t60") == "2022年\t30\t60"


def test_broken_pdf_lines_rejoined_but_not_across_headings_or_signatures():
    raw = "您在市十四届人大二次会议期间所提的《关于重视并加强\n\n26县省级高新技术产业开发区高质量发展的建议》收悉。\n\n一、指导山区26县加强培育。\n\n温州市科学技术局\n\n2023年6月29日"
    assert join_broken_lines(raw) == (
        "您在市十四届人大二次会议期间所提的《关于重视并加强26县省级高新技术产业开发区高质量发展的建议》收悉。"
        "\n\n一、指导山区26县加强培育。\n\n温州市科学技术局\n\n2023年6月29日"
    )


def test_list_items_are_not_joined_to_the_line_before():
    raw = "主要任务包括以下几个方面的重点内容和具体举措\n1.建设实验室。\n2.建设走廊。"
    assert join_broken_lines(raw).split("\n") == ["主要任务包括以下几个方面的重点内容和具体举措", "1.建设实验室。", "2.建设走廊。"]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_files_come_out_clean(path: Path):
    text = clean_text(read_raw_text(path)[0])
    assert "[bookmark:" not in text
    assert "**" not in text
    assert "— 3 —" not in text
    assert " 年" not in text.replace("\t", "")
    assert "\n\n\n" not in text
    assert len(text) > 1000


def test_pdf_seed_sentence_is_whole_again():
    text = clean_text(read_raw_text(REAL_CORPUS / "000_3bf91eea4f9b71f1.txt")[0])
    assert "2022年温州国家高新区全国排名第68位，首次进入前40%" in text
    assert "新增在孵企业1500家以上。" in text
