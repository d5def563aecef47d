"""Preprocessing that travels with each backbone: pad to a square, resize, normalise.

The config is saved beside every index (see ``Embedder.manifest``) so that a query photo is
always preprocessed exactly like the catalog it is searched against.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionrec.catalog.images import load_image
from fashionrec.errors import ConfigError, ImageError, suggest

log = logging.getLogger(__name__)

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
#: EfficientNet-Lite was trained on (x - 127) / 128 over 0..255 pixels.
LITE_MEAN: tuple[float, float, float] = (127 / 255,) * 3
LITE_STD: tuple[float, float, float] = (128 / 255,) * 3

INTERPOLATIONS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}

#: What ``load_source`` accepts: a decoded image, a file path, or the encoded bytes.
ImageSource = Image.Image | str | Path | bytes | bytearray


@dataclass(frozen=True)
class PreprocessCfg:
    """How a backbone wants its pixels.

    Example:
        >>> cfg = PreprocessCfg(size=64)
        >>> PreprocessCfg.from_dict(cfg.to_dict()) == cfg
        True
    """

    size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN  # on the 0..1 pixel scale
    std: tuple[float, float, float] = IMAGENET_STD
    # Catalog photos sit on white; padding with white keeps the garment's aspect ratio without
    # inventing a border the model has never seen around products.
    pad_to_square: bool = True
    fill: tuple[int, int, int] = (255, 255, 255)
    interpolation: str = "bicubic"

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 8:
            raise ConfigError(f"PreprocessCfg.size must be an integer >= 8, got {self.size!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ConfigError(
                f"unknown interpolation {self.interpolation!r}; choose one of "
                f"{sorted(INTERPOLATIONS)}.{suggest(self.interpolation, INTERPOLATIONS)}"
            )
        for field, n in (("mean", 3), ("std", 3), ("fill", 3)):
            if len(getattr(self, field)) != n:
                raise ConfigError(
                    f"PreprocessCfg.{field} needs {n} values, got {getattr(self, field)!r}"
                )
        if min(self.std) <= 0:
            raise ConfigError(f"PreprocessCfg.std must be positive, got {self.std!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreprocessCfg:
        """Inverse of ``to_dict``; unknown keys are an error, not silently dropped."""
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            bad = sorted(extra)[0]
            raise ConfigError(
                f"unknown PreprocessCfg key {bad!r}; valid keys: {sorted(known)}."
                f"{suggest(bad, known)}"
            )
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


def load_source(source: ImageSource, *, draft: tuple[int, int] | None = None) -> Image.Image:
    """Decode one image source to RGB via the catalog's safe loader.

    Raises ``ImageError`` naming the source when it cannot be decoded.
    """
    if isinstance(source, Image.Image):
        return source if source.mode == "RGB" else source.convert("RGB")
    if not isinstance(source, str | Path | bytes | bytearray):
        raise ImageError(
            f"cannot read an image from a {type(source).__name__}; "
            "pass a PIL image, a file path or the encoded bytes"
        )
    kwargs = {"draft": draft} if draft else {}
    return load_image(bytes(source) if isinstance(source, bytearray) else source, **kwargs)


def _square(img: Image.Image, fill: tuple[int, int, int]) -> Image.Image:
    w, h = img.size
    if w == h:
        return img
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), fill)
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return canvas


def preprocess_image(img: Image.Image, cfg: PreprocessCfg) -> np.ndarray:
    """One PIL image -> normalised (3, S, S) float32 array.

    Example:
        >>> from PIL import Image
        >>> preprocess_image(Image.new("RGB", (60, 80)), PreprocessCfg(size=32)).shape
        (3, 32, 32)
    """
    if not isinstance(img, Image.Image):
        raise ImageError(f"preprocess_image needs a PIL image, got {type(img).__name__}")
    if img.mode != "RGB":
        img = img.convert("RGB")
    if cfg.pad_to_square:
        img = _square(img, cfg.fill)
    if img.size != (cfg.size, cfg.size):
        img = img.resize((cfg.size, cfg.size), INTERPOLATIONS[cfg.interpolation])
    arr = np.asarray(img, dtype=np.float32)  # (S, S, 3), 0..255
    # Fold the 0..1 rescale into mean/std: one fused pass instead of three.
    mean = np.asarray(cfg.mean, np.float32) * 255.0
    scale = 1.0 / (np.asarray(cfg.std, np.float32) * 255.0)
    arr = (arr - mean) * scale
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def preprocess_batch(images: Sequence[Image.Image], cfg: PreprocessCfg) -> np.ndarray:
    """Many PIL images -> (N, 3, S, S) float32, C-contiguous.

    Example:
        >>> from PIL import Image
        >>> preprocess_batch([Image.new("RGB", (9, 9))] * 2, PreprocessCfg(size=16)).shape
        (2, 3, 16, 16)
    """
    out = np.empty((len(images), 3, cfg.size, cfg.size), np.float32)
    for i, img in enumerate(images):
        out[i] = preprocess_image(img, cfg)
    return out
