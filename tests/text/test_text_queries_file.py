"""tests/text/queries.csv is well formed: enough queries, rules on known fields."""

from __future__ import annotations

import csv
from pathlib import Path

from fashionrec.text.query import FIELDS

QUERIES = Path(__file__).with_name("queries.csv")


def test_queries_file_well_formed():
    rows = list(csv.DictReader(QUERIES.open(newline="", encoding="utf-8")))
    assert len(rows) >= 150
    assert len({r["query"] for r in rows}) == len(rows)
    for r in rows:
        for part in r["rule"].split(";"):
            field, values = part.split("=", 1)
            assert field in FIELDS, r
            assert all(v.strip() for v in values.split("|")), r
