"""Catalog loading: column mappings, CSV cleaning, image decoding and the cleaning report.

Example::

    from fashionrec.catalog import load_catalog
    cat = load_catalog("fashion-product-images-small")
"""

from .images import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    image_sha1,
    load_image,
    probe_image,
    sniff_image_type,
)
from .loader import Catalog, catalog_hash, load_catalog
from .report import CatalogIssue, CleaningReport
from .schema import (
    CANONICAL_FIELDS,
    CATEGORICAL_FIELDS,
    PRESETS,
    ColumnMapping,
    resolve_mapping,
    with_overrides,
)

__all__ = [
    "CANONICAL_FIELDS",
    "CATEGORICAL_FIELDS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PRESETS",
    "Catalog",
    "CatalogIssue",
    "CleaningReport",
    "ColumnMapping",
    "catalog_hash",
    "image_sha1",
    "load_catalog",
    "load_image",
    "probe_image",
    "resolve_mapping",
    "sniff_image_type",
    "with_overrides",
]
