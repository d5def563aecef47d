"""The `crop` parameter of POST /api/search."""

from __future__ import annotations

import pytest


def _search(client, photo: bytes, **params):
    return client.post(
        "/api/search", params=params, files={"file": ("busy.png", photo, "image/png")}
    )


def test_crop_searches_one_region_and_is_echoed(web_client, busy_photo):
    right = _search(web_client, busy_photo, crop="0.5,0,1,1", k=3).json()
    assert right["crop"] == [0.5, 0.0, 1.0, 1.0]
    # the right half is exactly catalog photo 1020 (a watch)
    assert right["results"][0]["id"] == "1020" and right["results"][0]["score"] > 0.99
    left = _search(web_client, busy_photo, crop="0,0,0.5,1", k=3).json()
    assert left["results"][0]["id"] == "1001" and left["results"][0]["score"] > 0.99
    whole = _search(web_client, busy_photo, k=3).json()
    assert whole["crop"] is None and whole["results"][0]["score"] < 0.99


@pytest.mark.parametrize(
    "crop",
    ["0.1,0.2,0.3", "a,b,c,d", "0.5,0.1,0.2,0.9", "0.1,0.5,0.9,0.5", "0,0,1.5,1", "nan,0,1,1"],
)
def test_bad_crop_gets_the_one_error_shape(web_client, busy_photo, crop):
    response = _search(web_client, busy_photo, crop=crop)
    assert response.status_code == 422
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message"} and error["code"] == "invalid"
    assert "crop" in error["message"] and crop in error["message"]


def test_tiny_crop_still_searches(web_client, busy_photo):
    response = _search(web_client, busy_photo, crop="0.999,0.999,1,1", k=1)
    assert response.status_code == 200 and len(response.json()["results"]) == 1
