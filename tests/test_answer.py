"""Answering on a small fixture corpus (fake embedder): citations, abstention, follow-ups, errors."""

import pytest

from answer.engine import Answerer, validate_question
from answer.followup import rewrite_followup
from answer.types import EmptyQuestionError, QuestionTooLongError
from index.build import build_index
from index.search import Retriever, open_index


@pytest.fixture()
def answerer(settings, fake_embedder):
    build_index(settings, fake_embedder)
    return Answerer(Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings), settings)


def answerer_with(settings, fake_embedder, name: str, text: str) -> Answerer:
    """An answerer over the small corpus plus one more document ``name``."""
    (settings.corpus_dir / name).write_text(text, encoding="utf-8")
    build_index(settings, fake_embedder)
    return Answerer(Retriever(open_index(settings, fake_embedder.model_id), fake_embedder, settings), settings)


def test_answer_quotes_the_sentence_and_cites_its_passage(answerer):
    answer = answerer.ask("温州到2025年高能级创新平台累计数达到多少家？")
    assert not answer.abstained
    assert "30" in answer.text and "[1]" in answer.text
    citation = answer.citations[0]
    assert citation.doc_id == "wenzhou.txt" and "30家" in citation.quote
    document = answerer.documents[citation.doc_id]
    assert document.text[citation.start:citation.end] == citation.quote
    assert len(answer.text) < 200


def test_table_row_answer(answerer):
    answer = answerer.ask("温岭省级众创空间2025年目标是多少家？")
    assert "8" in answer.text and answer.citations[0].doc_id == "wenling.txt"
    assert "省级众创空间" in answer.text


@pytest.mark.parametrize(
    "question, says",
    [("温州到2030年高新技术企业要达到多少家？", "资料中未找到与“2030”有关的内容"),
     ("杭州的高新技术企业目标是多少家？", "资料库中没有关于杭州的文件或内容"),  # not "未找到…": the place is missing
     ("瓯江实验室的总投资是多少亿元？", "资料中未找到")],
)
def test_unsupported_year_place_or_figure_abstains_saying_what_is_missing(answerer, question, says):
    answer = answerer.ask(question)
    assert answer.abstained and answer.text.startswith(says), answer.text
    assert not answer.citations and answer.related


def test_place_named_only_as_a_location_is_not_the_subject(settings, fake_embedder):
    answerer = answerer_with(settings, fake_embedder, "park.txt",
                             "温州市科技园区建设情况\n\n温州（嘉定）科技创新园位于上海市嘉定区，占地面积120亩。\n")
    answer = answerer.ask("上海市的科技创新园占地面积是多少？")
    assert answer.abstained and "上海" in answer.text, answer.text
    assert "120亩" in answerer.ask("温州（嘉定）科技创新园占地面积是多少？").text


def test_place_above_the_documents_place_is_another_place(answerer):
    answer = answerer.ask("浙江省到2025年科技型中小企业数量要达到多少家？")
    assert answer.abstained and "浙江" in answer.text, answer.text


def test_followup_is_searched_as_a_standalone_question(answerer):
    answer = answerer.ask("那温岭呢？", history=["温州到2025年科技型中小企业要达到多少家？"])
    assert answer.searched_question == "温岭到2025年科技型中小企业要达到多少家？"
    assert "1800" in answer.text and answer.citations[0].doc_id == "wenling.txt"


def test_comparison_cites_both_sides(answerer):
    answer = answerer.ask("温州和温岭到2025年科技型中小企业分别要达到多少家？")
    assert "16000" in answer.text and "1800" in answer.text
    assert {c.doc_id for c in answer.citations} == {"wenzhou.txt", "wenling.txt"}


def test_english_question_is_answered_from_chinese_sources(answerer):
    answer = answerer.ask("How many sci-tech SMEs does Wenling target by 2025?")
    assert "1800" in answer.text and answer.citations[0].doc_id == "wenling.txt"


@pytest.mark.parametrize("question", ["", "   ", "？？", "\n"])
def test_empty_question_is_a_clear_error(answerer, question):
    with pytest.raises(EmptyQuestionError, match="问题为空"):
        answerer.ask(question)


