"""Suggestions as the shopper types, from the catalog's own phrases."""

from __future__ import annotations

import pandas as pd

from fashionrec.text.suggest import Suggester

PRODUCTS = pd.DataFrame(
    {
        "article_type": ["Shirts"] * 5 + ["Shorts"] * 3 + ["Watches"] * 4,
        "base_colour": ["Navy Blue"] * 4 + ["White"] + ["Navy Blue"] * 3 + ["Black"] * 4,
        "gender": ["Men"] * 8 + ["Women"] * 4,
        "name": ["Arrow a"] * 5 + ["Puma b"] * 3 + ["Titan c"] * 4,
    }
)


def test_completes_the_last_word_and_ranks_by_products_covered():
    s = Suggester(PRODUCTS)
    assert s.suggest("navy sh") == ["Navy Blue Shirts", "Navy Blue Shorts"]
    assert s.suggest("sh")[:2] == ["Shirts", "Men Shirts"]


def test_words_in_any_order_stop_words_skipped_plurals_folded():
    s = Suggester(PRODUCTS)
    assert "Women Watches" in s.suggest("watch for wom")
    assert s.suggest("shirt arrow") == ["Arrow Shirts"]


def test_rare_pairs_and_unknown_words_give_nothing():
    s = Suggester(PRODUCTS)
    assert "White Shirts" not in s.suggest("white")  # one product: below the minimum
    assert s.suggest("zzz") == [] and s.suggest("  ") == []
    assert Suggester(pd.DataFrame({"name": ["x"]})).suggest("x") == []
