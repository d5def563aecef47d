"""Garment pixels, colour descriptor and dominant colours on synthetic photos of known colours."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.colour import (
    DESCRIPTOR_DIM,
    colour_descriptor,
    dominant_colours,
    garment_pixels,
    rgb_to_lab,
)
from fashionrec.errors import ConfigError

RED, BLUE, NAVY = (200, 30, 30), (40, 70, 200), (25, 30, 70)


def studio(colour, *, size=(60, 80), box=(12, 10, 48, 70), seed=0, second=None) -> Image.Image:
    """A catalog-style photo: a noisy garment rectangle on a near-white background."""
    w, h = size
    arr = np.full((h, w, 3), 250, np.int16)
    x0, y0, x1, y1 = box
    arr[y0:y1, x0:x1] = colour
    if second is not None:  # lower 40 % of the garment in a second colour
        arr[y0 + int(0.6 * (y1 - y0)) : y1, x0:x1] = second
    noise = np.random.default_rng(seed).integers(-4, 5, arr.shape)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def scene(colour, *, bg=(110, 125, 95), size=(320, 240), seed=0) -> Image.Image:
    """A shopper-style photo: a garment blob on a coloured, noisy floor."""
    w, h = size
    arr = np.empty((h, w, 3), np.int16)
    arr[:] = bg
    yy, xx = np.ogrid[:h, :w]
    arr[((yy - h / 2) / (0.35 * h)) ** 2 + ((xx - w / 2) / (0.3 * w)) ** 2 < 1] = colour
    noise = np.random.default_rng(seed).integers(-6, 7, arr.shape)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def near(pixels: np.ndarray, colour, tol: float = 20) -> float:
    """Share of pixels within `tol` (RGB distance) of `colour`."""
    return float(np.mean(np.linalg.norm(pixels.astype(float) - colour, axis=1) < tol))


def test_lab_known_values():
    lab = rgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=0.05)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.05)


def test_studio_background_is_removed():
    px = garment_pixels(studio(RED))
    assert near(px, RED) > 0.97
    assert len(px) > 200


def test_studio_keeps_white_inside_the_garment():
    # A white print enclosed by a red garment is not background: it is not connected to it.
    img = studio(RED)
    arr = np.asarray(img).copy()
    arr[30:50, 22:38] = 250
    px = garment_pixels(Image.fromarray(arr))
    assert near(px, (250, 250, 250)) > 0.08
    assert near(px, RED) > 0.5


def test_white_garment_on_white_falls_back_to_whole_photo():
    img = studio((248, 248, 248))
    assert len(garment_pixels(img)) == 48 * 64  # the whole 64 px thumbnail


def test_scene_background_is_removed_and_work_size_is_small():
    img = scene(BLUE)
    px = garment_pixels(img)
    assert len(px) <= 64 * 48
    assert near(px, BLUE, tol=30) > 0.9
    # Forcing the studio rule on a non-white scene keeps the floor: the mode matters.
    assert near(garment_pixels(img, background="studio"), BLUE, tol=30) < 0.6


def test_unknown_background_names_choices():
    with pytest.raises(ConfigError, match="studio"):
        garment_pixels(studio(RED), background="sky")


def test_descriptor_shape_and_norm():
    d = colour_descriptor(studio(RED))
    assert d.shape == (DESCRIPTOR_DIM,) and d.dtype == np.float32
    assert np.linalg.norm(d) == pytest.approx(1.0, abs=1e-5)
    assert (d >= 0).all()


def test_descriptor_is_robust_to_light_and_background():
    red = colour_descriptor(studio(RED))
    dim_red = colour_descriptor(studio(tuple(int(0.8 * c) for c in RED), seed=1))
    red_on_floor = colour_descriptor(scene(RED))
    blue = colour_descriptor(studio(BLUE))
    navy = colour_descriptor(studio(NAVY))
    assert red @ dim_red > 0.8
    assert red @ red_on_floor > 0.8
    assert red @ blue < 0.2
    # navy is closer to blue than red is, but still distinct from it
    assert red @ navy < blue @ navy < 0.95


def test_descriptor_separates_greys_by_lightness():
    black = colour_descriptor(studio((20, 20, 20)))
    grey = colour_descriptor(studio((128, 128, 128)))
    black2 = colour_descriptor(studio((28, 26, 27), seed=3))
    assert black @ black2 > 0.95
    assert black @ grey < 0.3


def test_dominant_colours_shares():
    img = studio(RED, second=BLUE)
    found = dominant_colours(img, k=2)
    assert len(found) == 2
    (c1, s1), (c2, s2) = found
    assert s1 + s2 == pytest.approx(1.0)
    assert np.linalg.norm(np.subtract(c1, RED)) < 20 and s1 == pytest.approx(0.6, abs=0.08)
    assert np.linalg.norm(np.subtract(c2, BLUE)) < 20


def test_dominant_colours_plain_and_bad_k():
    found = dominant_colours(studio(BLUE), k=3)
    assert np.linalg.norm(np.subtract(found[0][0], BLUE)) < 10
    assert found[0][1] > 0.9
    with pytest.raises(ConfigError):
        dominant_colours(studio(BLUE), k=0)


def test_greyscale_and_rgba_inputs():
    grey = studio(RED).convert("L")
    assert garment_pixels(grey).shape[1] == 3
    rgba = studio(RED).convert("RGBA")
    assert colour_descriptor(rgba) @ colour_descriptor(studio(RED)) > 0.99


@pytest.mark.shared_data
def test_real_catalog_photos_lose_background(fixture300):
    import csv

    with open(fixture300 / "styles.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:40]
    shares = []
    for r in rows:
        img = Image.open(fixture300 / "images" / f"{r['id']}.jpg").convert("RGB")
        px = garment_pixels(img)
        shares.append(len(px) / (img.width * img.height))
        assert near(px, (255, 255, 255), tol=12) < 0.5 or r["baseColour"] == "White"
    assert 0.1 < float(np.median(shares)) < 0.9
