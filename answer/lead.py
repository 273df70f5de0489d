"""What a person reads first: one plain sentence stating the answer, and the sentence each source is cited for.

The extractive answer text is a run of quoted pieces, each followed by its ``[n]`` markers, and a
quoted table row still carries the index's row form (``caption｜label：header value；…``). Here
that text becomes something staff read at a glance: a :class:`Lead` sentence with the asked
figure(s) in bold (``全社会R&D经费投入 — 2025年目标：58亿元``; in English for an English
question) and plain supporting pieces without internal markers (:mod:`answer.cited` finds the
sentence each citation is cited for).
Pure functions over :class:`~answer.types.Answer`; nothing here changes how answers are chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from answer.question import is_english
from answer.types import Answer, Citation
from ingest.pipeline import CARD_MARK
from ingest.tables import ROW_MARK

_MARKS = re.compile(r"(?:\[\d+\])+")
_MARK_NUMBER = re.compile(r"\[(\d+)\]")
_FOOTNOTE = re.compile(r"[#＃*＊]+")
_UNITS = "万平方米|平方米|亿元|万元|元|万人|人次|家|个|项|件|人|所|条|名|位|次|批|亩|吨|倍|篇|座|款|台|套|户|天|公里|千米|米|%|％"
FIGURE = re.compile(
    rf"第\s*\d+\s*[位名]|前\s*\d+(?:\.\d+)?\s*[%％名位]?|\d+(?:[.,]\d+)*\s*(?:{_UNITS})?(?:以上|以下|左右)?"
    r"|[一二三四五六七八九十两百千万]+[个家项条所名位次批]"
)
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_BARE_YEAR_HEADER = re.compile(r"^((?:19|20)\d{2})\s*年?$")
_TRAILING_UNIT = re.compile(r"\s*[（(][^（）()]{1,8}[）)]\s*$")
_UNIT_GLOSS = {"亿元": (1e8, "yuan"), "万元": (1e4, "yuan"), "万人": (1e4, "people"), "万平方米": (1e4, "m²")}


@dataclass(frozen=True)
class Lead:
    """The answer's lead sentence: ``text`` with ``strong`` spans (the stated figures) to show in bold,
    and ``refs``, the citation numbers it rests on."""

    text: str
    strong: tuple[tuple[int, int], ...] = ()
    refs: tuple[int, ...] = ()

    def segments(self) -> list[tuple[str, bool]]:
        """The text cut into ``(piece, bold)`` runs.

        Example:
            >>> Lead("达到30家。", ((2, 5),)).segments()
            [('达到', False), ('30家', True), ('。', False)]
        """
        runs, at = [], 0
        for start, end in self.strong:
            if start > at:
                runs.append((self.text[at:start], False))
            runs.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            runs.append((self.text[at:], False))
        return runs

    def markdown(self) -> str:
        """The lead with ``**bold**`` figures (for plain-text channels).

        Example:
            >>> Lead("达到30家。", ((2, 5),)).markdown()
            '达到**30家**。'
        """
        return "".join(f"**{t}**" if bold else t for t, bold in self.segments())


@dataclass(frozen=True)
class Piece:
    """One quoted piece of the answer text, markers taken out: ``text`` as quoted, ``plain`` as read."""

    text: str
    refs: tuple[int, ...]
    plain: str


def answer_pieces(text: str) -> list[Piece]:
    """Split an answer text at its ``[n]`` marker runs; a piece that continues a list (``；乙``)
    is joined to the one before.

    Example:
        >>> [(p.plain, p.refs) for p in answer_pieces("重点：甲[1]；乙[2] 表1｜数量#（家）：2025年 30家[3]")]
        [('重点：甲；乙', (1, 2)), ('数量（家） — 2025年：30家', (3,))]
    """
    pieces: list[Piece] = []
    at = 0
    for match in _MARKS.finditer(text):
        quoted = text[at:match.start()].strip()
        refs = tuple(int(n) for n in _MARK_NUMBER.findall(match.group(0)))
        at = match.end()
        if pieces and quoted[:1] in "；;、，,":
            last = pieces[-1]
            pieces[-1] = Piece(last.text + quoted, last.refs + refs, last.plain + plain_text(quoted))
        elif quoted:
            pieces.append(Piece(quoted, refs, plain_text(quoted)))
    rest = text[at:].strip()
    if rest:
        pieces.append(Piece(rest, (), plain_text(rest)))
    return pieces


def plain_text(quoted: str, years: tuple[str, ...] = ()) -> str:
    """A quoted piece as a person reads it: a table row as ``label — header：value`` (only the
    columns of the asked ``years`` when it has them), a document card without its mark, footnote
    marks (``#``, ``*``) and row marks removed.

    Example:
        >>> plain_text("表1：规划目标｜R&D经费投入（亿元）：指标类型 科技投入；2020年 28.2亿元；2025年 58亿元", ("2025",))
        'R&D经费投入（亿元） — 2025年：58亿元'
        >>> plain_text("【文件信息】标题：宁波规划；文号：甬政发〔2021〕1号。")
        '标题：宁波规划；文号：甬政发〔2021〕1号。'
    """
    text = quoted.replace(CARD_MARK, "").strip()
    if ROW_MARK in text:
        _, label, fields = split_row(text)
        chosen = row_fields(fields, years)
        text = f"{label} — {'；'.join(f'{h}：{v}' if h else v for h, v in chosen)}" if chosen else label
    return _FOOTNOTE.sub("", text).replace(ROW_MARK, " ").strip()


def split_row(row: str) -> tuple[str, str, str]:
    """A row line's caption, label (footnote marks removed) and fields.

    Example:
        >>> split_row("表1：规划目标｜数量#（家）：2020年 4家；2025年 8家")
        ('表1：规划目标', '数量（家）', '2020年 4家；2025年 8家')
    """
    caption, _, rest = row.partition(ROW_MARK)
    label, _, fields = rest.partition("：")
    return caption.strip(), _FOOTNOTE.sub("", label).strip(), fields.strip()


def row_fields(fields: str, years: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """A row's ``header value；…`` fields as ``(header, value)`` pairs; those of ``years`` when any match.

    Example:
        >>> row_fields("2020年 4家；2025年 8家", ("2025",))
        [('2025年', '8家')]
        >>> row_fields("备注 倍增；2022 年 30")
        [('备注', '倍增'), ('2022 年', '30')]
    """
    pairs = []
    for field in (f.strip() for f in fields.split("；")):
        if not field:
            continue
        year = re.match(r"^((?:19|20)\d{2}\s*年)\s+(.+)$", field)
        if year:
            pairs.append((year.group(1), year.group(2).strip()))
        else:
            header, _, value = field.partition(" ")
            pairs.append((header, value.strip()) if value.strip() else ("", header))
    wanted = [p for p in pairs if any(y in p[0] for y in years)]
    return wanted or pairs


def figure_spans(text: str, question: str = "") -> list[tuple[int, int]]:
    """Where ``text`` states a figure the question did not already give: a number with its unit or a
    rank; a bare number or a Chinese numeral only when there is no such figure (never a year, a
    date part, a list number or the question's own number).

    Example:
        >>> t = "到2025年，聚焦“5+5”产业，高能级创新平台累计数达到30家，居全省第 7位"
        >>> [t[s:e] for s, e in figure_spans(t, "2025年要达到多少家？")]
        ['30家', '第 7位']
        >>> t = "市十四届人大二次会议第412号建议"
        >>> [t[s:e] for s, e in figure_spans(t)]
        ['412']
    """
    measured, bare = [], []
    for match in FIGURE.finditer(text):
        figure = match.group(0).strip()
        digits = re.sub(r"\D", "", figure)
        after = text[match.end():match.end() + 1]
        if not digits:
            continue  # a Chinese numeral (二次会议, 五大领域): too often not a figure
        if _YEAR.match(figure) or (_YEAR.match(digits) and after == "年"):
            continue  # a year
        if len(digits) == len(figure) and after in "年月日.、）)":
            continue  # a date part or a list number
        if re.search(rf"(?<!\d){re.escape(figure)}(?!\d)", question):
            continue  # the question's own figure
        span = (match.start(), match.start() + len(match.group(0).rstrip()))
        (bare if figure == digits else measured).append(span)
    return measured or bare


_CLAUSE = re.compile(r"[^，,；;。！？!?]+[，,；;。！？!?]?")
_CJK_PAIR = re.compile(r"(?=([\u4e00-\u9fff]{2}))")
ASKED_CLAUSE_SHARE = 0.6  # a clause sharing this much of the best clause's overlap with the question is asked about too


def asked_figure_spans(text: str, question: str) -> list[tuple[int, int]]:
    """The figures of ``text`` the question asks for: those in the clauses that share the most
    two-character words with the question (all figures when no clause shares any).

    Example:
        >>> t = "到2025年，高能级创新平台累计数达到30家，科技型中小企业数量达到16000家。"
        >>> [t[s:e] for s, e in asked_figure_spans(t, "科技型中小企业数量达到多少家？")]
        ['16000家']
    """
    spans = figure_spans(text, question)
    asked = set(_CJK_PAIR.findall(question))
    clauses = [(m.start(), m.end(), len(asked & set(_CJK_PAIR.findall(m.group(0))))) for m in _CLAUSE.finditer(text)]
    scored = [(start, end, score) for start, end, score in clauses if any(start <= s < end for s, _ in spans)]
    best = max((score for *_, score in scored), default=0)
    if best == 0:
        return spans
    kept = [(start, end) for start, end, score in scored if score >= ASKED_CLAUSE_SHARE * best]
    return [(s, e) for s, e in spans if any(start <= s < end for start, end in kept)]


def _years_asked(question: str) -> tuple[str, ...]:
    if re.search(r"(?:19|20)\d{2}\s*年?\s*[-—–~至到]+\s*(?:19|20)\d{2}", question):
        return ()  # a span of years: every column
    return tuple(dict.fromkeys(re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", question)))


def _row_lead(piece: Piece, question: str) -> str:
    """A table row piece as ``label — 2025年目标：58亿元`` (the unit in the label dropped when the value has it)."""
    caption, label, fields = split_row(piece.text)
    pairs = row_fields(fields, _years_asked(question))
    if pairs and all(re.match(r"^\d+(?:\.\d+)?\s*[^\d\s.]", v) for _, v in pairs):
        label = _TRAILING_UNIT.sub("", label)  # every value says its unit: "（亿元）" in the label is redundant
    target = "目标" if re.search(r"目标|target|goal", f"{question} {caption}", re.I) else ""
    columns = set(re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", fields))
    base = min(columns) if len(columns) > 1 else ""  # of several year columns, the first is the base
    shown = []
    for header, value in pairs:
        year = _BARE_YEAR_HEADER.match(header)
        header = f"{year.group(1)}年{target if year.group(1) != base else ''}" if year else _FOOTNOTE.sub("", header)
        shown.append(f"{header}：{value}" if header else value)
    return f"{label} — {'；'.join(shown)}" if shown else label


_CARD_FIELD = re.compile(r"[，；]([\u4e00-\u9fff]{2,6})：")


def _is_card_piece(piece: Piece, citations: tuple[Citation, ...]) -> bool:
    first = next((c for c in citations if piece.refs and c.n == piece.refs[0]), None)
    return piece.text.startswith(CARD_MARK) or bool(first and first.quote.startswith(CARD_MARK))


FIELD_NAMES_EN = {"文号": "document number", "发文机关": "issued by", "成文日期": "dated", "印发日期": "printed on",
                  "文种": "kind", "主送": "addressed to", "抄送": "copied to", "联系人": "contact",
                  "联系电话": "telephone", "所答建议": "answers the proposal", "标题": "title"}


def _card_lead(piece: Piece, english: bool = False) -> Lead:
    """A filing-card piece (``title，主送：周杰代表``) as ``《title》主送：周杰代表`` (in English
    ``For 《title》: addressed to 周杰代表.``) with the values bold."""
    text = piece.plain.rstrip("。")
    fields = list(_CARD_FIELD.finditer(text))
    if not fields:
        return Lead(text + "。", refs=piece.refs)
    title = text[:fields[0].start()].strip()
    out = f"《{title}》" if title and not title.startswith("《") else title
    out = f"For {out}: " if english else out
    strong = []
    for i, field in enumerate(fields):
        value = text[field.end():fields[i + 1].start() if i + 1 < len(fields) else len(text)].strip()
        name = FIELD_NAMES_EN.get(field.group(1), field.group(1)) if english else field.group(1)
        out += ("" if i == 0 else "; " if english else "；") + (f"{name} " if english else f"{name}：")
        strong.append((len(out), len(out) + len(value)))
        out += value
    return Lead(out + ("." if english else "。"), tuple(strong), piece.refs)


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,；;：:、")
    return text if text.endswith(("。", "！", "？", ".", "!", "?")) else text + "。"


def english_figure(figure: str) -> str:
    """A figure with an English reading of its Chinese unit where it has a common one.

    Example:
        >>> english_figure("58亿元"), english_figure("30家"), english_figure("152万平方米")
        ('58亿元 (5.8 billion yuan)', '30家', '152万平方米 (1.52 million m²)')
    """
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(亿元|万元|万人|万平方米)", figure)
    if not match:
        return figure
    scale, unit = _UNIT_GLOSS[match.group(2)]
    value = float(match.group(1)) * scale
    amount = f"{value / 1e9:g} billion" if value >= 1e9 else f"{value / 1e6:g} million" if value >= 1e6 else f"{value:,.0f}"
    return f"{figure} ({amount} {unit})"


LONG_LEAD_CHARS = 60


def shorten_lead(text: str, question: str = "") -> str:
    """A long quoted sentence cut to the clauses that state its figures or years (whole when none do).

    Example:
        >>> shorten_lead("实施创新平台分类管理，以业绩比拼和绩效考核为抓手，提升已建平台创新赋能水平，"
        ...              "到2025年，创成省级及以上新型研发机构、重点实验室等100家以上。")
        '到2025年，创成省级及以上新型研发机构、重点实验室等100家以上。'
    """
    if len(text) <= LONG_LEAD_CHARS:
        return text
    clauses = [c for c in re.split(r"(?<=[，；])", text) if c]
    kept = [c for c in clauses if figure_spans(c, question) or _YEAR_IN.search(c)]
    if not kept or len(kept) == len(clauses):
        return text
    return _sentence("".join(kept))


_YEAR_IN = re.compile(r"(?:19|20)\d{2}\s*年")


def _with_figures(text: str, refs: tuple[int, ...], question: str) -> Lead:
    text = shorten_lead(text, question)
    return Lead(text, tuple(asked_figure_spans(text, question)), refs)


def lead_sentence(answer: Answer) -> Lead:
    """The one sentence a person reads first: the answer's first piece, stated plainly, its figures bold.

    A table row reads ``指标 — 2025年目标：3.3%``; a document card ``标题：…；文号：…``; a sentence
    is the quoted clause(s), closed with a full stop. An English question gets an English sentence
    around the document's own words. An abstention is its reason.

    Example:
        >>> a = Answer("温岭R&D经费投入2025年目标是多少？", "表1｜R&D经费投入（亿元）：2020年 28.2亿元；2025年 58亿元[1]", (), (), False, 1.0)
        >>> lead_sentence(a).markdown()
        'R&D经费投入 — 2025年目标：**58亿元**'
        >>> e = Answer("What is the 2025 target for R&D spending?", "表1｜R&D经费投入（亿元）：2025年 58亿元[1]", (), (), False, 1.0)
        >>> lead_sentence(e).markdown()
        'For R&D经费投入: 2025 target: **58亿元** (5.8 billion yuan).'
    """
    english = is_english(answer.question)
    if answer.abstained:
        if english:
            return Lead("The documents do not answer this question; the closest passages are listed below.")
        return Lead(plain_text(answer.text))
    pieces = answer_pieces(answer.text)
    if not pieces:
        return Lead(plain_text(answer.text))
    first = pieces[0]
    is_row = ROW_MARK in first.text and "：" in first.text and not first.text.startswith(CARD_MARK)
    if _is_card_piece(first, answer.citations):
        return _card_lead(first, english)
    if english:
        return _english_lead(first, answer.question, is_row)
    if is_row:
        return _with_figures(_row_lead(first, answer.question), first.refs, answer.question)
    return _with_figures(_sentence(first.plain), first.refs, answer.question)


def _english_lead(first: Piece, question: str, is_row: bool) -> Lead:
    if is_row:
        zh = _row_lead(first, question)
        label, _, values = zh.partition(" — ")
        parts = []
        for item in values.split("；"):
            header, _, value = item.rpartition("：")
            year = re.match(r"^((?:19|20)\d{2})年(目标)?", header)
            header = f"{year.group(1)}{' target' if year.group(2) else ''}" if year else header
            parts.append((header, value))
        text = f"For {label}"
        strong = []
        for i, (header, value) in enumerate(parts):
            text += ": " if i == 0 else "; "
            text += f"{header}: " if header else ""
            strong.append((len(text), len(text) + len(value)))
            text += english_figure(value)
        return Lead(text + ".", tuple(strong), first.refs)
    figures = [first.plain[s:e] for s, e in asked_figure_spans(first.plain, question)]
    if not figures:
        return Lead(f"The documents say: {_sentence(first.plain)}", refs=first.refs)
    text, strong = "The documents give ", []
    for i, figure in enumerate(figures[:3]):
        text += "" if i == 0 else ", "
        strong.append((len(text), len(text) + len(figure)))
        text += english_figure(figure)
    text += f" — “{_sentence(first.plain)}”"
    return Lead(text, tuple(strong), first.refs)


__all__ = [
    "Lead", "Piece", "answer_pieces", "english_figure", "figure_spans", "lead_sentence", "plain_text", "row_fields",
    "shorten_lead", "split_row",
]
