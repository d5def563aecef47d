"""Settings. Paths that tests and benchmarks share are resolved here, once."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that points at the team's shared data folder.
DATA_ENV = "FASHIONREC_DATA"
#: Environment variable for the cache of downloaded weights and exported ONNX models.
CACHE_ENV = "FASHIONREC_CACHE"


def shared_data_dir() -> Path:
    """The shared data folder: $FASHIONREC_DATA, else ../shared/data beside the checkout."""
    if env := os.environ.get(DATA_ENV):
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "data"


def cache_dir() -> Path:
    """Where weights and exported models are cached ($FASHIONREC_CACHE or ~/.cache/fashionrec)."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fashionrec"
