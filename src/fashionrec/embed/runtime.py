"""Inference runtimes behind one call: preprocessed (N, 3, S, S) float32 -> raw (N, dim) float32.

"onnx" exports the torch module once into the cache and runs it in ONNX Runtime; measured here
(2 cores, batch 32) it is several times faster than eager PyTorch, so "auto" picks it.
"openvino" compiles the same ONNX file with OpenVINO (optional dependency) in f32: features
match torch (cosine 1.0) but it is no faster than ONNX Runtime here. "openvino-bf16" is ~1.6x
faster end to end on this AVX512-BF16 CPU with unchanged P@10, but its features drift to cosine
~0.996 from torch on real photos, so it is opt-in and never mixed with f32 vectors (the
manifest records the runtime).
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from fashionrec.config import cache_dir
from fashionrec.errors import EmbedderError, suggest

if TYPE_CHECKING:
    from fashionrec.embed.registry import EmbedderSpec

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "onnx", "torch", "openvino", "openvino-bf16")
#: What "auto" resolves to: the fastest runtime measured on this machine (bench_embed.py).
AUTO_RUNTIME = "onnx"
ONNX_OPSET = 17


class Runner:
    """A callable running one preprocessed batch; ``name`` is the runtime's name."""

    name: str = "?"
    #: Minimum cosine to eager PyTorch on a random input for the runner to be trusted.
    min_cosine: float = 0.9999

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class TorchRunner(Runner):
    name = "torch"

    def __init__(self, module: torch.nn.Module, *, num_threads: int | None = None) -> None:
        self.module = module
        if num_threads:
            # torch's thread count is process-wide; only touch it when asked to.
            torch.set_num_threads(num_threads)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = self.module(torch.from_numpy(np.ascontiguousarray(batch, np.float32)))
        return out.numpy().astype(np.float32, copy=False)


def onnx_path(spec_name: str, weights_sha: str) -> Path:
    """Cache location of a backbone's exported ONNX file."""
    version = torch.__version__.split("+")[0]
    return cache_dir() / "onnx" / f"{spec_name}-{weights_sha[:12]}-{version}.onnx"


def export_onnx(module: torch.nn.Module, spec: EmbedderSpec, weights_sha: str) -> Path:
    """Export once to the cache (atomically) and return the file; reuse it afterwards."""
    path = onnx_path(spec.name, weights_sha)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    size = spec.preprocess.size
    dummy = torch.zeros(1, 3, size, size)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".onnx.tmp")
    os.close(fd)
    log.info("exporting %s to ONNX at %s (once per weights and torch version)", spec.name, path)
    try:
        with warnings.catch_warnings():
            # The Lite models' fixed padding trips a harmless constant-folding warning.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # legacy exporter internals
            torch.onnx.export(
                module,
                (dummy,),
                tmp,
                dynamo=False,
                opset_version=ONNX_OPSET,
                input_names=["input"],
                output_names=["features"],
                dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}},
            )
        os.replace(tmp, path)
    except Exception as exc:
        raise EmbedderError(f"ONNX export of {spec.name!r} failed: {exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class OnnxRunner(Runner):
    name = "onnx"

    def __init__(self, path: Path, *, num_threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        (out,) = self.session.run(None, {"input": np.ascontiguousarray(batch, np.float32)})
        return out


class OpenVinoRunner(Runner):
    name = "openvino"

    def __init__(
        self, path: Path, *, num_threads: int | None = None, precision: str = "f32"
    ) -> None:
        try:
            import openvino as ov
        except ImportError as exc:
            raise EmbedderError(
                "runtime='openvino' needs OpenVINO: pip install openvino (or use runtime='onnx')"
            ) from exc
        core = ov.Core()
        # bf16 nearly doubles Lite0 on an AVX512-BF16 CPU (334 vs 177 img/s model-only); without
        # native bf16 it would be emulated and slower, so fall back to f32 there.
        caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if precision == "bf16" and "BF16" not in caps:
            log.warning("this CPU has no native bf16; running OpenVINO in f32")
            precision = "f32"
        self.precision = precision
        self.name = "openvino-bf16" if precision == "bf16" else "openvino"
        self.min_cosine = 0.99 if precision == "bf16" else 0.9999
        config = {
            "INFERENCE_NUM_THREADS": int(num_threads or os.cpu_count() or 1),
            "INFERENCE_PRECISION_HINT": self.precision,
            "PERFORMANCE_HINT": "LATENCY",
        }
        self.path = path
        self.compiled = core.compile_model(str(path), "CPU", config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        res = self.request.infer({0: np.ascontiguousarray(batch, np.float32)})
        return np.asarray(res[self.compiled.output(0)], np.float32).copy()


def _matches(runner: Runner, module: torch.nn.Module, size: int) -> bool:
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    with torch.inference_mode():
        ref = module(torch.from_numpy(x)).numpy().ravel()
    got = runner(x).ravel()
    cos = float(ref @ got / max(np.linalg.norm(ref) * np.linalg.norm(got), 1e-12))
    return cos > runner.min_cosine


def make_runner(
    runtime: str,
    module: torch.nn.Module,
    spec: EmbedderSpec,
    *,
    weights_sha: str,
    num_threads: int | None = None,
) -> Runner:
    """Build the runner of ``runtime`` for a frozen module."""
    if runtime not in RUNTIMES:
        raise EmbedderError(
            f"unknown runtime {runtime!r}; choose one of {list(RUNTIMES)}."
            f"{suggest(runtime, RUNTIMES)}"
        )
    if runtime == "auto":
        runtime = AUTO_RUNTIME
    if runtime == "torch":
        return TorchRunner(module, num_threads=num_threads)
    factories: dict[str, Callable[..., Runner]] = {
        "onnx": OnnxRunner,
        "openvino": OpenVinoRunner,
        "openvino-bf16": partial(OpenVinoRunner, precision="bf16"),
    }
    runner = factories[runtime](export_onnx(module, spec, weights_sha), num_threads=num_threads)
    # The cache key covers weights and torch version but not our module code: one forward pass
    # catches a stale export (e.g. after a backbone fix) before it poisons an index.
    if not _matches(runner, module, spec.preprocess.size):
        log.warning(
            "cached ONNX file of %s does not match the torch module; re-exporting", spec.name
        )
        onnx_path(spec.name, weights_sha).unlink(missing_ok=True)
        runner = factories[runtime](export_onnx(module, spec, weights_sha), num_threads=num_threads)
        if not _matches(runner, module, spec.preprocess.size):
            raise EmbedderError(f"{runtime} features of {spec.name!r} do not match PyTorch")
    return runner
