"""Canonical product fields and how a shop's CSV columns map onto them.

A :class:`ColumnMapping` says which CSV holds the metadata, which column feeds each canonical
field, and where a product's photo lives. Two presets ship: ``"kaggle"`` (Fashion Product
Images, ``styles.csv``) and ``"hm"`` (H&M Personalized Fashion, ``articles*.csv``).

Example::

    mapping = resolve_mapping("hm", Path("shop"))
    mapping = with_overrides(mapping, {"name": "prod_name"})
"""

from __future__ import annotations

import json
import logging
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from fashionrec.errors import CatalogError, ConfigError, suggest

logger = logging.getLogger(__name__)

CANONICAL_FIELDS = (
    "id",
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "year",
    "usage",
    "name",
    "price",
    "group",
)
CATEGORICAL_FIELDS = (
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "usage",
)
#: Fields parsed as numbers; the rest are kept as text.
NUMERIC_FIELDS = ("year", "price")


def _pattern_fields(pattern: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ConfigError(f"image_pattern {pattern!r} is not a valid format string: {exc}") from exc
    names = []
    for _, name, _, _ in parsed:
        if name is None:
            continue
        # "{id:.3}" parses as name "id"; "{id[0]}" or "{id.x}" would index into the id: refuse
        # those since only plain names are documented.
        if not name.isidentifier():
            raise ConfigError(
                f"image_pattern {pattern!r} uses {{{name}}}; only plain field names such as "
                f"{{id}} or {{id:.3}} are allowed"
            )
        names.append(name)
    return names


@dataclass(frozen=True)
class ColumnMapping:
    """Where the metadata CSV is, which column feeds each canonical field, where images live.

    Example::

        ColumnMapping(csv="products.csv", columns={"id": "sku", "name": "title"},
                      image_pattern="photos/{id}.jpg")
    """

    csv: str
    columns: Mapping[str, str]
    image_pattern: str
    name: str = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.csv, str) or not self.csv.strip():
            raise ConfigError(
                f"mapping {self.name!r}: csv must be a non-empty path, got {self.csv!r}"
            )
        if not isinstance(self.columns, Mapping):
            raise ConfigError(
                f"mapping {self.name!r}: columns must be a mapping, got {self.columns!r}"
            )
        for key, col in self.columns.items():
            if key not in CANONICAL_FIELDS:
                raise ConfigError(
                    f"mapping {self.name!r}: unknown field {key!r}; valid fields: "
                    f"{', '.join(CANONICAL_FIELDS)}.{suggest(key, CANONICAL_FIELDS)}"
                )
            if not isinstance(col, str) or not col.strip():
                raise ConfigError(
                    f"mapping {self.name!r}: field {key!r} needs a CSV column name, got {col!r}"
                )
        if "id" not in self.columns:
            raise ConfigError(f"mapping {self.name!r}: the 'id' field is required in columns")
        if not isinstance(self.image_pattern, str) or not self.image_pattern.strip():
            raise ConfigError(f"mapping {self.name!r}: image_pattern must be a non-empty string")
        rel = PurePosixPath(self.image_pattern.replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts:
            raise ConfigError(
                f"image_pattern {self.image_pattern!r} must be relative to the catalog folder "
                "and stay inside it"
            )
        used = _pattern_fields(self.image_pattern)
        for name in used:
            if name not in self.columns:
                raise ConfigError(
                    f"image_pattern {self.image_pattern!r} uses {{{name}}}, which the mapping "
                    f"does not name; mapped fields: {', '.join(self.columns)}."
                    f"{suggest(name, self.columns)}"
                )
        if "id" not in used:
            raise ConfigError(f"image_pattern {self.image_pattern!r} must contain {{id}}")
        # Read-only view so a shared preset cannot be mutated by one caller.
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (inverse of :meth:`from_dict`)."""
        return {
            "name": self.name,
            "csv": self.csv,
            "image_pattern": self.image_pattern,
            "columns": dict(self.columns),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnMapping:
        """Build from ``{"csv", "columns", "image_pattern", "name"?}``; unknown keys are errors."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"a column mapping must be a table/object, got {type(d).__name__}")
        allowed = ("name", "csv", "columns", "image_pattern")
        for key in d:
            if key not in allowed:
                raise ConfigError(
                    f"unknown mapping key {key!r}; valid keys: {', '.join(allowed)}."
                    f"{suggest(key, allowed)}"
                )
        missing = [k for k in ("csv", "columns", "image_pattern") if k not in d]
        if missing:
            raise ConfigError(f"column mapping lacks {', '.join(missing)}")
        return cls(
            csv=d["csv"],
            columns=d["columns"],
            image_pattern=d["image_pattern"],
            name=str(d.get("name", "custom")),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping from a ``.json`` or ``.toml`` file."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".toml"):
            raise ConfigError(f"mapping file {path} must end in .json or .toml, not {suffix!r}")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read mapping file {path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(raw) if suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"mapping file {path} is not valid {suffix[1:].upper()}: {exc}"
            ) from exc
        data.setdefault("name", path.stem)
        return cls.from_dict(data)


PRESETS: dict[str, ColumnMapping] = {
    "kaggle": ColumnMapping(
        csv="styles.csv",
        columns={
            "id": "id",
            "gender": "gender",
            "master_category": "masterCategory",
            "sub_category": "subCategory",
            "article_type": "articleType",
            "base_colour": "baseColour",
            "season": "season",
            "year": "year",
            "usage": "usage",
            "name": "productDisplayName",
        },
        image_pattern="images/{id}.jpg",
        name="kaggle",
    ),
    # H&M has no season/year/usage/price per article. index_group_name (Ladieswear, Menswear,
    # Baby/Children, Sport, Divided) is the closest thing to a gender and keeps its values;
    # product_group_name > product_type_name mirrors Kaggle's masterCategory > articleType, and
    # garment_group_name (Jersey Basic, Knitwear, ...) stands in for the sub-category.
    # product_code groups the colour variants of one product.
    "hm": ColumnMapping(
        csv="articles_train_sample.csv",
        columns={
            "id": "article_id",
            "group": "product_code",
            "name": "prod_name",
            "gender": "index_group_name",
            "master_category": "product_group_name",
            "sub_category": "garment_group_name",
            "article_type": "product_type_name",
            "base_colour": "colour_group_name",
        },
        image_pattern="images/{id:.3}/{id}.jpg",
        name="hm",
    ),
}


def _detect(catalog_dir: Path) -> ColumnMapping:
    if (catalog_dir / "styles.csv").is_file():
        return PRESETS["kaggle"]
    hm = PRESETS["hm"]
    if (catalog_dir / hm.csv).is_file():
        return hm
    articles = sorted(p.name for p in catalog_dir.glob("articles*.csv") if p.is_file())
    if len(articles) == 1:
        return replace(hm, csv=articles[0])
    if len(articles) > 1:
        raise CatalogError(
            f"cannot choose a metadata CSV in {catalog_dir}: several H&M files "
            f"({', '.join(articles)}); pass a mapping file naming the one to use"
        )
    present = sorted(p.name for p in catalog_dir.glob("*.csv"))
    raise CatalogError(
        f"cannot detect the catalog format of {catalog_dir}: looked for styles.csv (kaggle) and "
        f"articles*.csv (hm); CSV files present: {', '.join(present) or 'none'}. "
        "Pass a preset name or a mapping file (.json/.toml)."
    )


def resolve_mapping(spec: str | Path | ColumnMapping | None, catalog_dir: Path) -> ColumnMapping:
    """Turn a preset name, mapping file, mapping object or ``None`` (auto-detect) into a mapping.

    Example::

        resolve_mapping(None, Path("fashion-product-images-small")).name  # 'kaggle'
    """
    if isinstance(spec, ColumnMapping):
        return spec
    catalog_dir = Path(catalog_dir)
    if spec is None:
        mapping = _detect(catalog_dir)
        logger.info("detected %s catalog (%s) in %s", mapping.name, mapping.csv, catalog_dir)
        return mapping
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    for candidate in (path, catalog_dir / path):
        if candidate.is_file():
            return ColumnMapping.from_file(candidate)
    raise ConfigError(
        f"unknown column mapping {str(spec)!r}: not a preset ({', '.join(PRESETS)}) nor an "
        f"existing .json/.toml file.{suggest(str(spec), PRESETS)}"
    )


def with_overrides(mapping: ColumnMapping, overrides: Mapping[str, str]) -> ColumnMapping:
    """Return a copy whose columns are updated; an empty column name removes that field.

    Example::

        with_overrides(PRESETS["hm"], {"name": "detail_desc", "gender": ""})
    """
    if not overrides:
        return mapping
    columns = dict(mapping.columns)
    for key, col in overrides.items():
        if key not in CANONICAL_FIELDS:
            raise ConfigError(
                f"unknown field {key!r} in column override; valid fields: "
                f"{', '.join(CANONICAL_FIELDS)}.{suggest(key, CANONICAL_FIELDS)}"
            )
        col = (col or "").strip()
        if col:
            columns[key] = col
        elif key == "id":
            raise ConfigError("the 'id' field cannot be removed from the mapping")
        else:
            columns.pop(key, None)
    return replace(mapping, columns=columns)
