"""Metadata filters for search and similar items.

Filters are plain data (not callables) so that every index backend can apply them: local
backends turn them into a set of allowed keys; a vector engine can translate them into its
own filter expression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.catalog.schema import CATEGORICAL_FIELDS
from fashionrec.errors import FilterError, suggest

#: Filterable categorical fields: the catalog's categorical attributes.
CATEGORY_FIELDS = CATEGORICAL_FIELDS
#: Other spellings people use for a field, in the CLI, the API and Python.
ALIASES = {
    "colour": "base_colour",
    "color": "base_colour",
    "base_color": "base_colour",
    "category": "master_category",
    "subcategory": "sub_category",
    "type": "article_type",
    "articletype": "article_type",
    "mastercategory": "master_category",
    "basecolour": "base_colour",
    "color_group": "colour_group",
}
RANGE_FIELDS = ("year", "price")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, Iterable):
        parts = list(value)
    else:
        parts = [str(value)]
    return tuple(str(p).strip() for p in parts if p is not None and str(p).strip())


@dataclass(frozen=True)
class Filters:
    """Keep only products matching every given field (any of the values within a field).

    Example:
        >>> Filters(gender=("Women",), article_type=("Dresses", "Skirts"), price_max=40)
        Filters(gender=('Women',), ..., price_max=40)
    """

    gender: tuple[str, ...] = ()
    master_category: tuple[str, ...] = ()
    sub_category: tuple[str, ...] = ()
    article_type: tuple[str, ...] = ()
    base_colour: tuple[str, ...] = ()
    season: tuple[str, ...] = ()
    usage: tuple[str, ...] = ()
    year_min: float | None = None
    year_max: float | None = None
    price_min: float | None = None
    price_max: float | None = None
    colour_group: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Filters:
        """Build from a dict of field -> value(s); accepts aliases such as `colour`, `type`."""
        if not data:
            return cls()
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for raw_key, value in data.items():
            if value is None or value == "" or value == []:
                continue
            key = ALIASES.get(raw_key.lower().replace("-", "_"), raw_key.lower().replace("-", "_"))
            key = ALIASES.get(key.replace("_", ""), key)
            if key not in names:
                raise FilterError(
                    f"unknown filter {raw_key!r}; choose from "
                    f"{', '.join(sorted(names - {'exclude_ids'}))}" + suggest(raw_key, names)
                )
            if key in CATEGORY_FIELDS or key in {"exclude_ids", "colour_group"}:
                kwargs[key] = _as_tuple(value)
            else:
                try:
                    kwargs[key] = float(value)
                except (TypeError, ValueError):
                    raise FilterError(f"{raw_key} must be a number, got {value!r}") from None
        return cls(**kwargs)

    def is_empty(self) -> bool:
        return self == Filters()

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that are set, with lists for the categorical ones."""
        out = {}
        for k, v in asdict(self).items():
            if v in ((), None):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    def resolved(self, vocabulary: Mapping[str, list[str]]) -> Filters:
        """Return a copy whose values use the catalog's spelling (case-insensitive match).

        Raises FilterError naming an unknown value, with the close matches.
        """
        changes: dict[str, tuple[str, ...]] = {}
        for name in CATEGORY_FIELDS:
            wanted = getattr(self, name)
            if not wanted:
                continue
            vocab = vocabulary.get(name)
            if vocab is None:
                raise FilterError(f"this catalog has no {name} column to filter on")
            by_lower = {v.lower(): v for v in vocab}
            out = []
            for value in wanted:
                hit = by_lower.get(value.lower())
                if hit is None:
                    shown = ", ".join(vocab[:12]) + (", ..." if len(vocab) > 12 else "")
                    raise FilterError(
                        f"unknown {name} {value!r}; choose from {shown}" + suggest(value, vocab)
                    )
                out.append(hit)
            changes[name] = tuple(out)
        if self.colour_group:
            changes["colour_group"] = _resolve_groups(self.colour_group)
        return _replace(self, changes)

    def mask(self, products: pd.DataFrame) -> np.ndarray:
        """Boolean mask over `products` rows (values must already be resolved)."""
        keep = np.ones(len(products), dtype=bool)
        for name in CATEGORY_FIELDS:
            wanted = getattr(self, name)
            if wanted:
                keep &= products[name].isin(wanted).to_numpy(dtype=bool)
        for name in RANGE_FIELDS:
            lo, hi = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if lo is None and hi is None:
                continue
            if name not in products or products[name].isna().all():
                raise FilterError(f"this catalog has no {name}s to filter on")
            col = products[name].astype("Float64")
            if lo is not None:
                keep &= (col >= lo).fillna(False).to_numpy(dtype=bool)
            if hi is not None:
                keep &= (col <= hi).fillna(False).to_numpy(dtype=bool)
        if self.colour_group:
            from fashionrec.colour import colour_groups

            if "base_colour" not in products:
                raise FilterError("this catalog has no base_colour column to filter on")
            group_of = products["base_colour"].map(colour_groups())
            keep &= group_of.isin(self.colour_group).fillna(False).to_numpy(dtype=bool)
        if self.exclude_ids:
            keep &= ~products.index.isin(self.exclude_ids)
        return keep


def _resolve_groups(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """Near-colour group names in the spelling of the groups file (case-insensitive)."""
    from fashionrec.colour import colour_groups

    names = sorted(set(colour_groups().values()))
    by_lower = {n.lower(): n for n in names}
    out = []
    for value in wanted:
        hit = by_lower.get(value.lower())
        if hit is None:
            raise FilterError(
                f"unknown colour group {value!r}; choose from {', '.join(names)}"
                + suggest(value, names)
            )
        out.append(hit)
    return tuple(out)


def _replace(filters: Filters, changes: Mapping[str, Any]) -> Filters:
    from dataclasses import replace

    return replace(filters, **changes)
