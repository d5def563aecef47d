"""ResNet50 in torchvision's layout (so its published state_dict loads with strict=True).

Weights: torchvision's V1 file ``resnet50-0676ba61.pth`` (top-1 76.1). V1 is chosen because the
source designs used classic ImageNet ResNet50 features; V2 (``resnet50-11ad3fa6.pth``) has the
same layout and loads through ``weights=PATH`` if wanted.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from fashionrec.embed.preprocess import PreprocessCfg
from fashionrec.embed.registry import register_embedder
from fashionrec.embed.weights import load_into, resolve_published

RESNET50_URL = "https://download.pytorch.org/models/resnet50-0676ba61.pth"


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        # Stride on the 3x3 conv (ResNet "V1.5"), as torchvision does.
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet50Features(nn.Module):
    """(N, 3, S, S) -> (N, 2048) global-max-pooled last-stage features (``fc`` kept, unused)."""

    def __init__(self) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._layer(64, 3)
        self.layer2 = self._layer(128, 4, stride=2)
        self.layer3 = self._layer(256, 6, stride=2)
        self.layer4 = self._layer(512, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, 1000)  # kept so torchvision's state_dict loads strictly

    def _layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        # Global MAX pooling, as the source designs did (Keras pooling="max").
        return torch.amax(x, dim=(2, 3))


@register_embedder(
    "resnet50",
    dim=2048,
    description="ResNet50 ImageNet (torchvision V1), global max pooling, 224 px",
    preprocess=PreprocessCfg(size=224),
    weights=f"url:{RESNET50_URL}",
)
def resnet50(weights_path: Path | None = None) -> nn.Module:
    path = resolve_published("resnet50", RESNET50_URL, weights_path)
    return load_into(ResNet50Features(), path, "resnet50")
