"""The answer-unit scorer: named features, combined by weights that live in one data file.

Every candidate unit (sentence, clause, table row, list item) is described by the features in
:data:`FEATURES`; its score is their weighted sum. The weights and the refusal threshold are read
from ``answer/data/weights.json``, which ``python -m eval tune`` fits on Q&A suites (with
leave-documents-out figures) and writes back; a site can point ``settings.scorer_weights`` at its
own fitted file. Nothing here knows any corpus: the features are generic measures of a unit
against the question's profile.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_WEIGHTS_FILE = Path(__file__).resolve().parent / "data" / "weights.json"

FEATURES: dict[str, str] = {
    "coverage": "share of the question's IDF-weighted terms in the unit (half credit in its title/heading)",
    "bigram_coverage": "share of the question's character bigrams in the unit",
    "title_coverage": "share of the question's term weight the unit lacks but its document's title holds (the implied subject)",
    "attribute_gap": ("the unit's share of the question terms its document's title lacks (a two-character term half "
                      "there per character) minus the best such share of a unit of the same document (≤ 0)"),
    "defines_subject": "the question asks what X is and the unit opens by defining X (X是…, X（…）是…, X指…)",
    "rank_prior": "1 / the retrieval rank of the unit's passage",
    "retrieval_score": "the fused retrieval score of the unit's passage over the best passage's",
    "length": "the unit's length (characters / 100, at most 1): a fragment says little",
    "novelty": "what the unit says beyond the question's own words (0–1)",
    "heading_or_identity": "the unit is a bare heading or only names its document (title, 文号, addressee)",
    "figure_wanted": "a figure is asked for and the unit states one",
    "year_wanted": "a year is asked for (何年/哪一年) and the unit names one",
    "date_wanted": "a date is asked for and the unit states a date",
    "year_for_when": "什么时候/何时 is asked and the unit names a year but no full date",
    "card_for_field": "the unit is the filing card and a filing field (文号, 发文机关…) is asked",
    "card_for_content": "the unit is the filing card and the question asks about content",
    "list_items": "items the unit enumerates, when a list is asked (capped at the count asked, or 5)",
    "list_exact_count": "the unit enumerates exactly as many items as the question counts",
    "quoted_phrase": "the unit holds a rare phrase the question quotes",
    "count_phrase": "the unit holds the question's count phrase (三个方面…)",
    "plan_part": "a reply's next-steps part, when the question asks about plans",
    "year_named": "years the question names that the unit names too",
    "year_implied": "years the question names that a reply's paragraph speaks of without naming",
    "year_other": "years the question names that the unit lacks while it names another year",
    "place_mismatch": "the question names places and the unit is not about any of them",
}


class ScorerWeightsError(ValueError):
    """The weights file is missing, malformed or names an unknown feature; the message says which."""


@dataclass(frozen=True)
class ScorerWeights:
    """Feature weights and the refusal threshold on the best unit's score."""

    weights: Mapping[str, float]
    abstain_threshold: float
    source: str = ""

    def score(self, features: Mapping[str, float]) -> float:
        """The weighted sum of ``features``.

        Example:
            >>> ScorerWeights({"coverage": 1.0, "rank_prior": 0.5}, 0.3).score({"coverage": 0.5, "rank_prior": 1.0})
            1.0
        """
        return sum(self.weights.get(name, 0.0) * value for name, value in features.items())


def load_weights(path: str | Path | None = None) -> ScorerWeights:
    """Read a weights file (default: the fitted one shipped in ``answer/data/``).

    Raises:
        ScorerWeightsError: unreadable file, bad JSON, unknown feature or a non-number; names the file.
    """
    path = Path(path) if path else DEFAULT_WEIGHTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        threshold = float(data["abstain_threshold"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScorerWeightsError(
            f"{path}: cannot read the scorer weights ({exc}); restore answer/data/weights.json or run `python -m eval tune`"
        ) from exc
    unknown = sorted(set(weights) - set(FEATURES))
    if unknown:
        raise ScorerWeightsError(f"{path}: unknown features {unknown}; known: {sorted(FEATURES)}; "
                                 "remove them or refit with `python -m eval tune`")
    return ScorerWeights(weights, threshold, str(path))


_BIGRAM_TEXT = re.compile(r"[\u4e00-\u9fff0-9a-z]+")


def char_bigrams(text: str) -> set[str]:
    """The character bigrams of the Chinese/alphanumeric runs of ``text`` (lower-cased).

    Example:
        >>> sorted(char_bigrams("研发投入，R&D"))
        ['发投', '投入', '研发']
    """
    return {run[i:i + 2] for run in _BIGRAM_TEXT.findall(text.lower()) for i in range(len(run) - 1)}


def bigram_coverage(unit_text: str, question_bigrams: set[str]) -> float:
    """Share of the question's bigrams found in ``unit_text``.

    Example:
        >>> round(bigram_coverage("高新技术企业达到4400家", char_bigrams("高新技术企业有多少家")), 2)
        0.56
    """
    if not question_bigrams:
        return 0.0
    return len(question_bigrams & char_bigrams(unit_text)) / len(question_bigrams)
