"""Colour groups and the ColourNamer, on synthetic photos whose colour names are known."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from fashionrec.colour import (
    ColourNamer,
    colour_descriptor,
    colour_groups,
    group_accuracy,
    same_group,
)
from fashionrec.errors import ConfigError, IndexStoreError

# The catalog's baseColour values (fashion-product-images-small), without "NA".
CATALOG_COLOURS = """Black White Blue Brown Grey Red Green Pink Navy_Blue Purple Silver Yellow
Beige Gold Maroon Orange Olive Multi Cream Steel Charcoal Peach Off_White Skin Lavender
Grey_Melange Khaki Magenta Teal Tan Mustard Bronze Copper Turquoise_Blue Rust Burgundy Metallic
Coffee_Brown Mauve Rose Nude Sea_Green Mushroom_Brown Taupe Lime_Green Fluorescent_Green"""

NAMED = {
    "Red": (200, 30, 30),
    "Blue": (40, 80, 210),
    "Navy Blue": (25, 30, 75),
    "Black": (20, 20, 20),
    "White": (245, 245, 245),
    "Green": (40, 150, 60),
    "Yellow": (235, 210, 40),
}


def photo(rgb, rng: np.random.Generator) -> Image.Image:
    """A catalog-style photo of one garment, with random light, size and noise."""
    light = rng.uniform(0.85, 1.1)
    col = np.clip(np.array(rgb) * light + rng.integers(-10, 11, 3), 0, 255)
    arr = np.full((80, 60, 3), 250.0)
    x0, y0 = rng.integers(4, 15, 2)
    arr[y0 : 80 - rng.integers(4, 15), x0 : 60 - rng.integers(4, 15)] = col
    arr += rng.normal(0, 3, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    names = [n for n in NAMED for _ in range(24)]
    x = np.stack([colour_descriptor(photo(NAMED[n], rng)) for n in names])
    return x, names


@pytest.fixture(scope="module")
def namer(data) -> ColourNamer:
    x, names = data
    return ColourNamer().fit(x[::2], names[::2])


def test_repo_groups_cover_the_catalog_vocabulary():
    groups = colour_groups()
    missing = [c.replace("_", " ") for c in CATALOG_COLOURS.split()]
    missing = [c for c in missing if c not in groups]
    assert not missing
    assert len(set(groups.values())) >= 10  # groups, not one big bucket


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Navy Blue", "Blue", True),
        ("Off White", "Cream", True),
        ("Maroon", "Burgundy", True),
        ("Red", "Maroon", True),
        ("Red", "Pink", False),
        ("Black", "Navy Blue", False),
        ("Mystery", "Mystery", True),
        ("Mystery", "Red", False),
    ],
)
def test_same_group(a, b, same):
    assert same_group(a, b) is same
    assert same_group(b, a) is same


def test_groups_from_a_custom_file(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("colour,group\nRed,Warm\nOrange,Warm\nBlue,Cold\n")
    groups = colour_groups(path)
    assert groups == {"Red": "Warm", "Orange": "Warm", "Blue": "Cold"}
    assert same_group("Red", "Orange", groups) and not same_group("Red", "Blue", groups)
    (tmp_path / "bad.csv").write_text("name,kind\nRed,Warm\n")
    with pytest.raises(ConfigError, match="colour,group"):
        colour_groups(tmp_path / "bad.csv")


def test_namer_names_held_out_photos(namer, data):
    x, names = data
    pred = namer.predict(x[1::2])
    acc = np.mean([p == t for (p, _), t in zip(pred, names[1::2], strict=True)])
    assert acc > 0.95
    assert sorted(namer.classes_) == sorted(NAMED)


def test_predict_proba_is_a_distribution(namer, data):
    x, _ = data
    p = namer.predict_proba(x[:10])
    assert p.shape == (10, len(NAMED))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    one = namer.predict(x[0])
    assert len(one) == 1 and 0 < one[0][1] <= 1
    top = namer.top(x[0], k=3)
    assert top[0][0] == one[0][0] and top[0][1] >= top[1][1] >= top[2][1]


def test_numpy_inference_matches_sklearn(data):
    from sklearn.linear_model import LogisticRegression

    x, names = data
    ref = LogisticRegression(C=10.0, max_iter=500).fit(x, names)
    ours = ColourNamer().fit(x, names)
    np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(x), atol=1e-4)


def test_name_one_image_and_group_proba(namer):
    rng = np.random.default_rng(5)
    name, prob = namer.name(photo(NAMED["Green"], rng))
    assert name == "Green" and prob > 0.5
    g = namer.group_proba(colour_descriptor(photo(NAMED["Navy Blue"], rng)))
    # Blue and Navy Blue share a group, so their mass is summed under "Blue"
    assert "Navy Blue" not in g and g["Blue"][0] > 0.8


def test_save_load_roundtrip(namer, data, tmp_path):
    x, _ = data
    folder = namer.save(tmp_path / "namer")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["classes"] == namer.classes_ and manifest["dim"] == x.shape[1]
    again = ColourNamer.load(folder)
    np.testing.assert_array_equal(again.predict_proba(x), namer.predict_proba(x))
    manifest["descriptor"] = "other-v9"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="other-v9"):
        ColourNamer.load(folder)
    with pytest.raises(IndexStoreError):
        ColourNamer.load(tmp_path / "nowhere")


def test_rare_and_missing_labels_are_left_out(data):
    x, names = data
    labels = list(names)
    labels[0], labels[1], labels[30] = "NA", "", "Mauve"
    namer = ColourNamer(min_count=2).fit(x, labels)
    assert "NA" not in namer.classes_ and "" not in namer.classes_
    assert "Mauve" not in namer.classes_
    assert namer.counts_["Red"] == 22


def test_errors_are_clear(data):
    x, names = data
    with pytest.raises(ConfigError, match="not fitted"):
        ColourNamer().predict(x[:1])
    with pytest.raises(ConfigError, match="labels"):
        ColourNamer().fit(x, names[:3])
    namer = ColourNamer().fit(x, names)
    with pytest.raises(ConfigError, match="dims"):
        namer.predict(x[:, :5])
    with pytest.raises(ConfigError, match="Did you mean 'Navy Blue'"):
        namer.index_of("Navy Bleu")


def test_group_accuracy():
    assert group_accuracy(["Navy Blue", "Red", "Pink"], ["Blue", "Maroon", "Black"]) == 2 / 3
    assert np.isnan(group_accuracy([], []))


@pytest.mark.shared_data
def test_namer_on_real_catalog_beats_majority(fixture300):
    with open(fixture300 / "styles.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["baseColour"]]
    x = np.stack(
        [colour_descriptor(Image.open(fixture300 / "images" / f"{r['id']}.jpg")) for r in rows]
    )
    labels = [r["baseColour"] for r in rows]
    namer = ColourNamer(min_count=3).fit(x[::2], labels[::2])
    truth = labels[1::2]
    pred = [n for n, _ in namer.predict(x[1::2])]
    majority = max(set(truth), key=truth.count)
    assert group_accuracy(pred, truth) > truth.count(majority) / len(truth) + 0.15
