"""Exceptions raised by fashionrec. Every user-facing error derives from FashionRecError."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FashionRecError(Exception):
    """Base class of every error fashionrec raises on purpose."""


class ConfigError(FashionRecError, ValueError):
    """A setting, column mapping or option has a bad value."""


class CatalogError(FashionRecError, ValueError):
    """The catalog folder or its metadata CSV cannot be used."""


class ImageError(FashionRecError, ValueError):
    """An image cannot be decoded or is unsafe to decode (too big, wrong type)."""


class EmbedderError(FashionRecError):
    """A backbone cannot be created or run."""


class WeightsUnavailableError(EmbedderError):
    """Pretrained weights are neither on disk nor downloadable."""


class IndexStoreError(FashionRecError):
    """An index directory is missing, corrupt or incompatible."""


class FilterError(FashionRecError, ValueError):
    """A search filter names an unknown field or has a bad value."""


class UnknownProductError(FashionRecError, KeyError):
    """A product id is not in the catalog or index."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "unknown product"


def suggest(value: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
