from __future__ import annotations

import pytest

pytest.importorskip("annoy", reason="optional backend: pip install 'fashionrec[annoy]'")

from index_contract import IndexContract, clustered  # noqa: E402, F401 - fixture


class TestAnnoyContract(IndexContract):
    backend = "annoy"
    params = {"n_trees": 20}
