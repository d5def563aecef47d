"""Why a result was shown: what it shares with the query, as stable codes and shopper words.

Pure functions over metadata dicts (no index, no HTTP), so the API and the shop pages give
the same reasons. Codes are stable for clients; texts may be reworded.

Example:
    >>> [r["code"] for r in reasons_for(
    ...     {"article_type": "Tshirts", "base_colour": "Navy Blue"},
    ...     {"article_type": "Tshirts", "base_colour": "Blue"})]
    ['same_type', 'similar_colour', 'looks_similar']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fashionrec.colour import colour_groups
from fashionrec.colour.vocabulary import NO_COLOUR

#: Every code reasons_for can return, in the order it returns them.
CODES = ("same_type", "same_colour", "similar_colour", "other_colour", "looks_similar")


def _value(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return None if text in NO_COLOUR else text


def _reason(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def reasons_for(
    query: Mapping[str, Any],
    product: Mapping[str, Any],
    *,
    groups: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """What ``product`` shares with ``query`` (both hold ``article_type`` / ``base_colour``,
    either may be missing): a list of ``{"code", "text"}``, type first, then colour, then
    ``looks_similar`` (every result was found by its look).

    A colour reason needs both colours: ``same_colour`` (equal), ``similar_colour`` (same
    near-colour group, see :func:`fashionrec.colour.colour_groups`) or ``other_colour``.

    Example:
        >>> reasons_for({"base_colour": "Navy Blue"}, {"base_colour": "Red"})[0]
        {'code': 'other_colour', 'text': 'other colour: red'}
    """
    out = []
    q_type, p_type = _value(query, "article_type"), _value(product, "article_type")
    if q_type and p_type and q_type.casefold() == p_type.casefold():
        out.append(_reason("same_type", "same type"))
    q_colour, p_colour = _value(query, "base_colour"), _value(product, "base_colour")
    if q_colour and p_colour:
        if q_colour.casefold() == p_colour.casefold():
            out.append(_reason("same_colour", f"same colour: {p_colour.lower()}"))
        else:
            groups = colour_groups() if groups is None else groups
            group = groups.get(q_colour)
            if group is not None and group == groups.get(p_colour):
                out.append(_reason("similar_colour", f"similar colour: {group.lower()}"))
            else:
                out.append(_reason("other_colour", f"other colour: {p_colour.lower()}"))
    out.append(_reason("looks_similar", "similar shape"))
    return out


def photo_query(
    looks_like: Mapping[str, Any] | None, predicted: Mapping[str, tuple[str, float]] | None
) -> dict[str, str | None]:
    """The query side of :func:`reasons_for` for a photo: the type gate's type (when there is
    a gate, else the heads' article type) and the attribute heads' base colour.

    Example:
        >>> photo_query({"article_type": "Jeans"}, {"base_colour": ("Navy Blue", 0.71)})
        {'article_type': 'Jeans', 'base_colour': 'Navy Blue'}
    """
    predicted = predicted or {}
    colour, head_type = predicted.get("base_colour"), predicted.get("article_type")
    return {
        "article_type": looks_like.get("article_type")
        if looks_like
        else (head_type[0] if head_type else None),
        "base_colour": colour[0] if colour else None,
    }
