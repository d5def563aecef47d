"""Text search over a products table: BM25 + sentence embeddings, fused, within filters."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fashionrec.errors import FilterError
from fashionrec.text.lexical import BM25Index
from fashionrec.text.query import FIELDS, ParsedQuery, QueryParser
from fashionrec.text.semantic import MiniLMEncoder, SemanticIndex, TextEncoder

logger = logging.getLogger(__name__)

MODES = ("bm25", "semantic", "fused")
TEXT_COLUMNS = (
    "name",
    "article_type",
    "base_colour",
    "gender",
    "usage",
    "season",
    "sub_category",
    "master_category",
)
RRF_K = 60


def product_texts(products: pd.DataFrame) -> list[str]:
    """One line per product: its name then its attributes (missing ones skipped)."""
    cols = [c for c in TEXT_COLUMNS if c in products.columns]
    parts = products[cols].astype("string").fillna("")
    return [" ".join(x for x in row if x) for row in parts.itertuples(index=False)]


def rrf(rankings: Iterable[np.ndarray], *, k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: row -> sum of 1 / (k + rank), rank starting at 1."""
    fused: dict[int, float] = {}
    for rows in rankings:
        for rank, r in enumerate(rows.tolist(), 1):
            fused[r] = fused.get(r, 0.0) + 1.0 / (k + rank)
    return fused


@dataclass(frozen=True)
class TextResult:
    """Product ids best first, their scores, and how the query was understood."""

    ids: list[str]
    scores: list[float]
    parsed: ParsedQuery | None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "ids": self.ids,
            "scores": self.scores,
            "parsed": self.parsed.to_dict() if self.parsed else None,
        }


class TextSearcher:
    """Search products by shopper text.

    Example:
        >>> s = TextSearcher(products, manifest.encodings, cache_dir="idx/text")  # doctest: +SKIP
        >>> s.search("navy formal shirt for men", k=10).parsed.shown            # doctest: +SKIP
        ['Shirts', 'Men', 'Navy Blue', 'Formal']
    """

    def __init__(
        self,
        products: pd.DataFrame,
        vocabulary: Mapping[str, Iterable[str]],
        *,
        cache_dir: str | Path | None,
        encoder: TextEncoder | None = None,
        synonyms: str | Path | None = None,
        semantic: bool = True,
    ) -> None:
        self.products = products
        self.vocabulary = {f: list(v) for f, v in vocabulary.items()}
        self.cache_dir = cache_dir
        self.encoder = encoder
        self.synonyms = synonyms
        self.semantic = semantic
        self._built = False

    def build(self) -> TextSearcher:
        t = time.perf_counter()
        self.ids_ = self.products.index.astype(str).to_numpy()
        texts = product_texts(self.products)
        self.parser_ = QueryParser(self.vocabulary, synonyms=self.synonyms)
        self.bm25_ = BM25Index(texts).build()
        self.semantic_ = None
        if self.semantic:
            encoder = self.encoder if self.encoder is not None else MiniLMEncoder()
            self.semantic_ = SemanticIndex(texts, encoder=encoder, cache_dir=self.cache_dir).build()
        self._columns = {
            f: self.products[f].astype("string").fillna("").to_numpy()
            for f in FIELDS
            if f in self.products.columns
        }
        self._built = True
        logger.info(
            "text search over %d products ready in %.1fs", len(texts), time.perf_counter() - t
        )
        return self

    def _mask(self, filters: Mapping[str, list[str]], price: tuple) -> np.ndarray:
        mask = np.ones(len(self.ids_), dtype=bool)
        for f, values in filters.items():
            if f not in self._columns:
                raise FilterError(
                    f"cannot filter on {f!r}; choose from {', '.join(sorted(self._columns))}"
                )
            mask &= np.isin(self._columns[f], list(values))
        lo, hi = price
        if (lo is not None or hi is not None) and "price" in self.products.columns:
            p = pd.to_numeric(self.products["price"], errors="coerce").to_numpy(dtype=float)
            if lo is not None:
                mask &= p >= lo
            if hi is not None:
                mask &= p <= hi
        return mask

    def search(
        self,
        text: str,
        k: int = 10,
        *,
        filters: Mapping[str, str | list[str]] | None = None,
        mode: str = "fused",
        understand: bool = True,
    ) -> TextResult:
        """The `k` best products for `text` within `filters` (and, with `understand`, within
        what the query itself names: type, gender, colour, usage, season, price)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
        if mode != "bm25" and not self.semantic:
            raise ValueError(f"mode {mode!r} needs semantic=True")
        if not self._built:
            self.build()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        explicit = {f: [v] if isinstance(v, str) else list(v) for f, v in (filters or {}).items()}
        parsed = self.parser_.parse(text) if understand else None
        combined: dict[str, list[str]] = dict(parsed.filters) if parsed else {}
        combined.update(explicit)  # the caller's filters win over what the text implies
        price = parsed.price if parsed else (None, None)
        mask = self._mask(combined, price)
        if parsed and not mask.any() and parsed.filters:
            # The words named a combination the catalog lacks: keep the caller's filters only.
            logger.info(
                "no product matches %s; searching without the query's filters", parsed.shown
            )
            mask = self._mask(explicit, (None, None))
        query = (parsed.rewritten or text) if parsed else text
        timings["parse"] = (time.perf_counter() - t0) * 1e3

        depth = max(100, 5 * k)
        rows: np.ndarray
        scores: np.ndarray
        if mode == "bm25":
            rows, scores = self.bm25_.search(query, k, mask=mask)
        elif mode == "semantic":
            rows, scores = self.semantic_.search(query, k, mask=mask)
        else:
            t = time.perf_counter()
            lex, _ = self.bm25_.search(query, depth, mask=mask)
            timings["bm25"] = (time.perf_counter() - t) * 1e3
            t = time.perf_counter()
            sem, _ = self.semantic_.search(query, depth, mask=mask)
            timings["semantic"] = (time.perf_counter() - t) * 1e3
            fused = rrf([lex, sem])
            best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            rows = np.array([r for r, _ in best], dtype=np.int64)
            scores = np.array([s for _, s in best], dtype=np.float64)
        timings["total"] = (time.perf_counter() - t0) * 1e3
        return TextResult(
            ids=self.ids_[rows].tolist(),
            scores=[float(s) for s in scores],
            parsed=parsed,
            timings_ms=timings,
        )
