"""load_catalog on small messy catalogs written by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from fashionrec.catalog import (
    CleaningReport,
    ColumnMapping,
    catalog_hash,
    load_catalog,
    load_image,
)
from fashionrec.errors import CatalogError, ConfigError

HEADER = (
    "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,"
    "productDisplayName"
)


def _row(pid: str, name: str = "Blue Shirt", *, year: str = "2012", colour: str = "Blue") -> str:
    return f"{pid},Men,Apparel,Topwear,Shirts,{colour},Summer,{year},Casual,{name}"


def _catalog(
    root: Path,
    lines: list[str],
    *,
    images: list[str] | None = None,
    csv_name: str = "styles.csv",
    encoding: str = "utf-8",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    """Write a CSV and one small JPEG per id in ``images`` (default: every row's first field)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    text = newline.join(lines) + newline
    data = text.encode(encoding)
    (root / csv_name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    if images is None:
        images = [ln.split(",", 1)[0].strip() for ln in lines[1:] if ln.strip()]
    for pid in images:
        if pid and "/" not in pid:
            Image.new("RGB", (6, 8), (10, 20, 30)).save(root / "images" / f"{pid}.jpg")
    return root


def _reasons(issues) -> list[str]:
    return [i.reason for i in issues]


def test_clean_catalog_types_order_and_paths(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("30"), _row("10", colour="Red"), _row("20")])
    cat = load_catalog(root)
    p = cat.products
    assert list(p.index) == ["30", "10", "20"]  # CSV order, ids as text
    assert p.index.name == "id"
    assert str(p["year"].dtype) == "Int64"
    assert "price" not in p.columns  # the kaggle preset names no price
    assert p.loc["10", "base_colour"] == "Red"
    assert p.loc["30", "image_path"] == str(root.resolve() / "images" / "30.jpg")
    assert os.path.isabs(p.loc["30", "image_path"])
    assert cat.report.rows_read == 3 and cat.report.kept == 3
    assert not cat.report.fixed and not cat.report.dropped and not cat.report.orphan_images
    assert cat.vocabulary("base_colour") == ["Blue", "Red"]
    assert cat.encodings()["gender"] == ["Men"]
    with pytest.raises(ConfigError, match="Did you mean 'base_colour'"):
        cat.vocabulary("base_color")


def test_messy_rows_are_fixed_or_dropped_with_reasons(tmp_path: Path) -> None:
    lines = [
        HEADER,
        _row("1", "Boss Men Perfume, After Shave Balm, Gel Set"),  # line 2: 2 unquoted commas
        _row("2"),
        _row("2", "Second copy"),  # line 4: duplicate id
        _row("", "No id"),  # line 5
        _row("a/b"),  # line 6: id with a path separator
        "7,Men,Apparel",  # line 7: too few fields
        _row("8", year="twenty"),  # line 8: bad year
        "9,Men,,Topwear,Shirts,,Summer,,,Plain",  # line 9: empty fields
        _row("10"),  # line 10: image missing
        _row("11"),  # line 11: image is 0 bytes
        _row("12") + ",,",  # line 12: trailing delimiters
    ]
    root = _catalog(tmp_path, lines, images=["1", "2", "7", "8", "9", "11", "12", "99"])
    (root / "images" / "11.jpg").write_bytes(b"")
    cat = load_catalog(root)
    r = cat.report
    assert r.rows_read == 11
    assert list(cat.products.index) == ["1", "2", "8", "9", "12"]
    assert r.kept == 5
    assert cat.products.loc["1", "name"] == "Boss Men Perfume, After Shave Balm, Gel Set"
    fixed = {(i.reason, i.line, i.id) for i in r.fixed}
    assert ("unquoted comma in name", 2, "1") in fixed
    assert ("invalid year", 8, "8") in fixed
    assert ("trailing delimiters", 12, "12") in fixed
    dropped = {(i.reason, i.line) for i in r.dropped}
    assert dropped == {
        ("duplicate id", 4),
        ("empty id", 5),
        ("invalid id", 6),
        ("too few fields", 7),
        ("image missing", 10),
        ("empty image file", 11),
    }
    dup = next(i for i in r.dropped if i.reason == "duplicate id")
    assert dup.id == "2" and "line 3" in dup.detail
    assert cat.products.loc["2", "name"] == "Blue Shirt"  # the first copy is kept
    assert pd.isna(cat.products.loc["8", "year"])
    assert pd.isna(cat.products.loc["9", "master_category"])
    assert r.missing_values["master_category"] == 1
    assert r.missing_values["year"] == 2  # the bad year and the empty one
    assert r.missing_values["usage"] == 1
    assert r.orphan_images == ["images/7.jpg", "images/99.jpg"]
    assert "unquoted comma in name: 1" in r.summary()


def test_bom_crlf_whitespace_and_quoted_fields(tmp_path: Path) -> None:
    lines = [
        HEADER.replace("id,", " id ,", 1),
        '  5 , Men ,Apparel,Topwear,Shirts,Blue,Summer, 2011 ,Casual,"Quoted, properly"',
    ]
    root = _catalog(tmp_path, lines, images=["5"], newline="\r\n", bom=True)
    cat = load_catalog(root)
    assert list(cat.products.index) == ["5"]
    row = cat.products.loc["5"]
    assert row["gender"] == "Men" and row["year"] == 2011
    assert row["name"] == "Quoted, properly"
    assert not cat.report.fixed and not cat.report.dropped


def test_cp1252_and_semicolons_are_noted(tmp_path: Path) -> None:
    lines = [HEADER.replace(",", ";"), _row("1", "Caf\xe9 shirt").replace(",", ";")]
    cat = load_catalog(_catalog(tmp_path, lines, encoding="cp1252", images=["1"]))
    assert cat.products.loc["1", "name"] == "Caf\xe9 shirt"
    assert {"CSV is not UTF-8", "CSV delimiter is not a comma"} <= set(_reasons(cat.report.notes))


def test_surplus_fields_when_name_is_not_last(tmp_path: Path) -> None:
    mapping = ColumnMapping(
        csv="p.csv",
        columns={"id": "sku", "name": "title", "price": "price"},
        image_pattern="images/{id}.jpg",
    )
    lines = ["sku,title,price", "1,Shirt, blue,12.5", "2,Plain,abc", "3,Dress,-4"]
    cat = load_catalog(_catalog(tmp_path, lines, csv_name="p.csv"), mapping)
    assert cat.products.loc["1", "name"] == "Shirt, blue"
    assert cat.products.loc["1", "price"] == 12.5
    assert str(cat.products["price"].dtype) == "Float64"
    assert pd.isna(cat.products.loc["2", "price"]) and pd.isna(cat.products.loc["3", "price"])
    assert _reasons(cat.report.fixed) == [
        "unquoted comma in name",
        "invalid price",
        "invalid price",
    ]

    no_name = ColumnMapping(
        csv="p.csv", columns={"id": "sku", "price": "price"}, image_pattern="images/{id}.jpg"
    )
    cat = load_catalog(tmp_path, no_name)
    assert list(cat.products.index) == ["2", "3"]
    assert [(i.reason, i.line) for i in cat.report.dropped] == [("too many fields", 2)]


def test_leading_zero_ids_and_sub_folders_with_case_fix(tmp_path: Path) -> None:
    mapping = ColumnMapping(
        csv="a.csv",
        columns={"id": "article_id", "group": "product_code"},
        image_pattern="images/{id:.3}/{id}.jpg",
    )
    (tmp_path / "a.csv").write_text(
        "article_id,product_code\n0108775015,108775\n0108775044,108775\n"
    )
    sub = tmp_path / "images" / "010"
    sub.mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(sub / "0108775015.jpg")
    Image.new("RGB", (4, 4)).save(sub / "0108775044.JPG", format="JPEG")
    Image.new("RGB", (4, 4)).save(sub / "0999999999.jpg")
    cat = load_catalog(tmp_path, mapping)
    assert list(cat.products.index) == ["0108775015", "0108775044"]
    assert cat.products.loc["0108775044", "image_path"].endswith("010/0108775044.JPG")
    assert cat.products.loc["0108775015", "group"] == "108775"
    assert _reasons(cat.report.fixed) == ["image name differs in case"]
    assert cat.report.orphan_images == ["images/010/0999999999.jpg"]


def test_missing_csv_and_missing_id_column(tmp_path: Path) -> None:
    (tmp_path / "other.csv").write_text("x\n")
    with pytest.raises(CatalogError, match=r"'styles\.csv' not found.*other\.csv"):
        load_catalog(tmp_path, "kaggle")
    (tmp_path / "styles.csv").write_text("ID,gender,master_cat\n1,Men,Apparel\n")
    with pytest.raises(
        CatalogError,
        match=r"'masterCategory' for master_category \(did you mean "
        r"'master_cat'\?\).*Columns found: ID, gender, master_cat",
    ):
        load_catalog(tmp_path, "kaggle")
    mapping = ColumnMapping(
        csv="styles.csv", columns={"id": "id", "gender": "Gender"}, image_pattern="images/{id}.jpg"
    )
    (tmp_path / "images").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "1.jpg")
    cat = load_catalog(tmp_path, mapping)  # "ID" and "gender" accepted despite the case
    assert cat.products.loc["1", "gender"] == "Men"
    assert _reasons(cat.report.notes) == ["column name differs in case"] * 2
    with pytest.raises(CatalogError, match=r"'sku' for id\. Columns found"):
        load_catalog(
            tmp_path,
            ColumnMapping(csv="styles.csv", columns={"id": "sku"}, image_pattern="{id}.jpg"),
        )
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nowhere")


