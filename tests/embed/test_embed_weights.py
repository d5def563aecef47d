"""Weight handling: strict loading from a file, clear mismatch and offline errors."""

from __future__ import annotations

import pytest
import torch

from fashionrec.embed import create_embedder
from fashionrec.embed.backbones.mobilenet import MobileNetV2Features
from fashionrec.embed.backbones.resnet import ResNet50Features
from fashionrec.embed.registry import build_module
from fashionrec.embed.weights import check_hash_prefix, hash_prefix_of, state_dict_sha256
from fashionrec.errors import EmbedderError, WeightsUnavailableError


@pytest.fixture()
def isolated_caches(tmp_path, monkeypatch):
    """Empty fashionrec and torch hub caches, offline."""
    monkeypatch.setenv("FASHIONREC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("FASHIONREC_OFFLINE", "1")
    return tmp_path


def test_resnet50_state_dict_file_loads_strictly(tmp_path):
    torch.manual_seed(0)
    src = ResNet50Features()
    path = tmp_path / "my-resnet50.pth"
    torch.save(src.state_dict(), path)
    module = build_module("resnet50", weights=path)
    assert state_dict_sha256(module) == state_dict_sha256(src)
    out = module(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 2048)


def test_wrong_key_names_the_key(tmp_path):
    sd = MobileNetV2Features().state_dict()
    sd["features.0.0.weightz"] = sd.pop("features.0.0.weight")
    path = tmp_path / "bad.pth"
    torch.save(sd, path)
    with pytest.raises(EmbedderError, match=r"missing keys \['features.0.0.weight'\].*weightz"):
        build_module("mobilenetv2", weights=path)


def test_wrong_shape_fails_clearly(tmp_path):
    sd = MobileNetV2Features().state_dict()
    sd["classifier.1.weight"] = torch.zeros(10, 1280)
    path = tmp_path / "shape.pth"
    torch.save(sd, path)
    with pytest.raises(EmbedderError, match="does not fit backbone 'mobilenetv2'"):
        build_module("mobilenetv2", weights=path)


@pytest.mark.parametrize(
    ("name", "filename"), [("resnet50", "resnet50-0676ba61.pth"), ("vgg16", "vgg16-397923af.pth")]
)
def test_offline_failure_says_what_to_get_and_where(isolated_caches, name, filename):
    with pytest.raises(WeightsUnavailableError) as info:
        create_embedder(name, runtime="torch")
    msg = str(info.value)
    assert filename in msg and "https://download.pytorch.org/models/" in msg
    assert str(isolated_caches / "cache" / "weights") in msg
    assert "--weights PATH" in msg and "FASHIONREC_OFFLINE=1" in msg


def test_missing_explicit_path_is_clear(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="nope.pth.*does not exist"):
        build_module("resnet50", weights=tmp_path / "nope.pth")


def test_published_file_in_cache_is_hash_checked(isolated_caches):
    bad = isolated_caches / "cache" / "weights" / "resnet50-0676ba61.pth"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the weights")
    with pytest.raises(WeightsUnavailableError, match="corrupt or not the published one"):
        build_module("resnet50")


def test_hash_prefix_helpers(tmp_path):
    assert hash_prefix_of("mobilenet_v2-b0353104.pth") == "b0353104"
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")  # sha256 ba7816bf...
    check_hash_prefix(f, "ba7816bf")
    with pytest.raises(WeightsUnavailableError):
        check_hash_prefix(f, "00000000")


def test_not_a_state_dict_is_rejected(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(WeightsUnavailableError, match="not a state_dict"):
        build_module("tiny", weights=path)
