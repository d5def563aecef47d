"""Similar items and search by photo over a synthetic catalog with known groups."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fashionrec.errors import FilterError, UnknownProductError
from fashionrec.pipeline import build_index
from fashionrec.recommend import Filters, Recommender


@pytest.fixture(scope="module")
def rec(tmp_path_factory, make_catalog):
    root = make_catalog(tmp_path_factory.mktemp("cat"), per_type=6)
    # An exact duplicate photo listed under another id: must never show up as "similar".
    shutil.copy(root / "images" / "1000.jpg", root / "images" / "1999.jpg")
    with open(root / "styles.csv", "a") as f:
        f.write("1999,Men,Apparel,Topwear,Tshirts,Red,Summer,2012,Casual,Duplicate tee\n")
    out = tmp_path_factory.mktemp("idx") / "index"
    build_index(root, out, embedder="tiny", show_progress=False)
    return Recommender.open(out), root


def test_similar_items_share_the_type_and_exclude_the_product(rec):
    r, _ = rec
    hits = r.similar_to_product("1001", k=5)
    assert len(hits) == 5
    assert "1001" not in [h.id for h in hits]
    assert all(h.product["article_type"] == "Tshirts" for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_identical_images_are_not_repeated(rec):
    r, _ = rec
    ids = [h.id for h in r.similar_to_product("1000", k=10)]
    assert "1999" not in ids  # the same photo as the query product
    ids = [h.id for h in r.similar_to_product("1002", k=23)]
    assert not {"1000", "1999"} <= set(ids)  # one of the pair at most


def test_search_by_catalog_photo_finds_the_product_first(rec):
    r, root = rec
    hits = r.similar_to_image(root / "images" / "1014.jpg", k=3)
    assert hits[0].id == "1014" and hits[0].score > 0.99


def test_filters_apply_and_k_is_honoured(rec):
    r, _ = rec
    hits = r.similar_to_product("1001", k=6, filters={"article_type": "watches"})
    assert len(hits) == 6 and {h.product["article_type"] for h in hits} == {"Watches"}
    hits = r.similar_to_product("1001", k=50, filters=Filters(gender=("Women",)))
    assert len(hits) == 12 and {h.product["gender"] for h in hits} == {"Women"}


def test_min_similarity_drops_weak_matches(rec):
    r, _ = rec
    every = r.similar_to_product("1001", k=24)
    cut = every[3].score
    kept = r.similar_to_product("1001", k=24, min_similarity=cut)
    assert [h.id for h in kept] == [h.id for h in every[:4]] or all(h.score >= cut for h in kept)
    assert all(h.score >= cut for h in kept) and len(kept) < len(every)


def test_unknown_filter_values_name_the_choices(rec):
    r, _ = rec
    with pytest.raises(FilterError, match="Did you mean 'Watches'"):
        r.similar_to_product("1001", filters={"article_type": "Watchs"})
    with pytest.raises(FilterError, match="unknown filter 'colr'"):
        r.similar_to_product("1001", filters={"colr": "Red"})
    with pytest.raises(FilterError, match="no prices"):
        r.similar_to_product("1001", filters={"price_max": 10})
    with pytest.raises(UnknownProductError, match="not in the index"):
        r.similar_to_product("424242")


def test_result_dict_carries_id_score_and_metadata(rec):
    r, _ = rec
    d = r.similar_to_product("1001", k=1)[0].to_dict()
    assert {"id", "score", "article_type", "gender", "base_colour", "name", "image_path"} <= set(d)
    assert "key" not in d and "image_sha1" not in d


def test_min_similarity_auto_uses_the_measured_threshold(rec):
    r, _ = rec
    cal = r.manifest.calibration
    assert cal["label"] == "article_type" and cal["queries"] > 0
    t = cal["thresholds"]["0.8"]
    assert t is not None
    hits = r.similar_to_product("1001", k=24, min_similarity="auto")
    assert hits and all(h.score >= t for h in hits)
    assert r.min_similarity("auto:0.5") == cal["thresholds"]["0.5"]
    with pytest.raises(FilterError, match="auto:PRECISION"):
        r.min_similarity("auto:high")
    with pytest.raises(FilterError, match="no measured threshold for precision 0.42"):
        r.min_similarity("auto:0.42")


def test_colour_reranks_visual_candidates(rec):
    r, _ = rec
    key = r.products.loc["1000", "key"]
    vector = r.index.get_vectors(np.array([key]))[0]
    blue = np.asarray(r.colours[r.products.index.get_loc("1006")])  # a blue top
    plain = r.search_vector(vector, 5)
    assert {m.product["base_colour"] for m in plain} == {"Red"}
    tinted = r.search_vector(vector, 5, colour=blue, colour_weight=10.0)
    assert [m.product["base_colour"] for m in tinted][:3] == ["Blue"] * 3
    scores = [m.score for m in tinted]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)
    # the index's measured default: a light colour weight keeps the type first
    assert r.manifest.colour["weight"] == 0.15
    assert {m.product["article_type"] for m in r.similar_to_product("1001", k=5)} == {"Tshirts"}


def test_colour_group_filter_takes_near_colours(rec):
    r, _ = rec
    hits = r.similar_to_product("1001", k=50, filters={"colour_group": "grey"})
    # the synthetic catalog's "Silver" watches are in the Grey group of data/colour_groups.csv
    assert hits and {h.product["base_colour"] for h in hits} == {"Silver"}
    with pytest.raises(FilterError, match="unknown colour group 'Blu'.*Did you mean 'Blue'"):
        r.similar_to_product("1001", filters={"colour_group": "Blu"})


def test_words_with_a_photo_become_filters_for_fields_left_open(rec):
    r, root = rec
    photo = root / "images" / "1001.jpg"  # a red men's T-shirt
    found = r.search_photos([photo], 5, words="like this but for women")[0]
    assert found.words.filters == {"gender": ["Women"]}
    assert found.matches and {m.product["gender"] for m in found.matches} == {"Women"}
    # A filter the shopper set wins over the words.
    found = r.search_photos([photo], 5, filters={"gender": "Men"}, words="for women")[0]
    assert {m.product["gender"] for m in found.matches} == {"Men"}


def test_a_colour_in_words_replaces_the_photos_colour(rec):
    r, root = rec
    found = r.search_photos([root / "images" / "1001.jpg"], 4, words="in black")[0]
    assert [m.product["base_colour"] for m in found.matches] == ["Black"] * 4
    # The catalog has no prices: a price phrase is ignored, not an error.
    assert r.search_photos([root / "images" / "1001.jpg"], 3, words="under 30")[0].matches
