"""Choosing the sentence(s) or table row(s) that answer a question, and judging if any does.

Every unit (sentence, table row, list item) of the retrieved chunks is scored by how much of
the question's weighted terms it covers, itself or through its section heading and document
title, with bonuses for a figure when one is asked for and for the years the question names.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable, Collection, Mapping, Sequence

from answer.question import QuestionProfile
from answer.scoring import ScorerWeights, bigram_coverage, char_bigrams
from answer.sentences import row_head, split_units
from answer.subject import attribute_terms, character_coverage, defines
from index.steering import document_place, names_as_subject
from index.types import Hit
from ingest.pipeline import CARD_MARK
from ingest.structure import heading_level, heading_title, law_part
from ingest.types import Document

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

_DIGIT = re.compile(r"\d")
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*[-—–~至到]+\s*((?:19|20)\d{2})")
_CHINESE_COUNT = re.compile(
    r"(?<![〇零月])[一二三四五六七八九十两百千万]+(?:[个家项类条所名位亿元次批天日倍周成]|个月|年(?=[内以后起间，。；、）)]|$))"
    r"|百分之[一二三四五六七八九十百零〇点]+"
    r"|(?:连续|满|超过|不超过|不少于|不满)[一二三四五六七八九十两]+年"  # a span of years counted (连续两年未…)
)
_ITEM_LINE = re.compile(r"(?m)^\s*(?:[（(][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、])")
# The k-th five-year plan (十一五 … 十九五) by its Chinese name; from the third on, plan k ends in 1966 + 5(k-3) + 4.
_FIVE_YEAR_PLAN = re.compile(r"十([一二三四五六七八九])五")
_PLAN_ORDINAL = {c: i for i, c in enumerate("一二三四五六七八九", start=11)}
_LATIN_TOKEN = re.compile(r"^[a-z][a-z\-]*$")
# Numbers that are not figures: a list marker, a year, an ordinal (第四十三条, 第2款, 第142号).
_NOT_FIGURES = re.compile(
    r"^\s*[（(]?\d{1,2}[.．、)）]|(?<!\d)(?:19|20)\d{2}(?=\s*年)|第[\d一二三四五六七八九十百千零〇两]+[编章节条款项号届次]"
    r"|(?<!\d)\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"  # a month or a day of a date (2006年1月1日) is not an amount
)
_YEAR_TOKEN = re.compile(r"^(19|20)\d{2}$")
YEAR_IN_TEXT = re.compile(r"(?<!\d)(?:1\d|20)\d{2}\s*年")  # 1000–2099: a history's years count too
DATE = re.compile(r"\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日")
# A time that answers "什么时候/何时" (not "哪天", which wants a day): a year (also an era's 宽永3年 or 嘉靖五年),
# a month, a season, a century, a period; a span counted (5年内, 三年来) is not a time.
_TIME = re.compile(
    r"\d{1,4}\s*年(?![内来以间])|[〇零○一二三四五六七八九十]{1,4}年(?![内来以间])|\d{1,2}\s*月|[一二三四五六七八九十正冬腊]{1,2}月"
    r"|世纪|年代|[春夏秋冬][季天]|季节|时期|时代|期间|[早晚]年"
)
_NEXT_STEPS = re.compile(r"下一?步[，,：:]?\s*(?:我局|我们|我市|将)")  # where a reply turns from the year past to its plans
CONTEXT_CREDIT = 0.5
COMPANION_RATIO = 0.85
NOVELTY_SCALE = 20
LIST_CAP = 5
_ASIDE = re.compile(r"[（(][^）)]*[）)]|[、“”\s]")
PARAGRAPH_LABEL_CHARS = 8
_NOT_WORD = re.compile(r"[\s，。：:；;、]+")
_ACKNOWLEDGEMENT = re.compile(r"收悉(现[将就]?.{0,6}答复如下)?$")  # a reply's "您…所提的《…》收悉。": names the proposal, answers nothing
# A question asking how many things of a kind there are, and which: 哪几种方式, 几类主体 (classifier, noun).
_ASKED_KIND = re.compile(r"几\s*([种类个项条批家所])\s*([\u4e00-\u9fff]{2})")
_CHINESE_DIGITS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@dataclass(frozen=True)
class Unit:
    """A candidate answer unit: a span of a hit's chunk, with its score."""

    hit: Hit
    start: int  # offset in the chunk text
    end: int
    score: float
    coverage: float
    features: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return self.hit.chunk.text[self.start:self.end]

    @property
    def subject(self) -> str:
        """The unit with what it is about: a table cell with its row's label."""
        return unit_subject(self.hit.chunk.text, self.start, self.end)

    @property
    def doc_start(self) -> int:
        return self.hit.chunk.start + self.start

    @property
    def doc_end(self) -> int:
        return self.hit.chunk.start + self.end


