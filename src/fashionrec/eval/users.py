"""Offline evaluation of personal recommendations on the H&M sample (or any purchases frame).

Protocol (as ../shared/data/README.md): per customer with purchases on >= 2 dates, hold out
the articles of the last purchase date; the history is everything before it; each method
recommends k catalog articles, none already bought; customers whose held-out basket has no
catalog article cannot be hit and are left out. HR@k, nDCG@k, catalog coverage, bootstrap
95 % intervals and a breakdown by history size. The recommenders are the ones the API runs.

Popularity is computed as of each customer's held-out date (only earlier purchases count);
collaborative filtering is trained once on every purchase except the held-out baskets.

Example:
    >>> result = evaluate_users("hm-sample", index_dir="/tmp/idxhm")     # doctest: +SKIP
    >>> result["hybrid"]["hr@10"] > result["popularity"]["hr@10"]    # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.errors import CatalogError
from fashionrec.recommend.personal import History, ProductSpace, build_models
from fashionrec.recommend.personal.history import Event

log = logging.getLogger(__name__)

METHODS = ("popularity", "variants", "content", "cf", "hybrid")
#: History-size buckets (distinct articles bought before the held-out date).
BUCKETS = ((1, 1, "1"), (2, 4, "2-4"), (5, 9, "5-9"), (10, 10**9, "10+"))


def read_transactions(path: str | Path) -> pd.DataFrame:
    """An H&M transactions CSV as user_id, product_id, kind, timestamp (ids kept as text)."""
    df = pd.read_csv(path, dtype={"customer_id": str, "article_id": str})
    missing = {"t_dat", "customer_id", "article_id"} - set(df.columns)
    if missing:
        raise CatalogError(f"{path} lacks column(s) {', '.join(sorted(missing))}")
    return pd.DataFrame(
        {
            "user_id": df["customer_id"],
            "product_id": df["article_id"].str.strip(),
            "kind": "purchase",
            "timestamp": pd.to_datetime(df["t_dat"]),
        }
    )


def split_last_basket(
    interactions: pd.DataFrame, catalog: set[str] | pd.Index
) -> tuple[pd.DataFrame, dict[str, pd.Timestamp], dict[str, set[str]]]:
    """(training rows: all but the held-out baskets, held-out date per test customer, the
    catalog articles of each held-out basket). Customers need >= 2 purchase dates."""
    day = interactions["timestamp"].dt.normalize()
    last = day.groupby(interactions["user_id"]).transform("max")
    dates = day.groupby(interactions["user_id"]).transform("nunique")
    held = (day == last) & (dates >= 2)
    basket = interactions[held & interactions["product_id"].isin(catalog)]
    truth = basket.groupby("user_id")["product_id"].agg(set).to_dict()
    cut = last[held].groupby(interactions["user_id"][held]).first().to_dict()
    return interactions[~held], {u: cut[u] for u in truth}, truth


def ensure_index(hm_dir: str | Path, index_dir: str | Path | None = None) -> Path:
    """The given index, else one built once into the cache folder and reused."""
    if index_dir is not None:
        return Path(index_dir)
    from fashionrec.config import cache_dir
    from fashionrec.pipeline import build_index
    from fashionrec.pipeline.layout import IndexDir

    tag = hashlib.sha1(str(Path(hm_dir).resolve()).encode()).hexdigest()[:10]
    out = cache_dir() / "indexes" / f"{Path(hm_dir).name}-{tag}"
    if not IndexDir(out).exists():
        log.info("building the index of %s into %s (once; reused next time)", hm_dir, out)
        build_index(hm_dir, out)
    return out


def dcg_hits(ranked: Sequence[str], truth: set[str], k: int) -> tuple[float, float]:
    """(hit, nDCG@k) of one ranked list against a set of relevant ids.

    Example:
        >>> dcg_hits(["a", "b"], {"b"}, 10)
        (1.0, 0.6309297535714575)
    """
    gains = [1.0 / np.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in truth]
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(len(truth), k)))
    return (1.0 if gains else 0.0), (sum(gains) / ideal if ideal else 0.0)


def bootstrap_interval(
    values: np.ndarray, *, samples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean (resampling customers)."""
    if len(values) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(samples, len(values)))
    means = np.asarray(values, dtype=np.float64)[idx].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _bucket(size: int) -> str:
    for lo, hi, label in BUCKETS:
        if lo <= size <= hi:
            return label
    return "0"


