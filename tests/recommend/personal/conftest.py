"""Fixtures of the personal recommendation tests: the synthetic shop of personal_shop.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from personal_shop import T0, make_shop

from fashionrec.pipeline import build_index
from fashionrec.recommend import Recommender
from fashionrec.recommend.personal import ProductSpace


@pytest.fixture(scope="session")
def shop_index(tmp_path_factory) -> Path:
    root = make_shop(tmp_path_factory.mktemp("personal-shop"))
    out = root / "index"
    build_index(root, out, embedder="tiny", overrides={"group": "group"}, show_progress=False)
    return out


@pytest.fixture(scope="session")
def shop_rec(shop_index) -> Recommender:
    return Recommender.open(shop_index)


@pytest.fixture(scope="session")
def space(shop_rec) -> ProductSpace:
    return ProductSpace(shop_rec)


@pytest.fixture(scope="session")
def interactions() -> pd.DataFrame:
    """40 women buying watches (1040 the most) and dresses, 20 men buying shoes and tees;
    every woman who bought dress 1001 also bought watch 1045."""
    rows = []
    for u in range(40):
        day = T0 + dt.timedelta(days=u % 10)
        rows.append((f"w{u}", "1040" if u % 2 == 0 else f"104{u % 6}", "purchase", day))
        if u % 4 == 0:
            rows.append((f"w{u}", "1001", "purchase", day))
            rows.append((f"w{u}", "1045", "purchase", day + dt.timedelta(hours=1)))
        if u % 4 == 1:
            rows.append((f"w{u}", f"101{u % 6}", "purchase", day))
    for u in range(20):
        day = T0 + dt.timedelta(days=u % 10)
        rows.append((f"m{u}", f"103{u % 6}", "purchase", day))
        rows.append((f"m{u}", f"102{u % 3}", "purchase", day))
    return pd.DataFrame(rows, columns=["user_id", "product_id", "kind", "timestamp"])
