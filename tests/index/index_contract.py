"""Contract tests every VectorIndex backend must pass (mixin, like implicit's
tests/recommender_base_test.py). A backend's test module subclasses ``IndexContract``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fashionrec.errors import IndexStoreError
from fashionrec.index import (
    IndexArgumentError,
    UnknownKeyError,
    VectorIndex,
    create_index,
    load_index,
)
from fashionrec.index.synthetic import split_queries

DIM = 16


def axis_set(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Known answer: key 100+i is the unit vector e_i, so e_i's nearest neighbour is 100+i."""
    return np.eye(n, DIM, dtype=np.float32), np.arange(100, 100 + n, dtype=np.int64)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth, strict=True)]))


class IndexContract:
    backend: str
    params: dict = {}

    def make(self, dim: int = DIM, **extra) -> VectorIndex:
        return create_index(self.backend, dim, **{**self.params, **extra})

    def filled(self) -> VectorIndex:
        ix = self.make()
        ix.add(*axis_set())
        return ix

    # -- basic behaviour --------------------------------------------------------------------
    def test_known_answer_and_shapes(self):
        ix = self.filled()
        vectors, keys = axis_set()
        scores, found = ix.search(vectors, k=3)
        assert scores.shape == found.shape == (8, 3)
        assert scores.dtype == np.float32 and found.dtype == np.int64
        np.testing.assert_array_equal(found[:, 0], keys)
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
        assert (np.diff(scores, axis=1) <= 1e-6).all(), "scores must be descending"

    def test_one_dimensional_query_gives_2d_result(self):
        ix = self.filled()
        scores, found = ix.search(np.eye(1, DIM, 2, dtype=np.float32)[0], k=1)
        assert found.shape == (1, 1) and found[0, 0] == 102

    def test_padding_when_fewer_than_k(self):
        ix = self.filled()
        scores, found = ix.search(np.eye(1, DIM, dtype=np.float32), k=12)
        assert (found[0, :8] >= 100).all() and (found[0, 8:] == -1).all()
        assert np.isneginf(scores[0, 8:]).all() and np.isfinite(scores[0, :8]).all()

    def test_empty_index_pads_everything(self):
        scores, found = self.make().search(np.eye(2, DIM, dtype=np.float32), k=3)
        assert (found == -1).all() and np.isneginf(scores).all()

    def test_upsert_replaces_vector(self):
        ix = self.filled()
        ix.add(np.eye(1, DIM, 5, dtype=np.float32), np.array([100]))  # key 100 now at e_5
        assert len(ix) == 8
        np.testing.assert_array_equal(ix.get_vectors(np.array([100]))[0], np.eye(DIM)[5])
        scores, _ = ix.search(np.eye(1, DIM, 0, dtype=np.float32), k=1)
        assert scores[0, 0] < 0.5, "the old vector of key 100 must be gone"
        _, found = ix.search(np.eye(1, DIM, 5, dtype=np.float32), k=2)
        assert set(found[0].tolist()) == {100, 105}

    def test_remove_and_re_add(self):
        ix = self.filled()
        assert ix.remove(np.array([101, 102, 999])) == 2
        assert len(ix) == 6 and 101 not in ix and 103 in ix
        assert ix.remove(np.array([101])) == 0
        _, found = ix.search(np.eye(8, DIM, dtype=np.float32), k=8)
        assert not np.isin(found, [101, 102]).any()
        assert (found[:, 6:] == -1).all()
        ix.add(np.eye(1, DIM, 1, dtype=np.float32), np.array([101]))
        assert 101 in ix and len(ix) == 7
        _, found = ix.search(np.eye(1, DIM, 1, dtype=np.float32), k=1)
        assert found[0, 0] == 101
        assert sorted(ix.keys.tolist()) == [100, 101, 103, 104, 105, 106, 107]

    def test_get_vectors_unknown_key(self):
        ix = self.filled()
        with pytest.raises(UnknownKeyError, match="12345"):
            ix.get_vectors(np.array([100, 12345]))

    def test_negative_and_large_keys(self):
        ix = self.make()
        keys = np.array([-5, 2**62, 0], dtype=np.int64)
        ix.add(np.eye(3, DIM, dtype=np.float32), keys)
        _, found = ix.search(np.eye(3, DIM, dtype=np.float32), k=1)
        np.testing.assert_array_equal(found[:, 0], keys)

    # -- allowed ----------------------------------------------------------------------------
    def test_allowed_restricts_and_honours_k(self, clustered):
        db, keys, q, _ = clustered
        ix = self.make(dim=db.shape[1])
        ix.add(db, keys)
        rng = np.random.default_rng(3)
        for frac in (0.01, 0.3):
            allowed = rng.choice(keys, int(frac * keys.size), replace=False)
            scores, found = ix.search(q[:20], k=10, allowed=allowed)
            assert np.isin(found, allowed).all()
            assert (found >= 0).all(), "k must be honoured when enough keys are allowed"
            truth = create_index("exact", db.shape[1])
            truth.add(db, keys)
            _, exact = truth.search(q[:20], k=10, allowed=allowed)
            assert recall_at(found, exact) >= 0.9

    def test_allowed_small_unknown_and_empty(self):
        ix = self.filled()
        _, found = ix.search(np.eye(1, DIM, dtype=np.float32), k=3, allowed=np.array([103, 7]))
        assert found.tolist() == [[103, -1, -1]]
        _, found = ix.search(np.eye(1, DIM, dtype=np.float32), k=2, allowed=np.array([], int))
        assert (found == -1).all()

    # -- errors -----------------------------------------------------------------------------
    def test_errors(self):
        ix = self.filled()
        with pytest.raises(IndexArgumentError, match=r"\(n, 16\)"):
            ix.add(np.ones((2, 5), np.float32), np.array([1, 2]))
        with pytest.raises(IndexArgumentError, match="NaN"):
            ix.add(np.full((1, DIM), np.nan, np.float32), np.array([1]))
        with pytest.raises(IndexArgumentError, match="float32"):
            ix.add(np.array([["a"] * DIM]), np.array([1]))
        with pytest.raises(IndexArgumentError, match="normalise"):
            ix.add(np.full((1, DIM), 3.0, np.float32), np.array([1]))
        with pytest.raises(IndexArgumentError, match="unique"):
            ix.add(np.eye(2, DIM, dtype=np.float32), np.array([1, 1]))
        with pytest.raises(IndexArgumentError, match="2 vectors but 1 keys"):
            ix.add(np.eye(2, DIM, dtype=np.float32), np.array([1]))
        with pytest.raises(IndexArgumentError, match="2 vectors but 0 keys"):
            ix.add(np.eye(2, DIM, dtype=np.float32), np.array([], np.int64))
        with pytest.raises(IndexArgumentError, match="integer"):
            ix.add(np.eye(1, DIM, dtype=np.float32), np.array([1.5]))
        for k in (0, -1, 2.5):
            with pytest.raises(IndexArgumentError, match="k must be"):
                ix.search(np.eye(1, DIM, dtype=np.float32), k=k)
        with pytest.raises(IndexArgumentError, match="queries"):
            ix.search(np.ones(DIM + 1, np.float32), k=1)
        assert len(ix) == 8, "failed adds must not change the index"

    def test_float64_is_accepted(self):
        ix = self.make()
        ix.add(np.eye(2, DIM), np.array([1, 2], dtype=np.int32))
        assert ix.get_vectors(np.array([2])).dtype == np.float32
        _, found = ix.search(np.eye(1, DIM, 1), k=1)
        assert found[0, 0] == 2

    # -- persistence ------------------------------------------------------------------------
    @pytest.mark.parametrize("mmap", [True, False])
    def test_save_load_round_trip_after_remove(self, tmp_path: Path, clustered, mmap):
        db, keys, q, _ = clustered
        ix = self.make(dim=db.shape[1])
        ix.add(db, keys)
        ix.remove(keys[::3])
        before = ix.search(q, k=10)
        ix.save(tmp_path / "ix")
        loaded = load_index(tmp_path / "ix", mmap=mmap)
        assert type(loaded) is type(ix) and loaded.params == ix.params
        assert len(loaded) == len(ix) and sorted(loaded.keys) == sorted(ix.keys)
        after = loaded.search(q, k=10)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_allclose(before[0], after[0], atol=1e-5)
        np.testing.assert_array_equal(loaded.get_vectors(keys[1:3]), db[1:3])
        # a loaded (memory-mapped) index stays writable and saves over itself
        loaded.add(db[:1], np.array([-1]))
        loaded.remove(keys[1:2])
        loaded.save(tmp_path / "ix")
        again = load_index(tmp_path / "ix")
        assert len(again) == len(ix) and -1 in again and keys[1] not in again
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp dirs left"

    def test_load_errors(self, tmp_path: Path):
        with pytest.raises(IndexStoreError, match="index.json"):
            load_index(tmp_path)
        ix = self.filled()
        ix.save(tmp_path / "ix")
        (tmp_path / "ix" / "keys.npy").write_bytes(b"garbage")
        with pytest.raises(IndexStoreError, match="keys.npy"):
            load_index(tmp_path / "ix")

    # -- quality ----------------------------------------------------------------------------
    def test_recall_against_exact(self, clustered):
        db, keys, q, truth = clustered
        ix = self.make(dim=db.shape[1])
        ix.add(db, keys)
        scores, found = ix.search(q, k=10)
        assert recall_at(found, truth) >= 0.95
        # scores are the true inner products of the returned keys
        expect = np.einsum("qd,qkd->qk", q, ix.get_vectors(found.ravel()).reshape(*found.shape, -1))
        np.testing.assert_allclose(scores, expect, atol=1e-4)


@pytest.fixture(scope="session")
def clustered() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """5k seeded clustered vectors (dim 64), 100 held-out queries and their exact top-10 keys."""
    db, q = split_queries(5000, 64, n_queries=100, seed=7)
    keys = np.arange(db.shape[0], dtype=np.int64) * 7 + 11
    truth = keys[np.argsort(-(q @ db.T), axis=1)[:, :10]]
    return db, keys, q, truth
