"""Checking a generated answer against the passages it cites (pure functions, no I/O).

The answer is split into sentences; each sentence's ``[n]`` markers name the passages it rests
on. A sentence is *unsupported* when a marker names a passage that was not given, when it states
a figure (digits, a decimal, a percentage; full-width digits and thousands separators
normalised, ``1.6万`` equal to ``16000``) that none of its cited passages contains, when the
cited passage clearly says that figure of something else (see :func:`_misattributed`), when
it states a figure without citing anything, or when a Chinese sentence shares almost no wording
with the passages it cites (under ``MIN_OVERLAP`` of its character bigrams; a cited sentence with
no words or figures at all, like a bare "[1]", fails too). Sentences with neither a figure nor a citation
("以下是相关内容：") are left alone but do not count as supported claims.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, Sequence

UNSUPPORTED_MARK = "⚠️(未在引用中找到依据)"

_FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
_MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、\-–~]\s*\d+)*)\s*[\]］】]")
_SENTENCE_END = re.compile(r"[。！？!?]+[”’」』）)]*|\.(?=\s|$)|\n+")
_LIST_NUMBER = re.compile(r"(?:^|\n)[ \t]*\d{1,2}$")
_LEADING_MARKERS = re.compile(r"(?:[ \t]*" + _MARKER.pattern + r")+")
_ENUMERATOR = re.compile(r"^\s*(?:[-*•]\s*)?(?:\d{1,2}[.、)）](?!\d)|[（(]\d{1,2}[）)])\s*")
_FULLWIDTH_GROUPS = re.compile(r"(?<![０-９])[０-９]{1,3}(?:，[０-９]{3})+(?![０-９])")
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d,])")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_SCALE = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_DATE_UNITS = {"年", "月", "日"}
_CLAUSE_START = re.compile(r"[，；,;。：:！？\n]")
_WORD_CHARS = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")
ATTRIBUTION_MATCH = 0.5
MIN_OVERLAP = 0.2
_CJK = re.compile(r"[\u4e00-\u9fff]")
_YEAR_LIKE = re.compile(r"(?:19|20)\d{2}")


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one sentence of a generated answer.

    Attributes:
        text: the sentence as generated, markers included.
        start, end: its span in the answer text (trailing markers included).
        cited: the passage numbers its markers name, in order, without repeats.
        figures: the figures it states (as written, normalised).
        supported: False when it is flagged (bad marker, figure not found or said of something
            else, figure uncited).
        reason: why it is flagged ('' when supported).
    """

    text: str
    start: int
    end: int
    cited: tuple[int, ...]
    figures: tuple[str, ...]
    supported: bool
    reason: str = ""

    @property
    def is_claim(self) -> bool:
        """Whether it cites something or states a figure (i.e. is a checkable claim)."""
        return bool(self.cited or self.figures)


@dataclass(frozen=True)
class Verification:
    """The verdicts on all sentences of an answer."""

    sentences: tuple[SentenceCheck, ...]

    @property
    def supported_count(self) -> int:
        """Sentences that cite a given passage and whose every figure is in a cited passage."""
        return sum(1 for s in self.sentences if s.supported and s.cited)

    @property
    def unsupported(self) -> tuple[SentenceCheck, ...]:
        return tuple(s for s in self.sentences if not s.supported)

    @property
    def cited(self) -> tuple[int, ...]:
        """The valid passage numbers cited anywhere, in order of first citation."""
        seen: dict[int, None] = {}
        for sentence in self.sentences:
            for n in sentence.cited:
                seen.setdefault(n, None)
        return tuple(seen)


def normalize_figures(text: str) -> str:
    """Full-width digits to ASCII and thousands separators removed (``，`` only between full-width digits).

    Example:
        >>> normalize_figures("达到１６，０００家，增长12.5％，共1,800家")
        '达到16000家，增长12.5%，共1800家'
        >>> normalize_figures("2020，2025年；16，000")
        '2020，2025年；16，000'
    """
    text = _FULLWIDTH_GROUPS.sub(lambda m: m.group(0).replace("，", ","), text).translate(_FULLWIDTH)
    return _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)


