"""Safe, lean image decoding: any common photo in, a fully loaded RGB ``PIL.Image`` out.

Every failure is an :class:`~fashionrec.errors.ImageError` with a reason a person understands.
The pixel limit is checked from the header, before any decoding, with our own limit rather than
Pillow's global ``MAX_IMAGE_PIXELS`` (which we neither rely on nor change). Pillow still refuses
anything above twice its own limit (about 179 MP) at open, whatever ``max_pixels`` says.

Example::

    img = load_image("images/15970.jpg", draft=(224, 224))
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import struct
import zlib
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fashionrec.errors import ImageError

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
WHITE = (255, 255, 255)

_FORMAT_NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
    "mpo": "JPEG",
}
_ORIENTATION = 0x0112


def sniff_image_type(head: bytes) -> str | None:
    """Name the image type from its first bytes ("jpeg", "png", "webp", "gif", "bmp", "tiff")."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"BM") and len(head) >= 14:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _describe_non_image(head: bytes) -> str:
    if not head:
        return "empty file (0 bytes)"
    sample = head[:512]
    if sample.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "not an image (looks like an HTML page)"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
        return "not an image (looks like text)"
    return f"not an image (unknown format, starts with {sample[:8].hex(' ')})"


def _header_size(data: bytes, kind: str | None) -> tuple[int, int] | None:
    """Width and height read straight from a PNG/GIF/BMP/JPEG header (error messages only)."""
    try:
        if kind == "png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if kind == "gif":
            return struct.unpack("<HH", data[6:10])
        if kind == "bmp":
            w, h = struct.unpack("<ii", data[18:26])
            return abs(w), abs(h)
        if kind == "jpeg":
            for m in re.finditer(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]", data[:65536]):
                h, w = struct.unpack(">HH", data[m.end() + 3 : m.end() + 7])
                return w, h
    except struct.error:
        return None
    return None


def _decode_error(exc: BaseException, fmt: str) -> ImageError:
    msg = str(exc)
    if "truncated" in msg.lower() or isinstance(exc, EOFError):
        return ImageError(f"truncated {fmt}")
    return ImageError(f"corrupt {fmt} ({msg or type(exc).__name__})")


def _too_large(w: int, h: int, max_pixels: int) -> ImageError:
    return ImageError(f"image too large: {w}x{h} pixels, limit {max_pixels / 1e6:g} MP")


def _too_many_bytes(size: int, max_bytes: int) -> ImageError:
    return ImageError(
        f"image file too large: {size / 2**20:.1f} MiB, limit {max_bytes / 2**20:g} MiB"
    )


def _read_source(source: str | os.PathLike[str] | bytes | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size > max_bytes:
                    raise _too_many_bytes(size, max_bytes)
                data = f.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise ImageError(f"image file not found: {os.fspath(source)}") from exc
        except IsADirectoryError as exc:
            raise ImageError(f"not an image (a folder): {os.fspath(source)}") from exc
        except OSError as exc:
            raise ImageError(f"cannot read image file: {exc.strerror or exc}") from exc
    else:
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes | bytearray):
            raise ImageError("image stream must be opened in binary mode")
        data = bytes(data)
    if len(data) > max_bytes:
        raise ImageError(f"image file too large: over {max_bytes / 2**20:g} MiB")
    if not data:
        raise ImageError("empty file (0 bytes)")
    return data


