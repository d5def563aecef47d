"""Similar items and search by photo over an index directory."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionrec.errors import FilterError, UnknownProductError, suggest
from fashionrec.pipeline.build import finish_vectors, load_projection
from fashionrec.pipeline.layout import IMAGE_SHA1, KEY, IndexDir, Manifest
from fashionrec.recommend.filters import Filters

log = logging.getLogger(__name__)

#: Columns kept internal: not shown in results.
_HIDDEN = {KEY, IMAGE_SHA1}


@dataclass(frozen=True)
class PhotoSearch:
    """The answer to one photo: matches, the crop box used (if the shopper drew one) and what
    the type gate thinks the photo shows (None without a gate)."""

    matches: list[Match]
    crop: Sequence[float] | None = None
    looks_like: dict[str, Any] | None = None
    #: Attribute -> (value, calibrated probability) from the attribute heads, if trained.
    predicted: dict[str, tuple[str, float]] | None = None
    #: What the shopper's words added ("like this, but in red"): a ParsedQuery, or None.
    words: Any = None


@dataclass(frozen=True)
class Match:
    """One recommended product: its id, cosine similarity to the query, and its metadata."""

    id: str
    score: float
    product: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "score": round(self.score, 4),
            **{k: v for k, v in self.product.items() if k != "id"},
        }


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class Recommender:
    """Answers "what looks like this?" for photos and catalog products.

    Example:
        >>> rec = Recommender.open("fashionrec-index")                     # doctest: +SKIP
        >>> rec.similar_to_product("15970", k=5, filters={"gender": "Men"})  # doctest: +SKIP
    """

    def __init__(self, index_dir: str | Path, *, runtime: str = "auto") -> None:
        from fashionrec.index import load_index

        self.index_dir = IndexDir(index_dir)
        self.manifest: Manifest = self.index_dir.read_manifest()
        self.products: pd.DataFrame = self.index_dir.read_products(self.manifest)
        self.index = load_index(self.index_dir.vectors_path(self.manifest.generation))
        self.mean = self.index_dir.read_mean(self.manifest)
        self.runtime = runtime
        self._embedder: Any = None
        self._attributes: Any = None
        self._query_parser: Any = None
        self.head = load_projection(self.index_dir, self.manifest)
        self.gate = self._load_gate()
        self.colours = self.index_dir.read_array(self.manifest, "colours")
        self._row_of_key = pd.Index(self.products[KEY].to_numpy())
        self._sha1 = self.products[IMAGE_SHA1].to_numpy(dtype=object)
        self._ids = self.products.index.to_numpy(dtype=object)
        self._allowed_cache: dict[Filters, np.ndarray] = {}

    @classmethod
    def open(cls, index_dir: str | Path, *, runtime: str = "auto") -> Recommender:
        return cls(index_dir, runtime=runtime)

    def __len__(self) -> int:
        return len(self.products)

    @property
    def embedder(self) -> Any:
        """The index's backbone, created on first use (similar items never need it)."""
        if self._embedder is None:
            from fashionrec.embed import create_embedder

            self._embedder = create_embedder(self.manifest.embedder_name, runtime=self.runtime)
        return self._embedder

    @property
    def vocabulary(self) -> dict[str, list[str]]:
        return self.manifest.encodings

    @property
    def query_parser(self) -> Any:
        """Shopper words -> catalog filters, over this catalog's vocabulary (built once)."""
        if self._query_parser is None:
            from fashionrec.text.query import QueryParser

            self._query_parser = QueryParser(self.vocabulary)
        return self._query_parser

    def product(self, product_id: str | int) -> dict[str, Any]:
        """Metadata of one product; UnknownProductError when absent."""
        row = self._row(str(product_id))
        return {k: _clean(v) for k, v in row.items() if k not in _HIDDEN}

    def _row(self, product_id: str) -> pd.Series:
        try:
            return self.products.loc[product_id]
        except KeyError:
            raise UnknownProductError(
                f"product {product_id!r} is not in the index"
                + suggest(product_id, self.products.index[:20000])
            ) from None

    def min_similarity(self, value: float | str | None) -> float | None:
        """Resolve a minimum similarity: a number, None, "auto" (the threshold measured for
        precision 0.8 at build time) or "auto:P" for another precision P."""
        if value is None or isinstance(value, int | float):
            return None if value is None else float(value)
        from fashionrec.eval.calibration import AUTO_TARGET, auto_threshold

        text = str(value).strip().lower()
        if text.startswith("auto"):
            target = AUTO_TARGET
            if text.startswith("auto:"):
                try:
                    target = float(text[5:])
                except ValueError:
                    raise FilterError(
                        f"expected auto:PRECISION such as auto:0.9, got {value!r}"
                    ) from None
            threshold = auto_threshold(self.manifest.calibration, target)
            if threshold is None:
                known = sorted(self.manifest.calibration.get("thresholds") or {})
                raise FilterError(
                    f"no measured threshold for precision {target:g} in this index"
                    + (f"; measured: {', '.join(known)}" if known else "; rebuild it to calibrate")
                )
            return threshold
        try:
            return float(text)
        except ValueError:
            raise FilterError(f"min_similarity must be a number or 'auto', got {value!r}") from None

    def _load_gate(self) -> Any:
        if not self.manifest.heads.get("gate"):
            return None
        from fashionrec.photo.gate import TypeGate

        return TypeGate.load(self.index_dir.heads_path(self.manifest.generation) / "gate")

    @property
    def attributes(self) -> Any:
        """The index's attribute classifiers (AttributeClassifier), or None when untrained."""
        if self._attributes is None and self.manifest.heads.get("attributes"):
            from fashionrec.heads import AttributeClassifier

            path = self.index_dir.heads_path(self.manifest.generation) / "attributes"
            self._attributes = AttributeClassifier.load(path)
        return self._attributes

    def backbone_vectors(self, images: Sequence[Any], *, batch_size: int = 32) -> np.ndarray:
        """Backbone vectors of photos (PIL images, paths or bytes), preprocessed like the
        catalog: centred with the catalog mean and L2-normalised."""
        raw = self.embedder.encode(list(images), batch_size=batch_size, normalize=False)
        return finish_vectors(np.atleast_2d(raw), self.mean)

    def search_space(self, backbone: np.ndarray) -> np.ndarray:
        """Map backbone vectors into the searched space (through the projection head, if any)."""
        return backbone if self.head is None else self.head.transform(backbone)

    def embed_image(self, image: Any) -> np.ndarray:
        """The searched vector of one photo."""
        return self.search_space(self.backbone_vectors([image]))[0]

    def predict_attributes(self, backbone: np.ndarray) -> list[dict[str, tuple[str, float]]]:
        """Per row of backbone vectors: attribute -> (predicted value, calibrated probability)."""
        if self.attributes is None:
            return [{} for _ in range(len(np.atleast_2d(backbone)))]
        per_attr = self.attributes.predict(np.atleast_2d(backbone))
        n = len(next(iter(per_attr.values())))
        return [{a: per_attr[a][i] for a in per_attr} for i in range(n)]

    def similar_to_image(
        self,
        image: Any,
        k: int = 10,
        *,
        filters: Filters | Mapping[str, Any] | None = None,
        min_similarity: float | str | None = None,
    ) -> list[Match]:
        """Top-k catalog products that look like `image`, best first."""
        return self.similar_to_images([image], k, filters=filters, min_similarity=min_similarity)[0]

    def similar_to_images(
        self,
        images: Sequence[Any],
        k: int = 10,
        *,
        filters: Filters | Mapping[str, Any] | None = None,
        min_similarity: float | str | None = None,
        batch_size: int = 32,
    ) -> list[list[Match]]:
        """Search by several photos at once; the matches of `search_photos`."""
        found = self.search_photos(
            images, k, filters=filters, min_similarity=min_similarity, batch_size=batch_size
        )
        return [r.matches for r in found]

    def search_photos(
        self,
        images: Sequence[Any],
        k: int = 10,
        *,
        filters: Filters | Mapping[str, Any] | None = None,
        min_similarity: float | str | None = None,
        crops: Sequence[Sequence[float] | None] | None = None,
        use_gate: bool = True,
        batch_size: int = 32,
        words: str | None = None,
    ) -> list[PhotoSearch]:
        """The one query path for photos (CLI, HTTP API, eval-photos): decode, crop, embed,
        gate, search.

        A shopper's crop box (fractions or pixels) wins over the automatic crop. When the index
        has a type gate and the shopper named no article type, the search runs among products
        of the type the photo looks like; the ranking stays visual similarity. A gate that
        leaves nothing to show is ignored for that photo.

        `words` ("like this, but in red", "for men under 40") become filters for the fields the
        shopper did not set; a colour named in words replaces the photo's own colour.
        """
        from fashionrec.embed.preprocess import load_source
        from fashionrec.photo.crop import crop_photo

        if not isinstance(filters, Filters):
            filters = Filters.from_mapping(filters)
        parsed = self.query_parser.parse(words) if words and words.strip() else None
        if parsed is not None:
            has_prices = "price" in self.products and bool(self.products["price"].notna().any())
            filters = with_words(filters, parsed, prices=has_prices)
        crops = list(crops) if crops is not None else [None] * len(images)
        auto_crop = self.gate.meta.get("query_crop") if self.gate is not None else None
        pictures = []
        for image, box in zip(images, crops, strict=True):
            picture = load_source(image)
            if box is not None:
                picture = crop_photo(picture, box=box)
            elif auto_crop:
                picture = crop_photo(
                    picture, mode=auto_crop["mode"], fraction=auto_crop["fraction"]
                )
            pictures.append(picture)
        backbone = self.backbone_vectors(pictures, batch_size=batch_size)
        search = self.search_space(backbone)
        threshold = self.min_similarity(min_similarity)
        predicted = self.predict_attributes(backbone)
        out = []
        for i, box in enumerate(crops):
            looks_like, gated = None, filters
            if self.gate is not None:
                decision = self.gate.decide(backbone[i], mass=0.0)
                looks_like = {
                    "article_type": decision.top[0][0],
                    "confidence": decision.top[0][1],
                    "top": decision.top,
                    "applied": False,
                }
                if use_gate and not filters.article_type and decision.types:
                    gated = replace(filters, article_type=tuple(decision.types))
                    looks_like["applied"] = True
            # A colour the shopper asked for beats the colour of the photo.
            colour = None if filters.base_colour else self.photo_colour(pictures[i])
            tint = {
                "colour": colour,
                "colour_weight": self.manifest.colour.get("photo_weight"),
                "colour_candidates": self.manifest.colour.get("photo_candidates"),
            }
            matches = self.search_vector(
                search[i], k, filters=gated, min_similarity=threshold, **tint
            )
            if not matches and gated is not filters:
                matches = self.search_vector(
                    search[i], k, filters=filters, min_similarity=threshold, **tint
                )
                looks_like["applied"] = False
            out.append(
                PhotoSearch(
                    matches=matches,
                    crop=box,
                    looks_like=looks_like,
                    predicted=predicted[i],
                    words=parsed,
                )
            )
        return out

    def similar_to_product(
        self,
        product_id: str | int,
        k: int = 10,
        *,
        filters: Filters | Mapping[str, Any] | None = None,
        min_similarity: float | str | None = None,
        colour_weight: float | None = None,
    ) -> list[Match]:
        """Top-k products like a catalog product; never the product itself nor its exact image.

        `colour_weight` overrides the index's colour re-ranking weight (0 turns it off)."""
        row = self._row(str(product_id))
        vector = self.index.get_vectors(np.array([row[KEY]], dtype=np.int64))[0]
        return self.search_vector(
            vector,
            k,
            filters=filters,
            min_similarity=min_similarity,
            exclude_id=str(product_id),
            exclude_sha1=row[IMAGE_SHA1],
            colour=self._colour_of(str(product_id)),
            colour_weight=colour_weight,
        )

    def _colour_of(self, product_id: str) -> np.ndarray | None:
        if self.colours is None:
            return None
        return np.asarray(self.colours[self.products.index.get_loc(product_id)])

    def photo_colour(self, picture: Any) -> np.ndarray | None:
        """Colour descriptor of the garment in a (cropped) photo; None when colour is off."""
        if self.colours is None or not self.manifest.colour.get("photo_weight"):
            return None
        from fashionrec.colour import colour_descriptor

        return colour_descriptor(picture)

    def _pushdown(self, filters: Filters) -> Any:
        """Filters as a `Where` for an index that filters inside its engine, else None."""
        if filters.is_empty() or not getattr(self.index, "supports_filters", False):
            return None
        return filters_to_where(filters.resolved(self.vocabulary), self.products)

    def _allowed_keys(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        resolved = filters.resolved(self.vocabulary)
        cached = self._allowed_cache.get(resolved)
        if cached is None:
            # Shoppers reuse a handful of filters (gender, a category): keep their key sets.
            if len(self._allowed_cache) >= 256:
                self._allowed_cache.pop(next(iter(self._allowed_cache)))
            cached = self.products[KEY].to_numpy(np.int64)[resolved.mask(self.products)]
            self._allowed_cache[resolved] = cached
        return cached

    def search_vector(
        self,
        vector: np.ndarray,
        k: int = 10,
        *,
        filters: Filters | Mapping[str, Any] | None = None,
        min_similarity: float | str | None = None,
        exclude_id: str | None = None,
        exclude_sha1: str | None = None,
        colour: np.ndarray | None = None,
        colour_weight: float | None = None,
        colour_candidates: int | None = None,
    ) -> list[Match]:
        """Top-k products for an index-space vector; k counts after filters and de-duplication.

        With a query `colour` descriptor and a colour weight (the index's measured default
        unless given), the best visual candidates are re-ranked by
        (cosine + w * colour similarity) / (1 + w); `min_similarity` applies to the cosine.
        """
        if not isinstance(k, int | np.integer) or k < 1:
            raise FilterError(f"k must be a positive whole number, got {k!r}")
        if not isinstance(filters, Filters):
            filters = Filters.from_mapping(filters)
        min_similarity = self.min_similarity(min_similarity)
        where = self._pushdown(filters)
        allowed = None if where is not None else self._allowed_keys(filters)
        available = len(self.products) if allowed is None else len(allowed)
        weight = self.manifest.colour.get("weight", 0.0) if colour_weight is None else colour_weight
        rerank = (colour, float(weight)) if colour is not None and weight > 0 else None
        if rerank is not None and self.colours is None:
            rerank = None  # an index built before colour descriptors existed
        fetch = min(available, k + 8)
        if rerank is not None:
            pool = colour_candidates or self.manifest.colour.get("candidates", 100)
            fetch = min(available, max(fetch, int(pool)))
        while True:
            matches = self._collect(
                vector, fetch, allowed, k, min_similarity, exclude_id, exclude_sha1, rerank, where
            )
            if len(matches) >= k or fetch >= available or matches.exhausted:
                return list(matches)[:k]
            fetch = min(available, fetch * 4)

    def _collect(
        self,
        vector,
        fetch,
        allowed,
        k,
        min_similarity,
        exclude_id,
        exclude_sha1,
        rerank=None,
        where=None,
    ):
        out = _Matches()
        if fetch <= 0:
            out.exhausted = True
            return out
        # an engine filters itself (where); local indexes get the allowed keys
        pushed = {} if where is None else {"where": where}
        scores, keys = self.index.search(vector[None, :], fetch, allowed=allowed, **pushed)
        scores, keys = scores[0], keys[0]
        valid = keys >= 0
        if min_similarity is not None:
            valid &= scores >= min_similarity
        if not valid.all():
            out.exhausted = True  # scores are sorted: nothing further can pass
            stop = int(np.argmin(valid))
            scores, keys = scores[:stop], keys[:stop]
        rows = self._row_of_key.get_indexer(keys)
        if (rows < 0).any():
            # a shared engine may hold keys this products table does not (yet): skip them
            scores, rows = scores[rows >= 0], rows[rows >= 0]
        if rerank is not None and len(rows):
            query_colour, w = rerank
            blended = (scores + w * (np.asarray(self.colours[rows]) @ query_colour)) / (1 + w)
            order = np.argsort(-blended, kind="stable")
            scores, rows = blended[order], rows[order]
        seen = {exclude_sha1} if exclude_sha1 else set()
        for score, row in zip(scores.tolist(), rows.tolist(), strict=True):
            pid, sha1 = self._ids[row], self._sha1[row]
            if pid == exclude_id or sha1 in seen:
                continue
            seen.add(sha1)
            out.append(Match(id=str(pid), score=float(score), product=self._product_at(row)))
            if len(out) == k:
                break
        return out

    def _product_at(self, row: int) -> dict[str, Any]:
        record = self.products.iloc[row]
        return {c: _clean(v) for c, v in record.items() if c not in _HIDDEN}


def with_words(filters: Filters, parsed: Any, *, prices: bool = True) -> Filters:
    """`filters` plus what a parsed query names, for the fields `filters` leaves open; price
    phrases only count when the catalog has `prices`.

    Example:
        >>> from fashionrec.text.query import parse_query
        >>> q = parse_query("in red for men", {"gender": ["Men"], "base_colour": ["Red"]})
        >>> with_words(Filters(gender=("Women",)), q).to_dict()
        {'gender': ['Women'], 'base_colour': ['Red']}
    """
    merged = filters.to_dict()
    for name, values in parsed.filters.items():
        merged.setdefault(name, list(values))
    lo, hi = parsed.price if prices else (None, None)
    if lo is not None:
        merged.setdefault("price_min", lo)
    if hi is not None:
        merged.setdefault("price_max", hi)
    return Filters.from_mapping(merged)


def filters_to_where(filters: Filters, products: pd.DataFrame) -> Any:
    """Resolved `filters` as an index `Where`, with the semantics of `Filters.mask`:
    colour groups become the base colours in them, excluded ids become keys.

    Example:
        >>> df = pd.DataFrame({"key": [3], "gender": ["Men"]}, index=["15970"])
        >>> filters_to_where(Filters(gender=("Men",), exclude_ids=("15970",)), df)
        Where(any_of=(('gender', ('Men',)),), ranges=(), exclude_keys=(3,))
    """
    from fashionrec.index.base import FILTER_TEXT_FIELDS, Where
    from fashionrec.recommend.filters import CATEGORY_FIELDS, RANGE_FIELDS

    any_of = []
    for name in CATEGORY_FIELDS:
        wanted = getattr(filters, name)
        if wanted and name not in FILTER_TEXT_FIELDS:
            raise FilterError(f"the vector engine cannot filter on {name!r}")
        if wanted:
            any_of.append((name, tuple(wanted)))
    if filters.colour_group:
        from fashionrec.colour import colour_groups

        if "base_colour" not in products:
            raise FilterError("this catalog has no base_colour column to filter on")
        groups = colour_groups()
        colours = products["base_colour"].dropna().unique().tolist()
        in_group = tuple(sorted(c for c in colours if groups.get(c) in filters.colour_group))
        any_of.append(("base_colour", in_group))
    ranges = []
    for name in RANGE_FIELDS:
        lo, hi = getattr(filters, f"{name}_min"), getattr(filters, f"{name}_max")
        if lo is None and hi is None:
            continue
        if name not in products or products[name].isna().all():
            raise FilterError(f"this catalog has no {name}s to filter on")
        ranges.append((name, lo, hi))
    excluded = products.loc[products.index.isin(filters.exclude_ids), KEY]
    return Where(
        any_of=tuple(any_of),
        ranges=tuple(ranges),
        exclude_keys=tuple(int(k) for k in excluded.tolist()),
    )


class _Matches(list):
    exhausted = False