def parse_markers(group: str) -> list[int]:
    """The passage numbers inside one marker's brackets: ``1``, ``1,2``, ``1-3``.

    Example:
        >>> parse_markers("1, 3"), parse_markers("2-4")
        ([1, 3], [2, 3, 4])
    """
    numbers: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", group.strip()):
        bounds = re.split(r"\s*[\-–~]\s*", part)
        if len(bounds) == 2 and bounds[0] and bounds[1] and int(bounds[1]) - int(bounds[0]) in range(0, 20):
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        else:
            numbers.extend(int(b) for b in bounds if b)
    return numbers


def find_markers(text: str) -> list[int]:
    """Every passage number cited in ``text``, in order (repeats kept).

    Example:
        >>> find_markers("达到30家[1]，位列前茅【2】[1,3]。")
        [1, 2, 1, 3]
    """
    return [n for match in _MARKER.finditer(text) for n in parse_markers(match.group(1))]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``; citation markers right after the end mark stay with the sentence.

    Splits at 。！？!? , at an English full stop followed by a space (not a decimal point) and at
    line breaks.

    Example:
        >>> t = "达到30家。[1] 增长2.5%[2]！\\nIt is 3.5. Done[1]."
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['达到30家。[1]', '增长2.5%[2]！', 'It is 3.5.', 'Done[1].']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    position = 0
    while True:
        match = _SENTENCE_END.search(text, position)
        if not match:
            break
        if match.group(0) == "." and _LIST_NUMBER.search(text, 0, match.start()):
            position = match.end()  # "1. " opening a list item, not a sentence end
            continue
        end = match.end() if not match.group(0).startswith("\n") else match.start()
        trailing = _LEADING_MARKERS.match(text, match.end())
        if trailing and not match.group(0).startswith("\n"):
            end = trailing.end()
        spans.append((start, end))
        start = max(end, match.end())
        position = start
    spans.append((start, len(text)))
    result = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            result.append((s, e))
    return result


def _match_keys(text: str, match: re.Match[str]) -> set[tuple[Decimal, bool]]:
    """The keys ``(value, is_percent)`` a figure matches; ``1.6万`` gives 1.6 and 16000."""
    value = Decimal(match.group(0)).normalize()
    after = text[match.end():match.end() + 1]
    percent = after == "%" or text[match.end():match.end() + 2] == "个百"
    keys = {(value, percent)}
    if after in _SCALE:
        keys.add(((value * _SCALE[after]).normalize(), False))
    return keys


@dataclass(frozen=True)
class _Figure:
    """A figure found in a text: as written, the keys it matches, and what it is said of."""

    label: str
    keys: frozenset[tuple[Decimal, bool]]
    context: str  # the row label and clause before it, e.g. "科技型中小企业数量达到"
    is_date: bool  # a year, month or day: said of everything, so not attributed


def _context(text: str, position: int) -> str:
    """What a figure at ``position`` is said of: its clause, after the label of a ``label：…`` line."""
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    colon = before.find("：")
    label = before[:colon].rsplit("｜", 1)[-1] if colon >= 0 else ""
    clause = _CLAUSE_START.split(before)[-1]
    return label + clause


def _find_figures(text: str) -> list[_Figure]:
    """Every figure of an already normalised text, in order."""
    out = []
    for match in _FIGURE.finditer(text):
        after = text[match.end():match.end() + 1]
        label = match.group(0) + (after if after in _SCALE or after == "%" else "")
        is_date = after in _DATE_UNITS
        out.append(_Figure(label, frozenset(_match_keys(text, match)), _context(text, match.start()), is_date))
    return out


def _bigrams(text: str) -> set[str]:
    words = _WORD_CHARS.sub(" ", text)
    return {a + b for a, b in zip(words, words[1:]) if a != " " and b != " "}


