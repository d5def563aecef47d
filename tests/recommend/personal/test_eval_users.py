"""eval-users on a small synthetic purchase log over the synthetic shop (fast)."""

from __future__ import annotations

import json

import pytest

from fashionrec.cli import main
from fashionrec.eval.users import dcg_hits, evaluate_users, read_transactions, split_last_basket


@pytest.fixture()
def hm_like(tmp_path):
    """30 customers: a red dress (and a watch) first, the same dress in blue a week later;
    10 one-visit customers make watches popular."""
    rows = ["t_dat,customer_id,article_id,price,sales_channel_id"]
    for c in range(30):
        i = c % 6
        rows.append(f"2024-03-0{1 + c % 3},c{c},100{i},0.03,2")
        if c % 2:
            rows.append(f"2024-03-0{1 + c % 3},c{c},104{i},0.03,2")
        rows.append(f"2024-03-1{c % 3},c{c},101{i},0.03,2")
        rows.append(f"2024-03-1{c % 3},c{c},99999,0.03,2")  # not in the catalog
    for c in range(10):
        rows.append(f"2024-03-05,w{c},1040,0.02,1")
    path = tmp_path / "transactions_sample.csv"
    path.write_text("\n".join(rows) + "\n")
    return tmp_path


def test_protocol_split(hm_like, shop_rec):
    inter = read_transactions(hm_like / "transactions_sample.csv")
    train, cut, truth = split_last_basket(inter, shop_rec.products.index)
    assert len(truth) == 30 and truth["c0"] == {"1010"}  # 99999 has no photo: not a target
    assert not ((train["user_id"] == "c0") & (train["product_id"] == "1010")).any()
    assert len(train) == len(inter) - 60


def test_eval_users_known_answer(hm_like, shop_index):
    result = evaluate_users(hm_like, index_dir=shop_index, k=3, show_progress=False)
    assert set(result) == {"popularity", "variants", "content", "cf", "hybrid"}
    for r in result.values():
        assert r["n"] == 30 and 0 <= r["hr@3"] <= 1 and 0 < r["coverage"] <= 1
        lo, hi = r["hr@3_ci95"]
        assert lo <= r["hr@3"] <= hi
        assert sum(b["n"] for b in r["by_history"].values()) == 30
    # the next purchase is always the other colour of the dress: variants find it
    assert result["variants"]["hr@3"] == 1.0
    assert result["hybrid"]["hr@3"] == 1.0 > result["popularity"]["hr@3"]
    assert result["hybrid"]["hr@3_gain_over_popularity_ci95"][0] > 0


def test_cli_eval_users_json(hm_like, shop_index, capsys):
    main(["eval-users", str(hm_like), "--index", str(shop_index), "--k", "5", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["hybrid"]["hr@5"] == 1.0 and "ndcg@5" in data["popularity"]
    main(["eval-users", str(hm_like), "--index", str(shop_index), "--k", "5"])
    assert "last basket held out" in capsys.readouterr().out


def test_dcg_hits():
    assert dcg_hits(["a", "b", "c"], {"a"}, 3) == (1.0, 1.0)
    assert dcg_hits(["x", "y"], {"a"}, 2) == (0.0, 0.0)
