"""BM25 over product text (name + attributes), scored within a row mask."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from fashionrec.text.query import normalise

logger = logging.getLogger(__name__)


def top_k(scores: np.ndarray, mask: np.ndarray | None, k: int) -> np.ndarray:
    """Row numbers of the `k` best scores among `mask` rows, best first (ties: lower row)."""
    rows = np.flatnonzero(mask) if mask is not None else np.arange(len(scores))
    if len(rows) == 0 or k <= 0:
        return np.empty(0, dtype=np.int64)
    sub = scores[rows]
    if k < len(rows):
        # Everything tied with the k-th score stays a candidate so ties break by row.
        kth = sub[np.argpartition(-sub, k - 1)[k - 1]]
        part = np.flatnonzero(sub >= kth)
    else:
        part = np.arange(len(rows))
    order = np.lexsort((rows[part], -sub[part]))
    return rows[part][order][:k]


class BM25Index:
    """Okapi BM25 (bm25s) over pre-tokenised documents.

    Example:
        >>> ix = BM25Index(["Navy Blue Shirt", "Blue Jeans"]).build()
        >>> ix.search("shirts", k=1)[0].tolist()
        [0]
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts

    def build(self) -> BM25Index:
        try:
            import bm25s
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("lexical search needs bm25s: pip install bm25s") from exc
        self.bm25_ = bm25s.BM25()
        corpus = [list(normalise(t)) or ["_"] for t in self.texts]
        self.bm25_.index(corpus, show_progress=False)
        self.vocab_ = set(self.bm25_.vocab_dict)
        return self

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document for `text` (zeros when no word is known)."""
        words = [w for w in normalise(text) if w in self.vocab_]
        if not words:
            return np.zeros(len(self.texts), dtype=np.float32)
        return np.asarray(self.bm25_.get_scores(words), dtype=np.float32)

    def search(
        self, text: str, k: int = 10, *, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the `k` best documents within `mask`; rows scoring 0 are dropped."""
        s = self.scores(text)
        positive = s > 0 if mask is None else (mask & (s > 0))
        rows = top_k(s, positive, k)
        return rows, s[rows]
