"""Cutting the part of an answer unit worth quoting: a clause window, or a table row's fields."""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from answer.extractive import coverage, has_figure, novelty
from answer.question import QuestionProfile
from answer.sentences import is_row_line, split_clauses
from ingest.pipeline import CARD_MARK

MAX_QUOTE_CHARS = 150
MAX_ROW_QUOTE_CHARS = 220
WINDOW_TOLERANCE = 0.02
CLAUSE_WEIGHT = 0.5  # the best single clause's coverage, against the window's
NOVELTY_CHARS = 2
HEADER_MATCH = 0.1
FIELD_MATCH = 0.2
ENUMERATION_BONUS = 0.03
FIGURE_BONUS = 0.12  # within one unit, a window stating the figure asked for
COUNT_ANCHOR_CHARS = 2  # words after the count that the quote must repeat: "五大" + "大孵"(化集群)
_FIGURE = re.compile(r"\d+(?:\.\d+)?%?|[一二三四五六七八九十两百千万]+[个家项类大条所名位亿元次批]")


def _window_score(piece: str, weights: Mapping[str, float], profile: QuestionProfile) -> float:
    """How well a window answers: its coverage of the question's terms, plus (but for a list
    question, whose items run over many clauses) the best coverage one of its clauses reaches alone:
    terms found together in a clause ("等63项成果国家技术发明奖二等奖"), not spread over its
    neighbours; plus the bonuses for a figure or an enumeration asked for."""
    score = coverage(piece, "", weights)
    if not profile.wants_list:  # a list's items run over many clauses
        score += CLAUSE_WEIGHT * max((coverage(piece[s:e], "", weights) for s, e in split_clauses(piece)), default=0.0)
    figures = len(set(_FIGURE.findall(piece)))
    if profile.wants_number and figures:
        score += FIGURE_BONUS * (min(figures, 3) if profile.wants_many else 1)
    if profile.wants_list:
        score += ENUMERATION_BONUS * min(piece.count("、"), 6)
    return score


def count_anchor(question: str, count_phrase: str) -> str:
    """The question's count phrase with the words that follow it ('五大大孵' of '…中的五大大孵化集群是哪些'):
    the clause that repeats it is the one that names the items counted ('' without a count).

    Example:
        >>> count_anchor("“5510”中的五大大孵化集群是哪些？", "五大"), count_anchor("有哪些？", "")
        ('五大大孵', '')
    """
    at = question.find(count_phrase) if count_phrase else -1
    if at < 0:
        return ""
    anchor = question[at:at + len(count_phrase) + COUNT_ANCHOR_CHARS]
    return anchor if len(anchor) == len(count_phrase) + COUNT_ANCHOR_CHARS else ""