def test_too_long_question_is_a_clear_error():
    with pytest.raises(QuestionTooLongError, match="上限 10 字"):
        validate_question("温州" * 10, 10)


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("那温岭呢？", ["温州到2025年科技型中小企业要达到多少家？"], "温岭到2025年科技型中小企业要达到多少家？"),
        ("2023年呢？", ["鹿城区2022年新增孵化面积是多少？"], "鹿城区2023年新增孵化面积是多少？"),
        ("温岭到2025年高新技术企业要达到多少家？", ["温州的目标是多少？"], "温岭到2025年高新技术企业要达到多少家？"),
        ("占地面积多大？", ["温州国家农业科技园区在哪里？"], "温州国家农业科技园区在哪里？ 占地面积多大"),
        ("那温岭呢？", [], "那温岭呢？"),
        # a district's short form replaces the city's full name: 鹿城, never "鹿城市"
        ("那鹿城呢？", ["温岭市到2025年科技型中小企业要达到多少家？"], "鹿城到2025年科技型中小企业要达到多少家？"),
        # a follow-up with its own predicate keeps it, taking the year from the question before
        ("乐清、瑞安两个省级高新园区呢，在全省排第几？", ["2022年温州国家高新区在全国排第几位？"],
         "2022年乐清、瑞安两个省级高新园区呢，在全省排第几？"),
    ],
)
def test_followup_rewriting(question, history, expected):
    assert rewrite_followup(question, history) == expected


def test_configured_llm_that_is_down_falls_back_to_the_extractive_answer(settings, fake_embedder):
    from tests.llm_server import refused_port

    with refused_port() as port:  # a loopback port that refuses connections while the question is asked
        llm_settings = settings.replace(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_model="m", llm_timeout=2)
        build_index(llm_settings, fake_embedder)
        answerer = Answerer(Retriever(open_index(llm_settings, fake_embedder.model_id), fake_embedder, llm_settings), llm_settings)
        answer = answerer.ask("温州到2025年高能级创新平台累计数达到多少家？")
    assert "30" in answer.text and answer.citations
    assert answer.notice  # says the LLM was unavailable
    assert answerer.ask("温州到2025年高能级创新平台累计数达到多少家？", generate=False).notice == ""


def test_a_counted_list_question_prefers_the_sentence_naming_that_many():
    from answer.extractive import score_units
    from answer.scoring import load_weights
    from answer.question import profile_question
    from index.types import Hit
    from ingest.types import Chunk

    text = ("深化与清华大学、江苏大学、皮革研究院、华中数控等院所合作，支持甲研究中心、乙研究院建设省级新型研发机构。"
            "支持甲研究中心、乙研究院、丙研究院建设省级新型研发机构。")
    hit = Hit(Chunk("c#0", "c", text, 0, len(text)), 1.0, 1, "lexical")
    weights = {"省级": 1.0, "新型研发机构": 1.0, "研究院": 0.5}
    units = score_units([hit], {}, profile_question("哪三家研究机构争取建设省级新型研发机构？"), weights, load_weights())
    assert units[0].text.startswith("支持甲研究中心、乙研究院、丙研究院")


def test_a_filing_field_the_named_document_lacks_is_not_taken_from_another(settings, fake_embedder):
    """The Wenzhou plan has no 文号; a reply beside it has one. Asked for the plan's, abstain."""
    answerer = answerer_with(
        settings, fake_embedder, "reply.txt",
        "温科提复〔2023〕94号\n\n关于温州市科技创新规划第142号提案的答复函\n\n洪晓畅委员：\n"
        "您的提案收悉。现答复如下：温州市科技创新规划实施以来，新增企业研发机构100家。\n\n温州市科学技术局\n\n2023年6月20日\n",
    )
    answer = answerer.ask("温州市科技创新规划的文号是多少？")
    assert answer.abstained and "温科提复" not in answer.text
    assert "温科提复" in answerer.ask("关于第142号提案的答复函的文号是多少？").text


