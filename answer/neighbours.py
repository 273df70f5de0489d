"""A neighbouring measure: the unit states the head of what was asked under another modifier.

Asked 火灾死亡人数, a table row gives 安全事故死亡人数; asked 三等奖, a sentence gives 特等奖; asked
营业收入, a sentence gives 业务收入. The quoted figure belongs to a neighbour in the same table or
sentence, not to what was asked. Read from the question's and the unit's own words (jieba parts of
speech): a content word of the question (the modifier) that the unit never writes, followed in the
question by words (the head) that the unit writes right after another content word the question
never uses. Places, abbreviations (规上 → 规模以上) and the paraphrases of ``answer/data/paraphrases.tsv``
are not neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jieba
import jieba.posseg as pseg

from answer.corroboration import row_label
from answer.question import DOCUMENT_WORDS
from index.places import place_table
from ingest.tables import ROW_MARK

_CJK = re.compile(r"^[\u4e00-\u9fff]{2,}$")
# jieba parts of speech of a modifier or a head: nouns, verbal nouns, adjectives, distinguishing words, idioms.
_CONTENT_POS = ("n", "vn", "a", "an", "b", "i", "l")
# Parts of speech a head may not start with: particles, prepositions, localisers, pronouns, conjunctions, adverbs.
_FUNCTION_POS = ("u", "p", "f", "r", "c", "d", "m", "q")
# Parts of speech of the words of a name (苕溪 科创 （ 湖州 ） 研究院): nouns of any kind, abbreviations, brackets.
_NAME_POS = ("n", "j", "x", "eng")
_BRACKETS = "（）()"

jieba.setLogLevel(60)


@dataclass(frozen=True)
class Neighbour:
    """What was asked (modifier + head) and what the unit states instead (its modifier + the same head)."""

    asked: str
    stated: str


@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[tuple[str, str, int], ...]:
    """(word, part of speech, start) of each jieba word of ``text``."""
    out, at = [], 0
    for pair in pseg.lcut(text):
        out.append((pair.word, pair.flag, at))
        at += len(pair.word)
    return tuple(out)


def _content(word: str, flag: str, asking: frozenset[str]) -> bool:
    return (bool(_CJK.match(word)) and flag.startswith(_CONTENT_POS)
            and not any(a in word or word in a for a in asking))


def _modifying(word: str, flag: str, asking: frozenset[str]) -> bool:
    """A content word that can name a kind (安全事故, 重特大); a verbal noun before the head is an
    action on it (建设概念验证平台), not another kind of it."""
    return _content(word, flag, asking) and not flag.startswith(("vn", "v"))


def _in_order(short: str, long: str) -> bool:
    """Whether ``short``'s characters occur in ``long`` in order (规上 in 规模以上)."""
    rest = iter(long)
    return all(ch in rest for ch in short)


def _related(a: str, b: str) -> bool:
    """Abbreviations of each other or a listed paraphrase (营收 → 营业收入)."""
    return _in_order(a, b) or _in_order(b, a) or DOCUMENT_WORDS.get(a) == b or DOCUMENT_WORDS.get(b) == a


def _heads(words: tuple[tuple[str, str, int], ...], i: int, asking: frozenset[str]) -> list[str]:
    """The head after word ``i``: the next word, then the next two, longest first."""
    heads = []
    for span in (2, 1):
        following = words[i + 1:i + 1 + span]
        if len(following) < span or any(flag.startswith(_FUNCTION_POS) for _, flag, _ in following):
            continue
        head = "".join(w for w, _, _ in following)
        if _CJK.match(head) and not any(a in head for a in asking):
            heads.append(head)
    return heads


def _modifier_before(words: tuple[tuple[str, str, int], ...], at: int, head: str) -> tuple[str, str]:
    """The unit's word that ends right where the head starts, or the front of one word that ends with
    the head (业务 of 业务收入); ``('', '')`` when a word spans the head otherwise."""
    for word, flag, start in words:
        if start + len(word) == at:
            return word, flag
        if start < at and start + len(word) == at + len(head):
            return word[:at - start], "n"
        if start + len(word) > at:
            break
    return "", ""


