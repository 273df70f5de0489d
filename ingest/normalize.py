"""Character-level repairs of extracted text, and the search form of Chinese numerals.

* Radical look-alikes (``⼈⺠`` for 人民) that PDF fonts give for ideographs become the standard
  characters: NFKC for the Kangxi radicals and CJK compatibility ideographs, the map in
  ``ingest/data/radicals.tsv`` for the ones NFKC leaves alone or maps to a traditional form.
  Only those code blocks are touched: full-width punctuation and digits stay as the document
  writes them.
* ``— N —`` page footers are removed even where PDF extraction put them mid-sentence.
* :func:`search_form` writes Chinese numerals in dates and counts as digits
  (``二〇〇六年九月七日`` → ``2006年9月7日``, ``共二十三项`` → ``共23项``) for search and matching;
  the text quoted to users keeps the document's own form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

RADICALS_FILE = Path(__file__).resolve().parent / "data" / "radicals.tsv"
_LOOK_ALIKE_BLOCKS = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
_DASH = "—–－"
_INLINE_FOOTER = re.compile(rf"(?<![{_DASH}\-\d])[{_DASH}][ \t\u3000\u00a0]+\d{{1,4}}[ \t\u3000\u00a0]+[{_DASH}](?![{_DASH}\-])")
_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "〇零○一二两三四五六七八九十百千"
# A numeral is read only before a unit of a date or a count, and only where it is plainly a
# number: with 十/百/千, after 共/第/约…, or as a month or day; so 一是、十四五、统一一个 stay as written.
_COUNTED = re.compile(rf"(?:(?<=[共计第约近达逾超年月])|(?=[{_NUMERAL}]*[十百千]))([{_NUMERAL}]+)"
                      rf"(?=[年月日号项条款章节个家名人件次位种类批所亿万])|([{_NUMERAL}]{{1,3}})(?=[月日])")
# A year in Chinese numerals is read only as part of a full date (二〇〇六年九月七日, a signature): alone
# it is nearly always inside a cited title (…二〇三五年远景目标纲要), about another plan's horizon.
_YEAR = re.compile(rf"[{_NUMERAL}]{{4}}(?=年[一二三四五六七八九十]{{1,2}}月)")


@lru_cache(maxsize=4)
def radical_map(path: Path = RADICALS_FILE) -> dict[int, str]:
    """Read the radical map (``radical<TAB>character`` lines, ``#`` comments) as a translate table.

    Example:
        >>> radical_map()[ord("⺠")], radical_map()[ord("⼾")]
        ('民', '户')
    """
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 2 or len(fields[0]) != 1:
            continue
        table[ord(fields[0])] = fields[1]
    return table


def fix_radicals(text: str) -> str:
    """Replace radical and compatibility look-alikes with the standard characters.

    Example:
        >>> fix_radicals("第⼆条 ⼈⺠政府有关部⻔、⼾籍（１）")
        '第二条 人民政府有关部门、户籍（１）'
    """
    if not _LOOK_ALIKE_BLOCKS.search(text):
        return text
    table = radical_map()
    return _LOOK_ALIKE_BLOCKS.sub(lambda m: table.get(ord(m.group(0))) or unicodedata.normalize("NFKC", m.group(0)), text)


def remove_inline_page_footers(text: str) -> str:
    """Remove ``— N —`` page numbers wherever they stand, joining the sentence they cut.

    Example:
        >>> remove_inline_page_footers("推动5款以上侵入式、— 2 —半侵入式产品")
        '推动5款以上侵入式、半侵入式产品'
        >>> remove_inline_page_footers("2021—2025年，第1—3项")
        '2021—2025年，第1—3项'
    """
    return _INLINE_FOOTER.sub("", text)


def numeral_value(numeral: str) -> int | None:
    """The value of a Chinese numeral: positional (二十三, 一百零五) or digit by digit (二〇〇六).

    Example:
        >>> numeral_value("二十三"), numeral_value("二〇〇六"), numeral_value("十"), numeral_value("一百零五")
        (23, 2006, 10, 105)
    """
    if not numeral or any(ch not in _DIGITS and ch not in _UNITS for ch in numeral):
        return None
    if not any(ch in _UNITS for ch in numeral):
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return total + (digit or 0)


def search_form(text: str) -> str:
    """``text`` with the Chinese numerals of dates and counts written as digits, for search only.

    Example:
        >>> search_form("二〇〇六年九月七日，共二十三项，第四十三条；一是统一")
        '2006年9月7日，共23项，第43条；一是统一'
        >>> search_form("统一一个，两个，三月三十日，一百二十家，二〇三五年远景目标")
        '统一一个，两个，3月30日，120家，二〇三五年远景目标'
    """
    text = _YEAR.sub(lambda m: str(numeral_value(m.group(0))), text)

    def digits(match: re.Match[str]) -> str:
        value = numeral_value(match.group(1) or match.group(2))
        return match.group(0) if value is None else str(value)

    return _COUNTED.sub(digits, text)