def unit_subject(chunk_text: str, start: int, end: int) -> str:
    """The unit ``chunk_text[start:end]``, preceded by its row's ``caption｜label：`` when it is a
    table cell after the label (every cell of a row is about its label)."""
    return row_head(chunk_text, start) + chunk_text[start:end]


@dataclass(frozen=True)
class TermWeights:
    """The question's terms with their weights; ``missing`` are strong terms no chunk has."""

    weights: Mapping[str, float]
    missing: tuple[str, ...]


def weigh_terms(tokens: Sequence[str], idf: Callable[[str], float], english: bool) -> TermWeights:
    """Weight question tokens by IDF; list the years the question names that no chunk has.

    Example:
        >>> tw = weigh_terms(["温岭", "2030", "94", "目标"], {"温岭": 2.0, "目标": 0.5}.get, False)
        >>> dict(tw.weights), tw.missing
        ({'温岭': 2.0, '目标': 0.5}, ('2030',))
    """
    weights: dict[str, float] = {}
    missing = []
    for token in dict.fromkeys(tokens):
        if english and _LATIN_TOKEN.match(token):
            continue
        weight = idf(token) or 0.0
        if weight > 0:
            weights[token] = weight
        elif _YEAR_TOKEN.match(token):
            missing.append(token)
    return TermWeights(weights, tuple(missing))


def coverage(text: str, context: str, weights: Mapping[str, float]) -> float:
    """Share of the question's term weight found in ``text`` (full) or ``context`` (half).

    Example:
        >>> coverage("科技型中小企业数达1800家", "温岭市规划", {"温岭": 1.0, "科技型中小企业": 1.0})
        0.75
    """
    total = sum(weights.values())
    if total == 0:
        return 0.0
    lowered, context = text.lower(), context.lower()
    found = sum(w if t in lowered else w * CONTEXT_CREDIT if t in context else 0.0 for t, w in weights.items())
    return found / total


def title_coverage(text: str, title: str, weights: Mapping[str, float]) -> float:
    """Share of the question's term weight that ``text`` lacks and its document's ``title`` (lowercased)
    holds: a sentence about the title's subject often leaves it unsaid (它分布于…, 花期为…).

    Example:
        >>> title_coverage("花期为3-8月", "夜来香", {"夜来香": 3.0, "花期": 1.0})
        0.75
    """
    total = sum(weights.values())
    lowered = text.lower()
    return sum(w for t, w in weights.items() if t.lower() not in lowered and t.lower() in title) / total if total else 0.0