def best_window(text: str, weights: Mapping[str, float], profile: QuestionProfile, limit: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
    """The shortest span of contiguous clauses of ``text`` (at most ``limit`` chars) that answers
    as well as the best one does and says something the question does not; for a counted list
    ('五大大孵化集群是哪些'), one that names the count as the question does, when one can.

    Example:
        >>> from answer.question import profile_question
        >>> t = "坚持创新驱动，加快建设平台，到2025年，高能级创新平台累计数达到30家，进入前列。"
        >>> p = profile_question("到2025年高能级创新平台累计数达到多少家？")
        >>> s, e = best_window(t, {"高能级创新平台": 1.0, "2025": 1.0}, p, 40)
        >>> t[s:e]
        '到2025年，高能级创新平台累计数达到30家，'
        >>> t = "建设甲园、乙园五大集群，打造丙街区等五大特色街区，形成“5510”全域式孵化空间格局。"
        >>> p = profile_question("“5510”全域式孵化空间中的五大集群是哪些？")
        >>> s, e = best_window(t, {"5510": 5.0, "全域": 3.0, "五大": 4.0, "集群": 2.5}, p, 30)
        >>> t[s:e]
        '建设甲园、乙园五大集群，'
        >>> t = "国务院批准，授予甲等37项成果自然科学奖二等奖，授予乙等4项成果技术发明奖一等奖，授予丙等63项成果技术发明奖二等奖。"
        >>> p = profile_question("国务院决定的技术发明奖二等奖授予了多少项成果？")
        >>> s, e = best_window(t, {"国务院": 2.0, "发明": 3.9, "二等奖": 4.9, "成果": 1.7}, p, 45)
        >>> t[s:e]  # the clause that has the terms together, not two that share them out
        '授予丙等63项成果技术发明奖二等奖。'
    """
    clauses = split_clauses(text)
    if len(clauses) <= 1:
        return (0, min(len(text), limit)) if clauses else (0, len(text))
    scored = []
    for i in range(len(clauses)):
        for j in range(i, len(clauses)):
            start, end = clauses[i][0], clauses[j][1]
            if end - start > limit:
                break
            piece = text[start:end]
            if novelty(piece, profile.text) < NOVELTY_CHARS or piece.rstrip().endswith(("：", ":")):
                continue
            scored.append((_window_score(piece, weights, profile), end - start, start, end))
    anchor = count_anchor(profile.text, profile.count_phrase)
    if anchor and any(anchor in text[start:end] for *_, start, end in scored):
        scored = [item for item in scored if anchor in text[item[2]:item[3]]]  # quote where the count is named
    if not scored:
        return 0, min(len(text), limit)
    top = max(score for score, *_ in scored)
    _, _, start, end = min((item for item in scored if item[0] >= top - WINDOW_TOLERANCE), key=lambda item: item[1])
    return start, through_main_clause(text, clauses, start, end, limit)


# A clause that only sets up the sentence's predicate: a condition or topic ("…确定价格的，" "…给予奖励时，"
# "对以市场委托方式取得的横向经费，") — the answer is in the clause that follows.
_LEAD_IN_END = re.compile(r"(?:的|时|后|之前|以前|前提下|情况下|条件下|之外|以外|期间)[，,：:]?\s*$")
_LEAD_IN_START = re.compile(r"^\s*(?:对于?|关于|按照|依照|根据|凡)")
# A clause that carries the sentence's predicate after such a lead-in ("但…", "应当…", "不作负面评价").
_MAIN_CLAUSE_START = re.compile(r"^\s*(?:但|则|即|应当|应|可以|可|不得|不予|不作|不再|须|必须|予以|免予?|由)")


def through_main_clause(text: str, clauses: Sequence[tuple[int, int]], start: int, end: int, limit: int) -> int:
    """Where a quote ``text[start:end]`` should end so that it does not stop at a lead-in: while its last
    clause only sets up a predicate (a condition, a topic) or the next clause carries the predicate, the
    next clause is added (within ``limit`` characters).

    Example:
        >>> t = "科研单位以协议定价确定成果价格的，应当在本单位公示成果名称和拟交易价格。"
        >>> c = split_clauses(t)
        >>> t[0:through_main_clause(t, c, 0, c[0][1], 150)]
        '科研单位以协议定价确定成果价格的，应当在本单位公示成果名称和拟交易价格。'
        >>> t = "到2025年，高能级创新平台累计数达到30家，进入前列。"
        >>> c = split_clauses(t)
        >>> t[c[1][0]:through_main_clause(t, c, c[1][0], c[1][1], 150)]
        '高能级创新平台累计数达到30家，'
    """
    ends = [e for _, e in clauses]
    while end in ends and ends.index(end) + 1 < len(clauses):
        nxt_start, nxt_end = clauses[ends.index(end) + 1]
        window, following = text[start:end], text[nxt_start:nxt_end]
        leads_in = bool(_LEAD_IN_END.search(window)) or (bool(_LEAD_IN_START.search(window)) and "，" not in window.rstrip("，, "))
        if nxt_end - start > limit or not (leads_in or _MAIN_CLAUSE_START.search(following)):
            break
        end = nxt_end
    return end


def quote_row(row: str, weights: Mapping[str, float], profile: QuestionProfile) -> str:
    """Quote a table row line: its caption and label, then the fields the question asks about.

    Fields whose header or value matches a question term are kept (all fields when none match,
    or when they fit); long cells are cut.

    Example:
        >>> from answer.question import profile_question
        >>> row = "重大项目｜瓯江实验室：项目类型 新建；建设内容和规模 " + "安排场地，" * 20 + "；总投资（万元） 680000；建设单位 浙南科技城管委会"
        >>> quote_row(row, {"总投资": 1.0, "建设单位": 1.0, "瓯江实验室": 1.0}, profile_question("瓯江实验室总投资多少？建设单位是谁？"))
        '重大项目｜瓯江实验室：总投资（万元） 680000；建设单位 浙南科技城管委会'
    """
    head, _, fields_text = row.partition("：")
    fields = [f for f in fields_text.split("；") if f.strip()]
    if len(row) <= MAX_ROW_QUOTE_CHARS and not any(len(f) > 60 for f in fields):
        return row
    wanted = [
        f for f in fields
        if coverage(f.split(" ", 1)[0], "", weights) >= HEADER_MATCH or coverage(f, "", weights) >= FIELD_MATCH
    ]
    if not wanted:
        wanted = fields
    quoted = "；".join(f if len(f) <= 80 else f[:80] + "…" for f in wanted)
    return f"{head}：{quoted}"[:MAX_ROW_QUOTE_CHARS]


def card_field(card: str, field: str) -> str:
    """The ``field：value`` part of a document card line ('' when the card lacks the field).

    Example:
        >>> card = "【文件信息】标题：温岭市规划；文号：温发改〔2021〕170号；文种：规划。"
        >>> card_field(card, "文号"), card_field(card, "抄送")
        ('文号：温发改〔2021〕170号', '')
    """
    for part in card[len(CARD_MARK):].rstrip("。").split("；"):
        if part.startswith(f"{field}："):
            return part
    return ""


def quote_unit(
    text: str,
    weights: Mapping[str, float],
    profile: QuestionProfile,
    parts: Sequence[tuple[QuestionProfile, Mapping[str, float]]] = (),
) -> str:
    """The words to quote from an answer unit (a document card, a table row line, a sentence).

    ``parts`` are the sub-questions this unit answers (profile and term weights each): a
    sentence is quoted from the first to the last clause any of them (or the whole question) needs.
    A sentence that fits in ``MAX_QUOTE_CHARS`` is quoted whole: a clause window alone drops the
    clause beside it that completes the answer (a second figure, a "但…" proviso, a list's items).

    Example:
        >>> from answer.question import profile_question
        >>> t = ("2020年，我市战略性新兴产业增加值仅292.61亿元，占全省份额5.3%，居全省第7位，高新技术产业投资增速放缓，"
        ...      "规上工业企业研发经费支出增幅低于全省平均水平，企业研发机构覆盖率不高，科技成果转化能力有待提升，"
        ...      "高层次人才和创新团队引进培育不足，科技金融服务体系不够健全，创新生态仍需进一步优化，营商环境仍有短板。")
        >>> q1, q2 = profile_question("战略性新兴产业增加值是多少？"), profile_question("在全省排第几？")
        >>> w1, w2 = {"战略性新兴产业": 1.0, "增加值": 1.0}, {"全省": 1.0, "第几": 1.0}
        >>> quote_unit(t, {**w1, **w2}, q1)
        '我市战略性新兴产业增加值仅292.61亿元，占全省份额5.3%'
        >>> quote_unit(t, {**w1, **w2}, q1, [(q1, w1), (q2, w2)])
        '我市战略性新兴产业增加值仅292.61亿元，占全省份额5.3%，居全省第7位'
        >>> quote_unit("计入当年本单位绩效工资总量，但不受总量限制，不纳入总量基数。", {"绩效工资总量": 1.0}, q1)
        '计入当年本单位绩效工资总量，但不受总量限制，不纳入总量基数。'
    """
    fields = [card_field(text, name) for name in profile.meta_fields] if text.startswith(CARD_MARK) else []
    if any(fields):
        title = card_field(text, "标题")[len("标题："):]
        return "，".join([title, *(f for f in fields if f and not f.startswith("标题："))])
    if is_row_line(text):
        return quote_row(text, weights, profile)
    if len(text.strip()) <= MAX_QUOTE_CHARS:
        return text.strip().rstrip("，,；;：:")
    spans = [best_window(text, weights, profile)] + [best_window(text, w, p) for p, w in parts]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    return text[start:end].strip().rstrip("，,；;：:")


__all__ = ["best_window", "card_field", "count_anchor", "has_figure", "novelty", "quote_row", "quote_unit"]
