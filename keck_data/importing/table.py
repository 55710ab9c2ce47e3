"""Finding the table in a sheet as statistics offices publish it.

A delivered sheet often has a title block (publication title, copyright), one or more group header rows
(merged cells such as "Einwohner am 31.12.2019" over several columns), the row of column names, a row
describing each column, the data rows, total rows at the end and footnotes ("Quelle: …", "1) …").
:func:`detect` recognises these parts and returns the data block with one label per column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import methodcaller

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .files import MISSING_TOKENS, SUPPRESSED_TOKENS

_NUMBER = re.compile(r"^[-+]?(\d{1,3}([.,' ]\d{3})+|\d+)([.,]\d+)?\s*(%|‰|€)?$")
_NO_VALUE = (SUPPRESSED_TOKENS | MISSING_TOKENS | {"/", "x"}) - {""}
_TOTAL = re.compile(r"\b(insgesamt|gesamt|summe|zusammen|total)\b", re.IGNORECASE)
_YEAR = re.compile(r"^(19|20)\d\d$")
MAX_PREVIEW = 40
EDGE = 300  # rows at the top and bottom that are classified cell by cell (title, header, totals, footnotes)

ROLES = {"title": "Titel", "group": "Gruppenkopf", "header": "Spaltennamen", "description": "Beschreibung",
         "data": "Daten", "total": "Summenzeile", "note": "Fußnote", "skipped": "übersprungen", "empty": "leer"}


@dataclass
class Table:
    """The data block of a sheet: one text column per delivered column, labelled by its header rows."""

    frame: pd.DataFrame                      # data rows only, columns = labels, cells = text
    rows: list[int]                          # sheet row number (1-based) of each frame row
    descriptions: dict[str, str]             # label → text of the description row
    roles: np.ndarray                        # role of every sheet row (see ROLES)
    header_row: int                          # 1-based row of the column names
    totals: list[int] = field(default_factory=list)   # sheet rows recognised as totals (kept in frame)
    notes: list[str] = field(default_factory=list)    # footnote texts ("Quelle: …")
    title: str = ""

    def layout(self) -> dict[str, np.ndarray]:
        """Sheet rows (1-based) per role in order of appearance, for the preview and the report."""
        roles = np.asarray(self.roles)
        return {role: np.flatnonzero(roles == role) + 1 for role in pd.unique(roles) if role != "empty"}

    def numeric_columns(self) -> list[str]:
        """Columns whose filled cells are mostly numbers or Zeichen (candidates for values)."""
        out = []
        for col in self.frame.columns:
            cells = self.frame[col][self.frame[col] != ""]
            if len(cells) and cells.map(is_value).mean() >= 0.5:
                out.append(col)
        return out

    def summary(self) -> str:
        """One German line: which rows were recognised as what."""
        parts = []
        for role, rows in self.layout().items():
            span = f"Zeile {rows[0]}" if len(rows) == 1 else f"Zeilen {rows[0]}–{rows[-1]}"
            parts.append(f"{ROLES[role]}: {span}" + (f" ({len(rows)})" if role in ("data", "total") else ""))
        return "; ".join(parts)


def map_unique(values: pd.Series, fn) -> pd.Series:
    """``fn`` applied once per distinct value (a million cells usually hold a few thousand values)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return pd.Series(np.array([fn(u) for u in uniques], dtype=object)[codes], index=values.index)


def is_value(cell: str) -> bool:
    """A number or a Zeichen for no value ("k. A.", "-", ".")."""
    c = cell.strip()
    return bool(_NUMBER.match(c)) or c.lower() in _NO_VALUE


def _filled(row: list[str]) -> list[int]:
    return [j for j, c in enumerate(row) if str(c).strip()]


def _is_data(row: list[str]) -> bool:
    """At least two cells and mostly numbers or Zeichen ("k. A.", "-") – but not a row of year headings."""
    filled = _filled(row)
    if len(filled) < 2:
        return False
    values = [row[j].strip() for j in filled if is_value(row[j])]
    years = [v for v in values if _YEAR.match(v)]
    if len(years) >= 2 and len(years) == len(values) and len(set(years)) == len(years) and len(values) < len(filled):
        return False
    return len(values) >= 1 and len(values) >= (len(filled) - 2) / 2


