"""Query understanding: vocabulary, synonyms, plurals, multi-word values, typos, prices."""

from __future__ import annotations

import pytest

from fashionrec.text import QueryParser, parse_query
from fashionrec.text.query import read_synonyms, singular

VOCAB = {
    "gender": ["Men", "Women", "Boys", "Girls", "Unisex"],
    "master_category": ["Apparel", "Footwear", "Accessories"],
    "sub_category": ["Topwear", "Bottomwear", "Shoes", "Accessories", "Watches"],
    "article_type": [
        "Shirts",
        "Tshirts",
        "Jeans",
        "Casual Shoes",
        "Sports Shoes",
        "Formal Shoes",
        "Watches",
        "Kurtas",
        "Dresses",
    ],
    "base_colour": ["Navy Blue", "Blue", "Black", "Off White", "White", "Red", "Grey"],
    "season": ["Summer", "Winter"],
    "usage": ["Casual", "Formal", "Sports", "Smart Casual"],
}


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(VOCAB)


def test_brief_example(parser):
    q = parser.parse("navy formal shirt for men")
    assert q.filters == {
        "article_type": ["Shirts"],
        "gender": ["Men"],
        "base_colour": ["Navy Blue"],
        "usage": ["Formal"],
    }
    assert q.shown == ["Shirts", "Men", "Navy Blue", "Formal"]
    assert q.free == []


@pytest.mark.parametrize(
    ("text", "field", "values"),
    [
        ("SHIRTS", "article_type", ["Shirts"]),
        ("shirt", "article_type", ["Shirts"]),
        ("tee", "article_type", ["Tshirts"]),
        ("t-shirt", "article_type", ["Tshirts"]),
        ("sneakers", "article_type", ["Casual Shoes", "Sports Shoes"]),
        ("casual shoes", "article_type", ["Casual Shoes"]),
        ("off white", "base_colour", ["Off White"]),
        ("navy blue", "base_colour", ["Navy Blue"]),
        ("gray", "base_colour", ["Grey"]),
        ("men's", "gender", ["Men"]),
        ("for him", "gender", ["Men"]),
        ("watches", "article_type", ["Watches"]),  # not sub_category: most specific kind wins
        ("smart casual", "usage", ["Smart Casual"]),
    ],
)
def test_phrases(parser, text, field, values):
    assert parser.parse(text).filters[field] == values


def test_multiword_value_not_split(parser):
    q = parser.parse("casual shoes")
    assert "usage" not in q.filters


def test_synonym_values_missing_from_catalog_are_dropped(parser):
    # "kurti" -> Kurtis|Kurtas, but this catalog only has Kurtas
    assert parser.parse("kurti").filters == {"article_type": ["Kurtas"]}


@pytest.mark.parametrize(
    ("typo", "value"),
    [("tshrit", "Tshirts"), ("sheos", "Shoes"), ("jaens", "Jeans"), ("wacthes", "Watches")],
)
def test_typos_corrected(parser, typo, value):
    q = parser.parse(typo)
    assert value in [v for vs in q.filters.values() for v in vs]
    assert q.corrections


@pytest.mark.parametrize("word", ["red", "bag", "linen", "floral", "leather", "with"])
def test_no_false_corrections(parser, word):
    q = parser.parse(word)
    assert q.corrections == {}


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("jeans under 30", (None, 30.0)),
        ("jeans below £25.50", (None, 25.5)),
        ("jeans between 20 and 40", (20.0, 40.0)),
        ("jeans 40-20", (20.0, 40.0)),
        ("jeans over 100", (100.0, None)),
        ("jeans", (None, None)),
    ],
)
def test_price(parser, text, price):
    q = parser.parse(text)
    assert q.price == price
    assert q.filters == {"article_type": ["Jeans"]}
    assert not any(ch.isdigit() for w in q.free for ch in w)


def test_free_words_and_rewrite(parser):
    q = parser.parse("linen shirt with pockets for women")
    assert q.free == ["linen", "pockets"]
    assert q.rewritten == "Shirts Women linen pockets"


def test_singular():
    assert [singular(w) for w in ["dresses", "glass", "accessories", "jeans", "men"]] == [
        "dress",
        "glass",
        "accessory",
        "jean",
        "men",
    ]


def test_packaged_synonyms_name_known_fields():
    rows = read_synonyms()
    assert len(rows) > 40
    assert {f for _, f, _ in rows} <= set(VOCAB)


def test_parse_query_function():
    assert parse_query("black jeans", VOCAB).shown == ["Jeans", "Black"]


def test_bad_synonym_field(tmp_path):
    p = tmp_path / "syn.csv"
    p.write_text("phrase,field,value\ntee,colour,Tshirts\n")
    with pytest.raises(ValueError, match="unknown field 'colour'"):
        QueryParser(VOCAB, synonyms=p)
