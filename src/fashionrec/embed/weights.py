"""Finding, verifying and loading pretrained weights, with one clear error when they are missing.

Lookup order for published torchvision files: an explicit path, ``cache_dir()/weights/``, the
torch hub cache (``~/.cache/torch/hub/checkpoints``), then a download (hash-checked) unless
``FASHIONREC_OFFLINE=1``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from pathlib import Path

import torch

from fashionrec.config import cache_dir
from fashionrec.errors import EmbedderError, WeightsUnavailableError

log = logging.getLogger(__name__)

#: Set to 1 to never try a download (CI, air-gapped shops).
OFFLINE_ENV = "FASHIONREC_OFFLINE"
#: How long to wait for the download host before declaring ourselves offline.
PROBE_TIMEOUT_S = 5.0


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def state_dict_sha256(module: torch.nn.Module) -> str:
    """Hex sha256 over the module's parameters and buffers, in key order.

    Identifies the weights actually loaded, whatever file format they came from.
    """
    h = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        h.update(key.encode())
        t = tensor.detach().contiguous().cpu()
        h.update(str(t.dtype).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def check_hash_prefix(path: Path, prefix: str) -> None:
    """Verify ``path``'s sha256 starts with ``prefix`` (torchvision files are ``name-<prefix>``)."""
    digest = file_sha256(path)
    if not digest.startswith(prefix):
        raise WeightsUnavailableError(
            f"weights file {path} is corrupt or not the published one: sha256 {digest[:12]}... "
            f"does not start with {prefix!r}; delete it and fetch it again"
        )


def hash_prefix_of(filename: str) -> str:
    """``resnet50-0676ba61.pth`` -> ``0676ba61``."""
    return filename.rsplit(".", 1)[0].rsplit("-", 1)[-1]


def weights_search_dirs() -> list[Path]:
    """Folders searched for published weight files, in order."""
    return [cache_dir() / "weights", Path(torch.hub.get_dir()) / "checkpoints"]


def find_local(filename: str) -> Path | None:
    """First existing copy of ``filename`` in the search folders, else None."""
    for folder in weights_search_dirs():
        if (folder / filename).is_file():
            return folder / filename
    return None


def _missing_message(name: str, filename: str, url: str, reason: str) -> str:
    dest = weights_search_dirs()[0] / filename
    return (
        f"pretrained weights for {name!r} are unavailable ({reason}). Get {filename} from {url} "
        f"and put it in {dest.parent}/ (or {weights_search_dirs()[1]}/), or pass its path with "
        f"weights=PATH / --weights PATH."
    )


def resolve_published(name: str, url: str, explicit: str | Path | None = None) -> Path:
    """Path of a published torchvision weight file, downloading it if allowed.

    Example:
        >>> resolve_published("resnet50", RESNET50_URL)  # doctest: +SKIP
        PosixPath('/root/.cache/fashionrec/weights/resnet50-0676ba61.pth')
    """
    filename = url.rsplit("/", 1)[-1]
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsUnavailableError(
                f"weights file {str(path)!r} for {name!r} does not exist; pass an existing file "
                f"with weights=PATH / --weights PATH (the published one is {filename} from {url})"
            )
        return path
    local = find_local(filename)
    if local is not None:
        check_hash_prefix(local, hash_prefix_of(filename))
        return local
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise WeightsUnavailableError(
            _missing_message(name, filename, url, f"not on disk and {OFFLINE_ENV}=1")
        )
    try:  # a short probe, so that an offline machine fails in seconds, not minutes
        req = urllib.request.Request(url, method="HEAD")
        urllib.request.urlopen(req, timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise WeightsUnavailableError(
            _missing_message(name, filename, url, f"not on disk and download failed: {exc}")
        ) from exc
    dest = weights_search_dirs()[0] / filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s to %s", url, dest)
    try:
        # Writes to a temp file in the same folder and moves it: atomic and hash-checked.
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=hash_prefix_of(filename))
    except (OSError, RuntimeError) as exc:
        raise WeightsUnavailableError(
            _missing_message(name, filename, url, f"download failed: {exc}")
        ) from exc
    return dest


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """Load a state_dict safely (``weights_only=True``), with a clear error for bad files."""
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "not weights"
        raise WeightsUnavailableError(f"cannot read weights file {path}: {exc}") from exc
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise WeightsUnavailableError(
            f"weights file {path} holds a {type(sd).__name__}, not a state_dict"
        )
    return sd


def load_into(module: torch.nn.Module, path: Path, name: str) -> torch.nn.Module:
    """Load ``path`` into ``module`` with strict=True, naming the mismatching keys on failure."""
    sd = load_state_dict_file(path)
    want = set(module.state_dict())
    have = set(sd)
    missing, unexpected = sorted(want - have), sorted(have - want)
    if missing or unexpected:
        raise EmbedderError(
            f"weights file {path} does not fit backbone {name!r}: "
            f"{len(missing)} missing keys {missing[:5]}, {len(unexpected)} unexpected keys "
            f"{unexpected[:5]}; is it the right architecture (torchvision layout)?"
        )
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError as exc:  # shape mismatches
        raise EmbedderError(f"weights file {path} does not fit backbone {name!r}: {exc}") from exc
    return module


def freeze(module: torch.nn.Module) -> torch.nn.Module:
    """eval() mode and no gradients: these are fixed feature extractors."""
    module.eval()
    module.requires_grad_(False)
    return module