def _is_title(row: list[str]) -> bool:
    filled = _filled(row)
    return len(filled) == 1 and filled[0] == 0


def _data_run(flags: list[bool], blank: list[bool], start: int = 0) -> tuple[int, int]:
    """(first, last) index of the longest run of data rows from ``start`` (single blank rows inside allowed)."""
    best, i, n = (-1, -1), start, len(flags)
    while i < n:
        if not flags[i]:
            i += 1
            continue
        j, last = i, i
        while j + 1 < n and (flags[j + 1] or (blank[j + 1] and j + 2 < n and flags[j + 2])):
            j += 1
            if flags[j]:
                last = j
        if best[0] < 0 or last - i > best[1] - best[0]:
            best = (i, last)
        if start:
            return best
        i = j + 1
    return best


def _mean_len(row: list[str]) -> float:
    cells = [row[j] for j in _filled(row)]
    return sum(len(c) for c in cells) / len(cells) if cells else 0.0


def detect(grid: list[list[str]], name: str, header_row: int | None = None, skip_rows: int | None = None) -> Table:
    """Recognise title, group headers, column names, description, data, totals and footnotes.

    ``header_row`` (1-based) fixes the row of the column names; ``skip_rows`` fixes how many rows after it
    are not data (e.g. a description row). Without them both are detected.
    """
    rows, n = grid, len(grid)
    edge = set(range(min(EDGE, n))) | set(range(max(0, n - EDGE), n))  # classified cell by cell
    # in the middle of a long table a count of the filled cells suffices (counted in C, not row by row)
    filled = np.fromiter(map(len, rows), np.int64, n) - np.fromiter(map(methodcaller("count", ""), rows), np.int64, n)
    blank, flags = (filled == 0).tolist(), (filled >= 2).tolist()
    for i in edge:
        blank[i], flags[i] = not _filled(rows[i]), _is_data(rows[i])
    if header_row is not None:
        h = header_row - 1
        if not 0 <= h < len(rows) or blank[h]:
            raise ValidationError(f"{name}: Zeile {header_row} ist leer oder gibt es nicht – sie kann nicht die "
                                  "Spaltennamen enthalten.")
        first = h + 1 + (skip_rows or 0)
        if skip_rows is None:
            while first < len(rows) and not flags[first]:
                first += 1
        start, end = _data_run(flags, blank, first) if first < len(rows) else (-1, -1)
        if start != first and skip_rows is not None:
            start = -1
    else:
        start, end = _data_run(flags, blank)
        h = None
    if start < 0 and sum(not b for b in blank) <= 1:
        raise ValidationError(f"{name} enthält nur eine Kopfzeile und keine Daten.")
    if start < 0:
        where = f" unter Zeile {header_row}" if header_row else ""
        raise ValidationError(f"{name}: keine Datenzeilen{where} gefunden (Zeilen mit Gebiet und Zahlen). Bitte die "
                              "Zeile mit den Spaltennamen angeben (Option --header-row bzw. „Zeile der "
                              "Spaltennamen“ im Assistenten).")
    band = _header_band(rows, blank, start if h is None else h + 1)
    if h is None:
        if not band:
            raise ValidationError(f"{name}: über den Daten (ab Zeile {start + 1}) steht keine Zeile mit "
                                  "Spaltennamen. Bitte die Zeile angeben (--header-row).")
        description = band[-1] if len(band) >= 2 and _describes(rows[band[-2]], rows[band[-1]]) else None
        h = band[-2] if description is not None else band[-1]
        groups = [i for i in band if i < h]
    else:
        groups = [i for i in band if i < h]
        description = h + 1 if h + 1 < start and skip_rows != 0 and not blank[h + 1] else None
    labels = _labels(rows, h, groups)
    width = len(labels)
    empty = np.array(blank, dtype=bool)
    roles = np.where(empty, "empty", "title").astype(object)
    roles[groups] = "group"
    roles[h] = "header"
    roles[h + 1:start] = np.where(empty[h + 1:start], "empty", "skipped")
    if description is not None:
        roles[description] = "description"
    data_idx = np.flatnonzero(~empty[start:end + 1]) + start
    body = rows[start:end + 1] if len(data_idx) == end + 1 - start else [rows[i] for i in data_idx]
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    for j in np.flatnonzero(lengths > width):
        if extra := [c for c in body[j][width:] if c.strip()]:
            raise ValidationError(f"{name}, Zeile {data_idx[j] + 1}: {width + len(extra)} gefüllte Felder, aber nur "
                                  f"{width} Spalten in der Kopfzeile – die Werte wären verschoben. Bitte die Zeile "
                                  "prüfen (Trennzeichen im Text? fehlende Anführungszeichen?).")
    if (lengths != width).any():
        pad = [""] * width
        body = [r if len(r) == width else (list(r) + pad)[:width] for r in body]
    roles[data_idx] = "data"
    totals = [i + 1 for i in sorted(edge) if start <= i <= end and not blank[i]
              and any(_TOTAL.search(c) for c in rows[i][:3] if not is_value(c))]
    roles[[t - 1 for t in totals]] = "total"
    roles[end + 1:] = np.where(empty[end + 1:], "empty", "note")
    frame = pd.DataFrame(body, columns=labels, dtype=object)
    frame = pd.DataFrame({c: map_unique(frame[c], str.strip) for c in labels}, columns=labels)
    descriptions = {}
    if description is not None:
        descriptions = {lab: rows[description][j].strip() for j, lab in enumerate(labels)
                        if j < len(rows[description]) and rows[description][j].strip()}
    notes = [" ".join(c.strip() for c in rows[i] if c.strip()) for i in range(end + 1, n) if not blank[i]]
    title = " ".join(rows[i][0].strip() for i in range(h) if roles[i] == "title")
    return Table(frame, (data_idx + 1).tolist(), descriptions, roles, h + 1, totals, notes, title)


