"""Collaborative filtering over all interactions, with `implicit` (ALS or item-item cosine).

Items are every product shoppers interacted with, also those the index lacks (H&M shoppers
bought many articles without photos: they still tell who buys alike); only indexed products
are recommended. A shopper's row is built from their History at request time
(`recalculate_user`), so new events count on the next request without retraining.

Example:
    >>> cf = CFRecommender(space).fit(interactions)                    # doctest: +SKIP
    >>> cf.recommend(history, k=10)                                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from fashionrec.errors import ConfigError, suggest
from fashionrec.recommend.personal import explain
from fashionrec.recommend.personal.base import Recommendation
from fashionrec.recommend.personal.history import History
from fashionrec.recommend.personal.space import FiltersLike, ProductSpace
from fashionrec.store.models import EVENT_WEIGHTS

log = logging.getLogger(__name__)

MODELS = ("als", "cosine", "bm25")


def _model(name: str, *, factors: int, iterations: int, regularization: float, seed: int) -> Any:
    if name == "als":
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=factors,
            iterations=iterations,
            regularization=regularization,
            num_threads=1,  # the machine's cores serve requests; one BLAS thread each
            random_state=seed,
        )
    if name in ("cosine", "bm25"):
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        cls = CosineRecommender if name == "cosine" else BM25Recommender
        return cls(K=100, num_threads=1)
    raise ConfigError(
        f"unknown CF model {name!r}; choose from {', '.join(MODELS)}" + suggest(name, MODELS)
    )


class CFRecommender:
    """Shoppers who bought what you bought also bought...: implicit-feedback CF."""

    name = "cf"

    def __init__(
        self,
        space: ProductSpace,
        *,
        model: str = "als",
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 0.05,
        alpha: float = 2.0,
        seed: int = 0,
    ) -> None:
        self.space = space
        self.model_name = model
        self.alpha = alpha
        self.params = {
            "factors": factors,
            "iterations": iterations,
            "regularization": regularization,
            "seed": seed,
        }
        if model not in MODELS:  # fail early, not at fit
            _model(model, **self.params)
        self.items_ = pd.Index([], dtype=object)
        self.fitted_ = False

    def fit(self, interactions: pd.DataFrame) -> CFRecommender:
        """Train on a frame with user_id, product_id and kind (optional: purchases)."""
        kinds = (
            interactions["kind"].astype(str)
            if "kind" in interactions
            else pd.Series("purchase", index=interactions.index)
        )
        w = kinds.map(EVENT_WEIGHTS).fillna(0.0).to_numpy(np.float64)
        keep = w > 0
        users = interactions["user_id"].astype(str).to_numpy()[keep]
        products = interactions["product_id"].astype(str).to_numpy()[keep]
        user_codes, user_index = pd.factorize(users)
        item_codes, self.items_ = pd.factorize(products)
        self.items_ = pd.Index(self.items_)
        matrix = sp.csr_matrix(
            (self._confidence(w[keep]), (user_codes, item_codes)),
            shape=(len(user_index), len(self.items_)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        # A fresh model each time: implicit reuses (and overruns) factors of another shape.
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit's item-item models turn our CSR matrix into COO themselves and then
            # warn about it; nothing to fix on our side
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            self.model_ = _model(self.model_name, **self.params)
            self.model_.fit(matrix, show_progress=False)
        self.item_users_ = (matrix.T.tocsr() > 0).astype(np.float32)
        self.catalog_rows_ = self.space.rows(self.items_)  # item -> index row (-1: no photo)
        self.fitted_ = len(self.items_) > 0
        log.info(
            "cf (%s): %d users x %d items, %d indexed",
            self.model_name,
            len(user_index),
            len(self.items_),
            int((self.catalog_rows_ >= 0).sum()),
        )
        return self

    def _confidence(self, weights: np.ndarray) -> np.ndarray:
        return (self.alpha * weights / EVENT_WEIGHTS["purchase"]).astype(np.float32)

    def _user_row(self, history: History) -> tuple[sp.csr_matrix, np.ndarray]:
        weights = {p: w for p, w in history.net_weights().items() if w > 0}
        items = self.items_.get_indexer(list(weights))
        vals = np.array(list(weights.values()), dtype=np.float64)
        known = items >= 0
        row = sp.csr_matrix(
            (self._confidence(vals[known]), (np.zeros(known.sum(), int), items[known])),
            shape=(1, len(self.items_)),
            dtype=np.float32,
        )
        return row, items[known]

    def candidates(
        self, history: History, n: int, filters: FiltersLike = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(index rows, scores, items of the history) of up to n candidates."""
        empty = np.zeros(0, np.int64)
        if not self.fitted_:
            return empty, np.zeros(0), empty
        row, known = self._user_row(history)
        if len(known) == 0:
            return empty, np.zeros(0), empty
        allowed = self.space.allowed(self.space.shopper_filters(history, filters))
        excluded = set(self.space.rows(history.purchased | history.rated).tolist())
        ok = self.catalog_rows_ >= 0
        ok[ok] = allowed[self.catalog_rows_[ok]]
        items = np.flatnonzero(ok)
        if excluded:
            items = items[~np.isin(self.catalog_rows_[items], list(excluded))]
        items = np.setdiff1d(items, known)
        if len(items) == 0:
            return empty, np.zeros(0), empty
        ids, scores = self.model_.recommend(
            0,
            row,
            N=min(n, len(items)),
            recalculate_user=self.model_name == "als",
            filter_already_liked_items=False,
            items=items,
        )
        keep = np.isfinite(scores) & (ids >= 0)
        return self.catalog_rows_[ids[keep]], scores[keep].astype(np.float64), known

    def recommend(
        self, history: History, k: int = 10, filters: FiltersLike = None
    ) -> list[Recommendation]:
        rows, scores, known = self.candidates(history, k, filters)
        return self.explain(rows, scores, known)

    def explain(
        self, rows: np.ndarray, scores: np.ndarray, known: np.ndarray
    ) -> list[Recommendation]:
        """Each recommendation names the history product most often bought by the same
        shoppers ("bought by 3 shoppers who bought X"), if any."""
        if len(rows) == 0:
            return []
        items = self.items_.get_indexer(self.space.ids[rows])
        together = (self.item_users_[items] @ self.item_users_[known].T).toarray()
        out = []
        for i, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True)):
            best = int(together[i].argmax()) if together.shape[1] else 0
            shoppers = int(together[i, best]) if together.shape[1] else 0
            if shoppers > 0:
                anchor = str(self.items_[known[best]])
                reasons = explain.bought_together(self.space.name_of(anchor), shoppers)
            else:
                reasons = explain.similar_shoppers()
            out.append(Recommendation(self.space.ids[row], score, reasons, self.name))
        return out
