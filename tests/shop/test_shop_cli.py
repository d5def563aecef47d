from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner

from fashionrec.cli import cli
from fashionrec.pipeline import build_index
from fashionrec.shop.accounts import authenticate
from fashionrec.shop.prices import open_index_store
from fashionrec.store.models import Product


@pytest.fixture(scope="module")
def index(tmp_path_factory, make_catalog):
    root = tmp_path_factory.mktemp("shop-cli")
    catalog = make_catalog(root / "catalog", per_type=2)
    build_index(catalog, root / "index", embedder="tiny", show_progress=False)
    return root / "index"


def test_set_prices_from_csv_and_default(index, tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,eur\n1000,12.50\n9999,1\n")
    run = CliRunner().invoke(
        cli,
        [
            "set-prices",
            str(index),
            "--csv",
            str(prices),
            "--id-column",
            "sku",
            "--price-column",
            "eur",
            "--default",
            "20",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "1 prices set, 7 products given the default, 1 ids not in the index" in run.output
    with open_index_store(index).session() as s:
        assert s.get(Product, "1000").price == Decimal("12.50")
        assert s.get(Product, "1001").price == Decimal("20.00")
    bad = CliRunner().invoke(cli, ["set-prices", str(index)])
    assert bad.exit_code == 2 and "--csv FILE" in bad.output


def test_create_admin_prompts_for_the_password(index):
    run = CliRunner().invoke(
        cli,
        ["create-admin", "boss@example.com", "--index", str(index)],
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert run.exit_code == 0, run.output
    assert "correct horse battery" not in run.output and "is an admin" in run.output
    with open_index_store(index).session() as s:
        assert authenticate(s, "boss@example.com", "correct horse battery").is_admin
