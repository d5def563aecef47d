"""Reasons a result is shown: pure function over metadata, known answers."""

from __future__ import annotations

import pytest

from fashionrec.recommend.reasons import CODES, photo_query, reasons_for

GROUPS = {"Navy Blue": "Blue", "Blue": "Blue", "Teal": "Blue", "Red": "Red"}


def codes(query, product, groups=GROUPS):
    return [r["code"] for r in reasons_for(query, product, groups=groups)]


@pytest.mark.parametrize(
    "product, expected",
    [
        ({"article_type": "Jeans", "base_colour": "Navy Blue"}, ["same_type", "same_colour"]),
        ({"article_type": "Jeans", "base_colour": "Teal"}, ["same_type", "similar_colour"]),
        ({"article_type": "Tshirts", "base_colour": "Red"}, ["other_colour"]),
        ({"article_type": "Jeans", "base_colour": "Mauve"}, ["same_type", "other_colour"]),
        ({"article_type": "jeans"}, ["same_type"]),
        ({"article_type": None, "base_colour": "NA"}, []),
    ],
)
def test_codes_against_a_navy_jeans_query(product, expected):
    query = {"article_type": "Jeans", "base_colour": "Navy Blue"}
    assert codes(query, product) == [*expected, "looks_similar"]


def test_texts_are_shopper_words():
    query = {"article_type": "Jeans", "base_colour": "Navy Blue"}
    texts = lambda p: [r["text"] for r in reasons_for(query, p, groups=GROUPS)]  # noqa: E731
    assert texts({"article_type": "Jeans", "base_colour": "Navy Blue"}) == [
        "same type",
        "same colour: navy blue",
        "similar shape",
    ]
    assert "similar colour: blue" in texts({"base_colour": "Teal"})
    assert "other colour: red" in texts({"base_colour": "Red"})


def test_unknown_query_gives_only_the_look_and_codes_are_known():
    assert reasons_for({}, {"article_type": "Jeans", "base_colour": "Red"}) == [
        {"code": "looks_similar", "text": "similar shape"}
    ]
    got = reasons_for({"article_type": "A", "base_colour": "Blue"}, {"base_colour": "Navy Blue"})
    assert [r["code"] for r in got] == ["similar_colour", "looks_similar"]  # shipped groups
    assert all(r["code"] in CODES for r in got)


def test_photo_query_prefers_the_gate_and_takes_the_heads_colour():
    gate = {"article_type": "Jeans", "confidence": 0.9, "top": [], "applied": True}
    heads = {"base_colour": ("Navy Blue", 0.71), "article_type": ("Trousers", 0.5)}
    assert photo_query(gate, heads) == {"article_type": "Jeans", "base_colour": "Navy Blue"}
    assert photo_query(None, heads)["article_type"] == "Trousers"
    assert photo_query(None, {}) == {"article_type": None, "base_colour": None}
    assert photo_query(None, None) == {"article_type": None, "base_colour": None}
