"""Shopper-style augmentation: the cut-out keeps the product, output is seeded and not white."""

from __future__ import annotations

import numpy as np
from PIL import Image

from fashionrec.photo.augment import BACKGROUNDS, background, product_mask, shopper_style


def _catalog_shot() -> Image.Image:
    """60x80 studio shot: a dark frame garment with a WHITE body, on white."""
    arr = np.full((80, 60, 3), 255, np.uint8)
    arr[10:70, 12:48] = (30, 40, 120)
    arr[20:60, 20:40] = 255  # white inside the garment: not background
    return Image.fromarray(arr)


def test_product_mask_keeps_white_inside_the_product():
    mask = product_mask(_catalog_shot())
    assert mask[40, 30]  # the white body, enclosed by the garment
    assert mask[15, 15]
    assert not mask[2, 2] and not mask[78, 58]  # the studio white


def test_shopper_style_is_seeded_and_replaces_the_white_studio():
    img = _catalog_shot()
    a = np.asarray(shopper_style(img, np.random.default_rng(3)))
    b = np.asarray(shopper_style(img, np.random.default_rng(3)))
    c = np.asarray(shopper_style(img, np.random.default_rng(4)))
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    # a shopper photo is not a product on pure white
    assert (a.min(axis=2) >= 245).mean() < 0.2


def test_backgrounds_are_textured_and_sized():
    rng = np.random.default_rng(0)
    for kind in BACKGROUNDS:
        bg = background(rng, (64, 48), kind)
        arr = np.asarray(bg, dtype=np.float32)
        assert bg.size == (64, 48)
        assert arr.std() > 1.0, kind  # not a flat colour
