"""Why a personal recommendation is shown, in words a shopper understands.

Codes are stable for clients; texts may be reworded. Shared attributes come from
`fashionrec.recommend.reasons.reasons_for`, like the reasons of similar items.

Example:
    >>> dress = {"article_type": "Dresses"}
    >>> [r["text"] for r in similar_to("Red Dress", "like", dress, dress)]
    ['similar to Red Dress you liked', 'same type']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fashionrec.recommend.reasons import reasons_for

#: Every code this module returns.
CODES = (
    "popular",
    "similar_to_history",
    "same_type",
    "same_colour",
    "similar_colour",
    "other_colour_of_purchase",
    "bought_together",
    "similar_shoppers",
)
_VERBS = {
    "view": "you viewed",
    "like": "you liked",
    "more": "you wanted more of",
    "cart": "you added to your cart",
    "purchase": "you bought",
}
_AUDIENCE = {
    "women": "women",
    "ladieswear": "women",
    "men": "men",
    "menswear": "men",
    "divided": "young women",
    "baby/children": "parents",
}


def _r(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def _thing(name: str | None) -> str:
    return name.strip() if name and name.strip() else "an item"


def popular(gender: str | None = None) -> list[dict[str, str]]:
    """Example: popular("Women") -> popular with women right now."""
    who = _AUDIENCE.get((gender or "").strip().lower())
    return [_r("popular", f"popular with {who} right now" if who else "popular right now")]


def similar_to(
    name: str | None,
    kind: str,
    anchor: Mapping[str, Any] | None = None,
    product: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """ "similar to X you viewed", then what the two share (type, colour)."""
    out = [_r("similar_to_history", f"similar to {_thing(name)} {_VERBS.get(kind, 'you liked')}")]
    if anchor and product:
        shared = reasons_for(anchor, product)
        out += [r for r in shared if r["code"] in ("same_type", "same_colour", "similar_colour")]
    return out


def other_colour_of(name: str | None, kind: str = "purchase") -> list[dict[str, str]]:
    verb = _VERBS.get(kind, "you bought")
    return [_r("other_colour_of_purchase", f"another colour of {_thing(name)} {verb}")]


def bought_together(name: str | None, shoppers: int) -> list[dict[str, str]]:
    if not name:
        who = "shoppers who bought what you bought also bought this"
        return [_r("bought_together", who)]
    many = f"{shoppers} shoppers" if shoppers > 1 else "shoppers"
    return [_r("bought_together", f"bought by {many} who bought {name}")]


def similar_shoppers() -> list[dict[str, str]]:
    return [_r("similar_shoppers", "liked by shoppers with tastes like yours")]
