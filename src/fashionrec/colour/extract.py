"""Read the colour of the garment in a photo: its own pixels, a descriptor, its main colours.

Everything runs on a thumbnail of at most 64 px a side, so a photo costs a few milliseconds.
Catalog photos (a product on a near-white studio background) lose the near-white region that
touches the border; shopper photos lose the pixels that look like the border's colours (see
:func:`fashionrec.photo.crop.foreground_mask`).

Example::

    img = load_image("15970.jpg")
    desc = colour_descriptor(img)          # (77,) float32, L2-normalised
    dominant_colours(img, k=2)             # [((31, 40, 78), 0.81), ((201, 203, 210), 0.19)]
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image
from scipy import ndimage

from fashionrec.errors import ConfigError
from fashionrec.photo.crop import GarmentCropCfg, foreground_mask

log = logging.getLogger(__name__)

WORK_SIZE = 64
BACKGROUNDS = ("auto", "studio", "scene")
#: Version of the descriptor layout; saved beside anything fitted on descriptors.
DESCRIPTOR_VERSION = "lab-hist-v1"

# Descriptor layout: achromatic lightness bins, then hue x lightness x chroma bins.
_GREY_L = np.array([0.0, 25.0, 50.0, 75.0, 100.0])
_HUE_BINS = 12
_COL_L = np.array([20.0, 50.0, 80.0])
_COL_C = np.array([15.0, 45.0])
_GREY_C = (6.0, 14.0)  # chroma ramp from "grey" to "coloured"
DESCRIPTOR_DIM = len(_GREY_L) + _HUE_BINS * len(_COL_L) * len(_COL_C)

# sRGB -> linear light lookup, then linear RGB -> XYZ (D65) already divided by the white point.
_LINEAR = np.where(
    (v := np.arange(256) / 255.0) <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4
).astype(np.float32)
_RGB2XYZ = (
    np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    / np.array([0.95047, 1.0, 1.08883])[:, None]
).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 sRGB -> (N, 3) float32 CIE Lab (D65).

    Example:
        >>> rgb_to_lab(np.array([[255, 255, 255]], np.uint8)).round(1).tolist()
        [[100.0, 0.0, 0.0]]
    """
    lin = _LINEAR[np.asarray(rgb, dtype=np.uint8)]
    xyz = lin @ _RGB2XYZ.T
    eps = 216 / 24389
    f = np.where(xyz > eps, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[:, 0] = 116 * f[:, 1] - 16
    lab[:, 1] = 500 * (f[:, 0] - f[:, 1])
    lab[:, 2] = 200 * (f[:, 1] - f[:, 2])
    return lab


def _thumb(img: Image.Image) -> np.ndarray:
    """RGB thumbnail of at most WORK_SIZE a side, as an (h, w, 3) uint8 array."""
    img = img if img.mode == "RGB" else img.convert("RGB")
    if max(img.size) > WORK_SIZE:
        img = img.copy()
        img.thumbnail((WORK_SIZE, WORK_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(img)


def _border(arr: np.ndarray) -> np.ndarray:
    return np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])


def _near_white(arr: np.ndarray) -> np.ndarray:
    """Studio-background pixels: bright and almost colourless (JPEG noise allowed)."""
    lo, hi = arr.min(axis=-1).astype(np.int16), arr.max(axis=-1).astype(np.int16)
    return (lo >= 222) & (hi - lo <= 22)


def _studio_mask(arr: np.ndarray) -> np.ndarray:
    """Foreground = everything except the near-white region connected to the border."""
    white = _near_white(arr)
    labels, _ = ndimage.label(white)
    touching = np.unique(_border(labels))
    background = np.isin(labels, touching[touching > 0])
    fg = ~background
    # Edge pixels are blended with the white background; drop them when enough remain.
    inner = ndimage.binary_erosion(fg)
    return inner if inner.sum() >= 0.4 * fg.sum() else fg


def garment_pixels(
    img: Image.Image, *, background: str = "auto", min_share: float = 0.04
) -> np.ndarray:
    """(N, 3) uint8 RGB pixels of the product itself, read on a <= 64 px thumbnail.

    ``background``: "studio" (near-white catalog background), "scene" (shopper photo: pixels
    unlike the border's colours) or "auto" (studio when most of the border is near-white).
    When less than ``min_share`` of the thumbnail survives (a white shirt on white), the whole
    thumbnail is returned: the background then has the garment's colour anyway.

    Example:
        >>> garment_pixels(Image.new("RGB", (60, 80), (200, 0, 0))).shape  # 48x64 thumbnail
        (3072, 3)
    """
    if background not in BACKGROUNDS:
        raise ConfigError(f"unknown background {background!r}; choose one of {list(BACKGROUNDS)}")
    arr = _thumb(img)
    if background == "auto":
        background = "studio" if _near_white(_border(arr)).mean() >= 0.6 else "scene"
    if background == "studio":
        mask = _studio_mask(arr)
    else:
        cfg = GarmentCropCfg(work_size=WORK_SIZE)
        mask = foreground_mask(Image.fromarray(arr), cfg)
    if mask.shape != arr.shape[:2] or mask.sum() < min_share * mask.size:
        return arr.reshape(-1, 3)
    return arr[mask]


def descriptor_from_pixels(rgb: np.ndarray) -> np.ndarray:
    """Soft Lab histogram of (N, 3) uint8 pixels -> (DESCRIPTOR_DIM,) float32, L2 norm 1.

    Greys are binned by lightness only; colours by hue (12 bins), coarse lightness (3) and
    chroma (2), each with linear soft assignment so small lighting shifts move mass smoothly.
    The square root of the histogram is returned (Hellinger map): a dot product of two
    descriptors is then the Bhattacharyya overlap of the colour distributions.
    """
    lab = rgb_to_lab(rgb)
    if len(lab) == 0:
        raise ConfigError("no pixels to describe")
    lum, a, b = lab[:, 0].clip(0, 100), lab[:, 1], lab[:, 2]
    chroma = np.hypot(a, b)
    w_col = ((chroma - _GREY_C[0]) / (_GREY_C[1] - _GREY_C[0])).clip(0, 1)
    hist = np.zeros(DESCRIPTOR_DIM, np.float64)

    gi, gw = _soft(lum, _GREY_L)
    for j in range(2):
        hist[: len(_GREY_L)] += np.bincount(
            gi[:, j], weights=gw[:, j] * (1 - w_col), minlength=len(_GREY_L)
        )

    hue = (np.degrees(np.arctan2(b, a)) % 360) / (360 / _HUE_BINS) - 0.5
    h0 = np.floor(hue).astype(int)
    hf = hue - h0
    hi = np.stack([h0 % _HUE_BINS, (h0 + 1) % _HUE_BINS], axis=1)
    hw = np.stack([1 - hf, hf], axis=1)
    li, lw = _soft(lum, _COL_L)
    ci, cw = _soft(chroma, _COL_C)
    n_l, n_c = len(_COL_L), len(_COL_C)
    size = _HUE_BINS * n_l * n_c
    for x in range(2):
        for y in range(2):
            for z in range(2):
                idx = (hi[:, x] * n_l + li[:, y]) * n_c + ci[:, z]
                wgt = hw[:, x] * lw[:, y] * cw[:, z] * w_col
                hist[len(_GREY_L) :] += np.bincount(idx, weights=wgt, minlength=size)
    out = np.sqrt(hist / hist.sum())
    return (out / np.linalg.norm(out)).astype(np.float32)


def _soft(values: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear soft assignment of values to sorted bin centres: (N, 2) indices and weights."""
    pos = np.interp(values, centres, np.arange(len(centres), dtype=np.float64))
    i0 = np.minimum(np.floor(pos).astype(int), len(centres) - 2)
    frac = pos - i0
    return np.stack([i0, i0 + 1], axis=1), np.stack([1 - frac, frac], axis=1)


def colour_descriptor(img: Image.Image, *, background: str = "auto") -> np.ndarray:
    """Compact, lighting-robust colour descriptor of the garment in ``img`` (L2-normalised).

    Example:
        >>> colour_descriptor(Image.new("RGB", (60, 80), (200, 0, 0))).shape
        (77,)
    """
    return descriptor_from_pixels(garment_pixels(img, background=background))


def dominant_colours(
    img: Image.Image,
    k: int = 3,
    *,
    background: str = "auto",
    iters: int = 10,
    merge: float = 12.0,
) -> list[tuple[tuple[int, int, int], float]]:
    """The garment's ``k`` main colours as (rgb, share), largest share first.

    A deterministic k-means in Lab (seeded on lightness quantiles); clusters closer than
    ``merge`` (CIE76 delta E) to a bigger one are merged into it and empty ones dropped, so
    fewer than ``k`` colours come back for a plain garment.

    Example:
        >>> dominant_colours(Image.new("RGB", (40, 40), (0, 0, 255)), k=2)
        [((0, 0, 255), 1.0)]
    """
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k!r}")
    rgb = garment_pixels(img, background=background)
    lab = rgb_to_lab(rgb)
    order = np.argsort(lab[:, 0], kind="stable")
    centres = lab[order[np.linspace(0, len(order) - 1, k).astype(int)]].copy()
    assign = np.zeros(len(lab), int)
    for _ in range(iters):
        dist = ((lab[:, None, :] - centres[None]) ** 2).sum(-1)
        assign = dist.argmin(axis=1)
        for j in range(k):
            sel = assign == j
            if sel.any():
                centres[j] = lab[sel].mean(axis=0)
    counts = np.bincount(assign, minlength=k)
    order = np.argsort(-counts, kind="stable")
    for pos, j in enumerate(order):  # fold small clusters into a close, bigger one
        for big in order[:pos]:
            if counts[big] and np.linalg.norm(centres[j] - centres[big]) < merge:
                assign[assign == j] = big
                counts[big], counts[j] = counts[big] + counts[j], 0
                break
    counts = np.bincount(assign, minlength=k)
    out = []
    for j in np.argsort(-counts, kind="stable"):
        if counts[j] == 0:
            continue
        mean = rgb[assign == j].mean(axis=0).round().astype(int)
        out.append(((int(mean[0]), int(mean[1]), int(mean[2])), float(counts[j] / len(lab))))
    return out