def test_the_passages_holding_the_best_answer_sentences_lead_the_ranking():
    from answer.engine import answer_led, best_passages
    from answer.extractive import Unit
    from index.types import Hit
    from ingest.types import Chunk

    hits = [Hit(Chunk(f"d#{i}", "d", f"第{i}段。", 0, 4), 1.0 / i, i, "lexical") for i in range(1, 6)]
    units = [Unit(hits[3], 0, 4, 2.0, 1.0), Unit(hits[3], 0, 2, 1.9, 1.0), Unit(hits[2], 0, 4, 1.5, 1.0), Unit(hits[0], 0, 4, 1.0, 1.0)]
    assert [c.chunk_id for c in best_passages(units)] == ["d#4", "d#3"]
    ranked = answer_led(hits, best_passages(units))
    assert [h.chunk.chunk_id for h in ranked] == ["d#4", "d#3", "d#1", "d#2", "d#5"]
    assert [h.rank for h in ranked] == [1, 2, 3, 4, 5]


def test_the_answer_s_source_is_the_first_passage_shown(answerer):
    answer = answerer.ask("温岭省级众创空间2025年目标是多少家？")
    assert answer.citations[0].quote in answer.hits[0].chunk.text


def test_a_date_question_shows_the_signature_block_the_date_was_read_from(settings, fake_embedder):
    body = "".join(f"{n}、关于提案所提第{n}条建议，答复函如下：新增孵化面积{n}0万平方米。\n\n" for n in range(1, 8))
    answerer = answerer_with(
        settings, fake_embedder, "reply.txt",
        "温科提复〔2023〕94号\n\n关于第142号提案的答复函\n\n洪晓畅委员：\n\n您的提案收悉。现答复如下：\n\n" + body
        + "温州市科学技术局\n\n2023年6月20日\n\n抄送：市府办，市政协提案委\n\n温州市科学技术局办公室2023年6月21日印发\n",
    )
    answer = answerer.ask("第142号提案的答复函落款是哪天？")
    assert "2023年6月20日" in answer.text
    assert any("2023年6月21日印发" in h.chunk.text for h in answer.hits[:3])
    # the card's field is cited together with the signature it was read from
    assert any(c.quote.startswith("温州市科学技术局\n\n2023年6月20日") for c in answer.citations)
    assert f"[{len(answer.citations)}]" in answer.text
    for c in answer.citations:
        assert answerer.documents[c.doc_id].text[c.start:c.end] == c.quote


def test_a_table_row_answer_also_cites_the_sentence_stating_its_figure(settings, fake_embedder):
    answerer = answerer_with(
        settings, fake_embedder, "yueqing.txt",
        "乐清市科技创新规划\n\n一、发展目标\n\n到2025年，乐清创新氛围更加浓厚，省级众创空间达到12家，创新飞地达到6家。\n\n"
        "表2：乐清市规划目标\n指标名称\t单位\t2020年\t2025年\n省级众创空间\t家\t5\t12\n创新飞地\t家\t2\t6\n",
    )
    answer = answerer.ask("乐清市规划目标表里，省级众创空间2025年是多少家？")
    assert "12家" in answer.text and "｜" in answer.text  # the row is quoted
    sentence = "到2025年，乐清创新氛围更加浓厚，省级众创空间达到12家，创新飞地达到6家。"
    assert [c.quote for c in answer.citations if "｜" not in c.quote] == [sentence]
    assert any(sentence in h.chunk.text for h in answer.hits[:3])  # the cited sentence is among the first passages
    assert answer.text.endswith(f"[1][{len(answer.citations)}]")


def test_an_english_question_is_not_split_at_its_glossary():
    from answer.facets import split_subquestions
    from answer.question import profile_question

    profile = profile_question("By 2025, how many high-tech enterprises does Wenzhou's plan target?")
    assert profile.search_text != profile.text  # the glossed Chinese terms are appended for search
    assert split_subquestions(profile.text) == [profile.text]


