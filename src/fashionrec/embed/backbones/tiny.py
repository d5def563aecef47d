"""A tiny deterministic backbone for fast tests (like timm's ``test_resnet``).

Random weights from a fixed seed, so every process builds the same network. Half of the
embedding is a 4x4 colour thumbnail, which is what lets pipeline tests expect same-type
neighbours on synthetic coloured shapes without any training.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from fashionrec.embed.preprocess import PreprocessCfg
from fashionrec.embed.registry import register_embedder
from fashionrec.embed.weights import load_into

SEED = 0


class TinyNet(nn.Module):
    """(N, 3, 64, 64) -> (N, 64): 16 conv features + a 48-value (3 x 4 x 4) colour thumbnail."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.thumb = nn.AdaptiveAvgPool2d(4)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        return torch.cat([self.pool(h).flatten(1), self.thumb(x).flatten(1)], dim=1)


def build_tiny() -> TinyNet:
    """The tiny net with its fixed-seed weights, without touching the global RNG."""
    gen = torch.Generator().manual_seed(SEED)
    with torch.random.fork_rng(devices=[]):  # the default init would draw from the global RNG
        net = TinyNet()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
    return net


@register_embedder(
    "tiny",
    dim=64,
    description="Tiny fixed-seed CNN + colour thumbnail, 64 px; for tests only",
    preprocess=PreprocessCfg(size=64, interpolation="bilinear"),
    weights="none",
)
def tiny(weights_path: Path | None = None) -> nn.Module:
    net = build_tiny()
    if weights_path is not None:
        load_into(net, weights_path, "tiny")
    return net
