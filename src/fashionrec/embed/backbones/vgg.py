"""VGG16 in torchvision's layout; embedding = fc2 (4096-d, after its ReLU)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from fashionrec.embed.preprocess import PreprocessCfg
from fashionrec.embed.registry import register_embedder
from fashionrec.embed.weights import load_into, resolve_published

VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG16Features(nn.Module):
    """(N, 3, 224, 224) -> (N, 4096) fc2 activations; the last FC layer is kept but unused."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in _CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=True)]
                cin = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 1000),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x)).flatten(1)
        return self.classifier[:5](x)  # up to fc2's ReLU; dropout is identity in eval()


@register_embedder(
    "vgg16",
    dim=4096,
    description="VGG16 ImageNet (torchvision), fc2 features, 224 px",
    preprocess=PreprocessCfg(size=224),
    weights=f"url:{VGG16_URL}",
)
def vgg16(weights_path: Path | None = None) -> nn.Module:
    path = resolve_published("vgg16", VGG16_URL, weights_path)
    return load_into(VGG16Features(), path, "vgg16")
