"""TextSearcher on a small seeded synthetic catalog with a fake (hashing) sentence encoder."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from fashionrec.errors import FilterError
from fashionrec.text import TextSearcher
from fashionrec.text.lexical import BM25Index, top_k
from fashionrec.text.search import product_texts, rrf

GENDERS = ["Men", "Women"]
COLOURS = ["Navy Blue", "Black", "White", "Red"]
KINDS = [
    ("Shirts", "Topwear", "Apparel"),
    ("Tshirts", "Topwear", "Apparel"),
    ("Jeans", "Bottomwear", "Apparel"),
    ("Sports Shoes", "Shoes", "Footwear"),
    ("Casual Shoes", "Shoes", "Footwear"),
    ("Watches", "Watches", "Accessories"),
]
USAGES = ["Casual", "Formal", "Sports"]


class HashEncoder:
    """Bag of hashed words, L2-normalised: a stand-in with the encoder's contract."""

    name = "hash-test"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, *, batch_size=128):
        self.calls += 1
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


def make_products(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        art, sub, master = KINDS[rng.integers(len(KINDS))]
        g, c, u = (GENDERS[rng.integers(2)], COLOURS[rng.integers(4)], USAGES[rng.integers(3)])
        rows.append(
            {
                "id": str(1000 + i),
                "gender": g,
                "master_category": master,
                "sub_category": sub,
                "article_type": art,
                "base_colour": c,
                "season": "Summer",
                "usage": u,
                "price": float(rng.integers(5, 100)),
                "name": f"Brand{i % 7} {g} {c} {art.rstrip('s')}",
            }
        )
    return pd.DataFrame(rows).set_index("id", drop=False).rename_axis(None)


def vocab(df: pd.DataFrame) -> dict[str, list[str]]:
    cols = [
        "gender",
        "master_category",
        "sub_category",
        "article_type",
        "base_colour",
        "season",
        "usage",
    ]
    return {c: sorted(df[c].unique()) for c in cols}


@pytest.fixture(scope="module")
def products() -> pd.DataFrame:
    return make_products()


@pytest.fixture(scope="module")
def searcher(products, tmp_path_factory) -> TextSearcher:
    cache = tmp_path_factory.mktemp("text")
    return TextSearcher(products, vocab(products), cache_dir=cache, encoder=HashEncoder()).build()


def satisfies(p: pd.Series, **rules) -> bool:
    return all(p[f] in (v if isinstance(v, list) else [v]) for f, v in rules.items())


@pytest.mark.parametrize("mode", ["bm25", "semantic", "fused"])
def test_understood_filters_hold_for_every_result(searcher, products, mode):
    r = searcher.search("navy formal shirt for men", k=10, mode=mode)
    assert r.parsed.shown == ["Shirts", "Men", "Navy Blue", "Formal"]
    assert r.ids, "the synthetic catalog has such shirts"
    for pid in r.ids:
        assert satisfies(
            products.loc[pid],
            article_type="Shirts",
            gender="Men",
            base_colour="Navy Blue",
            usage="Formal",
        )


@pytest.mark.parametrize("mode", ["bm25", "semantic", "fused"])
def test_k_honoured_after_filters(searcher, products, mode):
    r = searcher.search("black shoes", k=7, mode=mode, filters={"gender": "Women"})
    expected = (
        (products.base_colour == "Black")
        & (products.sub_category == "Shoes")
        & (products.gender == "Women")
    ).sum()
    assert len(r.ids) == min(7, expected) and len(r.scores) == len(r.ids)
    assert len(set(r.ids)) == len(r.ids)
    assert all(products.loc[i, "gender"] == "Women" for i in r.ids)


def test_price_range_filters(searcher, products):
    r = searcher.search("jeans under 30", k=50)
    assert r.ids and all(products.loc[i, "price"] <= 30 for i in r.ids)
    assert all(products.loc[i, "article_type"] == "Jeans" for i in r.ids)


def test_without_understanding_no_filters(searcher):
    r = searcher.search("navy formal shirt for men", k=10, understand=False, mode="bm25")
    assert r.parsed is None and len(r.ids) == 10


def test_explicit_filter_wins_over_text(searcher, products):
    r = searcher.search("shirts for men", k=10, filters={"gender": ["Women"]})
    assert all(products.loc[i, "gender"] == "Women" for i in r.ids)


def test_impossible_combination_falls_back(searcher):
    r = searcher.search("accessories sports shoes", k=5)
    assert len(r.ids) == 5  # relaxed rather than empty when the catalog has none


def test_unknown_filter_field(searcher):
    with pytest.raises(FilterError, match="cannot filter on 'colour'"):
        searcher.search("shirt", filters={"colour": "Red"})


def test_unknown_mode(searcher):
    with pytest.raises(ValueError, match="choose from bm25, semantic, fused"):
        searcher.search("shirt", mode="dense")


def test_embeddings_cached_and_reused(products, tmp_path):
    enc = HashEncoder()
    TextSearcher(products, vocab(products), cache_dir=tmp_path, encoder=enc).build()
    assert (tmp_path / "embeddings.npy").is_file()
    meta = json.loads((tmp_path / "manifest.json").read_text())
    assert meta["count"] == len(products) and meta["model"] == "hash-test"
    enc2 = HashEncoder()
    s = TextSearcher(products, vocab(products), cache_dir=tmp_path, encoder=enc2).build()
    assert enc2.calls == 0
    np.testing.assert_allclose(s.semantic_.vectors_, enc.encode(product_texts(products)))
    # a removed product costs no model call; an edited one costs one text, not the catalog
    enc3 = HashEncoder()
    TextSearcher(products.iloc[:-1], vocab(products), cache_dir=tmp_path, encoder=enc3).build()
    assert enc3.calls == 0
    edited = products.copy()
    edited.iloc[5, edited.columns.get_loc("name")] = "Brand new velvet blazer"
    counted = []

    class Counting(HashEncoder):
        def encode(self, texts, *, batch_size=128):
            counted.append(len(texts))
            return super().encode(texts, batch_size=batch_size)

    s = TextSearcher(edited, vocab(products), cache_dir=tmp_path, encoder=Counting()).build()
    assert counted == [1]
    np.testing.assert_allclose(s.semantic_.vectors_, enc.encode(product_texts(edited)), atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 17, 299, 300, 500])
