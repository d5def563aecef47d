"""Seeded synthetic embeddings with known structure, for tests and benchmarks.

Like faiss ``contrib/datasets.py::SyntheticDataset``: clustered, L2-normalised float32 vectors so
that nearest neighbours are meaningful and recall figures are not an artefact of uniform noise.
"""

from __future__ import annotations

import numpy as np


def clustered_vectors(
    n: int,
    dim: int,
    *,
    n_clusters: int | None = None,
    noise: float = 1.0,
    seed: int = 0,
    chunk: int = 65_536,
) -> np.ndarray:
    """Return ``n`` L2-normalised float32 vectors drawn around random centroids.

    Each point is ``centroid + noise * N(0, I)`` with unit-variance centroids, so with
    ``noise=1`` a point has cosine ~0.7 to its centroid and ~0.5 to its cluster mates.
    Generated in chunks so that 1M x 1280 needs no float64 copy of the whole set.

    Example:
        >>> x = clustered_vectors(100, 8, seed=1)
        >>> x.shape, x.dtype, bool(np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5))
        ((100, 8), dtype('float32'), True)
    """
    if n < 0 or dim < 1:
        raise ValueError(f"need n >= 0 and dim >= 1, got n={n}, dim={dim}")
    rng = np.random.default_rng(seed)
    n_clusters = n_clusters or max(1, int(np.sqrt(max(n, 1))))
    centroids = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        labels = rng.integers(0, n_clusters, stop - start)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block *= np.float32(noise)
        block += centroids[labels]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def split_queries(
    n: int, dim: int, *, n_queries: int, seed: int = 0, **kwargs: object
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(database, queries)`` from one clustered draw; queries are not in the database.

    Example:
        >>> db, q = split_queries(50, 4, n_queries=5)
        >>> db.shape, q.shape
        ((50, 4), (5, 4))
    """
    data = clustered_vectors(n + n_queries, dim, seed=seed, **kwargs)  # type: ignore[arg-type]
    return data[:n], data[n:]