def test_no_usable_products_is_an_error(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("1")], images=[])
    with pytest.raises(CatalogError, match=r"(?s)no usable products.*image missing: 1"):
        load_catalog(root)


def test_verify_images_drops_unreadable_ones(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("1"), _row("2"), _row("3")])
    (root / "images" / "2.jpg").write_text("this is not a photo\n")
    cat = load_catalog(root, verify_images=True, show_progress=True)
    assert list(cat.products.index) == ["1", "3"]
    assert cat.report.kept == 2
    assert [(i.id, i.reason, i.action) for i in cat.report.bad_images] == [
        ("2", "not an image (looks like text)", "dropped")
    ]
    assert len(load_catalog(root).products) == 3  # without verification the header is not read


def test_overrides_are_applied(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("1")])
    cat = load_catalog(root, overrides={"name": "articleType", "usage": ""})
    assert cat.products.loc["1", "name"] == "Shirts"
    assert "usage" not in cat.products.columns
    with pytest.raises(CatalogError, match="did you mean 'usage'"):
        load_catalog(root, overrides={"usage": "usag"})


def test_catalog_hash_is_stable_and_tracks_changes(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("1"), _row("2")])
    h1 = catalog_hash(load_catalog(root))
    assert h1 == catalog_hash(load_catalog(root)) and len(h1) == 64
    img = root / "images" / "2.jpg"
    st = img.stat()
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    h2 = catalog_hash(load_catalog(root))
    assert h2 != h1
    (root / "styles.csv").write_text("\n".join([HEADER, _row("1"), _row("2", "Renamed")]) + "\n")
    assert catalog_hash(load_catalog(root)) not in (h1, h2)