def _header_band(rows: list[list[str]], blank: list[bool], below: int) -> list[int]:
    """Indices of the text rows directly above row ``below`` (stopping at a blank or title row)."""
    band = []
    i = below - 1
    while i >= 0 and not blank[i] and not _is_title(rows[i]):
        band.insert(0, i)
        i -= 1
    return band


def _describes(names: list[str], texts: list[str]) -> bool:
    """Is ``texts`` a description row under the column-name row ``names``? (as many cells, longer text)"""
    return len(_filled(names)) >= 0.8 * len(_filled(texts)) and _mean_len(texts) > max(1.5 * _mean_len(names), 20)


def _labels(rows: list[list[str]], h: int, groups: list[int]) -> list[str]:
    """One unique label per column: group header (merged cells filled to the right) + column name."""
    header = rows[h]
    width = max([len(header)] + [len(rows[g]) for g in groups])
    width = max(j + 1 for j in range(width) if any(j < len(rows[r]) and rows[r][j].strip() for r in [h, *groups]))
    filled_groups = []
    for g in groups:
        row, current, out = rows[g], "", []
        for j in range(width):
            cell = row[j].strip() if j < len(row) else ""
            name = header[j].strip() if j < len(header) else ""
            current = cell or (current if name else "")
            out.append(current)
        filled_groups.append(out)
    labels, seen = [], {}
    for j in range(width):
        parts = [grp[j] for grp in filled_groups if grp[j]]
        name = header[j].strip() if j < len(header) else ""
        label = " – ".join(dict.fromkeys(parts + ([name] if name else []))) or f"Spalte {_letter(j)}"
        label = re.sub(r"\s+", " ", label)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels


