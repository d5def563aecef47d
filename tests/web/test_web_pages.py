"""Shop front pages through the real app (in-process), over a 24-product tiny index."""

from __future__ import annotations

import re


def _ok_html(response) -> str:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _all_images_have_alt(doc) -> None:
    images = doc.find("img")
    assert images and all((img.get("alt") or "").strip() for img in images)


def test_home_has_collections_categories_and_photo_search(web_client, parse):
    doc = parse(_ok_html(web_client.get("/")))
    text = " ".join(doc.text)
    assert "Men" in text and "Women" in text
    links = doc.links()
    assert "/search" in links  # the "Search by photo" entry
    assert "/shop?gender=Women" in links and "/shop?gender=Men" in links
    assert (
        "/shop?gender=Men&sub_category=Topwear" in links
        and "/shop?gender=Men&article_type=Tshirts" in links
    )
    assert any(link.startswith("/shop?gender=Women&article_type=") for link in links)
    product_links = [x for x in links if x.startswith("/products/")]
    assert len(product_links) >= 4
    _all_images_have_alt(doc)
    assert doc.find("a", href="#main")  # skip link for keyboard users
    assert doc.find("label", **{"for": "site-q"})


def test_every_home_link_resolves(web_client, parse):
    doc = parse(_ok_html(web_client.get("/")))
    for link in set(doc.links()) - {"#main", "/docs"}:
        assert web_client.get(link).status_code == 200, link


def test_shop_filters_are_reflected_and_applied(web_client, parse):
    html = _ok_html(web_client.get("/shop", params={"gender": "women", "article_type": "Tops"}))
    doc = parse(html)
    products = {x for x in doc.links() if x.startswith("/products/")}
    assert len(products) == 6  # six Women Tops in the synthetic catalog
    checked = {(a["name"], a["value"]) for a in doc.find("input") if "checked" in a}
    assert {("gender", "Women"), ("article_type", "Tops")} <= checked
    assert "Showing 1–6 of 6 products" in html
    assert "Gender: women" in html  # active filter chip, removable:
    assert any(x.startswith("/shop?article_type=Tops") for x in doc.links())
    # facet counts come from the other filters: Women has Tops (6) and Watches (6)
    assert re.search(r'value="Watches"\s*>\s*<span>Watches</span> <span class="count">6', html)
    _all_images_have_alt(doc)


def test_shop_pagination_sort_and_text(web_client, parse):
    html = _ok_html(web_client.get("/shop", params={"per_page": 10, "page": 2}))
    doc = parse(html)
    assert "Showing 11–20 of 24 products" in html
    assert "/shop?per_page=10&page=3" in doc.links() and "/shop?per_page=10" in doc.links()
    assert doc.find("a", **{"aria-current": "page", "href": "/shop?per_page=10&page=2"})
    by_name = _ok_html(web_client.get("/shop", params={"sort": "name", "per_page": 1}))
    assert "Synthetic Black Casual Shoes 1012" in by_name
    found = _ok_html(web_client.get("/shop", params={"q": "silver watches"}))
    assert "of 6 products" in found


def test_search_box_understands_words(web_client):
    # text search behind the box: words become filters and are shown back; typos repaired
    html = _ok_html(web_client.get("/shop", params={"q": "wacthes for women"}))
    assert "Showing: Watches · Women" in html and "of 6 products" in html
    assert "Synthetic Silver Watches" in html and "Tshirts 10" not in html


def test_shop_unknown_filter_value_names_the_choices(web_client):
    response = web_client.get("/shop", params={"colour": "Pruple"})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "Pruple" in response.text and "Blue" in response.text


def test_product_page_has_details_and_similar_items(web_client, parse):
    html = _ok_html(web_client.get("/products/1001"))
    doc = parse(html)
    assert "Synthetic Red Tshirts 1001" in html and "Similar Items" in html
    similar = [x for x in doc.links() if x.startswith("/products/") and x != "/products/1001"]
    assert len(similar) >= 5 and "/products/1000" in similar
    assert "% match" in html
    assert "/shop?gender=Men&article_type=Tshirts" in doc.links()  # breadcrumb
    _all_images_have_alt(doc)
    for link in similar[:3]:
        assert web_client.get(link).status_code == 200


def test_search_page_controls_are_labelled(web_client, parse):
    doc = parse(_ok_html(web_client.get("/search")))
    labels = {a.get("for") for a in doc.find("label")}
    for control in (
        "photo",
        "f-gender",
        "f-article_type",
        "f-colour",
        "f-k",
        "predicted-pick",
        "colour-pick",
    ):
        assert control in labels, control
    assert doc.find("input", id="photo", type="file")
    assert doc.find("button", id="crop-draw")
    crop = doc.find("div", id="crop-box")[0]
    assert crop["tabindex"] == "0" and "Arrow keys" in crop["aria-label"]
    assert doc.find("script", src="/static/search.js")
    assert web_client.get("/static/search.js").status_code == 200


def test_not_found_pages_are_html_but_the_api_keeps_json(web_client):
    for path in ("/no-such-page", "/products/999999"):
        response = web_client.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"]
        assert "Back to the shop" in response.text
    api = web_client.get("/api/products/999999")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert web_client.get("/api/nowhere").json()["error"]["status"] == 404
    bad = web_client.get("/shop", params={"page": "x"})
    assert bad.status_code == 422 and "page" in bad.text


def test_collections_follow_the_catalogs_own_genders():
    import pandas as pd

    from fashionrec.web._views import collections

    hm = pd.DataFrame({"gender": ["Ladieswear"] * 3 + ["Divided"] * 2 + ["Menswear"]})
    assert collections(hm) == ["Ladieswear", "Divided"]
    kaggle = pd.DataFrame({"gender": ["Men", "Women", "Boys", "Boys", "Boys"]})
    assert collections(kaggle) == ["Women", "Men"]
    assert collections(pd.DataFrame({"name": ["x"]})) == []
