"""A grid of photo thumbnails with captions: a query, then its results with scores."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from fashionrec.errors import ConfigError

logger = logging.getLogger(__name__)

GridCell = tuple[str | Path | Image.Image, str]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _thumb(source: str | Path | Image.Image, thumb: int) -> Image.Image:
    """`source` fitted in a white `thumb` square; a grey placeholder when it cannot be read."""
    try:
        if isinstance(source, Image.Image):
            img = source.copy()
        else:
            with Image.open(source) as f:
                f.draft("RGB", (thumb, thumb))  # JPEG: decode at reduced size, much faster
                img = f.copy()
        if img.mode in ("RGBA", "LA", "P"):
            img = img.convert("RGBA")
            bg = Image.new("RGBA", img.size, "white")
            img = Image.alpha_composite(bg, img)
        img = ImageOps.contain(img.convert("RGB"), (thumb, thumb))
    except (OSError, ValueError) as exc:
        logger.warning("cannot read image %s for the grid: %s", source, exc)
        img = Image.new("RGB", (thumb, thumb), "#dddddd")
        ImageDraw.Draw(img).text((6, thumb // 2 - 6), "no image", fill="#555555", font=_font(11))
    cell = Image.new("RGB", (thumb, thumb), "white")
    cell.paste(img, ((thumb - img.width) // 2, (thumb - img.height) // 2))
    return cell


def _wrap(text: str, draw: ImageDraw.ImageDraw, font: Any, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels; a word wider than the cell is hard-broken."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = word
        while draw.textlength(current, font=font) > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and draw.textlength(current[:cut], font=font) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def _caption_lines(
    text: str, draw: ImageDraw.ImageDraw, font: Any, width: int, max_lines: int
) -> list[str]:
    """Wrap `text` in at most `max_lines` lines, ending with … if cut.

    A newline starts a new line and the LAST line is kept whole, so a caption such as
    ``"Lee Women Black Top\n0.89"`` shows its score even when the name is cut.
    """
    parts = [p for p in str(text).splitlines() if p.strip()]
    if not parts:
        return []
    tail = _wrap(parts[-1], draw, font, width)[:1] if len(parts) > 1 else []
    lines = [line for p in (parts[:-1] if tail else parts) for line in _wrap(p, draw, font, width)]
    room = max(1, max_lines - len(tail))
    if len(lines) > room:
        lines = lines[:room]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return (lines + tail)[:max_lines]


def image_grid(
    rows: Sequence[Sequence[GridCell]],
    *,
    thumb: int = 96,
    caption_lines: int = 2,
    first_is_query: bool = True,
) -> bytes:
    """Thumbnails in rows with a wrapped caption under each, on white, as PNG bytes.

    Each cell is ``(image path or PIL image, caption)``. With `first_is_query` the first
    cell of each row is set apart (a gap and a frame): the query photo, then its results.

    Example::

        image_grid([[("q.jpg", "query"), ("15970.jpg", "Shirts 0.91")]])
    """
    if thumb < 16:
        raise ConfigError(f"thumb must be at least 16 pixels, got {thumb}")
    if not rows or not any(rows):
        raise ConfigError("image_grid needs at least one row with one image")
    pad, gap = 8, (14 if first_is_query else 0)
    font_size = max(9, min(13, thumb // 8))
    font = _font(font_size)
    line_h = font_size + 3
    cell_w = thumb + pad
    cell_h = thumb + 4 + caption_lines * line_h + pad
    n_cols = max(len(r) for r in rows)
    width = pad + n_cols * cell_w + gap
    height = pad + len(rows) * cell_h
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for r, row in enumerate(rows):
        y = pad + r * cell_h
        for c, (source, caption) in enumerate(row):
            x = pad + c * cell_w + (gap if c > 0 else 0)
            canvas.paste(_thumb(source, thumb), (x, y))
            if first_is_query and c == 0:
                draw.rectangle(
                    (x - 2, y - 2, x + thumb + 1, y + thumb + 1), outline="#4c72b0", width=2
                )
            else:
                draw.rectangle((x, y, x + thumb - 1, y + thumb - 1), outline="#e0e0e0")
            lines = _caption_lines(caption, draw, font, thumb, caption_lines)
            for i, line in enumerate(lines):
                draw.text((x, y + thumb + 4 + i * line_h), line, fill="#222222", font=font)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
