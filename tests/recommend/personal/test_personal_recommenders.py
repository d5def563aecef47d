"""Known-answer tests of the personal recommenders on the synthetic shop (see conftest)."""

from __future__ import annotations

import datetime as dt

import pytest
from personal_shop import T0, ids

from fashionrec.recommend.personal import (
    CFRecommender,
    ContentRecommender,
    Event,
    History,
    HybridRecommender,
    PopularityRecommender,
    VariantsRecommender,
    build_models,
)
from fashionrec.recommend.personal.space import mmr

RED, BLUE, TEES, SHOES, WATCHES = (ids(f) for f in (1000, 1010, 1020, 1030, 1040))
NOW = T0 + dt.timedelta(days=30)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def history(*events: tuple[str, str, float], gender: str | None = None) -> History:
    return History([Event(p, k, at(d)) for p, k, d in events], gender=gender, now=NOW)


@pytest.fixture(scope="module")
def models(space, interactions):
    return build_models(space, interactions)


def test_liked_red_dresses_get_red_dresses(space):
    h = history(("1000", "like", 20), ("1001", "like", 21), gender="Women")
    recs = ContentRecommender(space).recommend(h, k=4)
    assert [r.product_id in RED for r in recs] == [True] * 4
    assert not {"1000", "1001"} & {r.product_id for r in recs}  # not what they already rated
    first = recs[0].reasons
    assert first[0]["code"] == "similar_to_history"
    assert "you liked" in first[0]["text"] and "Red Dresse" in first[0]["text"]
    assert {"same_type", "same_colour"} <= {r["code"] for r in first}


def test_dislikes_push_away(space):
    liked = history(("1040", "like", 20), gender="Women")
    base = [r.product_id for r in ContentRecommender(space).recommend(liked, k=10)]
    assert set(base[:5]) <= set(WATCHES)
    # a shopper who likes watches and dislikes a red dress gets no red dress at all
    mixed = history(("1040", "like", 20), ("1000", "view", 19), ("1000", "dislike", 21))
    ranked = [r.product_id for r in ContentRecommender(space).recommend(mixed, k=10)]
    assert not set(ranked) & set(RED)
    assert set(ranked[:5]) <= set(WATCHES)


def test_latest_explicit_feedback_wins():
    h = History(
        [Event("1", "like", at(1)), Event("1", "dislike", at(2)), Event("2", "dislike", at(1))]
        + [Event("2", "like", at(3))],
        now=at(4),
    )
    w = h.net_weights()
    assert w["1"] < 0 < w["2"]
    assert h.size == 1


def test_cold_start_respects_gender_and_is_diverse(models, space):
    recs = models["popularity"].recommend(History(gender="Women", now=NOW), k=6)
    genders = {space.product(space.rows([r.product_id])[0])["gender"] for r in recs}
    assert genders == {"Women"}
    assert recs[0].product_id == "1040"  # the most bought
    types = {space.product(space.rows([r.product_id])[0])["article_type"] for r in recs}
    assert types == {"Watches", "Dresses"}  # MMR mixes looks, plain popularity would not
    assert recs[0].reasons == [{"code": "popular", "text": "popular with women right now"}]
    men = models["popularity"].recommend(History(gender="male", now=NOW), k=5)
    assert {r.product_id for r in men} <= set(SHOES) | set(TEES)


def test_popularity_only_counts_the_past(space, interactions):
    pop = PopularityRecommender(space).fit(interactions)
    before = pop.scores(at(0))
    assert before.sum() == 0  # nothing was bought before the first day
    assert pop.scores(NOW).sum() > 0


def test_purchased_never_recommended(models, space):
    bought = [("1040", "purchase", 10), ("1001", "purchase", 11), ("1045", "purchase", 12)]
    bought += [(p, "purchase", 12) for p in RED[2:]]
    h = history(*bought, gender="Women")
    for name, model in models.items():
        got = {r.product_id for r in model.recommend(h, k=20)}
        assert not got & h.purchased, name


def test_variants_other_colours_of_purchases(models):
    h = history(("1002", "purchase", 25), gender="Women")
    recs = VariantsRecommender(models["popularity"].space).recommend(h, k=5)
    assert [r.product_id for r in recs] == ["1012"]  # the same dress in blue
    assert recs[0].reasons[0]["code"] == "other_colour_of_purchase"
    assert recs[0].reasons[0]["text"] == "another colour of Red Dresse 1002 you bought"


def test_cf_bought_together_with_reason(space, interactions):
    cf = CFRecommender(space, model="cosine").fit(interactions)
    h = history(("1001", "purchase", 25), gender="Women")
    recs = cf.recommend(h, k=3)
    assert recs[0].product_id == "1045"
    assert recs[0].reasons[0]["code"] == "bought_together"
    assert "who bought Red Dresse 1001" in recs[0].reasons[0]["text"]


def test_cf_als_counts_new_events_without_retraining(space, interactions):
    cf = CFRecommender(space, factors=8, iterations=10).fit(interactions)
    women = cf.recommend(history(("1040", "purchase", 25)), k=5)
    men = cf.recommend(history(("1030", "purchase", 25), ("1020", "purchase", 25)), k=5)
    assert {r.product_id for r in women} != {r.product_id for r in men}
    assert all(r.source == "cf" for r in women + men)


def test_hybrid_switches_by_history_size(models):
    hybrid: HybridRecommender = models["hybrid"]
    assert hybrid.method(History(now=NOW)) == "cold-start"
    assert hybrid.method(history(("1040", "like", 1))) == "content"
    rich = history(*[(p, "purchase", 1) for p in WATCHES[:5]])
    assert hybrid.method(rich) == "cf+content"
    recs = hybrid.recommend(rich, k=8)
    assert len(recs) == 8 and len({r.product_id for r in recs}) == 8
    assert all(r.reasons for r in recs)
    assert {r.source for r in recs} <= {"popularity", "content", "cf", "variants"}


def test_hybrid_filters_and_gender(models, space):
    h = history(("1040", "like", 20), gender="Women")
    recs = models["hybrid"].recommend(h, k=5, filters={"article_type": "Dresses"})
    assert recs and all(r.product_id in RED + BLUE for r in recs)
    for r in models["hybrid"].recommend(h, k=10):
        assert space.product(space.rows([r.product_id])[0])["gender"] == "Women"


def test_mmr_trades_score_for_variety():
    import numpy as np

    v = np.array([[1, 0], [0.99, 0.14], [0, 1]], dtype=np.float32)
    assert mmr(np.array([1.0, 0.95, 0.6]), v, 2, relevance=1.0) == [0, 1]
    assert mmr(np.array([1.0, 0.95, 0.6]), v, 2, relevance=0.5) == [0, 2]


def test_group_prefix_rule_for_unindexed_products(space):
    # the synthetic groups are not id prefixes, so an unknown id has no group
    assert space.group_of("9999") is None
    assert space.group_of("1003") == "D3"