def test_report_round_trip(tmp_path: Path) -> None:
    root = _catalog(tmp_path, [HEADER, _row("1", "a, b"), _row("2")], images=["1"])
    report = load_catalog(root).report
    report.add_bad_image("1", "truncated JPEG")
    assert report.kept == 0
    path = tmp_path / "out" / "report.json"
    report.write(path)
    back = CleaningReport.read(path)
    assert back == report
    assert back.to_dict()["counts"]["dropped"] == {"image missing": 1}
    assert "bad image: truncated JPEG: 1" in back.summary()
    assert not list(path.parent.glob("*.tmp"))
    path.write_text("{not json")
    with pytest.raises(CatalogError, match="cannot read cleaning report"):
        CleaningReport.read(path)


def test_unclosed_quote_is_reported(tmp_path: Path) -> None:
    lines = [HEADER, _row("1"), _row("2", '"Open quote')] + [_row(str(i)) for i in range(3, 10)]
    cat = load_catalog(_catalog(tmp_path, lines))
    # The quote swallows rows 3-9 into the name of row 2: not silent, the note names the lines.
    assert list(cat.products.index) == ["1", "2"]
    assert "\n" in cat.products.loc["2", "name"]
    assert [(n.reason, n.detail) for n in cat.report.notes] == [
        ("record spans many lines (unclosed quote?)", "lines 3-10")
    ]


def test_shared_synthetic_catalog_loads(synthetic_catalog: Path) -> None:
    cat = load_catalog(synthetic_catalog, verify_images=True, show_progress=False)
    assert len(cat) == 24 and cat.report.kept == 24
    assert len(cat.vocabulary("article_type")) == 4
    img = load_image(cat.products["image_path"].iloc[0])
    assert img.size == (60, 80) and img.mode == "RGB"
