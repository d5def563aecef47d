from __future__ import annotations

import numpy as np
from index_contract import IndexContract, clustered, recall_at  # noqa: F401 - fixture

from fashionrec.index import create_index


class TestHNSWContract(IndexContract):
    backend = "hnsw"
    params = {"filter_exact_min": 0, "num_threads": 1}  # exercise the graph path for filters


class TestHNSWExactFilterContract(IndexContract):
    backend = "hnsw"
    params = {"num_threads": 1}  # default: small allowed sets are searched exactly


def test_churn_reuses_deleted_slots(clustered):  # noqa: F811
    db, keys, q, truth = clustered
    ix = create_index("hnsw", db.shape[1], num_threads=1)
    ix.add(db, keys)
    capacity = ix._graph.get_max_elements()
    for rnd in range(3):
        gone = keys[rnd * 500 : (rnd + 1) * 500]
        assert ix.remove(gone) == 500
        # new keys take the deleted slots instead of growing the graph
        ix.add(db[rnd * 500 : (rnd + 1) * 500], gone + 1_000_000)
    assert ix._graph.get_max_elements() == capacity
    assert len(ix) == len(keys)
    # re-adding removed keys revives them; results map back to the original ids
    ix.remove(keys[:200] + 1_000_000)
    ix.add(db[:200], keys[:200])
    found = ix.search(q, 10)[1]
    mapped = np.where(found >= 1_000_000, found - 1_000_000, found)
    assert recall_at(mapped, truth) >= 0.95
    assert len(np.unique(ix.keys)) == len(ix)


def test_tune_ef_raises_ef_until_recall_reaches_the_target(tmp_path):
    from fashionrec.index import load_index
    from fashionrec.index.synthetic import clustered_vectors

    db = clustered_vectors(4000, 48, n_clusters=40, noise=1.5, seed=3)
    ix = create_index("hnsw", 48, M=4, ef_construction=10, ef=2, num_threads=1)
    ix.add(db, np.arange(len(db)))
    recall = ix.tune_ef(target=0.97, k=10, sample=100)
    assert recall >= 0.97 and ix.ef > 2
    ix.save(tmp_path / "ix")
    assert load_index(tmp_path / "ix").ef == ix.ef  # the tuned ef travels with the index
    loose = create_index("hnsw", 48, M=4, ef_construction=10, ef=2, num_threads=1)
    loose.add(db, np.arange(len(db)))
    assert loose.tune_ef(target=1.01, max_ef=8) < 1.0 and loose.ef == 8  # capped, not endless