def reporting_years(document: Document, paragraph: str, at: int | None = None) -> str:
    """The year a reply speaks of without naming it: one dated 2023 reports on 2022, and from its
    下一步/下步 ("next steps") on, plans 2023. Only for paragraphs that name no year themselves, and
    only for replies (答复函); ``at`` is the paragraph's offset in the document (both years when unknown).

    Example:
        >>> text = "答复如下：全年新增孵化空间152万平方米。下一步，我们将新增孵化面积180万平方米。"
        >>> d = Document("r", "r", "答复", text, "0", meta={"文种": "答复函", "成文日期": "2023年6月20日"})
        >>> reporting_years(d, "全年新增孵化空间152万平方米", 5), reporting_years(d, "新增孵化面积180万平方米", 30)
        ('2022年', '2023年')
        >>> reporting_years(d, "全年新增孵化空间152万平方米"), reporting_years(d, "2020年排名第80位", 5)
        ('2022年 2023年', '')
    """
    planned = plan_year(document)
    if not planned or YEAR_IN_TEXT.search(paragraph):
        return ""
    year = int(planned[:4])
    if at is None:
        return f"{year - 1}年 {year}年"
    plans = _NEXT_STEPS.search(document.text)
    return f"{year}年" if plans and at >= plans.start() else f"{year - 1}年"


def plan_year(document: Document) -> str:
    """The year a reply's 下一步 part plans for: the year it is dated ('' for other documents)."""
    date = document.meta.get("成文日期", "")
    return f"{date[:4]}年" if document.meta.get("文种") == "答复函" and YEAR_IN_TEXT.match(date) else ""


def score_units(
    hits: Sequence[Hit],
    documents: Mapping[str, Document],
    profile: QuestionProfile,
    weights: Mapping[str, float],
    scorer: ScorerWeights,
) -> list[Unit]:
    """Score every unit of every hit by ``scorer``'s weights over its :func:`unit_features`; best first."""
    units = []
    question_bigrams = char_bigrams(profile.text)
    best_hit = max((h.score for h in hits), default=0.0) or 1.0
    for hit in hits:
        chunk = hit.chunk
        document = documents.get(chunk.doc_id)
        title = document.title if document else ""
        context = f"{title} {chunk.heading_path} {chunk.text}"
        unit_scope = UnitScope(document, document_place(document) if document else "",
                               document_identity(document) if document else "", context, question_bigrams,
                               hit.score / best_hit, title.lower(), attribute_terms(weights, title))
        for start, end in split_units(chunk.text):
            features = unit_features(hit, start, end, unit_scope, profile, weights)
            units.append(Unit(hit, start, end, 0.0, features["coverage"], features))
    best_stated: dict[str, float] = {}
    for unit in units:  # attribute_gap holds the unit's own share until here
        doc_id = unit.hit.chunk.doc_id
        best_stated[doc_id] = max(best_stated.get(doc_id, 0.0), unit.features["attribute_gap"])
    scored = []
    for unit in units:
        # Within a document, how far a unit falls short of the unit that best states what is asked;
        # each document's best unit gets 0, so a document whose title shares no question term loses nothing.
        features = {**unit.features, "attribute_gap": unit.features["attribute_gap"] - best_stated[unit.hit.chunk.doc_id]}
        scored.append(dataclasses.replace(unit, score=scorer.score(features), features=features))
    units = scored
    units.sort(key=lambda u: -u.score)
    return units


@dataclass(frozen=True)
class UnitScope:
    """What every unit of one passage shares: its document, place, identity line and context."""

    document: Document | None
    place: str
    identity: str
    context: str
    question_bigrams: set[str]
    retrieval_score: float  # the passage's fused score over the best passage's
    title: str = ""  # the document's title, lowercased
    attributes: Mapping[str, float] = field(default_factory=dict)  # the question's terms the title lacks