def _letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def preview(grid: list[list[str]], table: Table, limit: int = MAX_PREVIEW) -> pd.DataFrame:
    """The first rows of the sheet with the recognised role of each (for the wizard)."""
    width = min(max((len(r) for r in grid[:limit]), default=0), 30)
    idx = [i for i, r in enumerate(table.roles) if r != "empty"][:limit]
    body = [(list(grid[i]) + [""] * width)[:width] for i in idx]
    frame = pd.DataFrame(body, columns=[_letter(j) for j in range(width)])
    frame.insert(0, "erkannt als", [ROLES[table.roles[i]] for i in idx])
    frame.insert(0, "Zeile", [i + 1 for i in idx])
    return frame


_MONTHS = {"jan": 1, "feb": 2, "mär": 3, "mar": 3, "apr": 4, "mai": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
           "okt": 10, "nov": 11, "dez": 12}
_FULL_DATE = (r"\d{1,2}\.\s?\d{1,2}\.\s?(?P<y1>(19|20)\d\d)\b"
              r"|(?:jan|feb|mär|mar|apr|mai|jun|jul|aug|sep|okt|nov|dez)[a-zä]*\.?\s+(?P<y2>(19|20)\d\d)\b"
              r"|\d{1,2}/(?P<y3>(19|20)\d\d)\b|(?P<y4>(19|20)\d\d)-\d\d-\d\d\b")
# a year is taken from a column name only where it is a reference date (never "bis 2022", "ab 2019", "2010–2015")
_YEAR_RULES = [
    ("Stichtag im Spaltennamen", re.compile(
        r"\b(?:am|zum|per|stand|stichtag)\s*:?\s*(?P<date>\b(?:" + _FULL_DATE + r"|(?P<y5>(19|20)\d\d)\b))",
        re.IGNORECASE)),
    ("Datum im Spaltennamen", re.compile(r"(?<![\w.])(?P<date>(?:" + _FULL_DATE + "))", re.IGNORECASE)),
    ("Jahr in Klammern am Ende", re.compile(r"\(\s*(?P<date>(?P<y6>(19|20)\d\d)(?:/\d{0,4})?)\s*\)\s*$")),
    ("Jahr als Spaltenname", re.compile(r"(?:^|\s–\s)(?P<date>(?P<y7>(19|20)\d\d))\s*$")),
]
_NOT_A_DATE = re.compile(r"\b(?:bis|ab|seit|von|vor|nach|zwischen|vom|bis zum|ab dem)\s*:?\s*$", re.IGNORECASE)


def column_date(label: str) -> tuple[str, int | None, str]:
    """(label without its reference date, year, date text) – "Einwohner (Dez 2019)" → ("Einwohner", 2019,
    "Dez 2019"); labels without a reference date come back unchanged with year None."""
    return column_year(label)[:3]


def column_year(label: str) -> tuple[str, int | None, str, str]:
    """:func:`column_date` plus the rule that gave the year ("Stichtag im Spaltennamen", "Datum im
    Spaltennamen", "Jahr in Klammern am Ende", "Jahr als Spaltenname"; "" without a year). A date after
    "bis", "ab", "seit" … is a period, not the reference date of the column. Every reference date is removed
    from the name ("Bevölkerung am 31.12.2024 – Merkmal (Dez 2024)" → "Bevölkerung – Merkmal")."""
    first = _reference_date(label)
    if first is None:
        return label, None, "", ""
    stem = first[0]
    while (more := _reference_date(stem)) is not None and more[0] != stem:
        stem = more[0]
    return (stem, *first[1:])


def _reference_date(label: str) -> tuple[str, int, str, str] | None:
    """The reference date of the highest-ranked rule: (label without it, year, date text, rule)."""
    for rule, pattern in _YEAR_RULES:
        found = [m for m in pattern.finditer(label) if not _NOT_A_DATE.search(label[:m.start()])]
        if found:
            m = found[-1]
            break
    else:
        return None
    year = int(next(m.group(g) for g in ("y1", "y2", "y3", "y4", "y5", "y6", "y7") if m.groupdict().get(g)))
    base = (label[:m.start()] + label[m.end():])
    base = re.sub(r"\(\s*[:,]?\s*\)|\[\s*\]", "", base)
    base = re.sub(r"\s+", " ", base).strip(" ,;:–-")
    return base or label, year, m.group("date").strip(), rule
