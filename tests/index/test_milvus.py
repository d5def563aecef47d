"""The Milvus backend on a real Milvus Lite: the index contract, and filters pushed down to the
engine giving the same answers as the exact backend with allowed keys."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from index_contract import DIM, IndexContract, axis_set, clustered  # noqa: F401 - fixture

from fashionrec.errors import ConfigError, IndexStoreError
from fashionrec.index import IndexArgumentError, Where, create_index, load_index
from fashionrec.index.synthetic import split_queries
from fashionrec.recommend.filters import Filters
from fashionrec.recommend.recommender import filters_to_where

pytest.importorskip("pymilvus", reason='needs pip install "fashionrec[milvus]"')
pytest.importorskip("milvus_lite", reason='needs pip install "fashionrec[milvus]"')


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory) -> str:
    """One Milvus Lite data directory for the module; skip when it cannot start here."""
    uri = str(tmp_path_factory.mktemp("milvus") / "lite.db")
    try:
        create_index("milvus", 2, uri=uri, collection="probe").drop()
    except Exception as exc:  # any start-up failure of the engine: skip, do not error
        pytest.skip(f"Milvus Lite cannot start on this machine: {exc}")
    return uri


class TestMilvusContract(IndexContract):
    backend = "milvus"

    @pytest.fixture(autouse=True)
    def _uri(self, lite_uri):
        self.uri = lite_uri

    def make(self, dim: int = DIM, **extra):
        # a fresh collection per index, as the local backends start empty
        name = f"t_{uuid.uuid4().hex[:10]}"
        return create_index(self.backend, dim, uri=self.uri, collection=name, **extra)

    def test_load_errors(self, tmp_path: Path):
        with pytest.raises(IndexStoreError, match="index.json"):
            load_index(tmp_path)
        ix = self.filled()
        ix.save(tmp_path / "ix")
        manifest = json.loads((tmp_path / "ix" / "index.json").read_text())
        assert "token" not in json.dumps(manifest)
        ix.drop()
        with pytest.raises(IndexStoreError, match=ix.collection):
            load_index(tmp_path / "ix")
        manifest["params"]["uri"] = "nowhere/lite.db"
        (tmp_path / "ix" / "index.json").write_text(json.dumps(manifest))
        with pytest.raises(IndexStoreError, match="missing"):
            load_index(tmp_path / "ix")


def test_config_errors(lite_uri, monkeypatch):
    monkeypatch.delenv("FASHIONREC_MILVUS_URI", raising=False)
    with pytest.raises(ConfigError, match="uri"):
        create_index("milvus", 4)
    with pytest.raises(ConfigError, match=r"\.db"):
        create_index("milvus", 4, uri="/tmp/some-dir")
    with pytest.raises(ConfigError, match="collection name"):
        create_index("milvus", 4, uri=lite_uri, collection="bad-name")
    ix = create_index("milvus", 4, uri=lite_uri, collection="dims")
    with pytest.raises(IndexStoreError, match="4-d"):
        create_index("milvus", 8, uri=lite_uri, collection="dims")
    with pytest.raises(IndexArgumentError, match="colour"):
        ix.add(np.eye(1, 4, dtype=np.float32), np.array([1]), metadata={"colour": ["Red"]})
    with pytest.raises(IndexArgumentError, match="cannot filter on 'name'"):
        Where(any_of=(("name", ("x",)),))
    ix.drop()


def test_lite_path_is_stored_relative(lite_uri, tmp_path):
    ix = create_index("milvus", DIM, uri=str(tmp_path / "lite.db"), collection="rel")
    ix.add(*axis_set())
    ix.save(tmp_path / "vectors")
    stored = json.loads((tmp_path / "vectors" / "index.json").read_text())["params"]["uri"]
    assert stored == "../lite.db"  # the index directory can move with its data
    again = load_index(tmp_path / "vectors")
    assert len(again) == 8 and again.uri == str((tmp_path / "lite.db").resolve())


# -- filters pushed down vs the exact backend ----------------------------------------------


def _products(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda vals, p=None: rng.choice(np.array(vals, dtype=object), n, p=p)  # noqa: E731
    df = pd.DataFrame(
        {
            "key": np.arange(n, dtype=np.int64) * 3 + 1,
            "gender": pick(["Men", "Women", "Unisex", None], [0.45, 0.45, 0.05, 0.05]),
            "article_type": pick(["Tshirts", "Shirts", "Jeans", 'Odd "quoted"\\type']),
            "base_colour": pick(["Blue", "Navy Blue", "Red", "Black", None]),
            "season": pick(["Summer", "Winter"]),
            "year": pd.array(rng.integers(2010, 2019, n), dtype="Int64"),
            "price": pd.array(np.round(rng.uniform(5, 120, n), 2), dtype="Float64"),
        },
        index=[f"p{i}" for i in range(n)],
    )
    df.loc[df.index[::17], "price"] = pd.NA  # missing prices never pass a price filter
    return df


FILTERS = [
    Filters(gender=("Women",)),
    Filters(gender=("Men", "Unisex"), article_type=("Tshirts",)),
    Filters(base_colour=("Blue",), price_max=40.0),
    Filters(price_min=20.0, price_max=60.0, year_min=2012, year_max=2015),
    Filters(article_type=('Odd "quoted"\\type',), season=("Winter",)),
    Filters(colour_group=("Blue",)),
    Filters(gender=("Women",), exclude_ids=("p1", "p2", "p3", "p4")),
    Filters(gender=("Women",), base_colour=("Red",), price_min=100.0, price_max=101.0),
]


@pytest.mark.parametrize("index_type", ["FLAT", "HNSW"])
def test_pushed_down_filters_match_exact(lite_uri, index_type):
    db, q = split_queries(2000, 32, n_queries=30, seed=5)
    products = _products(len(db), seed=5)
    keys = products["key"].to_numpy()
    exact = create_index("exact", 32)
    exact.add(db, keys)
    engine = create_index(
        "milvus", 32, uri=lite_uri, collection=f"eq_{index_type.lower()}", index_type=index_type
    )
    from fashionrec.pipeline.build import add_vectors

    add_vectors(engine, db, keys, products)
    for filters in FILTERS:
        resolved = filters.resolved(
            {
                c: sorted(products[c].dropna().unique())
                for c in ("gender", "article_type", "base_colour", "season")
            }
        )
        allowed = keys[resolved.mask(products)]
        want_s, want_k = exact.search(q, k=10, allowed=allowed)
        got_s, got_k = engine.search(q, k=10, where=filters_to_where(resolved, products))
        assert np.isin(got_k[got_k >= 0], allowed).all(), filters
        assert ((got_k >= 0).sum(1) == (want_k >= 0).sum(1)).all(), filters  # same counts
        hits = [len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(got_k, want_k, strict=True)]
        expected = int((want_k >= 0).sum())
        recall = sum(hits) / expected if expected else 1.0
        assert recall >= (1.0 if index_type == "FLAT" else 0.95), (filters, recall)
        if index_type == "FLAT":
            np.testing.assert_allclose(got_s[got_k >= 0], want_s[want_k >= 0], atol=1e-4)
    engine.drop()
