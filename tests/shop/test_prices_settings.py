from __future__ import annotations

from decimal import Decimal

import pytest

from fashionrec.errors import CatalogError, ConfigError
from fashionrec.shop.prices import hm_prices, parse_price, prices_from_csv, set_prices
from fashionrec.shop.settings import ShopSettings
from fashionrec.store.models import Product


def test_prices_from_a_csv_and_a_default(store, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("sku,eur\n1003,12.5\n1002,\n7777,3\n")
    prices = prices_from_csv(path, id_column="sku", price_column="eur")
    assert prices == {"1003": Decimal("12.50"), "7777": Decimal("3.00")}
    counts = set_prices(store, prices, default=Decimal("29.95"), default_source="demo")
    assert counts == {"set": 1, "defaulted": 0, "unknown": 1}
    with store.session() as s:
        shoes = s.get(Product, "1003")
        assert (shoes.price, shoes.price_source) == (Decimal("12.50"), "csv")
        assert s.get(Product, "1002").price == Decimal("5.50")  # kept
    path.write_text("id,price\n1001,cheap\n")
    with pytest.raises(CatalogError, match=r"no column 'prise'.*Did you mean 'price'"):
        prices_from_csv(path, price_column="prise")
    with pytest.raises(CatalogError, match="line 2.*'cheap' is not a price"):
        prices_from_csv(path)
    with pytest.raises(ConfigError, match="negative"):
        parse_price("-1")


def test_hm_prices_are_scaled_medians(tmp_path, store):
    path = tmp_path / "transactions.csv"
    path.write_text(
        "t_dat,customer_id,article_id,price,sales_channel_id\n"
        "2018-09-20,c1,0108775015,0.0254,2\n"
        "2018-09-21,c2,0108775015,0.0300,2\n"
        "2018-09-22,c3,0108775015,0.0100,1\n"
        "2018-09-22,c3,0000001001,0.0100,1\n"
    )
    prices = hm_prices(path)
    assert prices["0108775015"] == Decimal("14.99")  # median 0.0254 x 590
    counts = set_prices(store, prices, source="hm")
    assert counts == {"set": 0, "defaulted": 0, "unknown": 2}


def test_hm_sample_prices_are_plausible(shared_data):
    prices = hm_prices(shared_data("hm-sample") / "transactions_sample.csv")
    values = sorted(prices.values())
    assert len(values) > 1000 and Decimal(5) < values[len(values) // 2] < Decimal(30)


def test_settings_from_env_name_the_bad_value():
    s = ShopSettings.from_env(
        {
            "FASHIONREC_SMTP_HOST": "mail",
            "FASHIONREC_SMTP_STARTTLS": "yes",
            "FASHIONREC_DELIVERY_BUSINESS_DAYS": "5",
        }
    )
    assert (s.smtp_host, s.smtp_starttls, s.delivery_business_days) == ("mail", True, 5)
    with pytest.raises(ConfigError, match="FASHIONREC_SMTP_PORT='twenty' is not a valid int"):
        ShopSettings.from_env({"FASHIONREC_SMTP_PORT": "twenty"})
    with pytest.raises(ConfigError, match="use 1/0"):
        ShopSettings.from_env({"FASHIONREC_HTTPS_ONLY": "maybe"})
    with pytest.raises(ConfigError, match="not both"):
        ShopSettings(smtp_ssl=True, smtp_starttls=True)
