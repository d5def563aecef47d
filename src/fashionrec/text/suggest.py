"""Suggestions as the shopper types: catalog phrases that complete the words so far.

Candidates come from the catalog itself: article types, colour + type, gender + type and
brand + type (a name's first word), each weighted by how many products it covers, so every
suggestion leads to products.

Example:
    >>> import pandas as pd
    >>> products = pd.DataFrame({"article_type": ["Shirts", "Shirts", "Shoes"],
    ...     "base_colour": ["Navy Blue", "Navy Blue", "Black"], "gender": ["Men"] * 3,
    ...     "name": ["Arrow shirt", "Arrow navy", "Puma shoe"]})
    >>> Suggester(products, min_products=1).suggest("navy sh")
    ['Navy Blue Shirts']
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from fashionrec.text.query import STOPWORDS, singular, tokens

#: Pairs (with the article type) worth suggesting, and the least products a pair must cover.
_PAIR_FIELDS = ("base_colour", "gender", "brand")
MIN_PRODUCTS = 3


def _brands(names: pd.Series) -> pd.Series:
    return names.fillna("").astype(str).str.split().str[0].fillna("")


class Suggester:
    """Completes a partial query from the catalog's phrases, most products first."""

    def __init__(self, products: pd.DataFrame, *, min_products: int = MIN_PRODUCTS) -> None:
        counts: Counter[str] = Counter()
        if "article_type" not in products:
            self.phrases_: list[str] = []
            self.words_: list[tuple[str, ...]] = []
            self.counts_ = np.zeros(0)
            return
        types = products["article_type"].fillna("").astype(str)
        counts.update(t for t in types if t)
        for name in _PAIR_FIELDS:
            if name == "brand":
                values = _brands(products["name"]) if "name" in products else None
            else:
                values = products[name].fillna("").astype(str) if name in products else None
            if values is None:
                continue
            pairs = Counter(zip(values, types, strict=True))
            counts.update(
                {f"{v} {t}": n for (v, t), n in pairs.items() if v and t and n >= min_products}
            )
        ranked = counts.most_common()
        self.phrases_ = [p for p, _ in ranked]
        self.words_ = [tuple(tokens(p)) for p in self.phrases_]
        self.counts_ = np.array([n for _, n in ranked], dtype=float)

    def suggest(self, text: str, limit: int = 8) -> list[str]:
        """Up to `limit` phrases whose words start with each word typed (the last one may be
        half-typed), most products first."""
        typed = tokens(text)
        # "tshirts for wo": a finished stop word is no filter ("wo" may still become "women").
        typed = [t for t in typed[:-1] if t not in STOPWORDS] + typed[-1:]
        if not typed:
            return []
        out = []
        for phrase, words in zip(self.phrases_, self.words_, strict=True):
            if _completes(typed, words):
                out.append(phrase)
                if len(out) == limit:
                    break
        return out


def _completes(typed: list[str], words: tuple[str, ...]) -> bool:
    free = list(words)
    for t in typed:
        stem = singular(t)
        hit = next((w for w in free if w.startswith(t) or w.startswith(stem)), None)
        if hit is None:
            return False
        free.remove(hit)
    return True
