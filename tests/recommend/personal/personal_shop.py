"""A small known-answer shop: 5 kinds of product, 6 of each, drawn so that look = kind.

Red dresses and blue dresses share a shape (only colour differs); dress n of each colour is one
product in two colours (same `group`). Women: dresses, watches; men: T-shirts, shoes.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
from PIL import Image

KINDS = [
    # (first id, gender, article type, colour, rgb, shape)
    (1000, "Women", "Dresses", "Red", (205, 25, 30), "dress"),
    (1010, "Women", "Dresses", "Blue", (25, 50, 205), "dress"),
    (1020, "Men", "Tshirts", "Red", (200, 30, 30), "tee"),
    (1030, "Men", "Casual Shoes", "Black", (20, 20, 20), "shoe"),
    (1040, "Women", "Watches", "Silver", (180, 180, 190), "watch"),
]
PER_KIND = 6
T0 = dt.datetime(2024, 3, 1)


def ids(first: int) -> list[str]:
    return [str(first + i) for i in range(PER_KIND)]


def _draw(shape: str, rgb, rng) -> Image.Image:
    w, h = 60, 80
    arr = np.full((h, w, 3), 255, np.uint8)
    colour = np.clip(np.array(rgb) + rng.integers(-12, 13, 3), 0, 255)
    yy, xx = np.ogrid[:h, :w]
    if shape == "dress":  # a trapezium
        mask = (yy > 8) & (np.abs(xx - w / 2) < 6 + (yy - 8) * 0.3)
    elif shape == "tee":
        mask = ((yy > 10) & (yy < 70) & (np.abs(xx - w / 2) < 14)) | (
            (yy > 10) & (yy < 28) & (np.abs(xx - w / 2) < 26)
        )
    elif shape == "shoe":
        mask = (yy > 50) & (yy < 68) & (xx > 6) & (xx < 54)
    else:
        mask = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < 15**2
    arr[mask] = colour
    noise = rng.integers(-6, 7, arr.shape)
    return Image.fromarray(np.clip(arr.astype(int) + noise, 0, 255).astype(np.uint8))


def make_shop(root: Path) -> Path:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    rows = []
    for first, gender, article, colour, rgb, shape in KINDS:
        for i, pid in enumerate(ids(first)):
            _draw(shape, rgb, rng).save(root / "images" / f"{pid}.jpg", quality=92)
            group = f"D{i}" if article == "Dresses" else pid  # dress i in red and in blue
            master = "Accessories" if article == "Watches" else "Apparel"
            name = f"{colour} {article[:-1]} {pid}"
            rows.append([pid, gender, master, article, article, colour, "", "", "", name, group])
    with open(root / "styles.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "id",
                "gender",
                "masterCategory",
                "subCategory",
                "articleType",
                "baseColour",
                "season",
                "year",
                "usage",
                "productDisplayName",
                "group",
            ]
        )
        w.writerows(rows)
    return root
