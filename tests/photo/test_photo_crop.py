"""Query crops: user boxes win, centre crop geometry, a foreground box on a cluttered photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.errors import ConfigError
from fashionrec.photo.crop import centre_box, crop_photo, garment_box, resolve_box


def _garment_on_bed(seed: int = 0) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A dark-red 'garment' on a two-tone textured background, and its true box."""
    rng = np.random.default_rng(seed)
    h, w = 240, 180
    arr = np.empty((h, w, 3), np.float32)
    arr[: h // 3] = (235, 230, 220)  # wall
    arr[h // 3 :] = (120, 150, 190)  # blue bedding
    arr += rng.normal(0, 6, arr.shape)
    box = (50, 90, 140, 210)
    arr[box[1] : box[3], box[0] : box[2]] = (150, 20, 30)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), box


def test_resolve_box_pixels_and_fractions():
    assert resolve_box((10, 20, 30, 40), (100, 100)) == (10, 20, 30, 40)
    assert resolve_box((0.1, 0.2, 0.5, 1.0), (200, 100)) == (20, 20, 100, 100)
    assert resolve_box((-5, -5, 500, 500), (100, 80)) == (0, 0, 100, 80)
    with pytest.raises(ConfigError, match="empty"):
        resolve_box((50, 50, 50, 60), (100, 100))
    with pytest.raises(ConfigError, match="4 numbers"):
        resolve_box((1, 2, 3), (100, 100))


def test_centre_crop_keeps_the_fraction():
    assert centre_box((200, 100), 0.5) == (50, 25, 150, 75)
    assert crop_photo(Image.new("RGB", (200, 100)), mode="centre", fraction=0.8).size == (160, 80)
    assert crop_photo(Image.new("RGB", (200, 100)), mode="none").size == (200, 100)
    with pytest.raises(ConfigError):
        centre_box((10, 10), 0.0)


def test_user_box_wins_over_any_mode():
    img, _ = _garment_on_bed()
    for mode in ("none", "centre", "garment"):
        assert crop_photo(img, mode=mode, box=(0, 0, 0.5, 0.5)).size == (90, 120)


def test_garment_box_finds_the_garment_on_a_textured_background():
    img, (x0, y0, x1, y1) = _garment_on_bed()
    (bx0, by0, bx1, by1), trusted = garment_box(img)
    assert trusted
    # the box covers the garment, with a small margin, and cuts most of the background
    assert bx0 <= x0 + 4 and by0 <= y0 + 4 and bx1 >= x1 - 4 and by1 >= y1 - 4
    area = (bx1 - bx0) * (by1 - by0)
    assert area < 0.5 * img.size[0] * img.size[1]


def test_garment_box_falls_back_to_centre_on_a_blank_photo():
    img = Image.new("RGB", (100, 120), (200, 190, 180))
    box, trusted = garment_box(img)
    assert not trusted and box == centre_box(img.size, 0.8)


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ConfigError, match="garment"):
        crop_photo(Image.new("RGB", (10, 10)), mode="saliency")
