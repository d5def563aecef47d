"""Embedder.encode / encode_batch / manifest, and ONNX Runtime matching eager PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionrec.embed import create_embedder
from fashionrec.embed.runtime import onnx_path
from fashionrec.errors import EmbedderError, ImageError


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHIONREC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _images(n: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (80, 60, 3), dtype=np.uint8)) for _ in range(n)]


def test_single_gives_1d_and_sequence_gives_2d(cache):
    emb = create_embedder("tiny", runtime="onnx")
    imgs = _images(5)
    one = emb.encode(imgs[0])
    many = emb.encode(imgs, batch_size=2)
    assert one.shape == (64,) and many.shape == (5, 64) and many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(many[0], one, atol=1e-6)


def test_path_bytes_and_pil_give_the_same_vector(cache, tmp_path):
    emb = create_embedder("tiny", runtime="torch")
    img = _images(1)[0]
    path = tmp_path / "x.png"  # lossless, so all three decode to the same pixels
    img.save(path)
    vecs = emb.encode([img, path, str(path), path.read_bytes()])
    np.testing.assert_allclose(vecs, np.repeat(vecs[:1], 4, 0), atol=1e-6)


def test_raw_output_matches_encode_batch(cache):
    emb = create_embedder("tiny", runtime="torch")
    from fashionrec.embed import preprocess_batch

    imgs = _images(3)
    raw = emb.encode(imgs, normalize=False)
    np.testing.assert_allclose(
        raw, emb.encode_batch(preprocess_batch(imgs, emb.preprocess_cfg)), rtol=1e-5, atol=1e-6
    )
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)


def test_bad_inputs_are_clear(cache):
    emb = create_embedder("tiny", runtime="torch")
    with pytest.raises(ImageError, match="image #1"):
        emb.encode([_images(1)[0], b"definitely not a jpeg"])
    with pytest.raises(EmbedderError, match=r"\(N, 3, 64, 64\)"):
        emb.encode_batch(np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(ImageError):
        emb.encode(12345)  # type: ignore[arg-type]


def test_onnx_is_exported_once_into_the_cache_and_matches_torch(cache):
    onnx_emb = create_embedder("tiny", runtime="onnx")
    path = onnx_path("tiny", onnx_emb.weights_sha256)
    assert path.is_file() and path.parent == cache / "onnx"
    assert not list(path.parent.glob("*.tmp"))
    mtime = path.stat().st_mtime_ns
    create_embedder("tiny", runtime="auto")
    assert path.stat().st_mtime_ns == mtime  # reused, not re-exported
    imgs = _images(7, seed=1)
    a = onnx_emb.encode(imgs)
    b = create_embedder("tiny", runtime="torch").encode(imgs)
    assert (a * b).sum(1).min() > 0.9999


def test_manifest_has_what_an_index_needs(cache):
    m = create_embedder("tiny").manifest()
    assert m["name"] == "tiny" and m["dim"] == 64 and m["runtime"] == "onnx"
    assert m["preprocess"]["size"] == 64 and len(m["weights_sha256"]) == 64
    assert {"torch", "onnxruntime"} <= set(m["versions"])


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["efficientnet-lite0", "mobilenetv2"])
def test_real_backbone_onnx_matches_torch(fixture300, name, cache):
    paths = sorted((fixture300 / "images").glob("*.jpg"))[:12]
    onnx_vecs = create_embedder(name, runtime="onnx").encode(paths)
    torch_vecs = create_embedder(name, runtime="torch").encode(paths)
    assert onnx_vecs.shape == (12, 1280)
    assert (onnx_vecs * torch_vecs).sum(1).min() > 0.9999


def test_openvino_matches_torch_when_installed(cache):
    pytest.importorskip("openvino")
    imgs = _images(5, seed=2)
    ov = create_embedder("tiny", runtime="openvino")
    assert ov.runtime == "openvino" and "openvino" in ov.manifest()["versions"]
    a, b = ov.encode(imgs), create_embedder("tiny", runtime="torch").encode(imgs)
    assert (a * b).sum(1).min() > 0.9999
    bf16 = create_embedder("tiny", runtime="openvino-bf16")
    assert bf16.runtime in ("openvino-bf16", "openvino")  # f32 fallback without native bf16
    assert (bf16.encode(imgs) * b).sum(1).min() > 0.99


def test_stale_onnx_cache_is_detected_and_replaced(cache, caplog):
    emb = create_embedder("tiny", runtime="onnx")
    path = onnx_path("tiny", emb.weights_sha256)
    # Plant a valid ONNX model of a *different* network under tiny's cache name.
    import torch

    from fashionrec.embed.registry import get_spec
    from fashionrec.embed.runtime import export_onnx

    other = torch.nn.Sequential(
        torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(), torch.nn.Linear(48, 64)
    ).eval()
    path.unlink()
    export_onnx(other, get_spec("tiny"), emb.weights_sha256)
    with caplog.at_level("WARNING", logger="fashionrec.embed"):
        fresh = create_embedder("tiny", runtime="onnx")
    assert "re-exporting" in caplog.text
    imgs = _images(3, seed=3)
    ref = create_embedder("tiny", runtime="torch").encode(imgs)
    assert (fresh.encode(imgs) * ref).sum(1).min() > 0.9999
