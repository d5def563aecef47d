"""The photo type gate trained into an index: out-of-fold report, gated search, flags."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.eval.photos import evaluate_photos
from fashionrec.pipeline import IndexDir, build_index
from fashionrec.pipeline.gate import train_gate
from fashionrec.recommend import Recommender

KINDS = {"Tee": "Tshirts", "Top": "Tops", "Shoe": "Casual Shoes", "Watch": "Watches"}


@pytest.fixture(scope="module")
def gated(tmp_path_factory, make_catalog):
    tmp = tmp_path_factory.mktemp("gate")
    root = make_catalog(tmp / "cat", per_type=8)
    out = tmp / "idx"
    build_index(root, out, embedder="tiny", show_progress=False)
    # "Shopper photos": catalog products on a grey, noisy floor, a little off-centre.
    rng = np.random.default_rng(0)
    photos = tmp / "photos"
    photos.mkdir()
    rows = ["image,label"]
    for t, label in enumerate(KINDS):
        for j in range(6):
            pid = 1000 + 8 * t + j
            floor = rng.integers(90, 140, (100, 90, 3)).astype(np.uint8)
            canvas = Image.fromarray(floor)
            canvas.paste(Image.open(root / "images" / f"{pid}.jpg"), (10 + j, 8 + j))
            canvas.save(photos / f"p{pid}.jpg")
            rows.append(f"p{pid},{label}")
    (tmp / "labels.csv").write_text("\n".join(rows) + "\n")
    (tmp / "map.csv").write_text("label,types\n" + "".join(f"{k},{v}\n" for k, v in KINDS.items()))
    report = train_gate(out, photos, tmp / "labels.csv", tmp / "map.csv", folds=3, epochs=40)
    return out, photos, tmp, report


def test_report_is_out_of_fold_and_the_gate_is_committed(gated):
    out, _, _, report = gated
    assert report["photos"] == 24 and report["folds"] == 3
    assert {"p@1", "p@10", "macro_p@10"} <= set(report["gated"])
    assert report["gated"]["p@10"] >= report["plain"]["p@10"]
    m = IndexDir(out).read_manifest()
    assert m.heads["gate"]["oof"]["p@10"] == report["gated"]["p@10"]
    assert (out / f"heads-{m.generation}" / "gate" / "trained_photos.txt").is_file()


def test_gated_photo_search_stays_within_the_predicted_type(gated):
    out, photos, _, _ = gated
    rec = Recommender.open(out)
    assert rec.gate is not None
    found = rec.search_photos([photos / "p1025.jpg"], 5)[0]  # a watch on the floor
    assert found.looks_like["applied"] and found.looks_like["article_type"] == "Watches"
    assert {m.product["article_type"] for m in found.matches} == {"Watches"}
    free = rec.search_photos([photos / "p1025.jpg"], 30, use_gate=False)[0]
    assert (
        not free.looks_like["applied"]
        and len({m.product["article_type"] for m in free.matches}) > 1
    )
    # the shopper's own type wins over the gate
    chosen = rec.search_photos([photos / "p1025.jpg"], 3, filters={"article_type": "Tops"})[0]
    assert {m.product["article_type"] for m in chosen.matches} == {"Tops"}
    assert not chosen.looks_like["applied"]
    # a shopper's crop box is used as given
    boxed = rec.search_photos([photos / "p1025.jpg"], 3, crops=[(0.1, 0.1, 0.8, 0.9)])[0]
    assert boxed.crop == (0.1, 0.1, 0.8, 0.9)


def test_eval_photos_flags_in_sample_figures(gated):
    out, photos, tmp, _ = gated
    result = evaluate_photos(out, photos, tmp / "labels.csv", tmp / "map.csv", ks=(1, 5))
    assert result["in_sample"] == 24


def test_api_reports_what_the_photo_looks_like(gated):
    from fastapi.testclient import TestClient

    from fashionrec.api import ApiSettings, create_app

    out, photos, _, _ = gated
    client = TestClient(create_app(ApiSettings(index_dir=out)))
    data = (photos / "p1017.jpg").read_bytes()  # casual shoes
    body = client.post("/api/search", params={"k": 4}, files={"file": ("a.jpg", data)}).json()
    assert body["looks_like"]["applied"] and body["looks_like"]["article_type"] == "Casual Shoes"
    assert body["predicted"]["article_type"]["value"] == "Casual Shoes"
    assert {r["article_type"] for r in body["results"]} == {"Casual Shoes"}
    body = client.post(
        "/api/search", params={"k": 30, "type_gate": "false"}, files={"file": ("a.jpg", data)}
    ).json()
    assert not body["looks_like"]["applied"] and len(body["results"]) == 30
