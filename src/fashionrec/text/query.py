"""Query understanding: shopper words -> catalog filters, a price range and free words.

The vocabulary is the catalog's own (``manifest.encodings``) plus a small synonym file, so a
query only ever produces filter values the catalog actually holds.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

logger = logging.getLogger(__name__)

#: Fields a query may filter on, most specific product kind first (this order is also the
#: order of the "Showing:" line, after the kind: gender, colour, usage, season).
FIELDS = (
    "article_type",
    "sub_category",
    "master_category",
    "gender",
    "base_colour",
    "usage",
    "season",
)
# When one phrase names values in several "kind" fields ("accessories"), the most specific wins.
_KIND_RANK = {"article_type": 0, "sub_category": 1, "master_category": 2}
_SHOWN_ORDER = (
    "article_type",
    "sub_category",
    "master_category",
    "gender",
    "base_colour",
    "usage",
    "season",
)
_MAX_PHRASE = 4

_STOPWORDS_TEXT = """
a an the for with and or in on of to my me i im i'm some any something that this these
those want wanted need looking look find show please new nice good best buy cheap cheapest
pair pairs one ones item items
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_TOKEN = re.compile(r"[a-z0-9]+")
_NUM = r"[£$€]?\s*(\d+(?:\.\d+)?)\s*(?:£|\$|€|eur|euros?|usd|dollars?|pounds?|gbp|rs|inr)?"
_PRICE_PATTERNS = (
    (re.compile(rf"\bbetween\s+{_NUM}\s+(?:and|to|-)\s+{_NUM}"), "range"),
    (re.compile(rf"\bfrom\s+{_NUM}\s+to\s+{_NUM}"), "range"),
    (re.compile(rf"(?<![\w.]){_NUM}\s*(?:-|to)\s*{_NUM}(?![\w.])"), "range"),
    (
        re.compile(
            rf"\b(?:under|below|less than|cheaper than|up to|upto|max|at most|within)\s+{_NUM}"
        ),
        "max",
    ),
    (re.compile(rf"\b(?:over|above|more than|at least|min|from)\s+{_NUM}"), "min"),
)


