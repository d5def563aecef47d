"""Personal recommendations and events over HTTP, on a real SQLite store and a tiny index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from fashionrec.api import ApiSettings, create_app
from fashionrec.api.errors import ApiError
from fashionrec.api.routers.users import authorise
from fashionrec.pipeline import build_index
from fashionrec.store import User

WATCHES = {str(i) for i in range(1018, 1024)}  # make_catalog: 6 per type, watches last
WOMEN = {str(i) for i in range(1006, 1012)} | WATCHES


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, make_catalog):
    root = tmp_path_factory.mktemp("users-api")
    build_index(make_catalog(root / "cat"), root / "index", embedder="tiny", show_progress=False)
    return root / "index"


def _app(index_dir, tmp_path, **settings):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    app = create_app(ApiSettings(index_dir=index_dir, database_url=url, **settings))
    with app.state.store.session() as s:
        s.add_all(
            [
                User(email="ann@example.com", gender="Women", name="Ann"),
                User(external_id="hm-42", gender="Men"),
            ]
        )
    return app


@pytest.fixture()
def client(index_dir, tmp_path):
    return TestClient(_app(index_dir, tmp_path), raise_server_exceptions=False)


def _recs(client, user="1", **params):
    r = client.get(f"/api/users/{user}/recommendations", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_cold_start_then_feedback_changes_the_next_response(client):
    cold = _recs(client, k=6)
    assert cold["method"] == "cold-start" and cold["user"]["gender"] == "Women"
    assert {r["id"] for r in cold["results"]} <= WOMEN  # gender respected
    assert all(r["reasons"] and r["product"]["image_url"] for r in cold["results"])

    r = client.post("/api/events", json={"user_id": 1, "product_id": "1018", "kind": "like"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "like" and r.json()["user_id"] == 1
    liked = _recs(client, k=4)
    assert liked["method"] == "content"
    got = [r["id"] for r in liked["results"]]
    assert got[0] in WATCHES and len(set(got) & WATCHES) >= 3 and "1018" not in got
    assert liked["results"][0]["reasons"][0]["code"] == "similar_to_history"

    client.post("/api/events", json={"user_id": 1, "product_id": "1018", "kind": "less"})
    client.post("/api/events", json={"user_id": 1, "product_id": "1006", "kind": "more"})
    after = _recs(client, k=4)
    assert not {r["id"] for r in after["results"]} & WATCHES  # "less like this" took effect


def test_purchases_are_never_recommended(client):
    for pid in ("1006", "1007", "1008"):
        r = client.post("/api/events", json={"user_id": 1, "product_id": pid, "kind": "purchase"})
        assert r.status_code == 201
    got = {r["id"] for r in _recs(client, k=20)["results"]}
    assert got and not got & {"1006", "1007", "1008"}


def test_external_id_and_filters(client):
    data = _recs(client, user="hm-42", k=5, article_type="Tshirts")
    assert data["user"]["external_id"] == "hm-42"
    assert data["results"] and all(
        r["product"]["article_type"] == "Tshirts" for r in data["results"]
    )


def test_errors_have_one_shape(client):
    r = client.get("/api/users/999/recommendations")
    assert r.status_code == 404 and "user '999'" in r.json()["error"]["message"]
    r = client.post("/api/events", json={"user_id": 999, "product_id": "1018", "kind": "like"})
    assert r.status_code == 404
    r = client.post("/api/events", json={"user_id": 1, "product_id": "nope", "kind": "like"})
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    r = client.post("/api/events", json={"user_id": 1, "product_id": "1018", "kind": "love"})
    assert r.status_code == 422
    assert (
        "choose from view, like, more, cart, purchase, dislike, less"
        in r.json()["error"]["message"]
    )
    r = client.get("/api/users/1/recommendations", params={"colour": "Plaid"})
    assert r.status_code == 422


def test_token_guards_requests_without_a_session(index_dir, tmp_path):
    client = TestClient(
        _app(index_dir, tmp_path, api_token="s3cret"), raise_server_exceptions=False
    )
    r = client.get("/api/users/1/recommendations")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    bad = {"Authorization": "Bearer nope"}
    assert client.get("/api/users/1/recommendations", headers=bad).status_code == 401
    good = {"Authorization": "Bearer s3cret"}
    assert client.get("/api/users/1/recommendations", headers=good).status_code == 200
    event = {"user_id": 1, "product_id": "1018", "kind": "view"}
    assert client.post("/api/events", json=event).status_code == 401
    assert client.post("/api/events", json=event, headers=good).status_code == 201


def _request(app, session=None, headers=()):
    scope = {"type": "http", "app": app, "headers": list(headers), "method": "GET", "path": "/"}
    if session is not None:
        scope["session"] = session
    return Request(scope)


def test_a_session_may_only_act_for_itself(index_dir, tmp_path):
    app = _app(index_dir, tmp_path, api_token="s3cret")
    ann, other = User(id=1), User(id=2)
    authorise(_request(app, {"user_id": 1}), ann)  # reading its own: fine without a token
    with pytest.raises(ApiError) as exc:
        authorise(_request(app, {"user_id": 1}), other)
    assert exc.value.status == 403
    with pytest.raises(ApiError) as exc:  # writing needs the session's CSRF token
        authorise(_request(app, {"user_id": 1, "csrf": "t0k"}), ann, writes=True)
    assert exc.value.status == 403
    headers = [(b"x-csrf-token", b"t0k")]
    authorise(_request(app, {"user_id": 1, "csrf": "t0k"}, headers), ann, writes=True)


def test_home_page_recommends_for_a_named_shopper(client):
    assert "Recommended for you" not in client.get("/").text  # nobody known yet
    client.post("/api/events", json={"user_id": 1, "product_id": "1019", "kind": "like"})
    page = client.get("/", params={"shopper": "1"})
    assert page.status_code == 200 and "Recommended for you" in page.text
    assert page.cookies.get("shopper") == "1"
    assert "similar to Synthetic Silver Watches 1019 you liked" in page.text
    assert "Recommended for you" in client.get("/").text  # the cookie remembers the shopper
    assert "Recommended for you" not in client.get("/", params={"shopper": ""}).text
    assert "Recommended for you" not in client.get("/", params={"shopper": "nobody"}).text


def test_naming_a_shopper_is_refused_once_the_api_is_protected(index_dir, tmp_path):
    app = _app(index_dir, tmp_path, api_token="s3cret")
    with TestClient(app) as c:
        auth = {"Authorization": "Bearer s3cret"}
        r = c.post(
            "/api/events", json={"user_id": 1, "product_id": "1019", "kind": "like"}, headers=auth
        )
        assert r.status_code == 201
        page = c.get("/", params={"shopper": "1"})
        assert "Recommended for you" not in page.text and "shopper" not in page.cookies


def test_product_page_records_a_view_and_offers_feedback(client):
    page = client.get("/products/1020")
    assert 'class="feedback"' not in page.text  # anonymous: no buttons, no event
    client.get("/", params={"shopper": "hm-42"})
    page = client.get("/products/1020")
    assert page.status_code == 200
    assert 'data-kind="less"' in page.text and "/static/feedback.js" in page.text
    assert client.get("/static/feedback.js").status_code == 200
    store = client.app.state.store
    from sqlalchemy import select

    from fashionrec.store import Interaction

    with store.session() as s:
        kinds = s.execute(select(Interaction.product_id, Interaction.kind)).all()
    assert [tuple(k) for k in kinds] == [("1020", "view")]
    assert _recs(client, user="hm-42")["method"] == "content"


def test_the_server_entry_point_takes_the_api_token_from_the_environment(
    index_dir, tmp_path, serve_app
):
    import httpx

    env = {
        "FASHIONREC_INDEX": str(index_dir),
        "FASHIONREC_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "FASHIONREC_API_TOKEN": "t0ken",
    }
    with serve_app(env, tmp_path / "uvicorn.log") as base:
        event = {"user_id": "hm-1", "product_id": "1019", "kind": "like"}
        assert httpx.post(base + "/api/events", json=event).status_code == 401
        ok = httpx.post(base + "/api/events", json=event, headers={"Authorization": "Bearer t0ken"})
        assert ok.status_code != 401
