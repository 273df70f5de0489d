"""What a question asks for: its terms, whether it wants a figure or a list, years, places."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    r"哪位|答复的是|什么会议|哪次会议|会议期间|审议|电话|联系方式|施行|生效|有效期|发布|修订|修正|"
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
    ("联系电话", re.compile(r"联系电话|联系方式|电话|phone", re.I)),
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

# Domain vocabulary for English questions about Chinese documents: terms, not questions.
GLOSSARY = {
    "high-tech enterprise": "高新技术企业", "high-tech enterprises": "高新技术企业",
    "high-tech zone": "高新区", "high-tech park": "高新园区", "high-tech industry": "高新技术产业",
    "sci-tech smes": "科技型中小企业", "technology-based smes": "科技型中小企业", "smes": "科技型中小企业",
    "small and medium": "科技型中小企业",
    "innovation platform": "创新平台", "innovation platforms": "创新平台", "high-level": "高能级",
    "r&d": "R&D", "research and development": "研发", "gdp": "地区生产总值",
    "patent": "发明专利", "patents": "发明专利", "incubator": "孵化器", "incubators": "孵化器",
    "incubation": "孵化", "talent": "人才", "talents": "人才", "laboratory": "实验室", "lab": "实验室",
    "technology transaction": "技术交易", "technology market": "技术交易",
    "digital economy": "数字经济", "investment": "投资", "fund": "基金", "target": "目标",
    "goal": "目标", "goals": "目标", "by 2025": "到2025年", "2025": "2025年", "2024": "2024年",
    "2022": "2022年", "2023": "2023年", "2020": "2020年",
    "reply": "答复", "proposal": "提案", "suggestion": "建议", "document number": "文号",
    "five-year plan": "十四五规划", "14th five-year": "十四五", "action plan": "行动计划",
    "science and technology bureau": "科学技术局", "new r&d institutions": "新型研发机构",
    "research institute": "研究院", "enterprises": "企业", "enterprise": "企业", "funding": "经费",
    "expenditure": "经费支出", "spending": "经费支出", "proportion": "比重", "share": "比重",
    "ratio": "比重", "growth": "增长", "ranking": "排名", "rank": "排名", "national": "国家",
    "provincial": "省级", "space": "面积", "area": "面积", "square meters": "平方米",
    "wenzhou": "温州", "wenling": "温岭", "lucheng": "鹿城", "yueqing": "乐清", "ruian": "瑞安",
    "researchers": "研发人员", "academicians": "院士", "academician": "院士", "leading": "领军", "gazelle": "瞪羚",
    "personnel": "人员", "r&d personnel": "研发人员", "per 10000": "每万", "per 10,000": "每万", "employed": "就业人员",
    "innovation and entrepreneurship": "创新创业", "entrepreneurship": "创业", "gathered": "集聚",
    "municipal": "市级", "municipal-level": "市级", "incubation platform": "孵化平台", "incubation platforms": "孵化平台",
    "grow": "增长", "each year": "年均", "annual": "年均", "annually": "年均", "period": "期限", "cover": "期限",
    "loan": "贷款", "loan balance": "贷款余额", "technology enterprises": "科技型企业", "printed": "印发",
    "issued": "印发", "date": "日期", "newly": "新", "bring in": "引进", "brought in": "引进", "introduced": "引进",
    "deputy": "代表", "cppcc": "政协", "member": "委员", "s&t": "科技", "science and technology": "科技",
    "bureau": "局", "overseas": "海外", "germany": "德国", "headquarters": "总部", "project": "项目",
    "projects": "项目", "team": "团队", "park": "园区", "zone": "园区", "industrial": "工业", "output": "产值",
    "revenue": "营收", "tax": "税收", "added value": "增加值", "value-added": "增加值", "coverage": "覆盖率",
    "key technologies": "关键核心技术", "core technologies": "关键核心技术", "talent program": "人才工程",
    "approved": "审议", "meeting": "会议", "document": "文件", "notice": "通知", "signed": "成文",
    "yueqing": "乐清", "longgang": "龙港", "ouhai": "瓯海", "yongjia": "永嘉", "pingyang": "平阳",
    "key laboratory": "重点实验室", "key laboratories": "重点实验室", "innovation center": "创新中心",
    "technology innovation center": "技术创新中心", "enterprise research institute": "企业研究院",
    "research institutes": "研究院", "achievements": "成果", "commercialization": "成果转化",
    "technology transfer": "技术转移", "makerspace": "众创空间", "makerspaces": "众创空间", "maker space": "众创空间",
    "invention patent": "发明专利", "invention patents": "发明专利", "high-value": "高价值",
    "intellectual property": "知识产权", "pledge": "质押", "graduates": "高校毕业生", "young scientists": "青年科学家",
    "summit": "峰会", "science city": "科技城", "corridor": "走廊", "oujiang": "瓯江", "basic research": "基础研究",
    "labor productivity": "劳动生产率", "labour productivity": "劳动生产率", "technology contract": "技术合同",
    "technology contracts": "技术合同", "mountainous counties": "山区26县", "contact person": "联系人",
    "little giant": "小巨人", "little giants": "小巨人", "unicorn": "独角兽", "venture": "创投",
    "industrial chain": "产业链", "cluster": "集群", "clusters": "集群", "high-tech zones": "高新区",
    "digital": "数字", "manufacturing": "制造", "intelligent manufacturing": "智能制造", "life and health": "生命健康",
    "attachment": "附件", "attachments": "附件", "annex": "附件", "annexes": "附件", "total investment": "总投资",
    "floor area": "建筑面积", "construction area": "建筑面积",
}


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


# Up to three English words followed by the asker's Chinese for them in brackets.
_GLOSSED_BY_ASKER = re.compile(r"(?:[a-z&\-]+\s+){0,2}[a-z&\-]+\s*[（(][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


# How questions paraphrase what the documents write (question word → the documents' word).
DOCUMENT_WORDS = {"增幅": "增长", "涨幅": "增长", "营收": "营业收入", "研发投入": "研发经费"}


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
    places = question_places(_JOINED_NAME.sub("", question))
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
    )
