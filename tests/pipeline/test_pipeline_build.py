"""Building and updating an index directory, end to end with the tiny backbone."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fashionrec.errors import IndexStoreError, UnknownProductError
from fashionrec.pipeline import IndexDir, add_products, build_index, remove_products
from fashionrec.recommend import Recommender


@pytest.fixture()
def built(synthetic_catalog, tmp_path):
    out = tmp_path / "index"
    build_index(synthetic_catalog, out, embedder="tiny", show_progress=False)
    return out


def test_build_writes_a_complete_index(built, synthetic_catalog):
    d = IndexDir(built)
    m = d.read_manifest()
    assert m.count == 24 and m.dim > 0 and m.embedder_name == "tiny"
    assert m.backend == "exact" and m.centered
    assert m.encodings["article_type"] == ["Casual Shoes", "Tops", "Tshirts", "Watches"]
    assert m.catalog["hash"] and m.embedder["preprocess"]["size"] > 0
    products = d.read_products(m)
    assert list(products.index[:3]) == ["1000", "1001", "1002"]
    assert products["key"].is_unique
    assert (built / "report.json").is_file()
    assert not (built / "work").exists()
    files = {p.name for p in built.iterdir()}
    assert files == {
        "manifest.json",
        "products-1.csv",
        "vectors-1",
        "mean-1.npy",
        "colours-1.npy",
        "report.json",
    }


def test_colour_descriptors_follow_the_products(built, synthetic_catalog):
    d = IndexDir(built)
    colours = d.read_array(d.read_manifest(), "colours")
    products = d.read_products(d.read_manifest())
    assert colours.shape[0] == len(products)
    np.testing.assert_allclose(np.linalg.norm(colours, axis=1), 1.0, rtol=1e-4)
    red, blue = products.index.get_loc("1000"), products.index.get_loc("1006")
    red2 = products.index.get_loc("1001")
    assert colours[red] @ colours[red2] > colours[red] @ colours[blue] + 0.3
    before = np.array(colours[red])
    remove_products(built, ["1000"])
    add_products(built, synthetic_catalog, show_progress=False)
    d = IndexDir(built)
    m = d.read_manifest()
    products = d.read_products(m)
    colours = d.read_array(m, "colours")
    assert colours.shape[0] == len(products) == 24
    np.testing.assert_allclose(colours[products.index.get_loc("1000")], before, atol=1e-6)


def test_vectors_are_unit_norm_and_match_products(built):
    rec = Recommender.open(built)
    vecs = rec.index.get_vectors(rec.products["key"].to_numpy())
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)


def test_bad_image_is_reported_and_the_rest_indexed(synthetic_catalog, tmp_path):
    (synthetic_catalog / "images" / "1003.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (synthetic_catalog / "images" / "1004.jpg").write_bytes(b"")
    out = tmp_path / "idx"
    m = build_index(synthetic_catalog, out, embedder="tiny", show_progress=False)
    assert m.count == 22
    report = json.loads((out / "report.json").read_text())
    text = json.dumps(report)
    assert "1003" in text and "1004" in text
    rec = Recommender.open(out)
    with pytest.raises(UnknownProductError):
        rec.product("1003")


def test_rebuild_replaces_generation_atomically(built, synthetic_catalog):
    m = build_index(synthetic_catalog, built, embedder="tiny", show_progress=False)
    assert m.generation == 2
    assert {p.name for p in built.iterdir()} >= {"products-2.csv", "vectors-2"}
    assert not (built / "products-1.csv").exists()


def test_leftovers_of_a_crashed_commit_are_skipped(built, synthetic_catalog):
    # A crash after writing generation 2's files but before the manifest switch.
    shutil.copytree(built / "vectors-1", built / "vectors-2")
    (built / "products-2.csv").write_text("garbage")
    assert Recommender.open(built).manifest.generation == 1  # still reads generation 1
    removed = remove_products(built, ["1000"])
    assert removed == 1
    m = IndexDir(built).read_manifest()
    assert m.generation == 3 and m.count == 23
    assert not (built / "products-2.csv").exists()


def test_incremental_add_and_remove(synthetic_catalog, tmp_path):
    out = tmp_path / "idx"
    build_index(synthetic_catalog, out, embedder="tiny", limit=10, show_progress=False)
    counts = add_products(out, synthetic_catalog, show_progress=False)
    assert counts == {"added": 14, "skipped": 10, "failed": 0}
    rec = Recommender.open(out)
    assert len(rec) == 24 and rec.products["key"].is_unique
    assert remove_products(out, ["1000", "1023"]) == 2
    rec = Recommender.open(out)
    assert len(rec) == 22 and len(rec.index) == 22
    hits = rec.similar_to_product("1001", k=30)
    assert {"1000", "1023"}.isdisjoint(m.id for m in hits)
    with pytest.raises(UnknownProductError, match="1000"):
        remove_products(out, ["1000"])


def test_added_vectors_match_a_full_build(synthetic_catalog, tmp_path):
    full = Recommender.open(build_and(synthetic_catalog, tmp_path / "full", limit=None))
    part_dir = build_and(synthetic_catalog, tmp_path / "part", limit=12)
    add_products(part_dir, synthetic_catalog, show_progress=False)
    part = Recommender.open(part_dir)
    # The increment reuses the stored catalog mean, so the first 12 vectors are unchanged and
    # the added ones are close to (not equal to) a rebuild, whose mean covers all 24.
    key_full = full.products.loc["1020", "key"]
    key_part = part.products.loc["1020", "key"]
    a = full.index.get_vectors(np.array([key_full]))[0]
    b = part.index.get_vectors(np.array([key_part]))[0]
    assert float(a @ b) > 0.9


def build_and(catalog, out, *, limit):
    build_index(catalog, out, embedder="tiny", limit=limit, show_progress=False)
    return out


def test_missing_index_dir_has_a_clear_error(tmp_path):
    with pytest.raises(IndexStoreError, match="fashionrec index CATALOG_DIR"):
        Recommender.open(tmp_path / "nope")


def test_hnsw_build_tunes_its_search_depth_and_serves(synthetic_catalog, tmp_path, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="fashionrec.index.hnsw"):
        build_index(
            synthetic_catalog, tmp_path / "h", embedder="tiny", backend="hnsw", show_progress=False
        )
    assert "hnsw: recall@10" in caplog.text
    rec = Recommender.open(tmp_path / "h")
    assert rec.index.backend == "hnsw"
    assert rec.similar_to_image(synthetic_catalog / "images" / "1005.jpg", k=3)[0].id == "1005"
