"""Lexical tokens for BM25: jieba words, with the documents' own terms kept whole.

文号 (温科提复〔2023〕106号), ``R&D``, decimal numbers and percentages are cut out before jieba
sees the text, so they survive as single tokens. Domain terms (高新区, 科技型中小企业…) are added to
jieba's dictionary. Question words and particles are dropped.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cached_property

TOKENIZER_VERSION = 3  # bump when tokens change: the BM25 index must be rebuilt
DOMAIN_TERMS = (
    "高新区", "高新园区", "国家高新区", "省级高新区", "科技型中小企业", "高新技术企业", "高新技术产业",
    "高能级创新平台", "创新平台", "新型研发机构", "科技小巨人", "科技领军企业", "瞪羚企业", "孵化器",
    "众创空间", "科创走廊", "环大罗山科创走廊", "自创区", "国家自主创新示范区", "瓯江实验室",
    "十四五", "十三五", "研发投入", "研发经费", "发明专利", "高价值发明专利", "技术交易额", "技术合同",
    "规上工业企业", "科技特派员", "揭榜挂帅", "尖兵领雁", "科技飞地", "创新飞地", "产业创新服务综合体",
    "鹿城区", "温岭市", "温州市", "乐清", "瑞安", "龙港", "瓯海", "永嘉", "平阳", "苍南", "文成", "泰顺", "洞头",
    "共同富裕", "创新型城市", "创新型城区", "人才工程", "孵化面积", "数字经济", "生命健康", "智能装备",
)
_PROTECTED = re.compile(
    r"[\u4e00-\u9fff]{2,4}〔\d{4}〕\d{1,4}号"  # 文号
    r"|R&D|r&d"
    r"|\d+(?:\.\d+)?%?"  # numbers, decimals, percentages
    r"|[A-Za-z][A-Za-z0-9+\-]*"  # latin words, 5G, PCT
)
STOPWORDS = frozenset(
    "的 了 和 与 及 是 在 有 为 对 等 将 把 被 也 就 都 而 或 并 其 之 以 于 从 到 由 向 上 中 下 个 年 "
    "吗 呢 吧 啊 呀 么 请问 请 多少 什么 哪些 哪个 哪 几 几个 如何 怎么 怎样 是否 是不是 分别 要 会 能 "
    "我 我们 你 您 他 她 它 这 那 那么 这个 那个 一下 一些 这些 那些 方面 情况 主要 提出 提到 "
    "the of a an and or to in on for is are was were what which how many much does do did by with".split()
)
_PUNCT = re.compile(r"^[\W_]+$")


class Tokenizer:
    """A jieba tokenizer with the domain dictionary loaded once; safe to share between threads."""

    def __init__(self, extra_terms: tuple[str, ...] = ()) -> None:
        self._terms = DOMAIN_TERMS + tuple(extra_terms)
        self._lock = threading.Lock()

    @cached_property
    def _jieba(self):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        for term in self._terms:
            tokenizer.add_word(term, freq=20000)
        tokenizer.initialize()
        return tokenizer

    def tokens(self, text: str) -> list[str]:
        """Split ``text`` into lower-cased search tokens, stopwords and punctuation removed.

        Example:
            >>> Tokenizer().tokens("温州R&D经费占比达到3.0%，文号温科提复〔2023〕106号")[:4]
            ['温州', 'r&d', '经费', '占']
        """
        with self._lock:
            jieba = self._jieba
        out: list[str] = []
        position = 0
        for match in _PROTECTED.finditer(text):
            out.extend(self._words(jieba, text[position:match.start()]))
            token = match.group(0).lower()
            if token not in STOPWORDS:
                out.append(token)
            position = match.end()
        out.extend(self._words(jieba, text[position:]))
        return out

    @staticmethod
    def _words(jieba, text: str) -> list[str]:
        if not text.strip():
            return []
        return [
            word.lower()
            for word in jieba.cut_for_search(text)
            if word.strip() and word not in STOPWORDS and not _PUNCT.match(word)
        ]