def _to_8bit(img: Image.Image) -> Image.Image:
    """16/32-bit integer and float greyscale to 8-bit "L", scaling rather than clipping."""
    arr = np.asarray(img)
    if img.mode == "F":
        finite = arr[np.isfinite(arr)]
        hi = float(finite.max()) if finite.size else 0.0
        lo = float(finite.min()) if finite.size else 0.0
        if lo >= 0.0 and hi <= 1.0:  # the usual [0, 1] float convention
            out = arr * 255.0
        elif lo >= 0.0 and hi <= 255.0:
            out = arr
        else:
            out = (arr - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
        out = np.nan_to_num(out, nan=0.0)
    else:
        arr = arr.astype(np.int64)
        lo, hi = int(arr.min()), int(arr.max())
        if img.mode.startswith("I;16") or (lo >= 0 and 255 < hi <= 65535):
            out = arr / 257.0  # 16-bit range: 65535 -> 255
        elif lo >= 0 and hi <= 255:
            out = arr
        else:
            out = (arr - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "L")


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB" and "transparency" not in img.info:
        return img
    if mode.startswith("I") or mode == "F":
        return _to_8bit(img).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        out = Image.new("RGB", rgba.size, WHITE)
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return img.convert("RGB")


def _draft(img: Image.Image, draft: tuple[int, int]) -> None:
    w, h = draft
    # The requested size is for the upright picture; a 90-degree EXIF orientation swaps the
    # stored axes, so ask the decoder for the swapped size to stay at least that big.
    try:
        if img.getexif().get(_ORIENTATION) in (5, 6, 7, 8):
            w, h = h, w
    except Exception:  # a broken EXIF block must not stop the decode; exif_transpose reports it
        logger.debug("unreadable EXIF while choosing the draft size", exc_info=True)
    img.draft("RGB", (w, h))


def load_image(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """Decode an image file, bytes or binary stream into a fully loaded RGB image.

    EXIF orientation is applied, transparency is composited on white, greyscale of any depth is
    scaled to 8 bits. With ``draft=(w, h)`` big JPEGs are decoded directly at a reduced scale
    that is never smaller than ``(w, h)``.

    Example::

        load_image(open("shirt.png", "rb")).size
    """
    data = _read_source(source, max_bytes)
    kind = sniff_image_type(data[:16])
    fmt = _FORMAT_NAMES.get(kind or "", "image")
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        size = _header_size(data, kind)
        if size:
            raise _too_large(*size, max_pixels) from exc
        raise ImageError(f"image too large: {exc}") from exc
    except UnidentifiedImageError as exc:
        if kind is None:
            raise ImageError(_describe_non_image(data)) from exc
        raise ImageError(f"corrupt {fmt} (header unreadable)") from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise _decode_error(exc, fmt) from exc
    fmt = _FORMAT_NAMES.get((img.format or "").lower(), img.format or fmt)
    w, h = img.size
    if w <= 0 or h <= 0:
        raise ImageError(f"corrupt {fmt} (size {w}x{h})")
    if w * h > max_pixels:
        raise _too_large(w, h, max_pixels)
    try:
        if draft is not None and img.format in ("JPEG", "MPO"):
            _draft(img, draft)
        img.load()
        img = ImageOps.exif_transpose(img) or img
        img = _to_rgb(img)
        img.load()
    except Image.DecompressionBombError as exc:
        raise _too_large(w, h, max_pixels) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, zlib.error) as exc:
        raise _decode_error(exc, fmt) from exc
    return img


def probe_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[str, int, int]:
    """Cheap check of an image file from its header only: return (format, width, height).

    Catches what a header shows (not an image, wrong size, too many pixels or bytes); a file
    truncated in the middle of its pixel data only shows up in :func:`load_image`.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; one open serves stat and header
    except OSError as exc:
        raise ImageError(f"cannot read image file: {exc.strerror or exc}") from exc
    with f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise ImageError("empty file (0 bytes)")
        if size > max_bytes:
            raise _too_many_bytes(size, max_bytes)
        try:
            img = Image.open(f)
            w, h = img.size
            fmt = _FORMAT_NAMES.get((img.format or "").lower(), img.format or "image")
        except (
            Image.DecompressionBombError,
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            struct.error,
            EOFError,
        ) as exc:
            # Slow path only for bad files: re-read the start to explain what is wrong.
            f.seek(0)
            head = f.read(65536)
            kind = sniff_image_type(head[:16])
            fmt = _FORMAT_NAMES.get(kind or "", "image")
            if isinstance(exc, Image.DecompressionBombError):
                dims = _header_size(head, kind)
                err = _too_large(*dims, max_pixels) if dims else ImageError("image too large")
            elif isinstance(exc, UnidentifiedImageError):
                err = ImageError(
                    _describe_non_image(head)
                    if kind is None
                    else f"corrupt {fmt} (header unreadable)"
                )
            else:
                err = _decode_error(exc, fmt)
            raise err from exc
    if w <= 0 or h <= 0:
        raise ImageError(f"corrupt {fmt} (size {w}x{h})")
    if w * h > max_pixels:
        raise _too_large(w, h, max_pixels)
    return fmt, w, h


def image_sha1(path: str | os.PathLike[str]) -> str:
    """SHA-1 of the file bytes, to find identical images."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()