def test_a_table_cell_is_read_as_about_its_row_and_quoted_with_its_label(settings, fake_embedder):
    answerer = answerer_with(
        settings, fake_embedder, "projects.txt",
        "表3：重大科创项目清单\n项目名称\t属性\t内容\n"
        "工业废水项目\t新兴产业项目\t项目位于七都街道。项目依托石碧院士及其团队，推动科研成果在本地产业化。\n"
        "美谷项目\t新兴产业项目\t项目依托美谷研究院，引入李校堃院士团队。\n",
    )
    answer = answerer.ask("工业废水项目依托的是哪位院士的团队？")
    assert "石碧" in answer.text and "李校堃" not in answer.text
    assert answer.text.startswith("工业废水项目：")  # the cell's sentence names its row


def test_a_filing_field_asked_of_two_documents_is_given_for_each(settings, fake_embedder):
    (settings.corpus_dir / "reply_a.txt").write_text(
        "温科提复〔2023〕94号\n\n关于第142号提案的答复函\n\n洪晓畅委员：\n\n您的提案收悉。现答复如下：新增孵化面积180万平方米。\n\n"
        "温州市科学技术局\n\n2023年6月20日\n", encoding="utf-8")
    answerer = answerer_with(
        settings, fake_embedder, "reply_b.txt",
        "温科提复〔2023〕106号\n\n关于第412号建议的答复函\n\n周杰代表：\n\n您的建议收悉。现答复如下：新增在孵企业1500家。\n\n"
        "温州市科学技术局\n\n2023年6月29日\n",
    )
    answer = answerer.ask("市科技局的两份答复函分别是多少号？各自答复的是谁？")
    for expected in ("温科提复〔2023〕94号", "洪晓畅委员", "温科提复〔2023〕106号", "周杰代表"):
        assert expected in answer.text


def test_a_sentence_with_the_term_the_question_quotes_is_preferred():
    from answer.extractive import score_units
    from answer.scoring import load_weights
    from answer.question import profile_question
    from index.types import Hit
    from ingest.types import Chunk

    text = ("专栏2：两大特色优势产业重点主攻方向汽摩配件：重点发展变速器总成等产品。"
            "围绕“2+2+2”现代产业体系，全力打造泵与电机、机床工具两大产业创新高地，提升汽摩配件、时尚鞋服两大优势产业。")
    hit = Hit(Chunk("c#0", "c", text, 0, len(text)), 1.0, 1, "lexical")
    weights = {"两大": 1.0, "优势产业": 1.0, "创新高地": 1.0, "特色": 1.0, "2": 0.1}
    question = "“2+2+2”产业里的两大创新高地和两大特色优势产业分别是什么？"
    units = score_units([hit], {}, profile_question(question), weights, load_weights())
    assert units[0].text.startswith("围绕“2+2+2”")


@pytest.mark.parametrize(
    "question, expected, not_expected",
    [("2022年全市新增了多少孵化空间？", "152万", "180万"), ("答复函里说下一步孵化空间要新增多少平方米？", "180万", "152万")],
)
def test_a_reply_reports_on_the_year_before_and_plans_from_its_next_steps(settings, fake_embedder, question, expected, not_expected):
    answerer = answerer_with(
        settings, fake_embedder, "reply.txt",
        "温科提复〔2023〕94号\n\n关于第142号提案的答复函\n\n洪晓畅委员：\n\n您在2022年所提的提案收悉。现答复如下：\n\n"
        "在孵化器方面，全年新增孵化空间152万平方米、近历年总和的两倍。\n\n"
        "下一步，我们将推进大孵化集群建设，新增孵化空间180万平方米以上。\n\n温州市科学技术局\n\n2023年6月20日\n",
    )
    answer = answerer.ask(question)
    assert expected in answer.text and not_expected not in answer.text


def test_a_rank_question_is_answered_only_with_a_rank(settings, fake_embedder):
    answerer = answerer_with(
        settings, fake_embedder, "reply.txt",
        "关于高新区建设的答复函\n\n2022年温州国家高新区全国排名第68位，首次进入前40%。\n\n"
        "2022年，“6”是鹿城、瓯海、永嘉、平阳、龙港和瓯江口6个省级创建高新区。\n",
    )
    assert "68" in answerer.ask("2022年温州国家高新区在全国排第几位？").text
    refused = answerer.ask("2022年平阳省级高新区在全省排第几？")
    assert refused.abstained and "排名" in refused.text


