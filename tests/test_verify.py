"""Citation and figure verification of generated answers (pure functions, hand-made cases)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from answer.generative import passage_evidence, verify_generation
from answer.types import Citation
from answer.verify import (
    UNSUPPORTED_MARK,
    find_markers,
    mark_unsupported,
    normalize_figures,
    remove_unsupported,
    renumber_citations,
    sentence_figures,
    split_sentences,
    verify_answer,
)

WENZHOU = "到2025年，高能级创新平台累计数达到30家，科技型中小企业数量达到16000家。"
WENLING = "到2025年，温岭科技型中小企业数达1800家，高新技术企业数达560家。"
PASSAGES = {1: WENZHOU, 2: WENLING}


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_split_keeps_markers_after_the_end_mark_with_their_sentence() -> None:
    text = "温州达到16000家。[1] 温岭达到1800家[2]。\n合计见上表"
    assert _sentences(text) == ["温州达到16000家。[1]", "温岭达到1800家[2]。", "合计见上表"]


def test_split_english_without_cutting_decimals_or_list_numbers() -> None:
    text = "1. Wenzhou targets 16000 firms [1]. The share is 2.5% [2].\n2. Done"
    assert _sentences(text) == ["1. Wenzhou targets 16000 firms [1].", "The share is 2.5% [2].", "2. Done"]


def test_marker_forms_are_all_read() -> None:
    assert find_markers("甲[1]乙［2］丙【3】丁[1, 2]戊[2-4]己[1，3]") == [1, 2, 3, 1, 2, 2, 3, 4, 1, 3]


def test_figure_normalisation_fullwidth_and_thousands() -> None:
    assert normalize_figures("１６０００家、1,800家、１，８００家") == "16000家、1800家、1800家"
    assert sentence_figures("3. 到２０２５年达到12.5％[1]。") == ["2025", "12.5%"]


def test_supported_sentences_count_and_carry_no_reason() -> None:
    result = verify_answer("温州科技型中小企业到2025年达到16000家[1]。温岭达到1800家[2]。", PASSAGES)
    assert [s.supported for s in result.sentences] == [True, True]
    assert [s.cited for s in result.sentences] == [(1,), (2,)]
    assert result.supported_count == 2 and result.cited == (1, 2)
    assert all(s.reason == "" for s in result.sentences)


def test_invented_figures_from_the_270m_model_are_caught() -> None:
    # What gemma3-270m actually answered given these two passages: 4400 and an invented 18000.
    answer = "温州科技型中小企业达到4400家[1]。温岭科技型中小企业达到18000家[2]。"
    result = verify_answer(answer, PASSAGES)
    assert [s.supported for s in result.sentences] == [False, False]
    assert "4400" in result.sentences[0].reason and "[1]" in result.sentences[0].reason
    assert "18000" in result.sentences[1].reason
    assert result.supported_count == 0


WENZHOU_BOTH = "到2025年，科技型中小企业数量达到16000家，高新技术企业数量达到4400家。"
WENZHOU_TABLE = (
    "“十四五”科技创新主要指标｜高新技术企业数量#（家）：2020年基数 2404；2025年目标 4400；指标属性 预期性\n"
    "“十四五”科技创新主要指标｜科技型中小企业数量#（家）：2020年基数 10340；2025年目标 16000；指标属性 预期性"
)


def test_a_figure_said_of_something_else_in_the_passage_is_caught() -> None:
    # 4400 is in the passage, but as the 高新技术企业 target, not the 科技型中小企业 one.
    for passage in (WENZHOU_BOTH, WENZHOU_TABLE):
        wrong = verify_answer("温州科技型中小企业达到4400家[1]。", {1: passage}).sentences[0]
        assert not wrong.supported and "4400" in wrong.reason and "原文：“科技型中小企业数量" in wrong.reason
        right = verify_answer("温州科技型中小企业到2025年达到16000家[1]。温州高新技术企业目标为4400家[1]。", {1: passage})
        assert [s.supported for s in right.sentences] == [True, True]


def test_attribution_check_leaves_vague_and_table_claims_alone() -> None:
    # Too little wording to tell what the figure is said of: not flagged.
    assert verify_answer("两地目标分别为16000家和4400家[1]。", {1: WENZHOU_BOTH}).sentences[0].supported
    # A table cell whose row label is far before it, and a base-year figure.
    row = "表1：规划目标｜全社会R&D经费投入（亿元）：指标类型 科技投入；2020年 28.2；2025年 58；备注 倍增"
    claims = "全社会R&D经费投入到2025年达到58亿元[1]。2020年全社会R&D经费投入为28.2亿元[1]。"
    assert [s.supported for s in verify_answer(claims, {1: row}).sentences] == [True, True]
    # Years are said of everything and never count as misattributed.
    assert verify_answer("高新技术企业数量到2025年达到4400家[1]。", {1: WENZHOU_TABLE}).sentences[0].supported


def test_cited_sentence_sharing_no_wording_with_its_passage_is_flagged() -> None:
    passages = {1: "温州市科技创新规划 温政发〔2021〕12号\n建设瓯江实验室。力争成为国家实验室分部。", 2: WENLING}
    result = verify_answer("登峰峰（2021）[1]。温岭设立了人工智能实验室[2]。温州将建设瓯江实验室[1]。", passages)
    assert [s.supported for s in result.sentences] == [False, False, True]
    assert "几乎没有共同内容" in result.sentences[0].reason
    # What the 270M model answered with the passages: one-word lines with a marker.
    babble = verify_answer("[1] 登登\n[2] 登\n[1]", passages)
    assert [s.supported for s in babble.sentences] == [False, False, False] and babble.supported_count == 0
    # English over Chinese passages cannot be compared word by word, and is not.
    assert verify_answer("Wenzhou will build the Oujiang Laboratory [1].", passages).sentences[0].supported


def test_figure_must_be_in_a_passage_the_sentence_cites() -> None:
    result = verify_answer("温岭达到1800家[1]。", PASSAGES)  # 1800 is in passage 2, not 1
    assert not result.sentences[0].supported
    assert verify_answer("温岭达到1800家[1][2]。", PASSAGES).sentences[0].supported


def test_marker_pointing_at_a_passage_not_given_is_invalid() -> None:
    result = verify_answer("温州加快建设创新平台[3]。温州建设平台[1]。", PASSAGES)
    first, second = result.sentences
    assert not first.supported and "[3]" in first.reason and first.cited == ()
    assert second.supported and result.supported_count == 1


def test_valid_and_invalid_markers_together_are_still_flagged() -> None:
    result = verify_answer("温州达到16000家[1][7]。", PASSAGES)
    assert not result.sentences[0].supported and "[7]" in result.sentences[0].reason


def test_uncited_figure_is_unsupported_but_uncited_prose_is_left_alone() -> None:
    result = verify_answer("根据资料，情况如下：\n温州达到16000家。", PASSAGES)
    intro, claim = result.sentences
    assert intro.supported and not intro.is_claim
    assert not claim.supported and "未标注引用" in claim.reason
    assert result.supported_count == 0


def test_list_numbers_are_not_figures() -> None:
    result = verify_answer("1. 建设创新平台[1]\n2）温岭达到1800家[2]", PASSAGES)
    assert [s.supported for s in result.sentences] == [True, True]
    assert result.sentences[0].figures == ()


def test_wan_and_decimal_forms_match_the_passage_value() -> None:
    passages = {1: "科技型中小企业数量达到1.6万家，研发投入强度2.50%。"}
    result = verify_answer("企业达到16000家[1]。强度为2.5%[1]。企业为1.6万家[1]。", passages)
    assert [s.supported for s in result.sentences] == [True, True, True]


def test_percent_and_plain_number_are_different_figures() -> None:
    result = verify_answer("平台占比30%[1]。", PASSAGES)  # the passage says 30家, not 30%
    assert not result.sentences[0].supported


def test_fullwidth_answer_against_ascii_passage() -> None:
    assert verify_answer("温州达到１６，０００家【1】。", PASSAGES).sentences[0].supported


def test_english_answer_is_checked_the_same_way() -> None:
    result = verify_answer("Wenzhou aims for 16000 firms by 2025 [1]. Wenling aims for 1900 [2].", PASSAGES)
    assert [s.supported for s in result.sentences] == [True, False]


def test_mark_and_remove_unsupported() -> None:
    answer = "温州达到16000家[1]。温岭达到18000家[2]。"
    result = verify_answer(answer, PASSAGES)
    assert mark_unsupported(answer, result) == f"温州达到16000家[1]。温岭达到18000家[2]。{UNSUPPORTED_MARK}"
    assert remove_unsupported(answer, result) == "温州达到16000家[1]。"
    clean = "温州达到16000家[1]。"
    assert mark_unsupported(clean, verify_answer(clean, PASSAGES)) == clean


def test_renumber_citations_rewrites_groups_and_flags_unknown() -> None:
    assert renumber_citations("甲[2]。乙[2,1]。丙【5】。", {2: 1, 1: 2}) == "甲[1]。乙[1][2]。丙[?]。"


def _passage(n: int, doc_id: str, text: str, doc_number: str = "") -> Citation:
    return Citation(n, doc_id, f"{doc_id}规划", "一、发展目标", text, 0, len(text), doc_number)


def test_verify_generation_renumbers_to_the_passages_actually_cited() -> None:
    passages = (_passage(1, "温州", WENZHOU), _passage(2, "温岭", WENLING), _passage(3, "鹿城", "鹿城区新增孵化面积。"))
    generation = verify_generation("温岭达到1800家[2]。温州达到16000家[1][9]。", passages, remove_unsupported=True)
    assert generation.text == "温岭达到1800家[1]。"
    assert [(c.n, c.doc_id) for c in generation.citations] == [(1, "温岭")]
    assert generation.removed == 1
    marked = verify_generation("温岭达到1800家[2]。温州达到16000家[3]。", passages)
    assert marked.text == f"温岭达到1800家[1]。温州达到16000家[2]。{UNSUPPORTED_MARK}"
    assert [(c.n, c.doc_id) for c in marked.citations] == [(1, "温岭"), (2, "鹿城")]


def test_figures_in_title_and_doc_number_count_as_cited() -> None:
    passage = _passage(1, "温州", "加快建设创新平台。", doc_number="温科提复〔2023〕106号")
    assert "106" in passage_evidence(passage)
    assert verify_generation("该答复文号为温科提复〔2023〕106号[1]。", (passage,)).verification.supported_count == 1


@given(
    value=st.integers(min_value=10, max_value=10_000_000),
    other=st.integers(min_value=10, max_value=10_000_000),
    fullwidth=st.booleans(),
)
def test_a_figure_is_supported_exactly_when_a_cited_passage_states_it(value: int, other: int, fullwidth: bool) -> None:
    passages = {1: f"目标是达到{value}家。", 2: f"另一地区达到{other}家。"}
    written = str(value).translate(str.maketrans("0123456789", "０１２３４５６７８９")) if fullwidth else f"{value:,}"
    assert verify_answer(f"达到{written}家[1]。", passages).sentences[0].supported
    claimed = verify_answer(f"达到{other}家[1]。", passages).sentences[0]
    assert claimed.supported == (other == value)