def _misattributed(figure: _Figure, passage_figures: Sequence[_Figure]) -> _Figure | None:
    """The passage figure the claim's wording points at, when that is not ``figure``.

    A figure that is in the cited passage can still be said of the wrong thing ("温州科技型中小
    企业达到4400家" where 4400 is the 高新技术企业 target). The claim's clause is compared with
    the clause before each passage figure (character bigrams); the figure is flagged only when
    another figure's clause matches clearly (>= ``ATTRIBUTION_MATCH``) and at least twice as
    well as the best clause of the figure itself. Dates are never checked this way.
    """
    claim = _bigrams(figure.context)
    if figure.is_date or not claim:
        return None

    def score(other: _Figure) -> float:
        return len(claim & _bigrams(other.context)) / len(claim)

    own = max((score(f) for f in passage_figures if f.keys & figure.keys), default=0.0)
    rivals = [f for f in passage_figures if not f.is_date and not f.keys & figure.keys]
    best = max(rivals, key=score, default=None)
    if best is not None and score(best) >= ATTRIBUTION_MATCH and own * 2 <= score(best):
        return best
    return None


def claim_text(sentence: str) -> str:
    """The part of a sentence whose figures count: markers and a leading list number removed.

    Example:
        >>> claim_text("2. 达到30家[1]。")
        '达到30家。'
    """
    return _ENUMERATOR.sub("", _MARKER.sub("", normalize_figures(sentence)), count=1)


def sentence_figures(sentence: str) -> list[str]:
    """The figures a sentence states, as written (after normalising), in order.

    Example:
        >>> sentence_figures("1. 到2025年达到１６，０００家，占比12.5%，投入1.6万元[1]。")
        ['2025', '16000', '12.5%', '1.6万']
    """
    return [figure.label for figure in _find_figures(claim_text(sentence))]


def word_overlap(claim: str, evidence: str, figures_found: int = 0) -> float | None:
    """Share of a Chinese claim's character bigrams found in ``evidence``, each verified figure
    counting as one more found item; 0.0 when there is nothing to compare ("登登"); ``None`` when
    the claim is mostly not Chinese (an English answer over Chinese passages is not compared).

    Example:
        >>> word_overlap("温州科技型中小企业达到16000家", "科技型中小企业数量达到16000家"), word_overlap("Wenzhou", "温州")
        (0.7, None)
        >>> word_overlap("两地目标分别为16000家和4400家", "科技型中小企业达到16000家", figures_found=2)
        0.2222222222222222
    """
    letters = _WORD_CHARS.sub("", claim)
    if len(_CJK.findall(letters)) * 2 < len(letters):
        return None
    grams = _bigrams(claim)
    if len(grams) + figures_found == 0:
        return 0.0
    return (len(grams & _bigrams(evidence)) + figures_found) / (len(grams) + figures_found)


def _sentence_problem(
    claim: str, figures: list[_Figure], cited: tuple[int, ...], invalid: list[int], passage_figures: list[_Figure], evidence: str
) -> str:
    """Why a sentence is unsupported ('' when it is not)."""
    where = "".join(f"[{n}]" for n in cited)
    if invalid:
        return "引用" + "".join(f"[{n}]" for n in invalid) + "不在所给资料中"
    if figures and not cited:
        return "含数字" + "、".join(f.label for f in figures) + "但未标注引用"
    available = set().union(*(f.keys for f in passage_figures))
    missing = [f.label for f in figures if not f.keys & available]
    if missing:
        return f"数字{'、'.join(dict.fromkeys(missing))}未出现在所引段落{where}中"
    for figure in figures:
        rival = _misattributed(figure, passage_figures)
        if rival is not None:
            return f"数字{figure.label}在所引段落{where}中不是指此项（原文：“{rival.context.strip()}{rival.label}”）"
    quantities = sum(1 for f in figures if not f.is_date and not _YEAR_LIKE.fullmatch(f.label))
    overlap = word_overlap(claim, evidence, quantities) if cited else None
    if overlap is not None and overlap < MIN_OVERLAP:
        return f"与所引段落{where}几乎没有共同内容" if overlap or _bigrams(claim) else "没有可与所引段落核对的内容"
    return ""


