"""What loading a catalog changed or dropped, and why: a report the shop owner can act on."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fashionrec.errors import CatalogError

logger = logging.getLogger(__name__)

ACTIONS = ("fixed", "dropped", "reported")


@dataclass
class CatalogIssue:
    """One problem with one CSV row or image, and what the loader did about it."""

    reason: str
    action: str
    line: int | None = None
    id: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; valid: {', '.join(ACTIONS)}")


@dataclass
class CleaningReport:
    """Counts and per-row issues from loading one catalog.

    ``fixed`` rows were kept after a repair, ``dropped`` rows are not products, ``notes`` are
    file-level observations (encoding, delimiter) that changed nothing per row.

    Example::

        report.add_bad_image("15970", "truncated JPEG")
        print(report.summary())
    """

    csv_path: str
    rows_read: int = 0
    kept: int = 0
    fixed: list[CatalogIssue] = field(default_factory=list)
    dropped: list[CatalogIssue] = field(default_factory=list)
    orphan_images: list[str] = field(default_factory=list)
    bad_images: list[CatalogIssue] = field(default_factory=list)
    missing_values: dict[str, int] = field(default_factory=dict)
    notes: list[CatalogIssue] = field(default_factory=list)

    def fix(
        self, reason: str, *, line: int | None = None, id: str | None = None, detail: str = ""
    ) -> None:
        """Record a repaired row (still kept)."""
        self.fixed.append(CatalogIssue(reason, "fixed", line=line, id=id, detail=detail))

    def drop(
        self, reason: str, *, line: int | None = None, id: str | None = None, detail: str = ""
    ) -> None:
        """Record a row that is not kept as a product."""
        self.dropped.append(CatalogIssue(reason, "dropped", line=line, id=id, detail=detail))

    def note(self, reason: str, *, detail: str = "") -> None:
        """Record a file-level observation."""
        self.notes.append(CatalogIssue(reason, "reported", detail=detail))

    def add_bad_image(self, id: str, reason: str) -> None:
        """Record that product ``id``'s image cannot be used; the product is no longer kept."""
        self.kept = max(0, self.kept - 1)
        self.bad_images.append(CatalogIssue(reason, "dropped", id=str(id)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the per-reason counts the summary shows."""
        d = asdict(self)
        d["counts"] = {
            "fixed": dict(Counter(i.reason for i in self.fixed)),
            "dropped": dict(Counter(i.reason for i in self.dropped)),
            "bad_images": dict(Counter(i.reason for i in self.bad_images)),
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CleaningReport:
        """Inverse of :meth:`to_dict` (ignores the derived ``counts``)."""

        def issues(key: str) -> list[CatalogIssue]:
            return [CatalogIssue(**i) for i in d.get(key, [])]

        return cls(
            csv_path=str(d["csv_path"]),
            rows_read=int(d.get("rows_read", 0)),
            kept=int(d.get("kept", 0)),
            fixed=issues("fixed"),
            dropped=issues("dropped"),
            orphan_images=[str(p) for p in d.get("orphan_images", [])],
            bad_images=issues("bad_images"),
            missing_values={str(k): int(v) for k, v in d.get("missing_values", {}).items()},
            notes=issues("notes"),
        )

    def summary(self) -> str:
        """A few human lines: totals, then counts per reason."""
        lines = [
            f"{self.csv_path}: {self.rows_read} rows read, {self.kept} products kept, "
            f"{len(self.fixed)} fixed, {len(self.dropped)} dropped, "
            f"{len(self.bad_images)} bad images, {len(self.orphan_images)} images without a row"
        ]
        for title, issues in (
            ("fixed", self.fixed),
            ("dropped", self.dropped),
            ("bad image", self.bad_images),
        ):
            for reason, n in Counter(i.reason for i in issues).most_common():
                lines.append(f"  {title}: {reason}: {n}")
        missing = {k: v for k, v in self.missing_values.items() if v}
        if missing:
            lines.append("  missing values: " + ", ".join(f"{k} {v}" for k, v in missing.items()))
        for note in self.notes:
            lines.append(f"  note: {note.reason}" + (f" ({note.detail})" if note.detail else ""))
        return "\n".join(lines)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON atomically (temp file in the same folder, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_dict(), f, indent=1, ensure_ascii=False)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CleaningReport:
        """Read a report written by :meth:`write`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CatalogError(f"cannot read cleaning report {path}: {exc}") from exc
