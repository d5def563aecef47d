"""Messy CSV text -> clean rows of canonical values, every repair and drop in the report."""

from __future__ import annotations

import csv
import difflib
import io
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from fashionrec.errors import CatalogError

from .report import CleaningReport
from .schema import CANONICAL_FIELDS, ColumnMapping

logger = logging.getLogger(__name__)

#: Cell values read as missing (compared case-insensitively after stripping whitespace).
NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})
_MAX_ID_LEN = 200
_LONG_RECORD_LINES = 5


@dataclass
class Rows:
    """Parsed rows: ids in CSV order, one value list per mapped field, CSV line of each row."""

    ids: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    values: dict[str, list[object]] = field(default_factory=dict)


def decode_csv(data: bytes, report: CleaningReport) -> str:
    """UTF-8 (with or without BOM), else cp1252 / Latin-1 with a note in the report."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        for enc in ("cp1252", "latin-1"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            report.note(
                "CSV is not UTF-8", detail=f"read as {enc} ({exc.reason} at byte {exc.start})"
            )
            break
    if "\x00" in text:
        text = text.replace("\x00", "")
        report.note("CSV contains NUL characters", detail="removed")
    return text


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """Yield (first physical line, last physical line, fields); blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    prev = 0
    try:
        for fields in reader:
            start, prev = prev + 1, reader.line_num
            if fields:
                yield start, prev, fields
    except csv.Error as exc:
        raise CatalogError(
            f"CSV unreadable near line {reader.line_num}: {exc} (an unclosed quote?)"
        ) from exc


def _parse_year(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        x = float(raw)  # "2012.0" from spreadsheet exports; ValueError propagates
        if not x.is_integer():
            raise ValueError(raw) from None
        return int(x)


def _parse_price(raw: str) -> float:
    x = float(raw.replace("_", "x"))  # float() accepts "1_000"; a price should not
    if not math.isfinite(x) or x < 0:
        raise ValueError(raw)
    return x


_PARSERS = {"year": _parse_year, "price": _parse_price}


def _bad_id(pid: str) -> str | None:
    if len(pid) > _MAX_ID_LEN:
        return f"longer than {_MAX_ID_LEN} characters"
    if "/" in pid or "\\" in pid or pid in (".", ".."):
        return "contains a path separator"
    if any(not c.isprintable() for c in pid):
        return "contains control characters"
    return None


def _close_column(col: str, header: list[str]) -> str:
    lowered = {h.lower(): h for h in header}
    hit = difflib.get_close_matches(col.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[hit[0]]!r}?)" if hit else ""


def header_indices(
    header: list[str], mapping: ColumnMapping, report: CleaningReport
) -> dict[str, int]:
    """Column index of each mapped field; a missing column is a CatalogError with a hint.

    A column that differs only in letter case ("ID" for "id") is accepted, with a note.
    """
    first: dict[str, int] = {}
    for i, col in enumerate(header):
        first.setdefault(col, i)
    folded: dict[str, list[int]] = {}
    for i, col in enumerate(header):
        folded.setdefault(col.casefold(), []).append(i)
    indices: dict[str, int] = {}
    missing = []
    for fld, col in mapping.columns.items():
        if col in first:
            indices[fld] = first[col]
        elif len(folded.get(col.casefold(), [])) == 1:
            indices[fld] = folded[col.casefold()][0]
            report.note(
                "column name differs in case", detail=f"{col!r} read from {header[indices[fld]]!r}"
            )
        else:
            missing.append((fld, col))
    if missing:
        what = ", ".join(f"{c!r} for {f}{_close_column(c, header)}" for f, c in missing)
        raise CatalogError(
            f"{report.csv_path} lacks columns that mapping {mapping.name!r} expects: {what}. "
            f"Columns found: {', '.join(header) or 'none'}. Use a mapping file or "
            "--column field=column to point at the right columns."
        )
    return indices