def neighbouring_measure(question: str, unit: str, context: str, asking: frozenset[str]) -> Neighbour | None:
    """The neighbour ``unit`` states in place of what ``question`` asks, if any.

    ``context`` (the document's title and the unit's section) holds modifiers the question may repeat
    from the document; ``asking`` holds words of asking (多少, 哪些…), which are never modifiers.

    Example:
        >>> neighbouring_measure("规划对火灾死亡人数设定了什么目标？", "生产安全事故死亡人数：下降15%", "", frozenset({"什么"}))
        Neighbour(asked='火灾死亡人数', stated='安全事故死亡人数')
        >>> neighbouring_measure("发明专利授权量目标是多少件？", "高价值发明专利拥有量（件）：9.7件", "", frozenset({"多少"}))
        Neighbour(asked='发明专利授权量', stated='发明专利拥有量')
        >>> neighbouring_measure("规上工业增加值增长多少？", "规模以上工业增加值增长8%", "", frozenset({"多少"})) is None
        True
    """
    places = place_table()
    asked_words, unit_words = _words(question), _words(unit)
    other_measure = _other_measure(question, unit, context, asking, asked_words, unit_words)
    if other_measure:
        return other_measure
    for i, (modifier, flag, _) in enumerate(asked_words):
        if (not _content(modifier, flag, asking) or modifier in unit or modifier in context
                or places.find(modifier)):
            continue
        for head in _heads(asked_words, i, asking):
            at = unit.find(head)
            while at > 0:
                other, other_flag = _modifier_before(unit_words, at, head)
                if (_modifying(other, other_flag, asking) and other not in question and not places.find(other)
                        and not _related(modifier, other) and not _related(modifier + head, other + head)):
                    return Neighbour(modifier + head, other + head)
                at = unit.find(head, at + 1)
    return None


def _other_measure(question: str, unit: str, context: str, asking: frozenset[str],
                   asked_words: tuple[tuple[str, str, int], ...],
                   unit_words: tuple[tuple[str, str, int], ...]) -> Neighbour | None:
    """The same thing measured another way: asked 发明专利授权量, the unit gives 发明专利拥有量 (the word
    after the shared modifier ends like the asked measure word, 量, but is another word)."""
    for i in range(1, len(asked_words)):
        measure, flag, _ = asked_words[i]
        modifier = asked_words[i - 1][0]
        if (not _content(measure, flag, asking) or measure in unit or measure in context
                or not _content(modifier, asked_words[i - 1][1], asking) or modifier not in unit):
            continue
        for j in range(len(unit_words) - 1):
            other, other_flag, _ = unit_words[j + 1]
            if (unit_words[j][0] == modifier and other != measure and other[-1:] == measure[-1:]
                    and _content(other, other_flag, asking) and other not in question and not _related(measure, other)):
                return Neighbour(modifier + measure, modifier + other)
    return None


def other_row_subject(question: str, row: str, asking: frozenset[str]) -> Neighbour | None:
    """Another thing of the same kind as the one asked, when ``row`` is a table row (``caption｜label：…``):
    asked 苕溪科创（湖州）研究院, the row is about 湖州学院生态研究院. The question's name for the thing
    is the run of name words that ends with the label's last word (研究院); it is a neighbour when the row
    never writes it, the question never writes the label, and neither abbreviates the other.

    Example:
        >>> row = "重大项目｜湖州学院生态研究院：用地面积约40亩"
        >>> other_row_subject("苕溪科创（湖州）研究院项目的用地面积是多少亩？", row, frozenset({"多少"}))
        Neighbour(asked='苕溪科创（湖州）研究院', stated='湖州学院生态研究院')
        >>> other_row_subject("湖院生态研究院的用地面积是多少亩？", row, frozenset({"多少"})) is None
        True
    """
    if ROW_MARK not in row or "：" not in row:
        return None
    label = row_label(row).strip()
    label_words = _words(label)
    if not label_words or label in question:
        return None
    head = label_words[-1][0]
    words = _words(question)
    for i, (word, _, _) in enumerate(words):
        if word != head:
            continue
        first = i
        while first > 0 and words[first - 1][1].startswith(_NAME_POS) and (
                words[first - 1][0] in _BRACKETS or _CJK.match(words[first - 1][0])) and not any(
                a in words[first - 1][0] for a in asking):
            first -= 1
        name = "".join(w for w, _, _ in words[first:i + 1]).strip(_BRACKETS)
        if name != head and name not in row and not _related(name, label):
            return Neighbour(name, label)
    return None
