"""Heads on real Lite0 embeddings of the 300-product fixture (shared data; embeds 300 images)."""

from __future__ import annotations

import numpy as np
import pytest

from fashionrec.eval.retrieval import query_to_base
from fashionrec.heads import ProjectionHead, evaluate_classifier, split_by_product
from fashionrec.index import load_index
from fashionrec.pipeline import IndexDir, build_index

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def real(fixture300, tmp_path_factory):
    out = tmp_path_factory.mktemp("idx300")
    build_index(fixture300, out, show_progress=False)
    d = IndexDir(out)
    m = d.read_manifest()
    products = d.read_products(m)
    X = load_index(d.vectors_path(m.generation)).get_vectors(products["key"].to_numpy())
    cols = ("master_category", "article_type", "base_colour")
    labels = {c: products[c].astype(object).where(products[c].notna(), "").to_numpy() for c in cols}
    return np.asarray(X, np.float32), labels


def test_classifier_on_real_embeddings(real):
    X, labels = real
    rep = evaluate_classifier(X, labels, test_size=0.2, seed=0)
    assert rep["attributes"]["master_category"]["accuracy"] > 0.9
    assert rep["attributes"]["article_type"]["accuracy"] > 0.6  # 30 types, 8 rows each to learn
    assert rep["attributes"]["article_type"]["n_test"] == 60


def test_head_improves_test_to_train_retrieval(real):
    X, labels = real
    train, test = split_by_product(len(X), test_size=0.2, seed=0)
    y = labels["article_type"]
    head = ProjectionHead(epochs=30).fit(X[train], {"article_type": y[train]}, seed=0)

    def p10(Z):
        res = query_to_base(Z[test], y[test], Z[train], y[train], ks=(10,), per_label=False)
        return res.overall["p@10"]

    assert p10(head.transform(X)) > p10(X) + 0.03