def verify_answer(answer: str, passages: Mapping[int, str] | Sequence[str]) -> Verification:
    """Check every sentence of ``answer`` against the passages it cites.

    Args:
        answer: generated text with ``[n]`` markers.
        passages: passage texts by number (a sequence is numbered from 1). Include the title,
            文号 and section path with each text: figures there count as support.

    Example:
        >>> v = verify_answer("温州达到16000家[1]。温岭达到18000家[2]。", ["温州…16000家", "温岭…1800家"])
        >>> [(s.supported, s.reason) for s in v.sentences], v.supported_count
        ([(True, ''), (False, '数字18000未出现在所引段落[2]中')], 1)
    """
    if not isinstance(passages, Mapping):
        passages = {i: text for i, text in enumerate(passages, start=1)}
    found = {n: _find_figures(normalize_figures(text)) for n, text in passages.items()}
    checks = []
    for start, end in split_sentences(answer):
        sentence = answer[start:end]
        markers = list(dict.fromkeys(find_markers(sentence)))
        cited = tuple(n for n in markers if n in passages)
        invalid = [n for n in markers if n not in passages]
        claim = claim_text(sentence)
        figures = _find_figures(claim)
        checks.append(
            SentenceCheck(
                text=sentence,
                start=start,
                end=end,
                cited=cited,
                figures=tuple(f.label for f in figures),
                supported=False,
                reason=_sentence_problem(
                    claim, figures, cited, invalid, [f for n in cited for f in found[n]], "\n".join(passages[n] for n in cited)
                ),
            )
        )
    checks = [dataclasses.replace(c, supported=not c.reason) for c in checks]
    return Verification(tuple(checks))


def _render(text: str, result: Verification, remove: bool, mark: str) -> str:
    pieces = []
    position = 0
    for sentence in result.sentences:
        pieces.append(text[position:sentence.start])
        if sentence.supported:
            pieces.append(text[sentence.start:sentence.end])
        elif not remove:
            pieces.append(text[sentence.start:sentence.end] + mark)
        position = sentence.end
    pieces.append(text[position:])
    rendered = "".join(pieces)
    if remove:
        rendered = re.sub(r"[ \t]{2,}", " ", rendered)
        rendered = re.sub(r"\n{3,}", "\n\n", rendered)
    return rendered.strip()


def mark_unsupported(text: str, result: Verification, mark: str = UNSUPPORTED_MARK) -> str:
    """``text`` with ``mark`` appended to every unsupported sentence.

    Example:
        >>> t = "温州达到16000家[1]。温岭达到18000家[2]。"
        >>> mark_unsupported(t, verify_answer(t, ["温州达到16000家", "温岭达到1800家"]))
        '温州达到16000家[1]。温岭达到18000家[2]。⚠️(未在引用中找到依据)'
    """
    return _render(text, result, remove=False, mark=mark)


def remove_unsupported(text: str, result: Verification) -> str:
    """``text`` without its unsupported sentences.

    Example:
        >>> t = "温州达到16000家[1]。温岭达到18000家[2]。"
        >>> remove_unsupported(t, verify_answer(t, ["温州达到16000家", "温岭达到1800家"]))
        '温州达到16000家[1]。'
    """
    return _render(text, result, remove=True, mark="")


def renumber_citations(text: str, numbers: Mapping[int, int]) -> str:
    """Rewrite every marker through ``numbers`` (old → new) as ``[a][b]``; unknown numbers become ``[?]``.

    Example:
        >>> renumber_citations("甲[3]。乙[1,3]。丙[9]。", {3: 1, 1: 2})
        '甲[1]。乙[2][1]。丙[?]。'
    """

    def rewrite(match: re.Match[str]) -> str:
        seen = dict.fromkeys(numbers.get(n, "?") for n in parse_markers(match.group(1)))
        return "".join(f"[{n}]" for n in seen)

    return _MARKER.sub(rewrite, text)
