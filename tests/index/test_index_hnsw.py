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
