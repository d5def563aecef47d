"""embed_files_ray against a real local Ray: same shards as embed_files, and resumable by either.

One local Ray serves the whole module (starting one costs ~5 s).
"""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest

from fashionrec.embed import create_embedder, embed_files
from fashionrec.embed.ray_embed import embed_files_ray
from fashionrec.errors import ConfigError, EmbedderError

ray = pytest.importorskip("ray", reason="Ray is optional: pip install 'fashionrec[ray]'")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASHIONREC_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield create_embedder("tiny", runtime="onnx")


@pytest.fixture(scope="module")
def files(make_catalog, tmp_path_factory):
    """The 24 synthetic photos plus one broken and one missing file (failures must match too)."""
    root = make_catalog(tmp_path_factory.mktemp("ray") / "catalog")
    rows = list(csv.DictReader((root / "styles.csv").read_text().splitlines()))
    paths = [str(root / "images" / f"{r['id']}.jpg") for r in rows]
    keys = [int(r["id"]) for r in rows]
    bad = root / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    paths = [*paths[:9], str(bad), *paths[9:], str(root / "missing.jpg")]
    return paths, [*keys[:9], 1, *keys[9:], 2]


def _shards(work):
    out = {}
    for f in sorted((work / "shards").glob("*.npz")):
        with np.load(f, allow_pickle=False) as z:
            out[f.name] = {k: z[k] for k in z.files}
    return out


def test_ray_writes_the_same_shards_as_one_process(local_ray, tiny, files, tmp_path):
    paths, keys = files
    one = embed_files(tiny, paths, keys, work_dir=tmp_path / "one", batch_size=4, shard_size=7)
    par = embed_files_ray(
        tiny, paths, keys, work_dir=tmp_path / "ray", workers=2, batch_size=4, shard_size=7
    )
    assert (par.reused_shards, par.embedded_shards) == (0, 4)
    assert json.loads((tmp_path / "ray" / "plan.json").read_text()) == json.loads(
        (tmp_path / "one" / "plan.json").read_text()
    )
    a, b = _shards(tmp_path / "one"), _shards(tmp_path / "ray")
    assert list(a) == list(b) == ["00000.npz", "00001.npz", "00002.npz", "00003.npz"]
    for name in a:
        assert set(b[name]) == set(a[name])
        for k in ("keys", "failed_keys", "failed_reasons"):
            np.testing.assert_array_equal(b[name][k], a[name][k])
        assert b[name]["vectors"].dtype == np.float32
        np.testing.assert_allclose(b[name]["vectors"], a[name]["vectors"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(par.keys, one.keys)
    np.testing.assert_allclose(par.vectors, one.vectors, rtol=1e-5, atol=1e-6)
    assert par.failures == one.failures and [k for k, _ in par.failures] == [1, 2]
    assert par.timings["model_load_max"] > 0


def test_interrupted_ray_run_resumes_only_the_missing_shards(local_ray, tiny, files, tmp_path):
    paths, keys = files
    work = tmp_path / "work"

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed_files_ray(
            tiny, paths, keys, work_dir=work, workers=1, shard_size=7, on_shard=stop_after_two
        )
    kept = {f.name: f.stat().st_mtime_ns for f in (work / "shards").glob("*.npz")}
    assert len(kept) == 2

    resumed = embed_files_ray(tiny, paths, keys, work_dir=work, workers=2, shard_size=7)
    assert (resumed.reused_shards, resumed.embedded_shards) == (2, 2)
    assert all((work / "shards" / n).stat().st_mtime_ns == t for n, t in kept.items())
    fresh = embed_files(tiny, paths, keys, work_dir=tmp_path / "fresh", shard_size=7)
    np.testing.assert_array_equal(resumed.keys, fresh.keys)
    np.testing.assert_allclose(resumed.vectors, fresh.vectors, rtol=1e-5, atol=1e-6)


def test_either_path_resumes_the_other(local_ray, tiny, files, tmp_path):
    paths, keys = files
    work = tmp_path / "work"

    def stop_after_one(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed_files(tiny, paths, keys, work_dir=work, shard_size=7, on_shard=stop_after_one)
    by_ray = embed_files_ray(tiny, paths, keys, work_dir=work, workers=2, shard_size=7)
    assert (by_ray.reused_shards, by_ray.embedded_shards) == (1, 3)
    (work / "shards" / "00002.npz").unlink()
    local = embed_files(tiny, paths, keys, work_dir=work, shard_size=7)
    assert (local.reused_shards, local.embedded_shards) == (3, 1)
    np.testing.assert_allclose(local.vectors, by_ray.vectors, rtol=1e-5, atol=1e-6)
    # A shard damaged after it was written (a bad copy) is embedded again, not trusted.
    (work / "shards" / "00003.npz").write_bytes(b"PK\x03\x04 cut")
    again = embed_files_ray(tiny, paths, keys, work_dir=work, workers=1, shard_size=7)
    assert (again.reused_shards, again.embedded_shards) == (3, 1)
    np.testing.assert_allclose(again.vectors, by_ray.vectors, rtol=1e-5, atol=1e-6)


def test_index_command_with_ray_matches_the_default(
    local_ray, tiny, synthetic_catalog, tmp_path, capsys
):
    from fashionrec.cli import main
    from fashionrec.pipeline import build_index
    from fashionrec.pipeline.layout import IndexDir

    common = {"embedder": "tiny", "runtime": "onnx", "backend": "exact", "show_progress": False}
    a = build_index(synthetic_catalog, tmp_path / "local", **common)
    main(
        ["index", str(synthetic_catalog), "--out", str(tmp_path / "ray")]
        + ["--embedder", "tiny", "--backend", "exact", "--ray-workers", "2"]
    )
    out = capsys.readouterr()
    assert f"Indexed {a.count} products" in out.out and a.count == 24
    assert "embedded 24 images with Ray (0 shards reused, 1 embedded" in out.err
    # The catalog mean is taken over the raw vectors, so it differs if any vector does.
    da, db = IndexDir(tmp_path / "local"), IndexDir(tmp_path / "ray")
    mean_a, mean_b = da.read_mean(da.read_manifest()), db.read_mean(db.read_manifest())
    np.testing.assert_allclose(mean_b, mean_a, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="'dask'"):
        build_index(synthetic_catalog, tmp_path / "x", executor="dask", **common)


def test_only_onnx_models_are_shipped(files, tmp_path):
    paths, keys = files
    torch_tiny = create_embedder("tiny", runtime="torch")
    with pytest.raises(EmbedderError, match="runtime 'torch'"):
        embed_files_ray(torch_tiny, paths, keys, work_dir=tmp_path, workers=1)
    with pytest.raises(EmbedderError, match="workers must be >= 1, got 0"):
        embed_files_ray(torch_tiny, paths, keys, work_dir=tmp_path, workers=0)
