"""The ``Embedder``: one ``encode`` for one photo or many (like sentence-transformers)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fashionrec.embed.preprocess import ImageSource, PreprocessCfg, load_source, preprocess_batch
from fashionrec.errors import EmbedderError, ImageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from fashionrec.embed.registry import EmbedderSpec
    from fashionrec.embed.runtime import Runner

log = logging.getLogger(__name__)


def progress_enabled(show_progress: bool | None) -> bool:
    """None means: show when stderr is a terminal and the fashionrec logger is at INFO or lower."""
    if show_progress is not None:
        return bool(show_progress)
    level = logging.getLogger("fashionrec").getEffectiveLevel()
    return sys.stderr.isatty() and level <= logging.INFO


def make_progress() -> Progress:
    """A rich progress bar with count, rate and ETA, drawn on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )


class ImageProgress:
    """A bar of images embedded, with their rate, or nothing when progress is off.

    `skip(k)` moves the bar without counting towards the rate (reused work).

    Example:
        >>> with ImageProgress("embedding", 10, show=False) as bar:
        ...     bar.advance(4)
    """

    def __init__(self, label: str, total: int, *, show: bool | None = None) -> None:
        self._progress = make_progress() if progress_enabled(show) and total else None
        self._task = None
        self._started, self._done = time.perf_counter(), 0
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(label, total=total, rate="")

    def skip(self, k: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=k)

    def advance(self, k: int) -> None:
        self._done += k
        if self._progress is not None:
            rate = self._done / max(time.perf_counter() - self._started, 1e-9)
            self._progress.update(self._task, advance=k, rate=f"{rate:.0f} img/s")

    def __enter__(self) -> ImageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation; zero rows stay zero instead of becoming NaN."""
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _is_single(images: Any) -> bool:
    from PIL import Image

    return isinstance(images, Image.Image | str | bytes | bytearray) or hasattr(
        images, "__fspath__"
    )


class Embedder:
    """A backbone with its preprocessing and runtime. Build it with ``create_embedder``.

    Example:
        >>> from PIL import Image
        >>> from fashionrec.embed import create_embedder
        >>> emb = create_embedder("tiny", runtime="torch")
        >>> emb.encode(Image.new("RGB", (60, 80), "red")).shape
        (64,)
    """

    def __init__(self, spec: EmbedderSpec, runner: Runner, *, weights_sha256: str) -> None:
        self.spec = spec
        self.name: str = spec.name
        self.dim: int = spec.dim
        self.preprocess_cfg: PreprocessCfg = spec.preprocess
        self.runtime: str = runner.name
        self.weights_sha256 = weights_sha256
        self._runner = runner

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, dim={self.dim}, runtime={self.runtime!r})"

    def encode_batch(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed (N, 3, S, S) float32 -> raw (N, dim) float32 features (not normalised)."""
        s = self.preprocess_cfg.size
        if batch.ndim != 4 or batch.shape[1:] != (3, s, s):
            raise EmbedderError(
                f"{self.name} needs batches of shape (N, 3, {s}, {s}), got {tuple(batch.shape)}"
            )
        if len(batch) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = self._runner(np.ascontiguousarray(batch, np.float32))
        return np.ascontiguousarray(out, np.float32).reshape(len(batch), self.dim)

    def load(self, source: ImageSource) -> Any:
        """Decode one source as this embedder wants it (JPEG draft at the model's size)."""
        s = self.preprocess_cfg.size
        return load_source(source, draft=(s, s))

    def encode(
        self,
        images: ImageSource | Sequence[ImageSource],
        *,
        batch_size: int = 32,
        show_progress: bool | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        """Embed one image (-> (dim,)) or a sequence (-> (n, dim)), float32.

        Sources are PIL images, file paths or encoded bytes. Undecodable input raises
        ``ImageError``; use ``embed_files`` to embed a catalog and collect failures instead.
        """
        if batch_size < 1:
            raise EmbedderError(f"batch_size must be >= 1, got {batch_size}")
        single = _is_single(images)
        try:
            items = [images] if single else list(images)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ImageError(
                f"cannot embed a {type(images).__name__}; pass a PIL image, a file path, "
                "encoded bytes, or a sequence of those"
            ) from exc
        out = np.zeros((len(items), self.dim), np.float32)
        progress = make_progress() if progress_enabled(show_progress) and len(items) > 1 else None
        task = None
        if progress is not None:
            progress.start()
            task = progress.add_task(f"embedding ({self.name})", total=len(items), rate="")
        try:
            for start in range(0, len(items), batch_size):
                chunk = items[start : start + batch_size]
                decoded = []
                for i, src in enumerate(chunk):
                    try:
                        decoded.append(self.load(src))
                    except ImageError as exc:
                        raise ImageError(f"image #{start + i}: {exc}") from exc
                batch = preprocess_batch(decoded, self.preprocess_cfg)
                out[start : start + len(chunk)] = self.encode_batch(batch)
                if progress is not None and task is not None:
                    progress.advance(task, len(chunk))
        finally:
            if progress is not None:
                progress.stop()
        if normalize:
            out = l2_normalize(out)
        return out[0] if single else out

    def manifest(self) -> dict[str, Any]:
        """What must match between a saved index and the queries run against it."""
        import onnxruntime
        import torch

        versions = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
        if self.runtime.startswith("openvino"):
            import openvino

            versions["openvino"] = openvino.__version__
        return {
            "name": self.name,
            "dim": self.dim,
            "preprocess": self.preprocess_cfg.to_dict(),
            "runtime": self.runtime,
            "weights_sha256": self.weights_sha256,
            "weights_source": self.spec.weights,
            "versions": versions,
        }
