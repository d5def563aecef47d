"""Preprocessing: padding, resizing, normalisation and the config round trip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.embed.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
    PreprocessCfg,
    preprocess_batch,
    preprocess_image,
)
from fashionrec.errors import ConfigError, ImageError


def test_cfg_round_trips_through_json_types():
    cfg = PreprocessCfg(size=96, mean=LITE_MEAN, std=LITE_STD, interpolation="bilinear")
    d = cfg.to_dict()
    assert d["mean"] == list(LITE_MEAN)
    assert PreprocessCfg.from_dict(d) == cfg


def test_bad_interpolation_names_choices_and_suggests():
    with pytest.raises(ConfigError, match=r"'bicubc'.*bicubic.*Did you mean 'bicubic'"):
        PreprocessCfg(interpolation="bicubc")


def test_unknown_key_in_dict_is_an_error():
    with pytest.raises(ConfigError, match="sise"):
        PreprocessCfg.from_dict({"sise": 224})


def test_output_shape_dtype_and_contiguity():
    out = preprocess_image(Image.new("RGB", (60, 80), "red"), PreprocessCfg(size=32))
    assert out.shape == (3, 32, 32) and out.dtype == np.float32 and out.flags.c_contiguous


def test_white_pixel_normalised_with_imagenet_stats():
    out = preprocess_image(Image.new("RGB", (10, 10), "white"), PreprocessCfg(size=8))
    expect = (1 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(out[:, 0, 0], expect, rtol=1e-5)


def test_lite_normalisation_is_x_minus_127_over_128():
    img = Image.fromarray(np.array([[[0, 127, 255]]], np.uint8))
    out = preprocess_image(img, PreprocessCfg(size=8, mean=LITE_MEAN, std=LITE_STD))
    np.testing.assert_allclose(out[:, 3, 3], [-127 / 128, 0.0, 128 / 128], atol=1e-5)


def test_tall_image_is_padded_with_fill_not_stretched():
    # A black 20x80 strip padded to an 80x80 white square stays a thin central column.
    img = Image.new("RGB", (20, 80), "black")
    out = preprocess_image(img, PreprocessCfg(size=40, mean=(0, 0, 0), std=(1, 1, 1)))
    assert out[0, 20, 0] == pytest.approx(1.0, abs=1e-3)  # left margin: white
    assert out[0, 20, 20] == pytest.approx(0.0, abs=1e-3)  # centre: the strip
    no_pad = PreprocessCfg(size=40, mean=(0, 0, 0), std=(1, 1, 1), pad_to_square=False)
    assert preprocess_image(img, no_pad)[0, 20, 0] == pytest.approx(0.0, abs=1e-3)


def test_greyscale_and_rgba_become_rgb():
    cfg = PreprocessCfg(size=16)
    assert preprocess_image(Image.new("L", (30, 30), 128), cfg).shape == (3, 16, 16)
    assert preprocess_image(Image.new("RGBA", (30, 30)), cfg).shape == (3, 16, 16)


def test_batch_equals_stacked_images():
    rng = np.random.default_rng(0)
    imgs = [
        Image.fromarray(rng.integers(0, 256, (50, 30 + i, 3), dtype=np.uint8)) for i in range(3)
    ]
    cfg = PreprocessCfg(size=24)
    batch = preprocess_batch(imgs, cfg)
    assert batch.shape == (3, 3, 24, 24) and batch.flags.c_contiguous
    for i, img in enumerate(imgs):
        np.testing.assert_array_equal(batch[i], preprocess_image(img, cfg))


def test_non_image_is_rejected_clearly():
    with pytest.raises(ImageError, match="ndarray"):
        preprocess_image(np.zeros((3, 3, 3)), PreprocessCfg())  # type: ignore[arg-type]