def evaluate_histories(
    models: dict[str, Any],
    histories: dict[str, History],
    truth: dict[str, set[str]],
    *,
    catalog_size: int,
    k: int = 10,
    methods: Sequence[str] = METHODS,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Score each method's top-k for every history against its held-out products."""
    from rich.progress import track

    users = sorted(truth)
    sizes = np.array([histories[u].purchase_count for u in users])
    buckets = np.array([_bucket(int(s)) for s in sizes])
    out: dict[str, Any] = {}
    per_user_hits: dict[str, np.ndarray] = {}
    show = log.isEnabledFor(logging.INFO) if show_progress is None else show_progress
    for name in methods:
        model = models[name]
        hits, ndcgs, shown = np.zeros(len(users)), np.zeros(len(users)), set()
        start = time.perf_counter()
        for i, u in enumerate(
            track(users, description=f"{name:>10}", disable=not show, transient=True)
        ):
            ranked = [r.product_id for r in model.recommend(histories[u], k)]
            assert not set(ranked) & histories[u].purchased, "recommended a purchased product"
            hits[i], ndcgs[i] = dcg_hits(ranked, truth[u], k)
            shown.update(ranked)
        per_user_hits[name] = hits
        lo, hi = bootstrap_interval(hits)
        out[name] = {
            f"hr@{k}": float(hits.mean()),
            f"hr@{k}_ci95": [lo, hi],
            f"ndcg@{k}": float(ndcgs.mean()),
            f"ndcg@{k}_ci95": list(bootstrap_interval(ndcgs)),
            "hits": int(hits.sum()),
            "coverage": len(shown) / max(catalog_size, 1),
            "n": len(users),
            "seconds": round(time.perf_counter() - start, 2),
            "by_history": {
                label: {
                    "n": int((buckets == label).sum()),
                    f"hr@{k}": float(hits[buckets == label].mean())
                    if (buckets == label).any()
                    else 0.0,
                    f"ndcg@{k}": float(ndcgs[buckets == label].mean())
                    if (buckets == label).any()
                    else 0.0,
                }
                for _, _, label in BUCKETS
            },
        }
    if "hybrid" in per_user_hits and "popularity" in per_user_hits:
        diff = per_user_hits["hybrid"] - per_user_hits["popularity"]
        out["hybrid"][f"hr@{k}_gain_over_popularity_ci95"] = list(bootstrap_interval(diff))
    return out


def evaluate_users(
    hm_dir: str | Path,
    *,
    index_dir: str | Path | None = None,
    k: int = 10,
    methods: Sequence[str] = METHODS,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Run the protocol above on an H&M-style folder (transactions_sample.csv + images).

    Returns {method: {"hr@10", "hr@10_ci95", "ndcg@10", "coverage", "n", "by_history"}}.
    """
    from fashionrec.recommend import Recommender

    hm_dir = Path(hm_dir)
    path = hm_dir / "transactions_sample.csv"
    if not path.is_file():
        raise CatalogError(f"no transactions_sample.csv in {hm_dir}")
    rec = Recommender.open(ensure_index(hm_dir, index_dir))
    space = ProductSpace(rec)
    interactions = read_transactions(path)
    train, cut, truth = split_last_basket(interactions, rec.products.index)
    histories = _histories(interactions, cut)
    log.info("%d test customers (%d interactions for training)", len(truth), len(train))
    models = build_models(space, interactions)
    # CF must not see the held-out baskets; popularity reads only purchases before `now`.
    models["cf"].fit(train)
    return evaluate_histories(
        models,
        histories,
        truth,
        catalog_size=len(space),
        k=k,
        methods=methods,
        show_progress=show_progress,
    )


def _histories(interactions: pd.DataFrame, cut: dict[str, pd.Timestamp]) -> dict[str, History]:
    rows = interactions[interactions["user_id"].isin(cut)]
    events: dict[str, list[Event]] = {}
    for u, p, t in zip(rows["user_id"], rows["product_id"], rows["timestamp"], strict=True):
        if t < cut[u]:
            events.setdefault(u, []).append(Event(p, "purchase", t.to_pydatetime()))
    return {u: History(events.get(u, []), user_id=u, now=cut[u].to_pydatetime()) for u in cut}