def unit_features(
    hit: Hit, start: int, end: int, scope: UnitScope, profile: QuestionProfile, weights: Mapping[str, float]
) -> dict[str, float]:
    """The named features (:data:`answer.scoring.FEATURES`) of the unit ``hit.chunk.text[start:end]``."""
    chunk, document = hit.chunk, scope.document
    text = chunk.text[start:end]
    subject = unit_subject(chunk.text, start, end)
    is_card = text.startswith(CARD_MARK)
    listed = enumeration_size(text) if profile.wants_list else 0
    asked_items = asked_count(profile.count_phrase)
    counted = stated_count(text, profile.text) if profile.wants_list else 0
    features = {
        "coverage": coverage(subject, scope.context, weights),
        "bigram_coverage": bigram_coverage(subject, scope.question_bigrams),
        # A question about the document itself (its 文号, 落款…) names it by its title: no unit's implied subject.
        "title_coverage": 0.0 if profile.asks_meta else title_coverage(subject, scope.title, weights),
        "attribute_gap": character_coverage(subject, scope.attributes),  # the unit's share; score_units makes it a gap
        "defines_subject": float(bool(profile.defined) and defines(text, profile.defined)),
        "rank_prior": 1.0 / hit.rank,
        "retrieval_score": scope.retrieval_score,
        "length": min(1.0, len(text) / 100),
        "novelty": min(1.0, novelty(text, profile.text) / NOVELTY_SCALE),
        "heading_or_identity": float(is_bare_heading(text) or (not profile.asks_meta and is_identity_line(text, scope.identity))),
        # The answer types a content question asks for; a filing card's dates and numbers are not content.
        "figure_wanted": float(profile.wants_number and not is_card and has_figure(text)),
        "year_wanted": float(profile.wants_year and not is_card and bool(YEAR_IN_TEXT.search(text))),
        "date_wanted": float(profile.wants_date and not is_card and bool(DATE.search(text))),
        # "什么时候/何时" is answered by a year as well (not "哪天/几月", which ask for a day).
        "year_for_when": float(profile.wants_date and not profile.wants_day and not is_card
                               and not DATE.search(text) and bool(YEAR_IN_TEXT.search(text))),
        "card_for_field": float(is_card and bool(profile.meta_fields)),
        "card_for_content": float(is_card and not profile.asks_meta),
        "list_items": float(min(listed, asked_items or LIST_CAP)),
        "list_exact_count": float((bool(asked_items) and listed == asked_items) or (bool(counted) and listed == counted)),
        "quoted_phrase": float(bool(profile.quoted) and quotes_phrase(text, profile.quoted)),
        "count_phrase": float((bool(profile.count_phrase) and profile.count_phrase.replace("个方面", "方面") in text)
                              or bool(counted)),
        "plan_part": 0.0, "year_named": 0.0, "year_implied": 0.0, "year_other": 0.0,
        "place_mismatch": float(bool(profile.places)
                                and not is_about_places(subject, chunk.text, end, scope.place, profile.places)),
    }
    if profile.asks_plans and document and not profile.years:
        said = reporting_years(document, text, chunk.start + start)
        features["plan_part"] = float(bool(said) and said == plan_year(document))  # a reply's 下一步 part
    for year in profile.years:
        if year in text:
            features["year_named"] += 1
        elif document and reporting_years(document, text, chunk.start + start).startswith(year):
            features["year_implied"] += 1  # the year a reply reports on, implied
        elif re.search(r"20\d\d", text):
            features["year_other"] += 1
    return features


def quotes_phrase(text: str, phrases: Collection[str]) -> bool:
    """Whether ``text`` has one of the quoted ``phrases``, also when it spells it out with asides
    ("一区（…）、一岛（…）、一城（…）" has “一区一岛一城”).

    Example:
        >>> quotes_phrase("以“一区（高新园区）、一岛（科技岛）、一城（农业科技城）”为引领", ["一区一岛一城"])
        True
    """
    plain = _ASIDE.sub("", text)
    return any(phrase in text or _ASIDE.sub("", phrase) in plain for phrase in phrases)


def asked_count(count_phrase: str) -> int:
    """How many items a count phrase asks for ('三方面' → 3; 0 when none or unclear).

    Example:
        >>> asked_count("三方面"), asked_count("两大"), asked_count("")
        (3, 2, 0)
    """
    return _CHINESE_DIGITS.get(count_phrase[:1], 0) if count_phrase else 0


