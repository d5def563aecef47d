"""An index directory serving from Milvus Lite: built there, or pushed there from a local
index without re-embedding; the Recommender's filtered answers match the local index's."""

from __future__ import annotations

import json
import shutil

import pytest

from fashionrec.cli import main
from fashionrec.pipeline import IndexDir, add_products, build_index, remove_products
from fashionrec.pipeline.push import push_index
from fashionrec.recommend import Recommender

pytest.importorskip("pymilvus", reason='needs pip install "fashionrec[milvus]"')
pytest.importorskip("milvus_lite", reason='needs pip install "fashionrec[milvus]"')

QUERIES = [
    {},
    {"gender": "Women"},
    {"gender": "men", "article_type": "Tshirts"},
    {"colour": "Blue"},
    {"colour_group": "Red"},
    {"master_category": "Footwear", "gender": "Women"},  # nothing matches
]


@pytest.fixture(scope="module")
def local_index(make_catalog, tmp_path_factory):
    root = tmp_path_factory.mktemp("milvus-pipeline")
    catalog = make_catalog(root / "catalog")
    build_index(catalog, root / "exact", embedder="tiny", show_progress=False)
    return catalog, root


def _answers(index_dir) -> list:
    rec = Recommender(index_dir)
    out = []
    for pid in ("1000", "1013"):
        for filters in QUERIES:
            found = rec.similar_to_product(pid, k=5, filters=filters)
            out.append([(m.id, round(m.score, 4)) for m in found])
    return out


def test_push_serves_the_same_answers(local_index, capsys):
    catalog, root = local_index
    code = main(["push", str(root / "exact"), "--out", str(root / "pushed")])
    assert code is None or code == 0
    assert "now serves from milvus" in capsys.readouterr().out
    d = IndexDir(root / "pushed")
    m = d.read_manifest()
    assert m.backend == "milvus" and (root / "pushed" / "milvus.db").is_dir()
    params = json.loads((d.vectors_path(m.generation) / "index.json").read_text())["params"]
    assert params["uri"] == "../milvus.db"
    assert IndexDir(root / "exact").read_manifest().backend == "exact", "source left as it was"
    rec = Recommender(root / "pushed")
    assert rec.index.supports_filters and len(rec.index) == m.count
    assert _answers(root / "pushed") == _answers(root / "exact")
    assert not any(_answers(root / "pushed")[5])  # a filter nothing matches gives nothing


def test_build_add_remove_on_milvus(local_index, tmp_path):
    catalog, root = local_index
    out = tmp_path / "engine"
    build_index(catalog, out, embedder="tiny", backend="milvus", show_progress=False)
    assert _answers(out) == _answers(root / "exact")
    remove_products(out, ["1000", "1001"])
    rec = Recommender(out)
    assert len(rec.index) == len(rec) == 22
    assert "1001" not in {m.id for m in rec.similar_to_product("1002", k=20)}
    counts = add_products(out, catalog, show_progress=False)
    assert counts["added"] == 2
    rec = Recommender(out)
    found = rec.similar_to_product("1002", k=3, filters={"gender": "Men", "type": "Tshirts"})
    assert found and all(m.product["article_type"] == "Tshirts" for m in found)
    assert "1000" in {m.id for m in rec.similar_to_product("1002", k=20)}


def test_push_errors(local_index):
    _, root = local_index
    with pytest.raises(Exception, match="already holds an index"):
        push_index(root / "exact", out=root / "exact")


def test_cli_index_on_milvus_and_rebuild_drops_the_old_collection(local_index, tmp_path):
    catalog, _ = local_index
    out, uri = tmp_path / "cli", tmp_path / "engine" / "shop.db"
    args = ["index", str(catalog), "--out", str(out), "--embedder", "tiny"]
    main([*args, "--backend", "milvus", "--uri", str(uri)])
    first = Recommender(out).index
    assert first.uri == str(uri.resolve()) and len(first) == 24
    main([*args, "--backend", "milvus", "--uri", str(uri)])
    second = Recommender(out).index
    assert second.collection != first.collection and len(second) == 24
    assert not first._client.has_collection(first.collection), "old collection left behind"


def test_push_in_place(local_index, tmp_path):
    _, root = local_index
    before = _answers(root / "exact")
    shutil.copytree(root / "exact", tmp_path / "idx")
    m = push_index(tmp_path / "idx")
    assert m.backend == "milvus" and m.generation == 2
    assert sorted(p.name for p in (tmp_path / "idx").glob("vectors-*")) == ["vectors-2"]
    assert _answers(tmp_path / "idx") == before
