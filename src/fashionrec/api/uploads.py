"""Uploaded photos: bounded in bytes and pixels, typed by their content, never written to disk."""

from __future__ import annotations

from fastapi import UploadFile
from PIL import Image

from fashionrec.api.errors import ApiError
from fashionrec.catalog.images import load_image, sniff_image_type

ACCEPTED = ("jpeg", "png", "webp", "gif", "bmp", "tiff")


async def read_upload(file: UploadFile, *, max_bytes: int, max_pixels: int) -> Image.Image:
    """Read at most `max_bytes` (+1 to detect more), sniff the type, decode safely."""
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "too_large", f"upload larger than {max_bytes:,} bytes")
    if not data:
        raise ApiError(422, "bad_image", "the uploaded file is empty")
    kind = sniff_image_type(data[:64])
    if kind not in ACCEPTED:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"not a supported image (accepted: {', '.join(ACCEPTED)}); the file's "
            "content decides, not its name or declared type",
        )
    return load_image(data, max_pixels=max_pixels, max_bytes=max_bytes)
