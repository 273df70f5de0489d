"""The BM25 lexical index (bm25s over jieba tokens), with document frequencies for term weights."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np

from index.tokenize import Tokenizer

DOC_FREQ_FILE = "doc_freq.json"


class LexicalIndex:
    """BM25 scores of every chunk for a query, and the inverse document frequency of terms."""

    def __init__(self, retriever: bm25s.BM25, doc_freq: dict[str, int], size: int, tokenizer: Tokenizer) -> None:
        self._retriever = retriever
        self._doc_freq = doc_freq
        self._size = size
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer) -> "LexicalIndex":
        """Index ``texts`` (one per chunk, in chunk order)."""
        token_lists = [tokenizer.tokens(t) or ["∅"] for t in texts]
        retriever = bm25s.BM25()
        if texts:
            retriever.index(token_lists, show_progress=False)
        doc_freq = Counter(token for tokens in token_lists for token in set(tokens))
        return cls(retriever, dict(doc_freq), len(texts), tokenizer)

    def save(self, folder: Path) -> None:
        """Write the index files into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._size:
            self._retriever.save(str(folder), show_progress=False)
        (folder / DOC_FREQ_FILE).write_text(json.dumps(self._doc_freq, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int, tokenizer: Tokenizer) -> "LexicalIndex":
        """Read an index written by :meth:`save`."""
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if size else bm25s.BM25()
        doc_freq = json.loads((folder / DOC_FREQ_FILE).read_text(encoding="utf-8"))
        return cls(retriever, doc_freq, size, tokenizer)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query term is indexed)."""
        tokens = self.tokenizer.tokens(query)
        if not self._size or not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

    def doc_freq(self, token: str) -> int:
        """How many chunks contain ``token``."""
        return self._doc_freq.get(token, 0)

    def idf(self, token: str) -> float:
        """BM25-style inverse document frequency of ``token`` (0 for a token no chunk has)."""
        df = self._doc_freq.get(token, 0)
        if df == 0:
            return 0.0
        return math.log(1.0 + (self._size - df + 0.5) / (df + 0.5))
