from __future__ import annotations

import numpy as np
import pytest
from index_contract import IndexContract, clustered  # noqa: F401 - fixture

from fashionrec.errors import ConfigError
from fashionrec.index import create_index, list_backends
from fashionrec.index._storage import topk_inner_product


class TestExactContract(IndexContract):
    backend = "exact"
    params = {"chunk_size": 777}  # odd, so every search crosses chunk borders


def naive_topk(vectors, queries, k, rows=None, dead=None):
    ids = np.arange(len(vectors)) if rows is None else rows
    if dead is not None:
        ids = ids[~dead[ids]]
    scores = queries @ vectors[ids].T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]


@pytest.mark.parametrize("chunk", [1, 3, 17, 100, 1000])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_topk_kernel_matches_naive(chunk, k):
    rng = np.random.default_rng(chunk * 100 + k)
    vectors = rng.standard_normal((123, 8)).astype(np.float32)
    queries = rng.standard_normal((9, 8)).astype(np.float32)
    rows = np.sort(rng.choice(123, 50, replace=False))
    dead = rng.random(123) < 0.2
    for kwargs in ({}, {"rows": rows}, {"dead": dead}, {"rows": rows, "dead": dead}):
        s, r = topk_inner_product(vectors, queries, k, chunk=chunk, **kwargs)
        ns, nr = naive_topk(vectors, queries, k, **kwargs)
        np.testing.assert_allclose(s[:, : ns.shape[1]], ns, rtol=1e-5)
        np.testing.assert_array_equal(r[:, : nr.shape[1]], nr)  # random data: no ties
        assert (r[:, nr.shape[1] :] == -1).all()


def test_topk_kernel_many_queries_cross_query_blocks(monkeypatch):
    import fashionrec.index._storage as storage

    monkeypatch.setattr(storage, "QUERY_BLOCK", 7)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 4)).astype(np.float32)
    queries = rng.standard_normal((30, 4)).astype(np.float32)
    _, r = topk_inner_product(vectors, queries, 4, chunk=11)
    np.testing.assert_array_equal(r, naive_topk(vectors, queries, 4)[1])


def test_unknown_backend_suggests():
    assert {"exact", "hnsw", "annoy"} <= set(list_backends())
    with pytest.raises(ConfigError, match=r"'hnsw'.*Did you mean 'hnsw'\?"):
        create_index("hnws", 4)


def test_bad_params():
    with pytest.raises(ValueError, match="chunk_size"):
        create_index("exact", 4, chunk_size=0)
    with pytest.raises(ValueError, match="bad parameters"):
        create_index("exact", 4, nonsense=1)
    with pytest.raises(ValueError, match="dim"):
        create_index("exact", 0)


def test_mmap_load_is_read_only_until_write(tmp_path):
    ix = create_index("exact", 4)
    ix.add(np.eye(4, dtype=np.float32), np.arange(4))
    ix.save(tmp_path / "ix")
    from fashionrec.index import load_index

    loaded = load_index(tmp_path / "ix")
    assert isinstance(loaded._store.vectors, np.memmap)
    loaded.add(np.eye(1, 4, dtype=np.float32), np.array([9]))
    assert not isinstance(loaded._store.vectors, np.memmap)
    # the file on disk is untouched until save
    assert len(load_index(tmp_path / "ix")) == 4


@pytest.mark.parametrize("share", [0.05, 0.5, 0.95])
def test_allowed_sparse_and_dense_match_a_naive_filter(share):
    from fashionrec.index import create_index

    rng = np.random.default_rng(11)
    x = rng.normal(size=(3000, 24)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    keys = np.arange(3000, dtype=np.int64) * 7 + 3
    index = create_index("exact", 24)
    index.add(x, keys)
    index.remove(keys[:40])
    allowed = np.sort(rng.choice(keys, size=int(share * 3000), replace=False))
    q = x[100:105]
    scores, found = index.search(q, 9, allowed=allowed)
    ok = np.isin(keys, allowed) & ~np.isin(keys, keys[:40])
    ref = np.argsort(-(q @ x[ok].T), axis=1)[:, :9]
    np.testing.assert_array_equal(found, keys[ok][ref])