def test_top_k_matches_naive_sort(k):
    rng = np.random.default_rng(k)
    s = rng.integers(0, 20, size=300).astype(np.float32)  # many ties
    mask = rng.random(300) < 0.6
    naive = sorted(np.flatnonzero(mask), key=lambda r: (-s[r], r))[:k]
    assert top_k(s, mask, k).tolist() == naive


def test_bm25_ranks_exact_name_first():
    ix = BM25Index(["Red Dress", "Navy Blue Shirt", "Blue Jeans", "White Shirt"]).build()
    rows, scores = ix.search("navy shirt", k=4)
    assert rows.tolist() == [1, 3] and np.all(np.diff(scores) <= 0)
    assert ix.search("zzz", k=3)[0].size == 0


def test_rrf_rewards_agreement():
    fused = rrf([np.array([1, 2, 3]), np.array([3, 1, 4])])
    assert max(fused, key=fused.get) == 1
    assert fused[4] == pytest.approx(1 / 63)


def test_find_command(products, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from fashionrec.cli.text_cmds import text_search_cmd
    from fashionrec.text import search as search_mod

    class FakeIndexDir:
        def __init__(self, path):
            self.path = tmp_path

        def read_manifest(self):
            return type("M", (), {"encodings": vocab(products)})()

        def read_products(self, m):
            return products

    monkeypatch.setattr("fashionrec.pipeline.IndexDir", FakeIndexDir)
    monkeypatch.setattr(search_mod, "MiniLMEncoder", HashEncoder)
    runner = CliRunner()
    out = runner.invoke(text_search_cmd, ["navy formal shirt for men", "--index", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "Showing: Shirts \u00b7 Men \u00b7 Navy Blue \u00b7 Formal"
    out = runner.invoke(
        text_search_cmd, ["black jeans", "-k", "3", "--json", "--index", str(tmp_path)]
    )
    data = json.loads(out.output)
    assert len(data["results"]) == 3 and data["parsed"]["shown"] == ["Jeans", "Black"]
    assert all(r["base_colour"] == "Black" for r in data["results"])
    assert text_search_cmd.help and "QUERY" in text_search_cmd.help
