"""Heads trained into an index: measured, committed, used by queries, carried by updates."""

from __future__ import annotations

import numpy as np
import pytest

from fashionrec.pipeline import IndexDir, add_products, build_index, remove_products
from fashionrec.pipeline.heads import train_heads
from fashionrec.recommend import Recommender


@pytest.fixture()
def index(tmp_path, make_catalog):
    root = make_catalog(tmp_path / "cat", per_type=10)
    out = tmp_path / "idx"
    build_index(root, out, embedder="tiny", limit=36, show_progress=False)
    return out, root


def test_attribute_heads_predict_photo_attributes(index):
    out, root = index
    report = train_heads(out, attributes=True, projection=False)
    per_attr = report["attributes"]["attributes"]
    assert per_attr["article_type"]["accuracy"] >= 0.75
    m = IndexDir(out).read_manifest()
    assert m.heads["attributes"]["attributes"][0] == "gender"
    assert (out / f"heads-{m.generation}" / "attributes" / "attributes.npz").is_file()
    rec = Recommender.open(out)
    vec = rec.backbone_vectors([root / "images" / "1031.jpg"])  # a watch, not indexed (limit)
    pred = rec.predict_attributes(vec)[0]
    label, prob = pred["article_type"]
    assert label == "Watches" and 0.5 < prob <= 1.0


def test_projection_head_changes_the_search_space_and_survives_updates(index):
    out, root = index
    report = train_heads(out, attributes=False, projection=True)
    assert {"frozen", "head"} <= set(report["projection"])
    m = IndexDir(out).read_manifest()
    assert m.dim == m.heads["projection"]["dim"] != m.embedder["dim"]
    rec = Recommender.open(out)
    assert rec.head is not None and rec.index.dim == m.dim
    hits = rec.similar_to_image(root / "images" / "1005.jpg", k=3)
    assert hits[0].id == "1005" and hits[0].score > 0.99
    # updates embed through the head and keep the backbone vectors aligned with products
    add_products(out, root, show_progress=False)
    remove_products(out, ["1001"])
    d = IndexDir(out)
    m = d.read_manifest()
    products = d.read_products(m)
    features = d.read_features(m)
    assert len(products) == 39 == len(features)
    rec = Recommender.open(out)
    assert rec.similar_to_image(root / "images" / "1038.jpg", k=1)[0].id == "1038"
    row = products.index.get_loc("1038")
    np.testing.assert_allclose(
        rec.head.transform(np.asarray(features[row : row + 1]))[0],
        rec.index.get_vectors(np.array([products.loc["1038", "key"]]))[0],
        atol=1e-5,
    )
    assert (d.path / f"heads-{m.generation}" / "projection").is_dir()


def test_projection_thresholds_come_from_held_out_products(index):
    out, _ = index
    train_heads(out, attributes=False, projection=True)
    m = IndexDir(out).read_manifest()
    assert m.calibration["measured_on"] == "held-out products"
    assert not (out / "work").exists()
