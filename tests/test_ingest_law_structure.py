"""Laws and regulations: 第X编/章/节/条 found, enumerations kept inside their article, article
chunks typed with their chapter and number; the filing card is one typed chunk."""

from ingest.chunking import split_into_chunks
from ingest.cleaning import clean_text
from ingest.pipeline import document_card
from ingest.structure import HeadingPaths, find_headings, law_part
from ingest.types import Document

LAW = """上海市某某条例
第一章 总则
第一条 为了促进科技创新，制定本条例。
第二条 本条例适用于本市行政区域。
第二章 支持措施
第三条 市人民政府应当支持下列事项：
（一）建设研发平台；
（二）引进人才；
（三）自行实施转化。
第四条 本市建立科技报告制度，共二十三项。
第三章 附则
第五条 本条例自2020年5月1日起施行。
"""


def _document(text: str, card: str = "") -> Document:
    return Document("law.md", "law.md", "条例", f"{card}\n\n{text}" if card else text, "0")


def test_law_parts_are_recognised():
    assert law_part("第四十三条 在科技创新工作中") == ("条", "第四十三条")
    assert law_part("第一章  总  则") == ("章", "第一章 总 则")
    assert law_part("第二编 分则") == ("编", "第二编 分则")
    assert law_part("第一节 一般规定") == ("节", "第一节 一般规定")
    assert law_part("第十条规定的情形") is None  # a reference, not an article (no space after 条)


def test_enumerated_items_stay_inside_their_article_and_the_next_article_closes_them():
    paths = HeadingPaths(find_headings(LAW))
    assert paths.at(LAW.index("引进人才")) == "第二章 支持措施 > 第三条 > （二）引进人才"
    assert paths.at(LAW.index("第四条")) == "第二章 支持措施 > 第四条"
    assert paths.at(LAW.index("本条例自")) == "第三章 附则 > 第五条"


def test_a_plan_without_articles_keeps_its_numbered_headings():
    plan = "一、总体要求\n（一）目标\n到2025年达到30家。\n二、任务\n第一条 不是法律。\n"
    assert [h.title for h in find_headings(plan)] == ["一、总体要求", "（一）目标", "二、任务"]


def test_every_article_chunk_knows_its_chapter_and_article():
    chunks = split_into_chunks(_document(LAW), chunk_size=300, chunk_overlap=0)
    articles = [c for c in chunks if c.kind == "article"]
    assert [c.article for c in articles] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    by_article = {c.article: c for c in articles}
    assert by_article["第三条"].chapter == "第二章 支持措施"
    assert "（三）自行实施转化" in by_article["第三条"].text
    assert by_article["第四条"].heading_path == "第二章 支持措施 > 第四条"
    assert not any(c.text.strip() in ("第一章 总则", "第二章 支持措施") for c in chunks)  # no heading-only chunks


def test_no_chunk_holds_two_articles():
    chunks = split_into_chunks(_document(LAW), chunk_size=300, chunk_overlap=0)
    for chunk in chunks:
        assert sum(1 for line in chunk.text.split("\n") if law_part(line) and law_part(line)[0] == "条") <= 1


def test_pdf_law_lines_broken_mid_article_are_joined_and_structured():
    raw = ("第一章 总则\n第一条 为了深入实施创新驱动发展战略，加快建设具有全球影响\n力的科技创新中心，制定本条例。\n"
           "第二条 本条例适用于本市。\n第三条 本市建立协调机制。\n")
    text = clean_text(raw)
    assert "第一条 为了深入实施创新驱动发展战略，加快建设具有全球影响力的科技创新中心，制定本条例。" in text
    assert [h.title for h in find_headings(text)] == ["第一章 总则", "第一条", "第二条", "第三条"]


def test_search_text_gives_numerals_in_digits_and_the_text_keeps_them():
    chunks = split_into_chunks(_document(LAW), chunk_size=300, chunk_overlap=0)
    fourth = next(c for c in chunks if c.article == "第四条")
    assert "共二十三项" in fourth.text and "共23项" in fourth.search_text
    first = next(c for c in chunks if c.article == "第一条")
    assert first.search_text.startswith("第1条")


def test_the_filing_card_is_one_typed_chunk():
    card = document_card("上海市某某条例", {"施行日期": "2020年5月1日"})
    document = _document(LAW, card)
    chunks = split_into_chunks(document, chunk_size=300, chunk_overlap=0)
    cards = [c for c in chunks if c.kind == "card"]
    assert len(cards) == 1 and cards[0].text == card and cards[0].start == 0
    assert all(card not in c.text for c in chunks if c.kind != "card")
    for chunk in chunks:
        assert document.text[chunk.start:chunk.end] == chunk.text
