"""Matching evidence quotes against passages, independent of how text was cleaned or cut.

Evidence quotes in a Q&A set are copied verbatim from the corpus files, which carry
conversion scars (line breaks mid-sentence, ``2022 年``, ``**bold**``). Passages come out of
ingestion cleaned. Both sides are normalised the same way before a substring test.
"""

import re
import unicodedata

_DROPPED = re.compile(r"[\s*\u3000\u200b\ufeff]+")


def normalize_for_match(text: str) -> str:
    """Return ``text`` reduced to the characters that matter for matching.

    Drops all whitespace (including full-width spaces and line breaks), markdown ``*``
    and zero-width characters; folds full-width ASCII variants to half-width (NFKC) and
    lowercases Latin letters.

    Example:
        >>> normalize_for_match("2022 年\\n温州 **高新区**")
        '2022年温州高新区'
    """
    return _DROPPED.sub("", unicodedata.normalize("NFKC", text)).lower()


def contains_evidence(passage: str, quote: str) -> bool:
    """Tell whether ``quote`` occurs in ``passage`` after both are normalised.

    Example:
        >>> contains_evidence("累计数达到 30 家。", "达到30家")
        True
    """
    needle = normalize_for_match(quote)
    return bool(needle) and needle in normalize_for_match(passage)
