"""What staff read (#18): the lead sentence, the cited sentence of each source, the document view,
the library and its filter, without a browser (the browser checks are in test_presentation_browser.py)."""

from __future__ import annotations

import re

import pytest

from answer.cited import cited_sentence, cited_sentences
from answer.lead import lead_sentence
from answer.types import Answer, Citation
from index.build import BuildReport
from ingest.types import Document
from tests.browser_helpers import FACT_QUESTION, FIXTURE_META, build_fixture_answerer, fixture_settings
from web.catalog import filter_choices, filtered_doc_ids, library_rows, report_text
from web.docview import document_page_html, download_name, original_file
from web.presenters import answer_html, answer_json

MARKERS = re.compile(r"[#｜]|【|】")
ISSUE_ROW = ("表1：温岭市科技创新发展“十四五”规划目标｜全社会R&D经费投入（亿元）：指标类型 科技投入；"
             "2020年 28.2亿元；2025年 58亿元；备注 倍增")


def visible_text(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", markup)


def row_answer(question: str, row: str = ISSUE_ROW) -> Answer:
    passage = f"前文。\n{row}\n后文。"
    citation = Citation(1, "p.txt", "温岭市规划", "一、目标", passage, 100, 100 + len(passage))
    return Answer(question, f"{row}[1]", (citation,), (), False, 1.0)


def test_a_table_answer_leads_with_the_asked_year_and_figure_in_bold():
    lead = lead_sentence(row_answer("温岭全社会R&D经费投入2025年目标是多少？"))
    assert lead.text == "全社会R&D经费投入 — 2025年目标：58亿元"
    assert [lead.text[s:e] for s, e in lead.strong] == ["58亿元"]
    assert lead.refs == (1,)


def test_footnote_marks_and_the_base_year_are_read_plainly():
    lead = lead_sentence(row_answer("2020年有多少家？", "表1：规划目标｜数量#（家）：2020年 4家；2025年 8家"))
    assert lead.text == "数量 — 2020年：4家"  # the first year column is the base, not a target
    assert not MARKERS.search(lead.text)


def test_an_english_question_gets_an_english_lead():
    lead = lead_sentence(row_answer("What is Wenling's 2025 target for total R&D spending?"))
    assert lead.text == "For 全社会R&D经费投入: 2025 target: 58亿元 (5.8 billion yuan)."
    refused = Answer("When will the Mars base open?", "资料中未找到…", (), (), True, 1.0)
    assert lead_sentence(refused).text.startswith("The documents do not answer")


def test_a_filing_field_answer_names_the_document_and_bolds_the_value():
    card = "【文件信息】标题：关于第412号建议的答复函；文号：温科提复〔2023〕106号；主送：周杰代表。"
    citation = Citation(1, "r.txt", "关于第412号建议的答复函", "", card, 0, len(card))
    answer = Answer("106号答复的是哪位代表？", "关于第412号建议的答复函，主送：周杰代表[1]", (citation,), (), False, 1.0)
    lead = lead_sentence(answer)
    assert lead.text == "《关于第412号建议的答复函》主送：周杰代表。"
    assert [lead.text[s:e] for s, e in lead.strong] == ["周杰代表"]
    english = lead_sentence(Answer("Whom does reply No. 106 answer?", answer.text, (citation,), (), False, 1.0))
    assert english.text == "For 《关于第412号建议的答复函》: addressed to 周杰代表."


def test_the_cited_sentence_is_found_in_a_long_passage_with_only_the_asked_figure_marked():
    filler = "这是一段很长的背景说明，" * 20
    passage = f"{filler}。在孵化方面，建成22家国家级孵化平台，全年新增孵化空间152万平方米、近历年总和的两倍。其他。"
    citation = Citation(1, "d.txt", "答复", "", passage, 1000, 1000 + len(passage))
    answer = Answer("2022年全市新增了多少孵化空间？", "全年新增孵化空间152万平方米、近历年总和的两倍[1]", (citation,), (), False, 1.0)
    sentence = cited_sentences(answer)[1]
    assert sentence.text == "在孵化方面，建成22家国家级孵化平台，全年新增孵化空间152万平方米、近历年总和的两倍。"
    assert passage[sentence.start - 1000:sentence.end - 1000] == sentence.text
    assert [sentence.text[s:e] for s, e in sentence.marks] == ["152万平方米"]


def test_a_cited_table_row_is_written_as_read():
    answer = row_answer("温岭全社会R&D经费投入2025年目标是多少？")
    sentence = cited_sentences(answer)[1]
    assert not MARKERS.search(sentence.text) and "2025年：58亿元" in sentence.text
    assert [sentence.text[s:e] for s, e in sentence.marks] == ["58亿元"]


def test_a_short_citation_not_holding_the_quote_is_its_own_sentence():
    citation = Citation(2, "d.txt", "T", "", "温州市科学技术局 2023年6月29日", 50, 70)
    assert cited_sentence(citation, "成文日期：2023年6月29日").text == "温州市科学技术局 2023年6月29日"


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    return build_fixture_answerer(fixture_settings(tmp_path_factory.mktemp("presentation"), with_meta=True))


QUESTIONS = [FACT_QUESTION, "温岭省级众创空间2025年目标是多少？", "How many high-tech enterprises will Wenzhou have?",
             "科技型中小企业数量达到多少家？", "温州规划的文号是什么？", "火星基地什么时候建成？"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_no_internal_marker_reaches_what_a_person_reads(answerer, question):
    answer = answerer.ask(question)
    body = answer_json(answer, "http://h/")
    assert not MARKERS.search(body["lead"]) and not MARKERS.search(body["display"])
    assert not MARKERS.search(visible_text(answer_html(answer)))
    for citation in body["citations"]:
        assert not MARKERS.search(citation["sentence"]["text"])


def test_the_chat_message_leads_with_the_answer_and_does_not_repeat_it_as_source_one(answerer):
    answer = answerer.ask("温岭省级众创空间2025年目标是多少？")
    markup = answer_html(answer)
    assert markup.startswith('<div class="qa-lead">省级众创空间 — 2025年目标：<strong>8家</strong>')
    assert markup.index("qa-lead") < markup.index("qa-sources")
    assert answer.text.split("[")[0] not in visible_text(markup)  # the raw row is never shown
    assert "<mark>8家</mark>" in markup and "<mark>4家</mark>" not in markup


def test_the_json_api_gives_the_lead_and_each_cited_sentence(answerer):
    answer = answerer.ask("科技型中小企业数量达到多少家？")
    body = answer_json(answer, "http://h/")
    assert "科技型中小企业数量达到16000家。" in body["lead"]  # the quoted clause(s) the answer chose
    assert [s for s in body["lead_segments"] if s["strong"]] == [{"text": "16000家", "strong": True}]
    first = body["citations"][0]
    sentence = first["sentence"]
    text = answerer.documents[first["doc_id"]].text
    assert text[sentence["start"]:sentence["end"]] == sentence["text"] == "到2025年，高能级创新平台累计数达到30家，科技型中小企业数量达到16000家。"
    assert first["end"] - first["start"] > len(sentence["text"])  # the passage is longer than what is highlighted
    assert sentence["url"] == f"http://h/doc/{first['doc_id']}?start={sentence['start']}&end={sentence['end']}#cited"


def test_the_document_view_shows_the_card_as_a_panel_tables_as_tables_and_marks_one_sentence(answerer):
    document = answerer.documents["wenling.txt"]
    start = document.text.index("到2025年")
    end = document.text.index("。", start) + 1
    page = document_page_html(document, start, end)
    body = page.split('<div class="text">', 1)[1].split("</main>", 1)[0]
    assert "【文件信息】" not in page and "文件信息" in page.split("<aside>", 1)[1]
    assert FIXTURE_META["wenling.txt"]["文号"] in page.split("<aside>", 1)[1]
    assert f'<mark id="cited">{document.text[start:end]}</mark>' in body
    assert "<table><tr><th></th><th>2020年</th><th>2025年</th></tr>" in body and "｜" not in body
    assert visible_text(body).count("表1：温岭市规划目标") == 1  # the caption line is not repeated
    row = document.text.index("表1：温岭市规划目标｜创新飞地")
    cited_row = document_page_html(document, row, row + 10)
    assert '<tr class="cited" id="cited"><th>创新飞地' in cited_row
    assert 'href="../file/wenling.txt"' in page


def test_the_original_file_is_served_only_for_indexed_documents_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("正文", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("x", encoding="utf-8")
    documents = {"a.txt": Document("a.txt", "", "规划/草案", "", "0"), "../secret.txt": Document("../secret.txt", "", "", "", "0")}
    assert original_file(corpus, documents, "a.txt") == (corpus / "a.txt").resolve()
    assert original_file(corpus, documents, "../secret.txt") is None  # indexed id, but outside the corpus
    assert original_file(corpus, documents, "b.txt") is None
    assert download_name(documents["a.txt"]) == "规划_草案.txt"


def test_the_filing_filter_narrows_the_documents_and_says_when_none_match(answerer):
    documents = answerer.documents
    assert {"温岭市科学技术局", "温州市人民政府"} <= set(filter_choices(documents)["发文机关"])
    assert filter_choices(documents)["年份"] == ["2022", "2021"]
    assert filtered_doc_ids(documents, by_issuer=["温岭市科学技术局"]) == ["wenling.txt"]
    assert filtered_doc_ids(documents, by_year=["2021"], by_kind=["规划"]) == ["wenzhou.txt"]
    assert filtered_doc_ids(documents, by_year=["2021"], by_kind=["通知"]) == []
    assert filtered_doc_ids(documents) is None
    narrowed = answerer.ask("科技型中小企业数量达到多少家？", doc_ids=filtered_doc_ids(documents, by_year=["2022"]))
    assert {c.doc_id for c in narrowed.citations} == {"wenling.txt"} and "1800家" in lead_sentence(narrowed).text


def test_the_library_lists_filing_fields_first_and_reports_in_chinese(answerer):
    rows = library_rows(answerer.documents, {"wenling.txt": 3})
    assert rows[0][:5] == ["温岭市科技创新发展规划", "温岭科〔2022〕3号", "温岭市科学技术局", "2022-01-05", "通知"]
    assert rows[0][-1] == "wenling.txt"
    text = report_text(BuildReport(files=2, chunks=9, embedded=1, reused=8, seconds=0.5, removed=("旧.txt",)))
    assert text.startswith("已索引 2 个文件") and "删除：旧.txt" in text
    assert not re.search(r"[A-Za-z]{3,}", text.replace(".txt", ""))  # no English words