def stated_count(text: str, question: str) -> int:
    """How many things of the kind a question asks the number of ("哪几种方式", "几类主体") ``text`` says
    there are ("…和交换共享三种方式" → 3); 0 when the question asks no such kind or ``text`` counts none.

    Example:
        >>> stated_count("专家入库采取公开征集、特邀入库和交换共享三种方式。", "专家入库有哪几种方式？")
        3
        >>> stated_count("专家入库采取公开征集方式。", "专家入库有哪几种方式？"), stated_count("共三种方式", "有什么方式？")
        (0, 0)
    """
    asked = _ASKED_KIND.search(question)
    if not asked:
        return 0
    counted = re.search(rf"([一二两三四五六七八九十]|\d{{1,2}})\s*{asked.group(1)}{asked.group(2)}", text)
    if not counted:
        return 0
    number = counted.group(1)
    return int(number) if number.isdigit() else _CHINESE_DIGITS.get(number, 0)


def is_bare_heading(text: str) -> bool:
    """Whether a unit is only a heading: it names a section and says nothing itself.

    Example:
        >>> is_bare_heading("专栏1：自创区八大攻坚行动"), is_bare_heading("（三）推动两大新兴产业创新发展")
        (True, True)
        >>> is_bare_heading("2.培育创新型领军（瞪羚）企业。"), is_bare_heading("1.高能级平台建设有序推进。“十三五”期间，建成30家")
        (True, False)
        >>> is_bare_heading("第七条 专家入库采取公开征集、特邀入库和交换共享三种方式。"), is_bare_heading("第七条")
        (False, True)
    """
    stripped = text.strip()
    article = law_part(stripped)
    if article and article[0] == "条":
        return stripped == article[1]  # an article's first sentence is content, not a heading
    return heading_level(stripped) is not None and heading_title(stripped) == stripped.rstrip("。；;：:")


def document_identity(document: Document) -> str:
    """What names a document: its title, 文号 and addressee.

    Example:
        >>> document_identity(Document("d", "d", "关于第142号提案的答复函", "", "0", meta={"文号": "温科提复〔2023〕94号"}))
        '关于第142号提案的答复函 温科提复〔2023〕94号 '
    """
    return f"{document.title} {document.meta.get('文号', '')} {document.meta.get('主送', '')}"


def is_identity_line(text: str, identity: str) -> bool:
    """Whether a unit only repeats what names its document (the title line, the 文号 line, the
    addressee, a reply's acknowledgement of the proposal): it picks the document but answers
    nothing in it.

    Example:
        >>> ident = "关于第142号提案的答复函 温科提复〔2023〕94号 洪晓畅委员"
        >>> is_identity_line("关于第142号提案的 答复函", ident), is_identity_line("洪晓畅委员：", ident), is_identity_line("新增机构100家。", ident)
        (True, True, False)
        >>> is_identity_line("您在市政协十二届二次会议期间所提的《关于聚焦“三力”的提案》（政协提案142号）收悉。", ident)
        True
    """
    squeezed = _NOT_WORD.sub("", text)
    return bool(squeezed) and (squeezed in _NOT_WORD.sub("", identity) or bool(_ACKNOWLEDGEMENT.search(squeezed)))


def paragraph_before(text: str, end: int) -> str:
    r"""The paragraph of ``text`` that ends at ``end``: a unit's own words and those before it
    on its line (its first words label it: "永嘉：规划以……。园区形成……" scopes the second
    sentence to 永嘉 too).

    Example:
        >>> t = "乐清：建成平台。\n永嘉：规划园区。力争产值40亿元。"
        >>> paragraph_before(t, len(t))
        '永嘉：规划园区。力争产值40亿元。'
    """
    return text[text.rfind("\n", 0, max(end - 1, 0)) + 1:end]


def is_about_places(text: str, chunk_text: str, end: int, document_place: str, places: Collection[str]) -> bool:
    """Whether a unit (``text``, ending at ``end`` in ``chunk_text``) is about one of ``places``:
    its document's place, a place it names, or the place that labels its paragraph ("永嘉：规划…")."""
    return (
        document_place in places
        or names_place(text, places)
        or names_place(paragraph_before(chunk_text, end)[:PARAGRAPH_LABEL_CHARS], places)
    )


