"""End to end in headless Chromium against a live server: search by photo (drop, crop,
predicted type, bad upload) and product pages. Screenshots go to the `artifacts` folder."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlparse

import pytest

SCORE = re.compile(r"^\d{1,3} % match$")


def drop_file(page, data: bytes, name: str, mime: str) -> None:
    """Drop a file on the search page's drop zone, as a shopper dragging it from the desktop."""
    dt = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            return dt;
        }""",
        [base64.b64encode(data).decode(), name, mime],
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event("#dropzone", event, {"dataTransfer": dt})


def wait_results(page) -> None:
    page.wait_for_selector("#results[data-state=done]", state="attached")


def search_params(request) -> dict[str, list[str]]:
    return parse_qs(urlparse(request.url).query)


def test_drop_photo_then_draw_a_crop_box(page, busy_photo, artifacts):
    page.goto("/search")
    with page.expect_response("**/api/search?*") as first:
        drop_file(page, busy_photo, "busy.png", "image/png")
    assert first.value.ok and "crop" not in search_params(first.value.request)
    wait_results(page)
    scores = page.locator("#results .score").all_inner_texts()
    assert len(scores) == 12 and all(SCORE.match(s) for s in scores)
    # no gate nor heads in the test index: each card still says why it is there
    reasons = page.locator("#results .reasons").all_inner_texts()
    assert len(reasons) == 12 and all(r == "similar shape" for r in reasons)
    assert page.locator("#colour-chip").is_hidden()
    assert page.locator("#preview").is_visible()
    page.screenshot(path=artifacts / "search-results.png", full_page=True)

    # draw a box around the watch (right half of the photo) with the mouse
    box = page.locator("#preview").bounding_box()
    with page.expect_response("**/api/search?*") as cropped:
        page.mouse.move(box["x"] + box["width"] * 0.52, box["y"] + 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5, steps=4)
        page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=4)
        page.mouse.up()
    crop = [float(v) for v in search_params(cropped.value.request)["crop"][0].split(",")]
    assert crop[0] == pytest.approx(0.52, abs=0.03) and crop[2] == pytest.approx(1, abs=0.03)
    wait_results(page)
    assert page.locator("#crop-box").is_visible()
    assert page.locator("#results").get_attribute("data-crop")  # the API echoed the crop
    first_card = page.locator("#results .card-name").first.inner_text()
    assert "Watches" in first_card
    assert "boxed area" in page.locator("#search-status").inner_text()
    page.screenshot(path=artifacts / "search-crop.png", full_page=True)

    # keyboard: focus the box, make it narrower, Enter re-runs; Escape goes back to the whole photo
    page.locator("#crop-box").focus()
    page.keyboard.press("Shift+ArrowLeft")
    with page.expect_request("**/api/search?*") as narrower:
        page.keyboard.press("Enter")
    new = [float(v) for v in search_params(narrower.value)["crop"][0].split(",")]
    assert new[2] == pytest.approx(crop[2] - 0.05, abs=0.005)
    wait_results(page)
    with page.expect_request("**/api/search?*") as whole:
        page.keyboard.press("Escape")
    assert "crop" not in search_params(whole.value)
    assert page.locator("#crop-box").is_hidden()


def test_keyboard_crop_button(page, busy_photo):
    page.goto("/search")
    drop_file(page, busy_photo, "busy.png", "image/png")
    wait_results(page)
    page.locator("#crop-draw").focus()
    with page.expect_request("**/api/search?*") as drawn:
        page.keyboard.press("Enter")
    assert search_params(drawn.value)["crop"] == ["0.2000,0.2000,0.8000,0.8000"]
    assert page.evaluate("document.activeElement.id") == "crop-box"


def test_looks_like_and_pick_another_type(page, busy_photo, artifacts):
    """The tiny test index has no attribute heads, so `predicted` is added to the real
    response here; the follow-up searches are real."""

    def add_prediction(route):
        response = route.fetch()
        body = response.json()
        body["predicted"] = {"article_type": {"value": "Watches", "confidence": 0.87}}
        route.fulfill(response=response, json=body)

    page.route("**/api/search?*", add_prediction)
    page.goto("/search")
    drop_file(page, busy_photo, "busy.png", "image/png")
    wait_results(page)
    assert page.locator("#predicted").inner_text().startswith("Looks like: Watches (87 %)")
    with page.expect_request("**/api/search?*") as only:
        page.click("#predicted-only")
    assert search_params(only.value)["article_type"] == ["Watches"]
    wait_results(page)
    metas = page.locator("#results .card-meta").all_inner_texts()
    assert metas and all(m.startswith("Watches") for m in metas)
    page.screenshot(path=artifacts / "search-predicted.png", full_page=True)
    with page.expect_request("**/api/search?*") as other:
        page.select_option("#predicted-pick", "Tshirts")
    assert search_params(other.value)["article_type"] == ["Tshirts"]
    wait_results(page)
    with page.expect_request("**/api/search?*") as none:
        page.select_option("#predicted-pick", "")
    assert "article_type" not in search_params(none.value)
    wait_results(page)
    page.unroute_all(behavior="ignoreErrors")


def test_colour_chip_switches_and_clears_the_colour_filter(page, busy_photo, artifacts):
    """As above, the predicted colour is added to the real response; the reasons are then
    the server's (its query had no colour), the follow-up searches are real."""

    def add_prediction(route):
        response = route.fetch()
        body = response.json()
        body["predicted"] = {"base_colour": {"value": "Blue", "confidence": 0.71}}
        route.fulfill(response=response, json=body)

    page.route("**/api/search?*", add_prediction)
    page.goto("/search")
    drop_file(page, busy_photo, "busy.png", "image/png")
    wait_results(page)
    chip = page.locator("#colour-chip")
    assert chip.is_visible() and page.locator("#predicted").is_hidden()
    assert chip.inner_text().startswith("Colour: Blue (71 %)")
    assert page.locator("#colour-pick").input_value() == ""  # "Any colour": no filter yet
    assert page.locator("#results .reasons").first.inner_text() == "similar shape"
    page.screenshot(path=artifacts / "search-colour-chip.png", full_page=True)

    # keyboard: focus the picker (labelled "Another colour"), choose Red
    picker = page.get_by_label("Another colour")
    picker.focus()
    with page.expect_request("**/api/search?*") as red:
        picker.select_option("Red")
    assert search_params(red.value)["colour"] == ["Red"]
    wait_results(page)
    metas = page.locator("#results .card-meta").all_inner_texts()
    assert metas and all(m.endswith("Red") for m in metas)
    assert page.locator("#f-colour").input_value() == "Red"  # the form's filter follows
    assert page.locator("#colour-pick").input_value() == "Red"
    with page.expect_request("**/api/search?*") as anyc:
        page.select_option("#colour-pick", "")
    assert "colour" not in search_params(anyc.value)
    wait_results(page)
    page.locator("#colour-only").focus()
    with page.expect_request("**/api/search?*") as only:
        page.keyboard.press("Enter")
    assert search_params(only.value)["colour"] == ["Blue"]
    wait_results(page)
    assert all(m.endswith("Blue") for m in page.locator("#results .card-meta").all_inner_texts())
    page.unroute_all(behavior="ignoreErrors")


