"""Shopper-style augmentation of studio catalog photos, in numpy + PIL (no downloads).

A catalog shot (product on white) becomes something like a phone photo: the product is cut out
of its white background, pasted onto a procedural background (wood, fabric, bedding, floor,
noise, gradient), rotated, put in perspective, scaled, shadowed, blurred and re-lit.
Everything is driven by one ``numpy.random.Generator``, so a seed gives the same image.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> img = Image.new("RGB", (60, 80), "white")
    >>> shopper_style(img, np.random.default_rng(0)).mode
    'RGB'
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

#: Colours of floors, beds, tables and walls that shopper photos are taken on (RGB 0..255).
SURFACE_COLOURS = np.array(
    [
        (196, 160, 120),  # light wood
        (120, 82, 52),  # dark wood
        (225, 220, 210),  # off-white sheet
        (200, 200, 205),  # grey duvet
        (150, 150, 155),  # concrete
        (70, 70, 75),  # dark carpet
        (180, 200, 220),  # pale blue bedding
        (230, 215, 190),  # beige
        (40, 40, 45),  # black table
        (240, 240, 240),  # white wall
        (160, 120, 140),  # mauve blanket
        (110, 130, 100),  # green rug
        (190, 60, 70),  # red bedspread
        (220, 120, 160),  # pink sheet
        (60, 90, 150),  # blue blanket
    ],
    dtype=np.float32,
)


def product_mask(img: Image.Image, *, white: int = 236) -> np.ndarray:
    """Boolean (h, w) mask of the product: pixels not in near-white regions touching the border.

    White inside the garment (a white shirt's body) is kept because only near-white pixels
    connected to the border count as background.
    """
    arr = np.asarray(img.convert("RGB"), dtype=np.int16)
    near_white = arr.min(axis=2) >= white
    bg = np.zeros_like(near_white)
    bg[0, :], bg[-1, :], bg[:, 0], bg[:, -1] = (
        near_white[0, :],
        near_white[-1, :],
        near_white[:, 0],
        near_white[:, -1],
    )
    # geodesic dilation of the border seeds inside the near-white pixels
    for _ in range(max(arr.shape[:2]) * 2):
        grown = bg.copy()
        grown[1:] |= bg[:-1]
        grown[:-1] |= bg[1:]
        grown[:, 1:] |= bg[:, :-1]
        grown[:, :-1] |= bg[:, 1:]
        grown &= near_white
        if np.array_equal(grown, bg):
            break
        bg = grown
    mask = Image.fromarray((~bg).astype(np.uint8) * 255)
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3))
    # one more erosion: JPEG ringing leaves a light fringe that would show as a white halo
    mask = mask.filter(ImageFilter.MinFilter(3))
    return np.asarray(mask) > 127


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Value noise in 0..1: a coarse random grid upsampled bicubically."""
    grid = rng.random((max(2, cells), max(2, cells))).astype(np.float32)
    img = Image.fromarray((grid * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def _wood(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = SURFACE_COLOURS[rng.integers(0, 2)] * rng.uniform(0.8, 1.15)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    along = xx * np.cos(angle) + yy * np.sin(angle)
    warp = _smooth_noise(rng, h, w, 4) * rng.uniform(10, 40)
    grain = 0.5 + 0.5 * np.sin((along + warp) / rng.uniform(2, 6))
    planks = (np.floor((xx * -np.sin(angle) + yy * np.cos(angle)) / rng.uniform(40, 90)) % 2) * 0.08
    shade = 0.82 + 0.18 * grain - planks
    return base[None, None] * shade[..., None]


def _fabric(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = SURFACE_COLOURS[rng.integers(2, len(SURFACE_COLOURS))] * rng.uniform(0.85, 1.1)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    period = rng.uniform(2.0, 4.0)
    weave = 0.5 + 0.25 * (np.sin(xx * np.pi / period) * np.sin(yy * np.pi / period))
    folds = _smooth_noise(rng, h, w, int(rng.integers(3, 7)))
    shade = 0.8 + 0.08 * weave + 0.22 * folds
    out = base[None, None] * shade[..., None]
    if rng.random() < 0.3:  # striped or checked bedding
        other = SURFACE_COLOURS[rng.integers(0, len(SURFACE_COLOURS))]
        stripe = (xx // rng.uniform(8, 30)) % 2 == 0
        if rng.random() < 0.5:
            stripe ^= (yy // rng.uniform(8, 30)) % 2 == 0
        out = np.where(stripe[..., None], out, 0.6 * out + 0.4 * other[None, None])
    return out


def _noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    a, b = SURFACE_COLOURS[rng.integers(0, len(SURFACE_COLOURS), 2)]
    t = _smooth_noise(rng, h, w, int(rng.integers(3, 12)))[..., None]
    fine = rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    return a[None, None] * (1 - t) + b[None, None] * t + fine


def _gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    a = SURFACE_COLOURS[rng.integers(0, len(SURFACE_COLOURS))]
    b = a * rng.uniform(0.6, 1.1) + rng.uniform(-20, 20, 3)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(angle) + yy * np.sin(angle)
    t = ((t - t.min()) / max(1e-6, np.ptp(t)))[..., None]
    return a[None, None] * (1 - t) + b[None, None] * t


BACKGROUNDS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "wood": _wood,
    "fabric": _fabric,
    "noise": _noise,
    "gradient": _gradient,
}


def background(rng: np.random.Generator, size: tuple[int, int], kind: str | None = None):
    """A procedural background image of `size` (w, h); `kind` one of BACKGROUNDS or random."""
    w, h = size
    kind = kind or list(BACKGROUNDS)[rng.integers(0, len(BACKGROUNDS))]
    arr = BACKGROUNDS[kind](rng, h, w)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _perspective_coeffs(src: np.ndarray, dst: np.ndarray) -> list[float]:
    """PIL perspective coefficients mapping output points `dst` to input points `src`."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = src.reshape(-1).astype(np.float64)
    return np.linalg.solve(a, b).tolist()


def _place(
    product: Image.Image, mask: Image.Image, rng: np.random.Generator, canvas: tuple[int, int]
) -> tuple[Image.Image, Image.Image, tuple[int, int]]:
    """Rotate, warp and scale product + mask; return them and the paste offset."""
    angle = float(rng.normal(0, 12)) if rng.random() < 0.8 else float(rng.uniform(-90, 90))
    product = product.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    mask = mask.rotate(angle, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    w, h = product.size
    jitter = rng.uniform(-0.12, 0.12, (4, 2)) * np.array([w, h])
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    coeffs = _perspective_coeffs(corners, corners + jitter)
    product = product.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = mask.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.BILINEAR)
    cw, ch = canvas
    # mostly fills the frame, sometimes small or overflowing (cropped by the phone)
    scale = rng.uniform(0.65, 1.15) * min(cw / w, ch / h)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    product = product.resize(size, Image.Resampling.BICUBIC)
    mask = mask.resize(size, Image.Resampling.BILINEAR)
    x = int(rng.integers(min(0, cw - size[0]) - size[0] // 8, max(1, cw - size[0] + size[0] // 8)))
    y = int(rng.integers(min(0, ch - size[1]) - size[1] // 8, max(1, ch - size[1] + size[1] // 8)))
    return product, mask, (x, y)


def _light(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Colour, exposure, white balance, vignette / light falloff and sensor noise."""
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.65, 1.25))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.7, 1.2))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.3))
    arr = np.asarray(img, dtype=np.float32)
    h, w, _ = arr.shape
    arr *= rng.uniform(0.88, 1.12, 3)[None, None]  # white balance
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    falloff = np.hypot((xx - cx) / w, (yy - cy) / h)
    arr *= (1 - rng.uniform(0, 0.35) * np.clip(falloff, 0, 1))[..., None]
    arr += rng.normal(0, rng.uniform(0, 5), arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def shopper_style(
    img: Image.Image,
    rng: np.random.Generator,
    *,
    upscale: int = 4,
    canvas_side: int = 256,
) -> Image.Image:
    """One shopper-style version of a catalog photo (product on white).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> shopper_style(Image.new("RGB", (60, 80), "white"), rng).size[0] <= 256
        True
    """
    img = img.convert("RGB")
    mask_arr = product_mask(img)
    if mask_arr.mean() < 0.02:  # nothing to cut out (blank or all-white product)
        mask_arr = np.ones_like(mask_arr)
    big = (img.size[0] * upscale, img.size[1] * upscale)
    product = img.resize(big, Image.Resampling.BICUBIC)
    mask = Image.fromarray(mask_arr.astype(np.uint8) * 255).resize(big, Image.Resampling.BILINEAR)
    mask = mask.filter(ImageFilter.GaussianBlur(upscale / 2))
    aspect = rng.choice([0.75, 1.0, 4 / 3], p=[0.6, 0.15, 0.25])  # phones shoot portrait
    canvas = (
        (canvas_side, round(canvas_side / aspect))
        if aspect >= 1
        else (round(canvas_side * aspect), canvas_side)
    )
    scene = background(rng, canvas)
    product, mask, (x, y) = _place(product, mask, rng, canvas)
    if rng.random() < 0.7:  # soft drop shadow: the product lies on or hangs over a surface
        offset = rng.integers(-10, 11, 2)
        shadow = mask.filter(ImageFilter.GaussianBlur(float(rng.uniform(4, 12))))
        dark = Image.new("RGB", canvas, (0, 0, 0))
        alpha = Image.new("L", canvas, 0)
        alpha.paste(shadow, (x + int(offset[0]), y + int(offset[1])))
        strength = float(rng.uniform(0.25, 0.6))
        alpha = alpha.point(lambda v: int(v * strength))
        scene = Image.composite(dark, scene, alpha)
    scene.paste(product, (x, y), mask)
    scene = _light(scene, rng)
    if rng.random() < 0.5:
        scene = scene.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.6))))
    return scene