def singular(word: str) -> str:
    """A crude English singular, applied alike to catalog values and query words.

    Example:
        >>> singular("shirts"), singular("watches"), singular("dress"), singular("accessories")
        ('shirt', 'watch', 'dress', 'accessory')
    """
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; apostrophes dropped so "men's" -> "mens"."""
    return _TOKEN.findall(text.lower().replace("'", "").replace("\u2019", ""))


def normalise(text: str) -> tuple[str, ...]:
    """Tokens in singular form: the key under which phrases are looked up."""
    return tuple(singular(t) for t in tokens(text))


@dataclass(frozen=True)
class ParsedQuery:
    """What a shopper's query asks for.

    ``filters`` maps a field to the accepted catalog values; ``price`` is (min, max), either
    None; ``free`` holds the words that matched nothing; ``shown`` is the line shown to the
    shopper, e.g. ["Shirts", "Men", "Navy Blue", "Formal"].
    """

    text: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    price: tuple[float | None, float | None] = (None, None)
    free: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def rewritten(self) -> str:
        """The query as catalog words: matched values then free words (typos corrected)."""
        values = [v for f in _SHOWN_ORDER for v in self.filters.get(f, [])]
        return " ".join(values + self.free)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "filters": self.filters,
            "price": list(self.price),
            "free": self.free,
            "shown": self.shown,
            "corrections": self.corrections,
        }


def read_synonyms(path: str | Path | None = None) -> list[tuple[list[str], str, list[str]]]:
    """Rows (phrases, field, values) of a synonym CSV; the packaged file by default."""
    if path is None:
        text = resources.files("fashionrec.data").joinpath("synonyms.csv").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = []
    for i, row in enumerate(csv.reader(lines)):
        if i == 0 and row[:1] == ["phrase"]:
            continue
        if len(row) != 3:
            raise ValueError(f"synonyms line {row!r}: expected phrase,field,value")
        rows.append(
            (
                [p.strip() for p in row[0].split("|")],
                row[1].strip(),
                [v.strip() for v in row[2].split("|")],
            )
        )
    return rows


class QueryParser:
    """Turns shopper text into a :class:`ParsedQuery` against one catalog's vocabulary.

    Example:
        >>> vocab = {"article_type": ["Shirts"], "gender": ["Men"], "base_colour": ["Navy Blue"]}
        >>> QueryParser(vocab).parse("navy blue shirt for men").shown
        ['Shirts', 'Men', 'Navy Blue']
    """

    def __init__(
        self,
        vocabulary: Mapping[str, Iterable[str]],
        *,
        synonyms: str | Path | list | None = None,
        typo_min_len: int = 4,
    ) -> None:
        self.vocabulary = {f: list(vocabulary.get(f, [])) for f in FIELDS}
        self.typo_min_len = typo_min_len
        rows = synonyms if isinstance(synonyms, list) else read_synonyms(synonyms)
        self.phrases_ = self._build(rows)
        # Typo correction only against single words, and only words long enough to be safe.
        self.words_ = sorted({k[0] for k in self.phrases_ if len(k) == 1 and len(k[0]) >= 3})

    def _build(self, rows: list) -> dict[tuple[str, ...], dict[str, list[str]]]:
        known = {f: set(v) for f, v in self.vocabulary.items()}
        own: dict[tuple[str, ...], dict[str, list[str]]] = {}
        for f, values in self.vocabulary.items():
            for v in values:
                key = normalise(v)
                if key:
                    own.setdefault(key, {}).setdefault(f, []).append(v)
        for by_field in own.values():
            kinds = [f for f in by_field if f in _KIND_RANK]
            if len(kinds) > 1:
                best = min(kinds, key=_KIND_RANK.__getitem__)
                for f in kinds:
                    if f != best:
                        del by_field[f]
        # Synonyms replace the catalog's own reading of a phrase; values the catalog lacks
        # (a synonym file shared between shops) are dropped.
        for phrases, f, values in rows:
            if f not in known:
                raise ValueError(f"synonyms: unknown field {f!r}; choose from {', '.join(FIELDS)}")
            present = [v for v in values if v in known[f]]
            if not present:
                continue
            for p in phrases:
                key = normalise(p)
                if key:
                    own[key] = {f: present}
        return own

    def _correct(self, word: str) -> str | None:
        if len(word) < self.typo_min_len or word in STOPWORDS or word.isdigit():
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein

        limit = 1 if len(word) < 8 else 2
        hits = process.extract(
            word, self.words_, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=3
        )
        if not hits:
            return None
        best = min(h[1] for h in hits)
        winners = [h[0] for h in hits if h[1] == best]
        # Ambiguous corrections ("bolt" -> belt? boot?) are worse than none.
        return winners[0] if len(winners) == 1 and abs(len(winners[0]) - len(word)) <= 2 else None

    def parse(self, text: str) -> ParsedQuery:
        """Parse one query; see the class example."""
        lowered = text.lower()
        lo: float | None = None
        hi: float | None = None
        for pattern, kind in _PRICE_PATTERNS:
            m = pattern.search(lowered)
            if not m:
                continue
            nums = [float(g) for g in m.groups() if g is not None]
            if kind == "range" and len(nums) == 2:
                lo, hi = min(nums), max(nums)
            elif kind == "max" and hi is None:
                hi = nums[0]
            elif kind == "min" and lo is None:
                lo = nums[0]
            lowered = lowered[: m.start()] + " " + lowered[m.end() :]

        raw = tokens(lowered)
        words = [singular(t) for t in raw]
        filters: dict[str, list[str]] = {}
        free: list[str] = []
        corrections: dict[str, str] = {}
        i = 0
        while i < len(words):
            for n in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
                hit = self.phrases_.get(tuple(words[i : i + n]))
                if hit:
                    break
            else:
                n, hit = 1, None
                fixed = self._correct(words[i])
                if fixed is None and raw[i].endswith("es") and words[i].endswith("e"):
                    fixed = self._correct(words[i][:-1])  # "wacthes" -> "wacthe" -> "wacth"
                if fixed is not None:
                    hit = self.phrases_[(fixed,)]
                    corrections[raw[i]] = fixed
            if hit:
                for f, values in hit.items():
                    acc = filters.setdefault(f, [])
                    acc.extend(v for v in values if v not in acc)
            elif words[i] not in STOPWORDS:
                free.append(raw[i])
            i += n

        shown = [v for f in _SHOWN_ORDER for v in filters.get(f, [])]
        if lo is not None and hi is not None:
            shown.append(f"{lo:g}\u2013{hi:g}")
        elif hi is not None:
            shown.append(f"under {hi:g}")
        elif lo is not None:
            shown.append(f"over {lo:g}")
        if corrections:
            logger.debug("query %r: corrected %s", text, corrections)
        ordered = {f: filters[f] for f in FIELDS if f in filters}
        return ParsedQuery(text, ordered, (lo, hi), free, shown, corrections)


def parse_query(
    text: str, vocabulary: Mapping[str, Iterable[str]], *, synonyms: str | Path | None = None
) -> ParsedQuery:
    """Parse `text` against `vocabulary` (field -> catalog values) and the synonym file.

    Builds a fresh :class:`QueryParser`; keep one for repeated queries.

    Example:
        >>> vocab = {"article_type": ["Shirts", "Tshirts"], "gender": ["Men", "Women"],
        ...          "base_colour": ["Navy Blue"], "usage": ["Formal", "Casual"]}
        >>> q = parse_query("navy formal shirt for men under 30", vocab)
        >>> q.shown, q.price
        (['Shirts', 'Men', 'Navy Blue', 'Formal', 'under 30'], (None, 30.0))
    """
    return QueryParser(vocabulary, synonyms=synonyms).parse(text)
