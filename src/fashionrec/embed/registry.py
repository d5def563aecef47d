"""Backbone registry, in the manner of timm's ``register_model`` / ``create_model``.

A backbone is a factory ``fn(weights_path: Path | None) -> torch.nn.Module`` returning a frozen
eval() module that maps (N, 3, S, S) to (N, dim) pooled features before L2 normalisation. It is
registered together with the preprocessing it needs, so model and preprocessing never drift
apart.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fashionrec.embed.preprocess import PreprocessCfg
from fashionrec.errors import EmbedderError, suggest

if TYPE_CHECKING:
    from fashionrec.embed.encoder import Embedder

log = logging.getLogger(__name__)

Factory = Callable[[Path | None], torch.nn.Module]

#: Chosen by measurement on demo-2000 (benchmarks/quality_backbones.py, bench_embed.py), LOO
#: P@10 / P@1 / end-to-end img/s (ONNX, 2 cores, noisy): mobilenetv2 0.602/0.694/~185,
#: lite0 0.625/0.730/~157, lite2 0.631/0.711/~80. Lite2's +0.006 P@10 (and lower P@1) is not
#: worth half the speed and misses the 100 img/s target; mobilenetv2 is the fast choice.
DEFAULT_EMBEDDER = "efficientnet-lite0"


@dataclass(frozen=True)
class EmbedderSpec:
    """Everything known about a registered backbone before it is built."""

    name: str
    dim: int
    description: str
    preprocess: PreprocessCfg
    #: "none", "package:<module>" or "url:<published file URL>".
    weights: str
    factory: Factory


_REGISTRY: dict[str, EmbedderSpec] = {}


def register_embedder(
    name: str, *, dim: int, description: str, preprocess: PreprocessCfg, weights: str
) -> Callable[[Factory], Factory]:
    """Decorator registering a backbone factory under ``name``.

    Example:
        >>> @register_embedder("doc-demo", dim=3, description="demo", preprocess=PreprocessCfg(),
        ...                    weights="none")
        ... def _demo(weights_path):
        ...     return torch.nn.Flatten()
        >>> "doc-demo" in list_embedders("doc-*")
        True
    """
    if not (weights == "none" or weights.startswith(("package:", "url:"))):
        raise EmbedderError(
            f"weights source {weights!r} for {name!r} must be 'none', 'package:<module>' "
            "or 'url:<url>'"
        )

    def deco(fn: Factory) -> Factory:
        if name in _REGISTRY and _REGISTRY[name].factory is not fn:
            log.debug("re-registering embedder %s", name)
        _REGISTRY[name] = EmbedderSpec(name, dim, description, preprocess, weights, fn)
        return fn

    return deco


def _ensure_builtin() -> None:
    # Importing the backbones package runs their register_embedder decorators.
    import fashionrec.embed.backbones  # noqa: F401


def list_embedders(filter: str | None = None) -> list[str]:
    """Sorted names of registered backbones, optionally matching an fnmatch ``filter``.

    Example:
        >>> list_embedders("efficientnet-*")
        ['efficientnet-lite0', 'efficientnet-lite2']
    """
    _ensure_builtin()
    names = sorted(_REGISTRY)
    return [n for n in names if fnmatch.fnmatch(n, filter)] if filter else names


def get_spec(name: str) -> EmbedderSpec:
    """The spec of ``name``; an unknown name lists the choices and the closest match."""
    _ensure_builtin()
    if name not in _REGISTRY:
        raise EmbedderError(
            f"unknown embedder {name!r}; choose one of {sorted(_REGISTRY)}."
            f"{suggest(name, _REGISTRY)}"
        )
    return _REGISTRY[name]


def weights_available_offline(weights: str) -> bool:
    """Whether the weights of a source string can be had without a network."""
    if weights == "none":
        return True
    kind, _, where = weights.partition(":")
    if kind == "package":
        return importlib.util.find_spec(where) is not None
    from fashionrec.embed.weights import find_local

    return find_local(where.rsplit("/", 1)[-1]) is not None


def embedder_info(name: str) -> dict[str, Any]:
    """Facts about a backbone without building it.

    Example:
        >>> embedder_info("tiny")["dim"]
        64
    """
    spec = get_spec(name)
    return {
        "name": spec.name,
        "dim": spec.dim,
        "description": spec.description,
        "preprocess": spec.preprocess.to_dict(),
        "weights": spec.weights,
        "available_offline": weights_available_offline(spec.weights),
        "default": spec.name == DEFAULT_EMBEDDER,
    }


def build_module(name: str, weights: str | Path | None = None) -> torch.nn.Module:
    """Build the frozen torch module of ``name`` (used by the runtimes)."""
    spec = get_spec(name)
    path = Path(weights).expanduser() if weights is not None else None
    if path is not None and spec.weights == "none":
        log.info("embedder %s has fixed built-in weights; loading %s into it", name, path)
    module = spec.factory(path)
    module.eval()
    module.requires_grad_(False)
    return module


def create_embedder(
    name: str = DEFAULT_EMBEDDER,
    *,
    runtime: str = "auto",
    weights: str | Path | None = None,
    num_threads: int | None = None,
) -> Embedder:
    """Build a ready-to-use ``Embedder``: backbone + preprocessing + inference runtime.

    ``runtime`` is "auto" (ONNX Runtime: the fastest measured here whose features match torch),
    "onnx", "torch", "openvino" or "openvino-bf16" (both need ``pip install openvino``; bf16 is
    ~1.6x faster on CPUs with native bf16 but drifts to cosine ~0.996 from torch).

    Example:
        >>> emb = create_embedder("tiny", runtime="torch")
        >>> emb.dim
        64
    """
    from fashionrec.embed.encoder import Embedder
    from fashionrec.embed.runtime import make_runner
    from fashionrec.embed.weights import state_dict_sha256

    spec = get_spec(name)
    module = build_module(name, weights)
    sha = state_dict_sha256(module)
    runner = make_runner(runtime, module, spec, weights_sha=sha, num_threads=num_threads)
    return Embedder(spec, runner, weights_sha256=sha)
