"""The loader on the team's real catalogs (skipped when the shared data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from fashionrec.catalog import catalog_hash, load_catalog, load_image

pytestmark = pytest.mark.shared_data


def test_fixture300_loads_clean(fixture300) -> None:
    cat = load_catalog(fixture300, verify_images=True, show_progress=False)
    r = cat.report
    assert cat.mapping.name == "kaggle"
    assert (r.rows_read, r.kept, len(cat.products)) == (300, 300, 300)
    assert not r.fixed and not r.dropped and not r.bad_images and not r.orphan_images
    counts = cat.products["article_type"].value_counts()
    assert len(counts) == 30 and set(counts) == {10}
    assert len(cat.encodings()["article_type"]) == 30
    img = load_image(cat.products["image_path"].iloc[0], draft=(60, 80))
    assert img.mode == "RGB" and np.asarray(img).shape[2] == 3


def test_full_kaggle_styles_counts(shared_data) -> None:
    cat = load_catalog(shared_data("fashion-product-images-small"))
    r = cat.report
    assert r.rows_read == 44_446
    assert r.kept == len(cat.products) == 44_441
    assert [i.reason for i in r.fixed] == ["unquoted comma in name"] * 22
    assert all(i.line and i.id for i in r.fixed)
    assert [i.reason for i in r.dropped] == ["image missing"] * 5
    assert sorted(i.id for i in r.dropped) == ["12347", "39401", "39403", "39410", "39425"]
    assert r.orphan_images == []  # measured: every image has a row
    assert cat.products.loc["44065", "name"] == (
        "Boss Men Perfume, After Shave Balm and Shower Gel Set"
    )
    assert r.missing_values["season"] == 21 and r.missing_values["usage"] == 317
    assert cat.products.index.is_unique
    assert str(cat.products["year"].dtype) == "Int64"


def test_hm_sample_keeps_leading_zeros_and_sub_folders(shared_data) -> None:
    root = shared_data("hm-sample")
    cat = load_catalog(root, "hm")
    assert load_catalog(root).mapping.name == "hm"  # detected from articles*.csv
    p = cat.products
    assert len(p) == 11_800 and cat.report.rows_read == 11_800
    assert (p.index.str.len() == 10).all() and p.index.str.startswith("0").all()
    first = p.index[0]
    assert p.loc[first, "image_path"].endswith(f"/images/{first[:3]}/{first}.jpg")
    assert (p["group"] == p.index.str[1:7]).all()  # product_code = characters 2-7 of the id
    assert "Ladieswear" in cat.vocabulary("gender")
    assert not cat.report.dropped and not cat.report.orphan_images
    assert catalog_hash(cat) == catalog_hash(load_catalog(root, "hm"))
