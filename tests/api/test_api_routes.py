"""The HTTP API through the real app (in-process ASGI client), over a synthetic index."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from fashionrec.api import ApiSettings, create_app
from fashionrec.pipeline import build_index


@pytest.fixture(scope="module")
def setup(tmp_path_factory, make_catalog):
    root = make_catalog(tmp_path_factory.mktemp("cat"), per_type=6)
    out = tmp_path_factory.mktemp("idx") / "index"
    build_index(root, out, embedder="tiny", show_progress=False)
    app = create_app(
        ApiSettings(index_dir=out, max_upload_bytes=200_000, max_upload_pixels=4_000_000)
    )
    return TestClient(app, raise_server_exceptions=False), root


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message"}
    assert body["error"]["status"] == status and body["error"]["message"]
    return body["error"]


def test_products_pagination_filters_and_sorting(setup):
    client, _ = setup
    page = client.get("/api/products", params={"per_page": 5, "page": 2}).json()
    assert page["total"] == 24 and page["page"] == 2 and len(page["items"]) == 5
    assert page["items"][0]["id"] == "1005"
    women = client.get("/api/products", params=[("gender", "women"), ("per_page", 100)]).json()
    assert women["total"] == 12 and {p["gender"] for p in women["items"]} == {"Women"}
    both = client.get(
        "/api/products", params=[("article_type", "Tops"), ("article_type", "Watches")]
    ).json()
    assert both["total"] == 12
    item = page["items"][0]
    assert item["image_url"] == "/api/images/1005" and "image_path" not in item


def test_product_similar_and_image(setup):
    client, _ = setup
    p = client.get("/api/products/1001").json()
    assert p["article_type"] == "Tshirts" and p["name"].startswith("Synthetic")
    sim = client.get("/api/products/1001/similar", params={"k": 4}).json()
    assert sim["product"]["id"] == "1001" and len(sim["results"]) == 4
    assert all(r["article_type"] == "Tshirts" and r["id"] != "1001" for r in sim["results"])
    assert sim["results"][0]["score"] >= sim["results"][-1]["score"]
    # same type and colour as the product (the synthetic catalog gives each type one colour)
    for r in sim["results"]:
        codes = [x["code"] for x in r["reasons"]]
        assert codes == ["same_type", "same_colour", "looks_similar"], r["reasons"]
    assert sim["results"][0]["reasons"][0] == {"code": "same_type", "text": "same type"}
    img = client.get("/api/images/1001")
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(img.content)).size == (60, 80)


def test_search_by_photo(setup):
    client, root = setup
    data = (root / "images" / "1019.jpg").read_bytes()
    r = client.post(
        "/api/search", params={"k": 3}, files={"file": ("whatever.txt", data, "text/plain")}
    )
    body = r.json()
    assert r.status_code == 200 and body["results"][0]["id"] == "1019"
    assert body["results"][0]["score"] > 0.99 and len(body["results"]) == 3
    # no type gate nor heads in this index: the look is all a photo can claim
    assert all(
        x["reasons"] == [{"code": "looks_similar", "text": "similar shape"}]
        for x in body["results"]
    )
    r = client.post(
        "/api/search",
        params=[("k", 5), ("gender", "Men")],
        files={"file": ("a.jpg", data, "image/jpeg")},
    )
    assert {x["gender"] for x in r.json()["results"]} == {"Men"}
    assert r.json()["filters"] == {"gender": ["Men"]}
    # a photo plus words: "like this, but in black"
    r = client.post(
        "/api/search",
        params={"k": 4, "q": "like this but in black"},
        files={"file": ("a.jpg", data, "image/jpeg")},
    )
    assert r.status_code == 200 and r.json()["showing"] == ["Black"]
    assert {x["base_colour"] for x in r.json()["results"]} == {"Black"}


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "payload, status, code",
    [
        (b"hello, this is text", 415, "unsupported_media_type"),
        (b"", 422, "bad_image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, 422, "bad_image"),
        (b"\xff\xd8" + b"\x00" * 300_000, 413, "too_large"),
        (_png_header_only(30_000, 30_000), 413, "too_large"),
    ],
)
def test_bad_uploads_get_one_clear_error(setup, payload, status, code):
    client, _ = setup
    r = client.post("/api/search", files={"file": ("x.jpg", payload, "image/jpeg")})
    assert assert_error_shape(r, status)["code"] == code


def test_every_error_has_the_same_shape(setup):
    client, _ = setup
    assert (
        "not in the index" in assert_error_shape(client.get("/api/products/nope"), 404)["message"]
    )
    assert (
        "Did you mean 'Watches'"
        in assert_error_shape(client.get("/api/products", params={"article_type": "Watchs"}), 422)[
            "message"
        ]
    )
    assert_error_shape(client.get("/api/products", params={"per_page": 0}), 422)
    assert_error_shape(client.get("/api/products", params={"sort": "colour"}), 422)
    assert_error_shape(client.post("/api/search"), 422)
    assert_error_shape(client.get("/api/nowhere"), 404)
    assert_error_shape(client.delete("/api/products/1001"), 405)
    assert_error_shape(client.get("/api/products/1001/similar", params={"k": 1000}), 422)


def test_openapi_health_and_facets(setup):
    client, _ = setup
    spec = client.get("/openapi.json").json()
    assert (
        "/api/search" in spec["paths"]
        and "413" in spec["paths"]["/api/search"]["post"]["responses"]
    )
    scored = spec["components"]["schemas"]["ScoredProduct"]["properties"]
    assert "reasons" in scored
    assert client.get("/healthz").json() == {"status": "ok", "products": 24, "embedder": "tiny"}
    facets = client.get("/api/facets").json()
    assert facets["fields"]["gender"] == {"Men": 12, "Women": 12}


def test_search_reasons_use_the_gate_type_and_predicted_colour(setup, monkeypatch):
    """This index has no gate nor heads: wrap the real search to add what they would say."""
    client, root = setup
    rec = client.app.state.recommender
    real = rec.search_photos

    def with_readings(*args, **kwargs):
        return [
            replace(
                found,
                looks_like={"article_type": "Tops", "confidence": 0.9, "top": [], "applied": False},
                predicted={"base_colour": ("Navy Blue", 0.71)},
            )
            for found in real(*args, **kwargs)
        ]

    monkeypatch.setattr(rec, "search_photos", with_readings)
    data = (root / "images" / "1007.jpg").read_bytes()
    body = client.post("/api/search", params={"k": 24}, files={"file": ("a.jpg", data)}).json()
    assert body["predicted"]["base_colour"] == {"value": "Navy Blue", "confidence": 0.71}
    by_type = {r["article_type"]: [x["code"] for x in r["reasons"]] for r in body["results"]}
    assert by_type["Tops"] == ["same_type", "similar_colour", "looks_similar"]  # Blue ~ Navy
    assert by_type["Tshirts"] == ["other_colour", "looks_similar"]
    tops = next(r for r in body["results"] if r["article_type"] == "Tops")
    assert tops["reasons"][1]["text"] == "similar colour: blue"


def test_colour_group_parameter(setup):
    client, _ = setup
    page = client.get("/api/products", params={"colour_group": "grey", "per_page": 100}).json()
    assert page["total"] == 6 and {p["base_colour"] for p in page["items"]} == {"Silver"}
    assert_error_shape(client.get("/api/products", params={"colour_group": "Blu"}), 422)


def test_search_by_words_understands_attributes(setup):
    client, _ = setup
    body = client.get("/api/search", params={"q": "red tshirts for men", "k": 4}).json()
    assert body["showing"] and "Tshirts" in body["showing"]
    assert len(body["results"]) == 4
    assert {(r["article_type"], r["gender"]) for r in body["results"]} == {("Tshirts", "Men")}
    typo = client.get("/api/search", params={"q": "wacthes", "k": 3}).json()
    assert {r["article_type"] for r in typo["results"]} == {"Watches"} and typo["corrections"]
    assert_error_shape(client.get("/api/search", params={"q": ""}), 422)
    women = client.get("/api/search", params=[("q", "watches"), ("gender", "Women")]).json()
    assert {r["gender"] for r in women["results"]} == {"Women"}


def test_suggestions_complete_what_the_shopper_typed(setup):
    client, _ = setup
    r = client.get("/api/suggest", params={"q": "red t"})
    assert r.status_code == 200
    assert r.json()["suggestions"][0] == "Red Tshirts"
    assert client.get("/api/suggest", params={"q": "x" * 201}).status_code == 422
