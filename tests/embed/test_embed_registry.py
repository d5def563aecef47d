"""Registry: names, info, errors, and the tiny backbone's determinism and usefulness."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fashionrec.embed import DEFAULT_EMBEDDER, create_embedder, embedder_info, list_embedders
from fashionrec.embed.registry import build_module
from fashionrec.errors import EmbedderError


def test_builtin_backbones_are_registered():
    names = list_embedders()
    for n in (
        "resnet50",
        "vgg16",
        "mobilenetv2",
        "efficientnet-lite0",
        "efficientnet-lite2",
        "tiny",
    ):
        assert n in names
    assert DEFAULT_EMBEDDER in names
    assert list_embedders("efficientnet-*") == ["efficientnet-lite0", "efficientnet-lite2"]


def test_unknown_embedder_lists_choices_and_suggests():
    with pytest.raises(EmbedderError, match=r"'resnet5'.*Did you mean 'resnet50'"):
        create_embedder("resnet5")


def test_unknown_runtime_is_clear():
    with pytest.raises(EmbedderError, match=r"'onnxx'.*Did you mean 'onnx'"):
        create_embedder("tiny", runtime="onnxx")


def test_info_reports_dims_preprocessing_and_offline_availability():
    info = embedder_info("efficientnet-lite2")
    assert info["dim"] == 1280 and info["preprocess"]["size"] == 260
    assert info["preprocess"]["mean"] == [127 / 255] * 3
    assert embedder_info("tiny")["available_offline"] is True
    assert embedder_info("resnet50")["weights"].endswith("resnet50-0676ba61.pth")


def test_tiny_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_module("tiny"), build_module("tiny")
    assert torch.rand(1) == before  # building did not consume the global RNG
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    assert not any(p.requires_grad for p in a.parameters()) and not a.training


def test_tiny_groups_synthetic_types(synthetic_catalog):
    import csv

    rows = list(csv.DictReader((synthetic_catalog / "styles.csv").read_text().splitlines()))
    paths = [synthetic_catalog / "images" / f"{r['id']}.jpg" for r in rows]
    types = np.array([r["articleType"] for r in rows])
    vecs = create_embedder("tiny", runtime="torch").encode(paths)
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(1)
    assert (types[nearest] == types).mean() == 1.0
