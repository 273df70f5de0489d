"""What a question asks for: its terms, whether it wants a figure or a list, years, places."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index.steering import question_places

_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")
# A question that asks for an amount itself (not one that merely names a 比重 or a 目标).
_AMOUNT_CUES = r"多少|多[大长高快久远]|几[家个项人所名位次亿万年天倍成]|百分之几|第几|how many|how much|what percentage|what share|what rank"
_ASKS_AMOUNT = re.compile(_AMOUNT_CUES, re.I)
# A question whose answer is a figure: an amount asked for, or a measured topic named.
_WANTS_NUMBER = re.compile(
    _AMOUNT_CUES + r"|比重|占比|比例|增速|数量|规模|金额|面积|排名|目标值|达到|增幅|绩效|"
    r"number of|target|total investment|how large|how big",
    re.I,
)
_WANTS_LIST = re.compile(r"哪些|哪几(?!年)|哪[两二三四五六七八九十][个项类家大条所]|包括什么|包括哪|有什么(?!要求|目标)|列举|几大|几个方面|内容是什么|which|what are|list", re.I)
_COMPARISON = re.compile(r"分别|相比|对比|比较|和.{1,8}的.{0,10}(各|都)|compare|respectively|both", re.I)
_WANTS_MANY = re.compile(r"各|分别|以及|和.{0,12}(多少|几)|哪几|哪些|respectively|each|and .{0,30}(how many|how much)", re.I)
_ASKS_META = re.compile(
    r"文号|发文|印发|成文|落款|日期|哪天|哪一天|标题|题目|机关|哪个部门|哪两个部门|哪些部门|文种|抄送|联系人|收件|"
    r"哪位|答复的是|什么会议|哪次会议|会议期间|审议|电话|联系方式|传真|邮箱|网址|施行|生效|有效期|发布|修订|修正|"
    r"document number|issued|date|who signed|addressed|contact|phone|take effect|in force|valid",
    re.I,
)
# Which filing field a metadata question asks for (checked in this order).
META_FIELD_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("印发日期", re.compile(r"印发(日期|时间)|哪天印发|printed")),
    ("施行日期", re.compile(r"施行|生效|实施(日期|时间)|起实施|take effect|in force", re.I)),
    ("有效期至", re.compile(r"有效期|失效|到期|valid until|expire", re.I)),
    ("发布日期", re.compile(r"发布(日期|时间)|哪天发布|published", re.I)),
    ("修订", re.compile(r"修订|修正|amended|revised", re.I)),
    ("通过", re.compile(r"(哪次|什么|哪个)会议.{0,4}通过|通过.{0,6}(哪次|什么|哪个)会议|adopted", re.I)),
    ("批准", re.compile(r"(哪次|什么|哪个)会议.{0,4}批准|批准.{0,6}(哪次|什么|哪个)会议|由谁批准|approved", re.I)),
    ("成文日期", re.compile(r"成文日期|落款日期|落款|(?<!施行|生效|有效|发布)(哪天|哪一天|日期)(?!起)|what date|\bdate\b|signed", re.I)),
    ("文号", re.compile(r"文号|字号|(?<!第)多少号|document number", re.I)),
    ("抄送", re.compile(r"抄送|copied to", re.I)),
    ("主送", re.compile(r"主送|答复(的是)?(哪位|谁)|答复给谁|哪位(人大)?代表|哪位(政协)?委员|addressed", re.I)),
    ("发文机关", re.compile(r"发文机关|哪个部门|哪两个部门|哪些部门|哪个单位|联合印发|谁印发|谁发|issued by|which (department|bureau)", re.I)),
    ("所答建议", re.compile(r"(提案|建议)的?(题目|标题|名称|全称)|什么(提案|建议)|哪份(提案|建议)|title of the (proposal|suggestion)", re.I)),
    ("标题", re.compile(r"标题|题目|文件名|title", re.I)),
    ("联系人", re.compile(r"联系人|contact person|who .{0,20}contact", re.I)),
    ("联系电话", re.compile(r"联系电话|联系方式|(?<!传真)电话|phone", re.I)),
    ("传真", re.compile(r"传真|\bfax\b", re.I)),
    ("电子邮箱", re.compile(r"邮箱|电子邮件|e-?mail", re.I)),
    ("网址", re.compile(r"网址|网站地址|\bwebsite\b|\burl\b", re.I)),
)
_SPECIFIC_DATES = {"印发日期", "施行日期", "有效期至", "发布日期", "修订"}
_SIGNING_DATE = re.compile(r"成文|落款|signed", re.I)


def asked_fields(asked: str) -> tuple[str, ...]:
    """The filing fields a question asks for; a date it names precisely (施行, 有效期, 发布…) is not
    also the signing date (成文日期) unless that is asked too.

    Example:
        >>> asked_fields("从哪天起施行？有效期到哪天？"), asked_fields("成文日期和发布日期分别是哪天？")
        (('施行日期', '有效期至'), ('发布日期', '成文日期'))
    """
    fields = tuple(name for name, cue in META_FIELD_CUES if cue.search(asked))
    if _SPECIFIC_DATES.intersection(fields) and not _SIGNING_DATE.search(asked):
        fields = tuple(f for f in fields if f != "成文日期")
    return fields


_MEASURE = re.compile(r"多少(亿元|万元|元|平方公里|万平方米|平方米|亩|吨|台|件|人年)")
_MONEY = re.compile(r"投资额|总投资|金额|资金规模|多少钱|how much .{0,40}invest|funding of", re.I)
_RATIO = re.compile(r"比重|占比|比例|增速|%|share|percentage|ratio", re.I)
_WANTS_YEAR = re.compile(r"哪一?年(?!度)|哪几年|何年|什么时候|何时|哪个年份|期限|起止|which year|\bwhen\b|by what year|what period|which years", re.I)
_WANTS_DAY = re.compile(r"哪天|哪一天|几月|几号|几日|日期|what date|which day", re.I)
_WANTS_DATE = re.compile(r"哪天|哪一天|几月|日期|什么时候|何时|what date|\bwhen\b", re.I)
_ASKS_PLANS = re.compile(r"下一?步|接下来|今后|next step", re.I)
_ASKS_RANK = re.compile(r"排[名在]?第几|第几[位名]|排名(多少|如何|怎样)|名次|what rank|which place|ranked", re.I)
_HOW_MANY = re.compile(r"多少|how many|how much", re.I)
_COUNT_PHRASE = re.compile(r"[两二三四五六七八九十](?:大|个方面|方面|类|项|家|条|个)")
_JOINED_NAME = re.compile(r"[\u4e00-\u9fff]{2}[-—–－][\u4e00-\u9fff]{2}")  # "鹿城-泰顺总部科创园": one name, not two places
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_QUESTION_WORD = re.compile(r"多少|什么|哪|几|谁|如何|怎么|怎样|是否|吗|\b(what|which|how|who|when|where)\b(?! about)", re.I)

DATA = Path(__file__).resolve().parent / "data"


def read_term_pairs(path: Path) -> dict[str, str]:
    """``asked → documents' term`` pairs from a tab-separated data file ('#' lines are comments).

    Example:
        >>> read_term_pairs(DATA / "paraphrases.tsv")["营收"]
        '营业收入'
    """
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            asked, term = line.split("\t", 1)
            pairs[asked.strip().lower()] = term.strip()
    return pairs


# Vocabulary as data a site can extend: English terms of questions, and staff's words for the documents' words.
GLOSSARY = read_term_pairs(DATA / "english_glossary.tsv")


@dataclass(frozen=True)
class QuestionProfile:
    """The parts of a question that decide which sentence answers it."""

    text: str
    search_text: str  # what is searched: the question, with English domain terms glossed in Chinese
    wants_number: bool
    asks_amount: bool  # "多少", "第几"…: an answer without a figure does not answer it
    wants_list: bool
    is_comparison: bool
    wants_many: bool
    asks_meta: bool
    meta_fields: tuple[str, ...]  # the filing fields asked for (empty when none)
    measure: str  # the unit the figure must come in ('亿元', '元' for money…; '' when any)
    wants_date: bool
    wants_year: bool  # "哪一年…建成": the answer is a year
    count_phrase: str  # "三方面", "五大"…: the size of the enumeration asked for ('' when none)
    years: frozenset[str]
    places: frozenset[str]
    english: bool
    asks_plans: bool = False  # "下一步…要": what a reply plans, not what it reports
    asks_rank: bool = False  # "排第几": only a rank (第7位, 前40%) answers it
    quoted: tuple[str, ...] = ()  # phrases the question puts in quotation marks (“五倍增”)
    wants_day: bool = False  # "哪天", "几月", "日期": a year alone does not answer it ("什么时候" takes a year)
    defined: str = ""  # "什么是X？", "X是指什么？": the X whose definition is asked ('' when none)


_DEFINITION = re.compile(r"^(?:什么是|何为|何谓|什么叫)(?P<a>.+?)[？?。]*$|^(?P<b>.+?)(?:是什么|是指什么|指什么|指的是什么|的定义是什么|是啥)[？?。]*$")
_SUBJECT_TRIM = "“”\"'《》「」 "
_ASIDE_ADVERB = re.compile(r"(?:分别|具体|究竟|到底|主要|都)$")


def defined_subject(question: str) -> str:
    """The thing whose definition a question asks for ('' when it asks something else).

    Example:
        >>> defined_subject("什么是“里坊制”？"), defined_subject("联合攻关体是指什么？"), defined_subject("X的用途是什么？")
        ('里坊制', '联合攻关体', '')
        >>> defined_subject("湖州“一廊两区”分别指什么？")
        '一廊两区'
    """
    asked = _DEFINITION.match(question.strip())
    subject = _ASIDE_ADVERB.sub("", (asked.group("a") or asked.group("b")).strip()) if asked else ""
    quoted = re.search(r"[“\"「《]([^”\"」》]+)[”\"」》]", subject)
    subject = quoted.group(1) if quoted else subject.strip(_SUBJECT_TRIM)  # X“甲乙丙” asks what 甲乙丙 is
    return subject if subject and not re.search(r"[的之]", subject) and len(subject) <= 20 else ""


# Up to three English words followed by the asker's Chinese for them in brackets.
_GLOSSED_BY_ASKER = re.compile(r"(?:[a-z&\-]+\s+){0,2}[a-z&\-]+\s*[（(][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


# How questions paraphrase what the documents write (question word → the documents' word).
DOCUMENT_WORDS = read_term_pairs(DATA / "paraphrases.tsv")


def with_document_words(question: str) -> str:
    """Append the documents' words for the paraphrases a Chinese question uses.

    Example:
        >>> with_document_words("高新技术产业投资的年增幅有什么要求？")
        '高新技术产业投资的年增幅有什么要求？ 增长'
    """
    found = [word for asked, word in DOCUMENT_WORDS.items() if asked in question and word not in question]
    return f"{question} {' '.join(dict.fromkeys(found))}" if found else question


def gloss_english(question: str) -> str:
    """Append Chinese equivalents of the English domain terms a question uses.

    Example:
        >>> gloss_english("How many high-tech enterprises in Wenling by 2025?")
        'How many high-tech enterprises in Wenling by 2025? 高新技术企业 到2025年 2025年 企业 温岭'

        Words the asker glosses in Chinese themselves are not glossed again:

        >>> gloss_english("Wenling's target for total R&D spending (全社会R&D经费投入)?")
        "Wenling's target for total R&D spending (全社会R&D经费投入)? 目标 温岭"
    """
    lowered = _GLOSSED_BY_ASKER.sub(" ", question.lower())  # "R&D spending (全社会R&D经费投入)": the asker's own term
    found = [chinese for english, chinese in GLOSSARY.items() if re.search(rf"(?<![a-z]){re.escape(english)}(?![a-z])", lowered)]
    unique = list(dict.fromkeys(found))
    return f"{question} {' '.join(unique)}" if unique else question


def is_english(question: str) -> bool:
    """True when a question is written mostly in Latin letters.

    Example:
        >>> is_english("What is the 2025 target?"), is_english("温州R&D目标")
        (True, False)
    """
    return len(_LATIN.findall(question)) > 2 * len(_CJK.findall(question))


def asked_measure(question: str) -> str:
    """The unit a figure must be given in for the question to be answered ('' when any will do).

    Example:
        >>> asked_measure("要实现多少亿元产值？"), asked_measure("总投资额是多少？"), asked_measure("比重是多少？")
        ('亿元', '元', '')
    """
    match = _MEASURE.search(question)
    if match:
        return match.group(1)
    if _MONEY.search(question) and not _RATIO.search(question):
        return "元"
    return ""


def asks_itself(question: str) -> bool:
    """Whether a question carries its own question word (a follow-up like '那温岭呢？' does not).

    Example:
        >>> asks_itself("其中哪家企业是龙头？"), asks_itself("那温岭呢？"), asks_itself("What about Wenling?")
        (True, False, False)
    """
    return bool(_QUESTION_WORD.search(question))


_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]")


def quoted_phrases(question: str) -> list[str]:
    """The phrases a question puts in quotation marks (“五倍增”, "2+2+2").

    Example:
        >>> quoted_phrases("温岭规划文字中列出的“五倍增”是哪五项？"), quoted_phrases("温岭的目标？")
        (['五倍增'], [])
    """
    return list(dict.fromkeys(_QUOTED.findall(question)))


def profile_question(question: str, intent: str | None = None) -> QuestionProfile:
    """Describe what ``question`` asks for; what kind of answer it wants (a figure, a list, a
    filing field…) is read from ``intent`` when given (the follow-up itself, when a follow-up
    was searched together with the question before it).

    Example:
        >>> p = profile_question("温州和温岭到2025年科技型中小企业分别要达到多少家？")
        >>> p.wants_number, p.is_comparison, sorted(p.years), sorted(p.places)
        (True, True, ['2025'], ['温岭', '温州'])
        >>> sorted(profile_question("鹿城-泰顺总部科创园的总建筑面积是多少？").places)
        []
        >>> profile_question("温岭的两大新兴产业是哪两个？ 其中医疗健康以哪家企业为龙头", "其中医疗健康以哪家企业为龙头？").wants_list
        False
    """
    question = _THOUSANDS.sub("", question)
    asked = _THOUSANDS.sub("", intent) if intent else question
    english = is_english(question)
    search_text = gloss_english(question) if english else with_document_words(question)
    wants_list = bool(_WANTS_LIST.search(asked))
    list_without_amount = wants_list and not _HOW_MANY.search(asked)  # "哪些…" wants names, not figures
    count = _COUNT_PHRASE.search(asked)
    places = question_places(_JOINED_NAME.sub("", search_text if english else question))  # English place names, glossed
    return QuestionProfile(
        text=question,
        search_text=search_text,
        wants_number=bool(_WANTS_NUMBER.search(asked)) and not list_without_amount,
        asks_amount=bool(_ASKS_AMOUNT.search(asked)) and not list_without_amount,
        wants_list=wants_list,
        is_comparison=bool(_COMPARISON.search(asked)) or len(places) >= 2,
        wants_many=bool(_WANTS_MANY.search(asked)),
        asks_meta=bool(_ASKS_META.search(asked)),
        meta_fields=asked_fields(asked),
        measure=asked_measure(asked),
        wants_date=bool(_WANTS_DATE.search(asked)),
        wants_day=bool(_WANTS_DAY.search(asked)),
        wants_year=bool(_WANTS_YEAR.search(asked)),
        asks_plans=bool(_ASKS_PLANS.search(asked)),
        count_phrase=count.group(0) if count else "",
        years=frozenset(_YEAR.findall(question)),
        places=frozenset(places),
        english=english,
        quoted=tuple(quoted_phrases(question)),
        asks_rank=bool(_ASKS_RANK.search(asked)),
        defined=defined_subject(question),
    )
