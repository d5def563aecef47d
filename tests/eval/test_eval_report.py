"""Charts (PNG bytes) and the self-contained HTML report."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

pytest.importorskip("matplotlib", reason="charts need matplotlib (pip install matplotlib)")

from fashionrec.catalog import load_catalog  # noqa: E402
from fashionrec.errors import ConfigError  # noqa: E402
from fashionrec.eval import charts, grid  # noqa: E402
from fashionrec.eval.report import (  # noqa: E402
    ReportSection,
    catalog_sections,
    evaluation_section,
    image_section,
    render_html,
    write_report,
)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.width > 0 and img.height > 0
        return img.size


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gender": ["Men", "Women", "Women", None],
            "article_type": ["Tshirts", "<script>alert(1)</script>", "Tshirts", "Tops"],
            "base_colour": ["Navy Blue", "Mustard", "Skin", "White"],
            "year": pd.array([2012, None, 2015, 2016], dtype="Int64"),
        },
        index=pd.Index(["1", "2", "3", "4"], name="id"),
    )


RUNS = {
    "lite0": {
        "queries": 24,
        "p@1": 0.75,
        "p@10": 0.61,
        "r@10": 0.5,
        "map@10": 0.4,
        "ndcg@10": 0.55,
        "per_label": {
            "Tshirts": {"count": 12, "p@10": 0.9},
            "<b>Tops</b>": {"count": 12, "p@10": 0.3},
        },
    },
    "mobilenet": {
        "queries": 24,
        "p@1": 0.7,
        "p@10": 0.66,
        "r@10": 0.45,
        "map@10": 0.42,
        "ndcg@10": 0.5,
    },
}


def test_charts_return_png(synthetic_catalog: Path) -> None:
    products = load_catalog(synthetic_catalog).products
    assert len(products) == 24
    for png in (
        charts.product_type_distribution(products),
        charts.top_types_pie(products, n=2),
        charts.category_distribution(products, "gender"),
        charts.category_distribution(products, "base_colour"),
        charts.missing_values_chart({"usage": 3, "season": 0}, 24),
        charts.missing_values_chart({"usage": 0}, 24),  # nothing missing: a message, not blank
        charts.metric_bars(RUNS),
        charts.per_label_bars(RUNS["lite0"]["per_label"]),
    ):
        _png_size(png)


def test_type_distribution_grows_with_types() -> None:
    few = pd.DataFrame({"article_type": ["a", "b"] * 3})
    many = pd.DataFrame({"article_type": [f"type {i}" for i in range(140)]})
    h_few = _png_size(charts.product_type_distribution(few))[1]
    h_many = _png_size(charts.product_type_distribution(many))[1]
    assert h_many > 8 * h_few  # one readable row per type, not squeezed labels


def test_colour_bars_use_named_colours() -> None:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(charts.colour_for("Navy Blue"))
    assert b > 0.2 and r < 0.1 and g < 0.2 and b < 0.5  # dark blue, not plain blue
    r, g, b = to_rgb(charts.colour_for("Coffee Brown"))  # falls back to a word: a brown
    assert r > g > b
    assert charts.colour_for("Lime Green") is not None
    assert charts.colour_for("Multi") is None and charts.colour_for("Skin") is None


def test_bad_arguments_name_the_value() -> None:
    with pytest.raises(ConfigError, match="colour"):
        charts.category_distribution(_tiny(), "colour")
    with pytest.raises(ConfigError, match="n must"):
        charts.top_types_pie(_tiny(), n=0)


def test_image_grid_layout_and_bad_image(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (60, 80), (200, 0, 0)).save(photo)
    rgba = Image.new("RGBA", (40, 40), (0, 0, 255, 0))  # transparent -> white background
    rows = [
        [(photo, "query photo"), (rgba, "Tshirts 0.91 " * 10), (tmp_path / "missing.jpg", "x")],
        [(photo, "second query")],
    ]
    png = grid.image_grid(rows, thumb=64)
    width, height = _png_size(png)
    assert width >= 3 * 64 and height >= 2 * 64
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.getpixel((1, 1)) == (255, 255, 255)
    with pytest.raises(ConfigError):
        grid.image_grid([])


def test_written_report_is_self_contained(synthetic_catalog: Path, tmp_path: Path) -> None:
    cat = load_catalog(synthetic_catalog)
    sections = catalog_sections(cat.products, cat.report.to_dict())
    sections.append(evaluation_section("Backbones", RUNS))
    png = grid.image_grid([[(Image.new("RGB", (8, 8)), "q")]], thumb=32)
    sections.append(image_section("Shopper photos", png, caption="query then top 5"))
    out = write_report(tmp_path / "sub" / "report.html", sections, title="Shop <report>")
    text = out.read_text(encoding="utf-8")
    for s in sections:
        assert f">{s.title}</h2>" in text
        assert f">{s.title}</a>" in text  # table of contents
    assert "Shop &lt;report&gt;" in text
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text and "<script" not in text
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]+"', text)
    assert len(images) >= 6
    for data in images:
        _png_size(base64.b64decode(data))
    assert "&lt;b&gt;Tops&lt;/b&gt;" in text  # per-label names are escaped
    assert "<strong>0.660</strong>" in text  # best p@10 in bold
    assert "24" in text and "Cleaning" in text
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp file left


def test_data_values_are_escaped() -> None:
    sections = catalog_sections(_tiny())
    text = render_html(sections)
    assert "<script>" not in text
    titles = [s.title for s in sections]
    assert titles[:3] == ["Catalog summary", "Product types", "Missing values"]


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.html"
    write_report(path, [ReportSection("Old", "<p>old</p>")])
    import fashionrec._io as io_mod

    def boom(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(io_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report(path, [ReportSection("New", "<p>new</p>")])
    assert ">Old</h2>" in path.read_text()  # the old report is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_duplicate_titles_get_distinct_anchors() -> None:
    text = render_html([ReportSection("Run", ""), ReportSection("Run", "")])
    assert 'id="run"' in text and 'id="run-2"' in text


@pytest.mark.shared_data
def test_fixture300_catalog_sections(fixture300: Path, tmp_path: Path) -> None:
    cat = load_catalog(fixture300)
    sections = catalog_sections(cat.products, cat.report)
    out = write_report(tmp_path / "fixture300.html", sections)
    text = out.read_text(encoding="utf-8")
    assert "300" in text
    assert text.count("data:image/png;base64,") >= 4
    assert "https://" not in text


def test_caption_keeps_score_line_and_truncates_name() -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = grid._font(11)
    lines = grid._caption_lines(
        "Turtle Check Men Navy Blue Shirt " * 4 + "\n0.91", draw, font, 80, 2
    )
    assert len(lines) == 2 and lines[0].endswith("…") and lines[1] == "0.91"
    for line in grid._caption_lines("x" * 200, draw, font, 80, 3):
        assert draw.textlength(line, font=font) <= 80