def test_bad_upload_shows_the_api_message(page, artifacts):
    page.goto("/search")
    drop_file(page, b"this is not a photo", "holiday.jpg", "image/jpeg")
    page.wait_for_selector("#results[data-state=error]", state="attached")
    alert = page.locator("#search-error")
    assert alert.is_visible() and "not a supported image" in alert.inner_text()
    page.screenshot(path=artifacts / "search-bad-upload.png")


def test_product_page_similar_items_link_on(page, artifacts):
    page.goto("/")
    page.screenshot(path=artifacts / "home.png", full_page=True)
    page.click("a[href='/products/1001']")
    page.wait_for_url("**/products/1001")
    similar = page.locator("#similar-items .card a")
    assert similar.count() >= 5
    assert all(SCORE.match(s) for s in page.locator("#similar-items .score").all_inner_texts())
    reasons = page.locator("#similar-items .reasons").all_inner_texts()
    assert len(reasons) == similar.count() and all(r.endswith("similar shape") for r in reasons)
    assert reasons[0].startswith("same type")
    page.screenshot(path=artifacts / "product.png", full_page=True)
    target = similar.first.get_attribute("href")
    similar.first.click()
    page.wait_for_url(f"**{target}")
    assert page.locator("h1").inner_text().startswith("Synthetic")
    page.goto("/shop?gender=Women")
    page.check("input[name=article_type][value=Watches]")  # filters apply on change
    page.wait_for_url(re.compile(r"article_type=Watches"))
    assert "of 6 products" in page.locator(".result-count").inner_text()
    page.screenshot(path=artifacts / "shop.png", full_page=True)
    page.goto("/no-such-page")
    assert page.locator("h1").inner_text() == "Page not found"


def test_search_box_suggests_catalog_phrases_as_the_shopper_types(page):
    page.goto("/")
    page.locator("#site-q").press_sequentially("black sh", delay=30)
    options = page.locator("#site-q-suggestions option")
    options.first.wait_for(state="attached")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert "Black Casual Shoes" in values
    assert all(v.lower().startswith("black") or " " in v for v in values)


def test_words_added_to_a_photo_search_filter_it(page, busy_photo):
    page.goto("/search")
    drop_file(page, busy_photo, "busy.png", "image/png")
    wait_results(page)
    page.fill("#f-q", "but in black")
    with page.expect_request("**/api/search?*") as req:
        page.press("#f-q", "Enter")
    assert search_params(req.value)["q"] == ["but in black"]
    page.wait_for_function("document.querySelector('#search-status').textContent.includes('Black')")
    metas = page.locator("#results .card-meta").all_inner_texts()
    assert metas and all(m.endswith("Black") for m in metas)
