"""Query-side crops of a shopper photo: a user box, a foreground box, or a centre crop.

A user box always wins; otherwise ``garment_box`` finds the pixels whose colour is far from the
photo's border colours (the background, for a garment on a bed, floor or wall) and returns
their bounding box, falling back to a centre crop when that mask is implausible.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from fashionrec.errors import ConfigError

log = logging.getLogger(__name__)

#: A box as (x0, y0, x1, y1): pixels, or fractions of the width/height when all are <= 1.
Box = tuple[float, float, float, float]

CROP_MODES = ("none", "centre", "garment")


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ConfigError(f"{name} must be in (0, 1], got {value!r}")


def resolve_box(box: Sequence[float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A user box in pixels or fractions -> integer pixel box clipped to the image.

    Example:
        >>> resolve_box((0.25, 0.0, 0.75, 1.0), (200, 100))
        (50, 0, 150, 100)
    """
    if len(box) != 4:
        raise ConfigError(f"a crop box needs 4 numbers (x0, y0, x1, y1), got {box!r}")
    w, h = size
    x0, y0, x1, y1 = (float(v) for v in box)
    if max(x0, y0, x1, y1) <= 1.0:
        x0, x1, y0, y1 = x0 * w, x1 * w, y0 * h, y1 * h
    if not (x0 < x1 and y0 < y1) or x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        raise ConfigError(f"crop box {box!r} is empty inside a {w}x{h} image")
    # A sliver of a box still keeps at least one pixel each way: the shopper asked for it.
    left, top = min(max(0, math.floor(x0)), w - 1), min(max(0, math.floor(y0)), h - 1)
    return (left, top, max(left + 1, min(w, math.ceil(x1))), max(top + 1, min(h, math.ceil(y1))))


def centre_box(size: tuple[int, int], fraction: float = 0.8) -> tuple[int, int, int, int]:
    """The central box keeping `fraction` of the width and of the height.

    Example:
        >>> centre_box((100, 200), 0.8)
        (10, 20, 90, 180)
    """
    _check_fraction("fraction", fraction)
    w, h = size
    dx, dy = round(w * (1 - fraction) / 2), round(h * (1 - fraction) / 2)
    return dx, dy, w - dx, h - dy


@dataclass(frozen=True)
class GarmentCropCfg:
    """Settings of the foreground box (measured on the dev photos; see the benchmark)."""

    work_size: int = 96  # the mask is computed on a thumbnail: fast and smooth
    border: float = 0.06  # share of each side sampled as "background"
    threshold: float = 0.22  # colour distance (0..~1.7, RGB / 255) that counts as foreground
    margin: float = 0.06  # padding added around the box, as a share of the box side
    min_area: float = 0.08  # boxes smaller than this share of the photo are not trusted
    keep: float = 0.02  # trim this share of foreground pixels on each side (stray specks)
    fallback: float = 0.8  # centre-crop fraction used when the mask is not trusted


def foreground_mask(img: Image.Image, cfg: GarmentCropCfg | None = None) -> np.ndarray:
    """Boolean (h, w) mask at thumbnail size of pixels unlike every border colour."""
    cfg = cfg or GarmentCropCfg()
    thumb = img.convert("RGB")
    thumb.thumbnail((cfg.work_size, cfg.work_size), Image.Resampling.BILINEAR)
    thumb = thumb.filter(ImageFilter.GaussianBlur(1))
    arr = np.asarray(thumb, dtype=np.float32) / 255.0
    h, w, _ = arr.shape
    bh, bw = max(1, round(h * cfg.border)), max(1, round(w * cfg.border))
    edge = np.concatenate(
        [
            arr[:bh].reshape(-1, 3),
            arr[-bh:].reshape(-1, 3),
            arr[:, :bw].reshape(-1, 3),
            arr[:, -bw:].reshape(-1, 3),
        ]
    )
    # A few border prototypes (quantiles of a coarse colour clustering) cover two-tone
    # backgrounds such as a bed against a wall without modelling a full distribution.
    protos = _prototypes(edge, k=4)
    dist = np.min(np.linalg.norm(arr[:, :, None, :] - protos[None, None], axis=-1), axis=-1)
    mask = dist > cfg.threshold
    # open then close: drop specks, fill holes in the garment
    m = Image.fromarray(mask.astype(np.uint8) * 255)
    m = m.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3))
    m = m.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5))
    return np.asarray(m) > 127


def _prototypes(pixels: np.ndarray, *, k: int, iters: int = 8) -> np.ndarray:
    """Deterministic k-means (init on brightness quantiles) of border pixels."""
    order = np.argsort(pixels.sum(axis=1), kind="stable")
    centres = pixels[order[np.linspace(0, len(order) - 1, k).astype(int)]].copy()
    for _ in range(iters):
        assign = np.argmin(np.linalg.norm(pixels[:, None] - centres[None], axis=-1), axis=1)
        for j in range(k):
            sel = pixels[assign == j]
            if len(sel):
                centres[j] = sel.mean(axis=0)
    return centres


def garment_box(
    img: Image.Image, cfg: GarmentCropCfg | None = None
) -> tuple[tuple[int, int, int, int], bool]:
    """(box in pixels, trusted): the foreground's box, or the centre fallback when untrusted."""
    cfg = cfg or GarmentCropCfg()
    w, h = img.size
    mask = foreground_mask(img, cfg)
    mh, mw = mask.shape
    ys, xs = np.nonzero(mask)
    if len(xs) < 0.02 * mask.size:
        return centre_box((w, h), cfg.fallback), False
    x0, x1 = np.quantile(xs, [cfg.keep, 1 - cfg.keep])
    y0, y1 = np.quantile(ys, [cfg.keep, 1 - cfg.keep])
    area = (x1 - x0 + 1) * (y1 - y0 + 1) / mask.size
    if area < cfg.min_area:
        return centre_box((w, h), cfg.fallback), False
    mx, my = (x1 - x0 + 1) * cfg.margin, (y1 - y0 + 1) * cfg.margin
    sx, sy = w / mw, h / mh
    box = (
        max(0, int((x0 - mx) * sx)),
        max(0, int((y0 - my) * sy)),
        min(w, int(np.ceil((x1 + 1 + mx) * sx))),
        min(h, int(np.ceil((y1 + 1 + my) * sy))),
    )
    return box, True


def crop_photo(
    img: Image.Image,
    *,
    mode: str = "centre",
    fraction: float = 0.8,
    box: Sequence[float] | None = None,
    cfg: GarmentCropCfg | None = None,
) -> Image.Image:
    """Crop a shopper photo before embedding it. A user `box` always wins over `mode`.

    Modes: "none", "centre" (keep `fraction` of each side), "garment" (foreground box).

    Example:
        >>> crop_photo(Image.new("RGB", (100, 100)), mode="centre", fraction=0.5).size
        (50, 50)
    """
    img = img if img.mode == "RGB" else img.convert("RGB")
    if box is not None:
        return img.crop(resolve_box(box, img.size))
    if mode not in CROP_MODES:
        raise ConfigError(f"unknown crop mode {mode!r}; choose one of {list(CROP_MODES)}")
    if mode == "none":
        return img
    if mode == "centre":
        return img.crop(centre_box(img.size, fraction))
    found, trusted = garment_box(img, cfg)
    log.debug("garment box %s (trusted=%s) in %s", found, trusted, img.size)
    return img.crop(found)