def names_place(text: str, places: Collection[str]) -> bool:
    """Whether ``text`` names one of ``places`` (any of its names: 温州, 温州市, Wenzhou…), other than
    as a location (位于北京, 对接北京: :func:`index.steering.names_as_subject`).

    Example:
        >>> names_place("永嘉县省级高新园区", {"永嘉"}), names_place("乐清市", {"温岭"})
        (True, False)
    """
    return names_as_subject(text, places)


def novelty(text: str, question: str) -> int:
    """How much ``text`` says beyond ``question``: Chinese characters the question lacks, plus the
    digits of numbers the question does not contain.

    Example:
        >>> novelty("联系人：", "联系人是谁"), novelty("联系人：刘焕斌", "联系人是谁"), novelty("达到30家", "2025年达到多少家")
        (0, 3, 2)
    """
    asked = set(question)
    asked_numbers = set(_NUMBER.findall(question))
    new_chars = sum(1 for ch in text if _CJK.match(ch) and ch not in asked)
    return new_chars + sum(len(n) for n in set(_NUMBER.findall(text)) - asked_numbers)


def enumeration_size(text: str) -> int:
    """How many items a sentence enumerates (``甲、乙和丙`` → 3; 0 when it lists nothing).

    Example:
        >>> enumeration_size("聚焦智能装备、生命健康、新能源等新兴产业"), enumeration_size("加强组织领导。")
        (3, 0)
    """
    items = len(_ITEM_LINE.findall(text))
    if items >= 2:
        return items  # a lead-in with its enumerated items, one per line
    separators = text.count("、") + len(re.findall(r"以及|和|及", text))
    return separators + 1 if text.count("、") else 0


def mentions_year(text: str, year: str) -> bool:
    """Whether ``text`` names ``year`` itself or a span of years that contains it.

    A five-year plan named in Chinese (“十四五”) names its target year, the last of its span (2025), not
    the years between, for which it sets nothing.

    Example:
        >>> mentions_year("行动计划(2022—2024年)", "2023"), mentions_year("到2025年", "2030")
        (True, False)
        >>> mentions_year("“十四五”国家应急体系规划", "2025"), mentions_year("“十四五”规划", "2023")
        (True, False)
    """
    if year in text:
        return True
    target = int(year)
    if any(int(a) <= target <= int(b) for a, b in _YEAR_RANGE.findall(text)):
        return True
    starts = (1966 + 5 * (_PLAN_ORDINAL[k] - 3) for k in _FIVE_YEAR_PLAN.findall(text))
    return any(target == start + 4 for start in starts)


def states_time(text: str) -> bool:
    """Whether ``text`` states a time that answers "什么时候" (a date, a year, a month, a season, a period).

    Example:
        >>> states_time("于宽永3年建成"), states_time("盛产期为6-9月"), states_time("多在秋季迁徙"), states_time("3年内完成")
        (True, True, True, False)
    """
    return bool(DATE.search(text) or _TIME.search(text))


def has_figure(text: str) -> bool:
    """Whether ``text`` states a figure: a number that is not just a list marker or a year, or a
    Chinese numeral with a measure word.

    Example:
        >>> has_figure("建成十个平台"), has_figure("1.建设瓯江实验室。"), has_figure("到2025年，加快建设"), has_figure("达到30家")
        (True, False, False, True)
        >>> has_figure("第三十一条 建立多元化投入体系"), has_figure("第三十一条 补助比例为10%")
        (False, True)
        >>> has_figure("给予不低于百分之八十五的奖励"), has_figure("在五年内不得委托"), has_figure("二〇〇六年九月七日")
        (True, True, False)
        >>> has_figure("开展三年行动计划"), has_figure("专家连续两年未确认信息")  # a plan's name; a span counted
        (False, True)
        >>> has_figure("英文版于2006年1月1日正式开通"), has_figure("有10个开通了英文版")
        (False, True)
    """
    body = _NOT_FIGURES.sub("", text)
    return bool(_DIGIT.search(body) or _CHINESE_COUNT.search(body))
