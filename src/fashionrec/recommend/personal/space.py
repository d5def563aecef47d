"""What the personal recommenders need from an index: rows, vectors, groups, gender rules, MMR.

One `ProductSpace` wraps a `Recommender` so every personal method reads the same products
and vectors as similar items and search do (no second copy of the catalog).

Example:
    >>> space = ProductSpace(Recommender.open("fashionrec-index"))     # doctest: +SKIP
    >>> space.rows(["15970", "nope"])                                   # doctest: +SKIP
    array([ 12,  -1])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.recommend.filters import Filters
from fashionrec.recommend.personal.history import History
from fashionrec.recommend.recommender import Recommender

log = logging.getLogger(__name__)

FiltersLike = Filters | Mapping[str, Any] | None

#: Product genders a shopper of a given gender is shown (besides genders they bought from).
#: Kaggle uses Men/Women/Unisex; H&M's index groups are Ladieswear/Menswear/Divided/Sport...
_WOMEN = ("Women", "Ladieswear", "Divided", "Unisex", "Sport")
_MEN = ("Men", "Menswear", "Unisex", "Sport")
GENDER_SYNONYMS: dict[str, tuple[str, ...]] = {
    **{w: _WOMEN for w in ("women", "woman", "female", "f", "ladies", "ladieswear", "w")},
    **{m: _MEN for m in ("men", "man", "male", "m", "menswear")},
}


def mmr(scores: np.ndarray, vectors: np.ndarray, k: int, *, relevance: float = 0.8) -> list[int]:
    """Maximal marginal relevance: pick k rows trading score against similarity to the picks.

    Scores are rescaled to [0, 1] first so `relevance` (1 = plain ranking) means the same for
    every method.

    Example:
        >>> v = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
        >>> mmr(np.array([1.0, 0.9, 0.5]), v, 2, relevance=0.5)
        [0, 2]
    """
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    s = np.asarray(scores, dtype=np.float64)
    span = s.max() - s.min()
    s = (s - s.min()) / span if span > 0 else np.ones(n)
    sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T
    picked: list[int] = []
    closest = np.full(n, -np.inf)  # max similarity of each row to the picks so far
    free = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        gain = relevance * s - (1 - relevance) * np.where(np.isfinite(closest), closest, 0.0)
        gain[~free] = -np.inf
        best = int(np.argmax(gain))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, sims[best])
    return picked


class ProductSpace:
    """Index rows, vectors and attributes of the catalog, shared by the personal recommenders."""

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        products = rec.products
        self.ids = products.index.astype(str).to_numpy(dtype=object)
        self._row_of = pd.Index(self.ids)
        self.keys = products["key"].to_numpy(np.int64)
        self.gender = _column(products, "gender")
        self.group = _column(products, "group")
        self.names = _column(products, "name")
        self._prefix = _group_prefix(self.ids, self.group)
        self._masks: dict[Filters, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, ids: Iterable[str]) -> np.ndarray:
        """Row of each product id in the index, -1 for products the index does not hold."""
        return self._row_of.get_indexer([str(i) for i in ids])

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """L2-normalised index vectors of rows (float32, one per row)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.rec.index.dim), np.float32)
        return np.asarray(self.rec.index.get_vectors(self.keys[rows]), dtype=np.float32)

    def product(self, row: int) -> dict[str, Any]:
        return self.rec.product(self.ids[row])

    def name_of(self, product_id: str) -> str | None:
        row = self.rows([product_id])[0]
        return None if row < 0 or self.names is None else _str(self.names[row])

    def group_of(self, product_id: str) -> str | None:
        """The product's group (colour variants of one product). For ids the index lacks, the
        catalog's own rule when it has one (H&M: group = the id's first 6 characters)."""
        row = self.rows([product_id])[0]
        if row >= 0:
            return None if self.group is None else _str(self.group[row])
        if self._prefix and len(product_id) == self._prefix[1]:
            return product_id[: self._prefix[0]]
        return None

    def rows_of_group(self, group: str) -> np.ndarray:
        if self.group is None:
            return np.zeros(0, np.int64)
        if not hasattr(self, "_groups"):
            frame = pd.Series(np.arange(len(self.ids)), index=self.group)
            self._groups = frame.groupby(level=0).apply(lambda s: s.to_numpy()).to_dict()
        return self._groups.get(group, np.zeros(0, np.int64))

    def genders_for(self, user_gender: str | None, bought: Iterable[str] = ()) -> tuple[str, ...]:
        """Product genders to show a shopper: those of their gender, plus the ones they bought
        from (a mother buying for her children); () when nothing is known (no restriction)."""
        if self.gender is None:
            return ()
        vocabulary = set(pd.unique(self.gender[pd.notna(self.gender)]).astype(str))
        bought = [g for g in bought if g]
        if not user_gender and bought:  # infer it from what they bought most
            user_gender = max(set(bought), key=bought.count)
        wanted: list[str] = []
        if user_gender:
            wanted += GENDER_SYNONYMS.get(user_gender.strip().lower(), (user_gender, "Unisex"))
        wanted += bought
        if not wanted:
            return ()
        present = {w.lower(): w for w in vocabulary}
        return tuple(dict.fromkeys(present[w.lower()] for w in wanted if w.lower() in present))

    def filters_for(
        self, genders: tuple[str, ...], filters: Filters | Mapping[str, Any] | None
    ) -> Filters:
        """The shopper's filters; their gender rule applies unless the filters name a gender."""
        if not isinstance(filters, Filters):
            filters = Filters.from_mapping(filters)
        if genders and not filters.gender:
            filters = replace(filters, gender=genders)
        return filters

    def interest_genders(self, history: History) -> list[str]:
        """Genders of the catalog products a shopper showed interest in (one per product)."""
        if self.gender is None:
            return []
        positive = [p for p, w in history.net_weights().items() if w > 0]
        rows = self.rows(positive)
        return [str(self.gender[r]) for r in rows[rows >= 0] if _str(self.gender[r])]

    def main_gender(self, history: History) -> str | None:
        """The shopper's gender, else the gender they shop most."""
        if history.gender:
            return history.gender
        genders = self.interest_genders(history)
        return max(set(genders), key=genders.count) if genders else None

    def shopper_filters(self, history: History, filters: FiltersLike = None) -> Filters:
        """The request's filters plus the shopper's gender rule (see genders_for)."""
        genders = self.genders_for(history.gender, self.interest_genders(history))
        return self.filters_for(genders, filters)

    def allowed(self, filters: Filters) -> np.ndarray:
        """Boolean mask over rows of the products the filters keep (cached: shoppers reuse a
        handful of gender rules and categories)."""
        mask = self._masks.get(filters)
        if mask is None:
            if filters.is_empty():
                mask = np.ones(len(self.ids), dtype=bool)
            else:
                mask = filters.resolved(self.rec.vocabulary).mask(self.rec.products)
            if len(self._masks) >= 128:
                self._masks.pop(next(iter(self._masks)))
            self._masks[filters] = mask
        return mask


def _column(products: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in products:
        return None
    return products[name].to_numpy(dtype=object)


def _str(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return str(value)


def _group_prefix(ids: np.ndarray, groups: np.ndarray | None) -> tuple[int, int] | None:
    """(prefix length, id length) when every group is a fixed-length prefix of its
    fixed-length id, as H&M's product_code is of its article id; else None."""
    if groups is None or len(ids) == 0:
        return None
    ids_s = pd.Series(ids, dtype=str)
    groups_s = pd.Series(groups).astype(str)
    id_len, grp_len = ids_s.str.len().unique(), groups_s.str.len().unique()
    if len(id_len) != 1 or len(grp_len) != 1 or grp_len[0] >= id_len[0]:
        return None
    if (ids_s.str[: int(grp_len[0])] == groups_s.to_numpy()).all():
        return int(grp_len[0]), int(id_len[0])
    return None


def _normalise(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
