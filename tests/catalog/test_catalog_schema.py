"""ColumnMapping validation, presets, mapping files, detection and overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fashionrec.catalog.schema import (
    CANONICAL_FIELDS,
    PRESETS,
    ColumnMapping,
    resolve_mapping,
    with_overrides,
)
from fashionrec.errors import CatalogError, ConfigError


def test_presets_are_valid_and_round_trip() -> None:
    assert set(PRESETS) == {"kaggle", "hm"}
    for preset in PRESETS.values():
        assert set(preset.columns) <= set(CANONICAL_FIELDS)
        assert ColumnMapping.from_dict(preset.to_dict()) == preset
    assert PRESETS["hm"].image_pattern.format(id="0108775015") == "images/010/0108775015.jpg"


def test_columns_are_read_only() -> None:
    with pytest.raises(TypeError):
        PRESETS["kaggle"].columns["id"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": {"id": "id", "colour": "c"}}, r"unknown field 'colour'.*valid fields"),
        ({"columns": {"name": "n"}}, r"'id' field is required"),
        ({"columns": {"id": ""}}, r"needs a CSV column name"),
        ({"image_pattern": "/abs/{id}.jpg"}, r"must be relative"),
        ({"image_pattern": "../{id}.jpg"}, r"stay inside"),
        ({"image_pattern": "images/x.jpg"}, r"must contain \{id\}"),
        ({"image_pattern": "images/{sku}.jpg"}, r"uses \{sku\}"),
        ({"image_pattern": "images/{id[0]}.jpg"}, r"only plain field names"),
        ({"image_pattern": "images/{id.jpg"}, r"not a valid format string"),
        ({"csv": " "}, r"csv must be a non-empty path"),
    ],
)
def test_bad_mappings_name_the_problem(kwargs: dict, message: str) -> None:
    base = {"csv": "p.csv", "columns": {"id": "sku"}, "image_pattern": "img/{id}.jpg"}
    with pytest.raises(ConfigError, match=message):
        ColumnMapping(**{**base, **kwargs})


def test_unknown_field_suggests_close_match() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'base_colour'"):
        ColumnMapping(
            csv="p.csv", columns={"id": "id", "base_color": "c"}, image_pattern="{id}.jpg"
        )


def test_from_file_json_and_toml(tmp_path: Path) -> None:
    j = tmp_path / "shop.json"
    j.write_text(
        json.dumps(
            {
                "csv": "p.csv",
                "columns": {"id": "sku", "name": "title"},
                "image_pattern": "photos/{id}.png",
            }
        )
    )
    m = ColumnMapping.from_file(j)
    assert m.name == "shop" and m.columns["name"] == "title"
    t = tmp_path / "shop.toml"
    t.write_text(
        'name = "mine"\ncsv = "p.csv"\nimage_pattern = "photos/{id}.png"\n'
        '[columns]\nid = "sku"\nprice = "cost"\n'
    )
    m = ColumnMapping.from_file(t)
    assert m.name == "mine" and m.columns == {"id": "sku", "price": "cost"}
    bad = tmp_path / "bad.toml"
    bad.write_text("csv = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        ColumnMapping.from_file(bad)
    with pytest.raises(ConfigError, match=r"\.json or \.toml"):
        ColumnMapping.from_file(tmp_path / "m.yaml")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"csv": "p.csv", "column": {}, "image_pattern": "{id}"}))
    with pytest.raises(ConfigError, match="Did you mean 'columns'"):
        ColumnMapping.from_file(extra)


def test_resolve_detects_presets(tmp_path: Path) -> None:
    (tmp_path / "styles.csv").write_text("id\n")
    assert resolve_mapping(None, tmp_path).name == "kaggle"
    hm = tmp_path / "hm"
    hm.mkdir()
    (hm / "articles.csv").write_text("article_id\n")
    m = resolve_mapping(None, hm)
    assert m.name == "hm" and m.csv == "articles.csv"
    (hm / "articles_2.csv").write_text("article_id\n")
    with pytest.raises(CatalogError, match="several H&M files"):
        resolve_mapping(None, hm)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "products.csv").write_text("sku\n")
    with pytest.raises(CatalogError, match=r"styles\.csv.*articles\*\.csv.*products\.csv"):
        resolve_mapping(None, empty)


def test_resolve_names_presets_and_files(tmp_path: Path) -> None:
    assert resolve_mapping("hm", tmp_path) is PRESETS["hm"]
    assert resolve_mapping(PRESETS["kaggle"], tmp_path) is PRESETS["kaggle"]
    (tmp_path / "m.json").write_text(
        json.dumps({"csv": "p.csv", "columns": {"id": "sku"}, "image_pattern": "{id}.jpg"})
    )
    assert resolve_mapping("m.json", tmp_path).columns == {"id": "sku"}  # relative to catalog
    with pytest.raises(ConfigError, match=r"not a preset \(kaggle, hm\).*Did you mean 'kaggle'"):
        resolve_mapping("kagle", tmp_path)


def test_with_overrides() -> None:
    m = with_overrides(PRESETS["hm"], {"name": "detail_desc", "gender": ""})
    assert m.columns["name"] == "detail_desc" and "gender" not in m.columns
    assert PRESETS["hm"].columns["name"] == "prod_name"  # preset untouched
    assert with_overrides(PRESETS["hm"], {}) is PRESETS["hm"]
    with pytest.raises(ConfigError, match="Did you mean 'name'"):
        with_overrides(PRESETS["hm"], {"nmae": "x"})
    with pytest.raises(ConfigError, match="cannot be removed"):
        with_overrides(PRESETS["hm"], {"id": ""})
