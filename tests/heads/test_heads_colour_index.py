"""`fashionrec train-heads --colour`: the type + colour head trained into an index, searched,
carried by updates."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fashionrec.cli import cli
from fashionrec.heads import ProjectionHead
from fashionrec.pipeline import IndexDir, add_products, build_index
from fashionrec.recommend import Recommender

COLOURS = {"Red": (200, 30, 30), "Blue": (30, 60, 200), "Green": (40, 160, 60)}
TYPES = ("Tshirts", "Watches")


def write_catalog(root: Path, *, per: int = 8, seed: int = 0) -> Path:
    """Two shapes (types) x three colours: every type comes in every colour."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows, pid = [], 2000
    for article in TYPES:
        for colour, rgb in COLOURS.items():
            for _ in range(per):
                arr = np.full((80, 60, 3), 255, np.uint8)
                tint = np.clip(np.array(rgb) + rng.integers(-20, 21, 3), 0, 255)
                if article == "Tshirts":
                    arr[8 + rng.integers(0, 4) : 72, 8:52] = tint
                else:
                    yy, xx = np.ogrid[:80, :60]
                    arr[(yy - 40) ** 2 + (xx - 30) ** 2 < (18 + rng.integers(0, 3)) ** 2] = tint
                noise = rng.integers(-10, 11, arr.shape)
                arr = np.clip(arr.astype(int) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(arr).save(root / "images" / f"{pid}.jpg", quality=92)
                rows.append([pid, "Men", "Apparel", "Topwear", article, colour, "Summer", 2012,
                             "Casual", f"{colour} {article} {pid}"])  # fmt: skip
                pid += 1
    with open(root / "styles.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "gender", "masterCategory", "subCategory", "articleType",
                    "baseColour", "season", "year", "usage", "productDisplayName"])  # fmt: skip
        w.writerows(rows)
    return root


@pytest.fixture()
def index(tmp_path):
    root = write_catalog(tmp_path / "cat")
    out = tmp_path / "idx"
    build_index(root, out, embedder="tiny", limit=45, show_progress=False)
    return out, root


def test_cli_colour_flag_trains_and_serves_the_type_colour_head(index):
    out, root = index
    before = Recommender.open(out)
    query = "2003"  # a red T-shirt
    plain = [m.product for m in before.similar_to_product(query, k=5, colour_weight=0)]

    res = CliRunner().invoke(
        cli, ["train-heads", str(out), "--colour", "--colour-weight", "1.5", "--no-attributes"]
    )
    assert res.exit_code == 0, res.output
    assert "final head trained in" in res.output

    m = IndexDir(out).read_manifest()
    spec = m.heads["projection"]
    assert spec["tasks"] == {"article_type": 1.0, "type|colour": 1.5}
    assert {"frozen", "head"} <= set(spec["evaluation"])
    assert "type+colour group p@10" in spec["evaluation"]["head"]
    rec = Recommender.open(out)
    assert isinstance(rec.head, ProjectionHead) and "type|colour" in rec.head.classes_
    assert rec.index.dim == rec.head.out_dim == m.dim
    # similar items: same type AND colour first, without the descriptor re-rank
    got = [m.product for m in rec.similar_to_product(query, k=5, colour_weight=0)]
    assert all((p["article_type"], p["base_colour"]) == ("Tshirts", "Red") for p in got), got
    same = sum((p["article_type"], p["base_colour"]) == ("Tshirts", "Red") for p in plain)
    assert same <= len(got)
    # photo search embeds through the same head
    hits = rec.similar_to_image(root / "images" / "2010.jpg", k=3)
    assert hits[0].id == "2010" and hits[0].score > 0.99
    # updates embed new products through the same head, backbone vectors stay aligned
    add_products(out, root, show_progress=False)  # the 3 products left out by limit
    d = IndexDir(out)
    m = d.read_manifest()
    products, features = d.read_products(m), d.read_features(m)
    assert len(products) == len(features) == 48
    rec = Recommender.open(out)
    row = products.index.get_loc("2047")
    np.testing.assert_allclose(
        rec.head.transform(np.asarray(features[row : row + 1]))[0],
        rec.index.get_vectors(np.array([products.loc["2047", "key"]]))[0],
        atol=1e-5,
    )


def test_colour_weight_needs_colour(index):
    out, _ = index
    res = CliRunner().invoke(cli, ["train-heads", str(out), "--colour-weight", "1"])
    assert res.exit_code != 0 and "--colour" in res.output
    res = CliRunner().invoke(cli, ["train-heads", str(out), "--colour", "--with-colour"])
    assert res.exit_code != 0 and "choose one" in res.output
    assert not (out / "heads-2").exists()  # nothing was trained