def parse_rows(text: str, mapping: ColumnMapping, report: CleaningReport) -> Rows:
    """Parse CSV text into canonical rows, repairing what can be repaired."""
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    if delimiter != ",":
        report.note("CSV delimiter is not a comma", detail=f"using {delimiter!r}")
    records = _records(text, delimiter)
    header: list[str] = []
    for _, _, fields in records:
        header = [h.strip() for h in fields]
        break
    if not any(header):
        raise CatalogError(f"{report.csv_path} is empty: no header row")
    if len(set(header)) < len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        report.note(
            "duplicate column names in header", detail=f"first one used: {', '.join(dupes)}"
        )
    idx = header_indices(header, mapping, report)
    n = len(header)
    name_idx = idx.get("name")
    fields_in_order = [f for f in CANONICAL_FIELDS if f in idx and f != "id"]
    rows = Rows(values={f: [] for f in fields_in_order})
    seen: dict[str, int] = {}
    id_idx = idx["id"]

    for line, last, cells in records:
        if last - line >= _LONG_RECORD_LINES:
            # Usually an unclosed quote that swallowed the rows after it.
            report.note("record spans many lines (unclosed quote?)", detail=f"lines {line}-{last}")
        if not any(c.strip() for c in cells):
            if len(cells) > 1:  # a row of bare delimiters, not a blank line
                report.rows_read += 1
                report.drop("empty row", line=line)
            continue
        report.rows_read += 1
        if len(cells) > n:
            cells = _fix_surplus(cells, n, name_idx, line, header, report)
            if cells is None:
                continue
            if report.fixed and report.fixed[-1].line == line:
                report.fixed[-1].id = cells[id_idx].strip() or None
        if len(cells) < n:
            short_id = cells[id_idx].strip() if id_idx < len(cells) else ""
            report.drop(
                "too few fields",
                line=line,
                id=short_id or None,
                detail=f"got {len(cells)}, expected {n}",
            )
            continue
        pid = cells[id_idx].strip()
        if not pid:
            report.drop("empty id", line=line)
            continue
        if why := _bad_id(pid):
            report.drop("invalid id", line=line, id=pid[:80], detail=why)
            continue
        if pid in seen:
            report.drop("duplicate id", line=line, id=pid, detail=f"first on line {seen[pid]}")
            continue
        seen[pid] = line
        rows.ids.append(pid)
        rows.lines.append(line)
        for fld in fields_in_order:
            raw = cells[idx[fld]].strip()
            value: object = None
            if raw.lower() not in NA_TOKENS:
                parser = _PARSERS.get(fld)
                if parser is None:
                    value = raw
                else:
                    try:
                        value = parser(raw)
                    except ValueError:
                        report.fix(
                            f"invalid {fld}",
                            line=line,
                            id=pid,
                            detail=f"{raw[:40]!r} set to missing",
                        )
            rows.values[fld].append(value)
    return rows


def _fix_surplus(
    cells: list[str],
    n: int,
    name_idx: int | None,
    line: int,
    header: list[str],
    report: CleaningReport,
) -> list[str] | None:
    surplus = len(cells) - n
    if not any(c.strip() for c in cells[n:]):
        report.fix("trailing delimiters", line=line, detail=f"{surplus} empty fields removed")
        return cells[:n]
    if name_idx is None:
        report.drop(
            "too many fields",
            line=line,
            id=None,
            detail=f"got {len(cells)}, expected {n}; no name column to rejoin into",
        )
        return None
    # Unquoted commas in a product name split it into several fields; the commas were in the
    # original text, so rejoin with commas to restore it exactly.
    joined = ",".join(cells[name_idx : name_idx + surplus + 1])
    fixed = cells[:name_idx] + [joined] + cells[name_idx + surplus + 1 :]
    report.fix(
        "unquoted comma in name",
        line=line,
        detail=f"{surplus + 1} fields rejoined into {header[name_idx]!r}",
    )
    return fixed