@pytest.mark.parametrize(
    "question, wants_list, wants_number",
    [("鹿城对科创平台的绩效有什么要求？", False, True), ("温岭规划有什么重点任务？", True, False), ("高新技术产业投资的年增幅是多少？", False, True)],
)
def test_a_requirement_is_asked_as_a_figure_not_a_list(question, wants_list, wants_number):
    from answer.question import profile_question

    profile = profile_question(question)
    assert (profile.wants_list, profile.wants_number) == (wants_list, wants_number)


def test_only_a_quoted_term_few_passages_hold_counts_as_a_pointer(settings, fake_embedder):
    paragraphs = "".join(f"{n}、“十四五”期间第{n}项重点工作，推进平台建设，新增科技企业{n}0家，持续优化营商环境和创新生态，加快集聚高端人才和团队，打造一流创新平台。\n\n" for n in range(1, 10))
    answerer = answerer_with(settings, fake_embedder, "plan.txt", "某市规划\n\n" + paragraphs + "到2025年实现五倍增、六提升。\n")
    assert sum("十四五" in c.text for c in answerer.retriever.index.chunks) > 6
    assert answerer._rare(["十四五", "五倍增"]) == ("五倍增",)
    assert answerer._rare(["十四五", "五倍增"]) == ("五倍增",)  # the second time from the kept counts


def test_answer_says_which_features_chose_its_best_unit(answerer):
    answer = answerer.ask("温岭省级众创空间2025年目标是多少家？")
    trace = answer.scoring
    assert trace is not None and trace.unit and trace.contributions
    names = [name for name, _ in trace.contributions]
    assert "coverage" in names and all(value != 0 for _, value in trace.contributions)
    assert sum(value for _, value in trace.contributions) == pytest.approx(trace.score, abs=1e-6)
    assert set(trace.as_json()) == {"unit", "score", "contributions", "confidence"}


@pytest.mark.parametrize("name, text, refused_question, refusal_says, answered_question, answer_says", [
    pytest.param(
        "ningbo.txt",
        "宁波市海曙区创新型城区建设三年行动计划（2022—2024年）\n\n一、主要目标\n\n"
        "到2024年，实现新增各级企业研发机构50家、省级以上企业研发机构15家以上。\n\n"
        "二、保障措施\n\n2023年开展中期评估。\n",
        "海曙区2023年省级企业研发机构要达到多少家？", ("2024年", "2023年"),
        "海曙区2024年省级企业研发机构要达到多少家？", "15家",
        id="a figure set for another year does not answer the year asked"),
    pytest.param(
        "awards.txt",
        "宁波市科学技术奖励办法\n\n第三十六条 有关部门根据特殊情况，可以设立部门科学技术奖；"
        "各区县人民政府可以设立一项区级科学技术奖。\n",
        "宁波市部门科学技术奖最多可以设立几项？", ("区级科学技术奖", "部门科学技术奖"),
        "宁波市区级科学技术奖可以设立几项？", "一项区级科学技术奖",
        id="a figure in a clause about a neighbour does not answer"),
    pytest.param(
        "lab.txt",
        "湖州市联合攻关体建设方案\n\n一、支持措施\n\n组建一批联合攻关体，每个最高支持800万元。\n\n"
        "对省级联合攻关体，给予最高500万元补助。\n",
        "区级联合攻关体最高能支持多少万元？", ("区级",),
        "省级联合攻关体最高补助多少万元？", "500万元",
        id="a level the chosen passages never name is not answered by another level"),
])
def test_a_neighbouring_fact_does_not_answer_but_the_asked_one_does(
    settings, fake_embedder, name, text, refused_question, refusal_says, answered_question, answer_says
):
    answerer = answerer_with(settings, fake_embedder, name, text)
    refused = answerer.ask(refused_question)
    assert refused.abstained and all(part in refused.text for part in refusal_says)
    answered = answerer.ask(answered_question)
    assert not answered.abstained and answer_says in answered.text
