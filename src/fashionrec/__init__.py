"""fashionrec: visual recommendations for fashion shops.

Re-exports the public API. Imports are lazy so that `import fashionrec` (and the CLI's start)
does not pay for torch until a backbone is needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_catalog": "fashionrec.catalog",
    "Catalog": "fashionrec.catalog",
    "ColumnMapping": "fashionrec.catalog",
    "create_embedder": "fashionrec.embed",
    "list_embedders": "fashionrec.embed",
    "create_index": "fashionrec.index",
    "load_index": "fashionrec.index",
    "build_index": "fashionrec.pipeline",
    "add_products": "fashionrec.pipeline",
    "remove_products": "fashionrec.pipeline",
    "Recommender": "fashionrec.recommend",
    "Filters": "fashionrec.recommend",
    "Match": "fashionrec.recommend",
    "FashionRecError": "fashionrec.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fashionrec' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
