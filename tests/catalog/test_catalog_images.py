"""load_image / probe_image against a hostile corpus generated here."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionrec.catalog.images import (
    image_sha1,
    load_image,
    probe_image,
    sniff_image_type,
)
from fashionrec.errors import ImageError


def _jpeg_bytes(arr: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h pixels but carries almost no data: a cheap decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a\x01\x00", "gif"),
        (b"BM" + b"\x00" * 14, "bmp"),
        (b"II*\x00\x08\x00", "tiff"),
        (b"MM\x00*\x00\x00", "tiff"),
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff_image_type(head: bytes, kind: str | None) -> None:
    assert sniff_image_type(head) == kind


def test_rgb_jpeg_from_path_bytes_and_stream(tmp_path: Path) -> None:
    data = _jpeg_bytes(_noise(40, 30))
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    for src in (p, str(p), data, io.BytesIO(data)):
        img = load_image(src)
        assert img.mode == "RGB"
        assert img.size == (30, 40)
    assert image_sha1(p) == image_sha1(str(p))
    q = tmp_path / "b.jpg"
    q.write_bytes(data[:-1] + b"\x00")
    assert image_sha1(q) != image_sha1(p)


def test_exif_orientation_is_applied_by_pixel_position() -> None:
    # Stored 40 wide x 20 high, red block in the stored top-left corner.
    arr = np.full((20, 40, 3), 255, np.uint8)
    arr[:8, :8] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": stored top-left lands at top-right
    img = load_image(_jpeg_bytes(arr, exif=exif.tobytes()))
    assert img.size == (20, 40)
    px = np.asarray(img)
    assert px[2, 17, 0] > 200 and px[2, 17, 1] < 60  # top-right is red
    assert px[2, 2].min() > 200  # top-left is white


def test_rgba_and_la_composited_on_white() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, 5:, 3] = 255  # left half transparent, right half opaque red
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    px = np.asarray(load_image(buf.getvalue()))
    assert tuple(px[0, 0]) == (255, 255, 255)
    assert tuple(px[0, 9]) == (255, 0, 0)

    la = Image.new("LA", (4, 4), (0, 0))  # black, fully transparent
    buf = io.BytesIO()
    la.save(buf, "PNG")
    assert tuple(np.asarray(load_image(buf.getvalue()))[1, 1]) == (255, 255, 255)


def test_palette_with_transparency_composited_on_white() -> None:
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # 0 black, 1 blue
    img.paste(0, (0, 0, 3, 6))
    buf = io.BytesIO()
    img.save(buf, "PNG", transparency=0)
    px = np.asarray(load_image(buf.getvalue()))
    assert tuple(px[0, 0]) == (255, 255, 255)  # transparent black became white, not black
    assert tuple(px[0, 5]) == (0, 0, 255)


def test_16bit_greyscale_is_scaled_not_clipped() -> None:
    arr = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    px = np.asarray(load_image(buf.getvalue()))
    assert px.shape == (1, 3, 3)
    assert list(px[0, :, 0]) == [0, 128, 255]


def test_cmyk_greyscale_and_bilevel_become_rgb() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red in CMYK
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=95)
    px = np.asarray(load_image(buf.getvalue()))
    assert px.shape == (8, 8, 3)
    assert px[4, 4, 0] > 200 and px[4, 4, 1] < 60 and px[4, 4, 2] < 60

    for mode, value in (("L", 77), ("1", 1)):
        buf = io.BytesIO()
        Image.new(mode, (5, 5), value).save(buf, "PNG")
        px = np.asarray(load_image(buf.getvalue()))
        assert px.shape == (5, 5, 3)
        assert px[0, 0, 0] == px[0, 0, 2] == (77 if mode == "L" else 255)


def test_float_and_int32_greyscale() -> None:
    f = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F")
    buf = io.BytesIO()
    f.save(buf, "TIFF")
    assert list(np.asarray(load_image(buf.getvalue()))[0, :, 0]) == [0, 128, 255]


def test_draft_decodes_big_jpeg_small_but_not_below_request() -> None:
    data = _jpeg_bytes(_noise(800, 1000))
    img = load_image(data, draft=(200, 150))
    assert img.size == (250, 200)  # scale 1/4: smallest power-of-two scale >= the request
    assert img.mode == "RGB"
    assert load_image(data).size == (1000, 800)


def test_draft_respects_exif_rotation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _jpeg_bytes(_noise(400, 800), exif=exif.tobytes())  # stored 800x400, shown 400x800
    img = load_image(data, draft=(300, 100))
    assert img.size[0] >= 300 and img.size[1] >= 100
    assert img.size == (400, 800)


def test_pixel_limit_checked_from_header_before_decoding() -> None:
    # 7000x7000 = 49 MP: under Pillow's own bomb limit, over ours; the PNG has no real pixel
    # data, so a decode attempt would report truncation instead of size.
    with pytest.raises(ImageError, match=r"image too large: 7000x7000 pixels, limit 40 MP"):
        load_image(_png_header_only(7000, 7000))
    with pytest.raises(ImageError, match=r"image too large: 30000x30000 pixels, limit 40 MP"):
        load_image(_png_header_only(30000, 30000))
    with pytest.raises(ImageError, match="limit 0.001 MP"):
        load_image(_jpeg_bytes(_noise(40, 40)), max_pixels=1000)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", r"empty file \(0 bytes\)"),
        (lambda: b"id,name\n1,shirt\n", r"not an image \(looks like text\)"),
        (lambda: b"<!DOCTYPE html><html></html>", r"not an image \(looks like an HTML page\)"),
        (lambda: b"\x00\x01\x02\x03binary", r"not an image \(unknown format"),
        (lambda: _jpeg_bytes(_noise(64, 64))[:600], r"truncated JPEG"),
        (lambda: b"\xff\xd8\xff\xe0" + b"\x13" * 300, r"JPEG"),
        (lambda: _png_header_only(20, 20), r"(truncated|corrupt) PNG"),
        (lambda: b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, r"(truncated|corrupt) PNG"),
    ],
    ids=[
        "zero-bytes",
        "text",
        "html",
        "binary",
        "truncated-jpeg",
        "corrupt-jpeg",
        "short-png",
        "corrupt-png",
    ],
)
def test_bad_inputs_raise_clear_image_errors(tmp_path: Path, make, message: str) -> None:
    data = make()
    with pytest.raises(ImageError, match=message):
        load_image(data)
    p = tmp_path / "bad.jpg"  # the same bytes behind a .jpg name
    p.write_bytes(data)
    with pytest.raises(ImageError, match=message):
        load_image(p)


def test_truncated_png_says_truncated() -> None:
    buf = io.BytesIO()
    Image.fromarray(_noise(64, 64)).save(buf, "PNG")
    data = buf.getvalue()
    with pytest.raises(ImageError, match="truncated PNG"):
        load_image(data[: len(data) // 2])


def test_byte_limit_and_missing_file(tmp_path: Path) -> None:
    data = _jpeg_bytes(_noise(64, 64))
    p = tmp_path / "x.jpg"
    p.write_bytes(data)
    with pytest.raises(ImageError, match="image file too large"):
        load_image(p, max_bytes=100)
    with pytest.raises(ImageError, match="too large"):
        load_image(io.BytesIO(data), max_bytes=100)
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "nope.jpg")


def test_probe_image_reads_header_only(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.new("RGB", (12, 7)).save(good)
    assert probe_image(good) == ("PNG", 12, 7)
    cases = {
        "empty.jpg": (b"", "empty file"),
        "text.jpg": (b"just some text\n", "looks like text"),
        "bomb.png": (_png_header_only(30000, 30000), "30000x30000"),
        "big.png": (_png_header_only(7000, 7000), "7000x7000"),
    }
    for name, (data, message) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(ImageError, match=message):
            probe_image(p)
