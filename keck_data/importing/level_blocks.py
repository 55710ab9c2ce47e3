"""Rows of a coarser level inside a sheet, read as blocks.

A profile sheet lists the Stadtteile, then a block of Bezirke (some named like a Stadtteil), then the town.
A row whose name fits the import level and a coarser level has two readings. It takes the coarser one when it
stands in a **block**: a run of consecutive rows that all fit that coarser level and contains at least one row
that fits only there. An area matched twice then prefers the reading in which every row has one place
(:func:`resolve_doubles`). A clerk can fix the level of a row range (``--level-rows 104-110=stadtbezirk``).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .matching import RULES

LevelRows = list[tuple[int, int, str]]  # (first row, last row, level key), sheet rows 1-based
_SPEC = re.compile(r"^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*=\s*(.+?)\s*$")
OPTION = "--level-rows"
WIZARD = "„Ebene für Zeilenbereich“ im Assistenten"


def parse(specs: list[str] | None, levels: dict[str, str]) -> LevelRows:
    """"104-110=stadtbezirk" (level key or name, any case) → [(104, 110, "stadtbezirk")]; German errors."""
    out = []
    by_name = {k.lower(): k for k in levels} | {n.lower(): k for k, n in levels.items()}
    for spec in specs or []:
        m = _SPEC.match(spec)
        if not m:
            raise ValidationError(f"{OPTION} „{spec}“: bitte als Zeilenbereich=Ebene angeben, z. B. "
                                  f"„104-110={next(reversed(levels))}“.")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        level = by_name.get(m.group(3).lower())
        if level is None:
            raise ValidationError(f"{OPTION} „{spec}“: Raumebene „{m.group(3)}“ unbekannt (möglich: "
                                  + ", ".join(f"{k} ({n})" for k, n in levels.items()) + ").")
        if last < first:
            raise ValidationError(f"{OPTION} „{spec}“: der Bereich endet vor seinem Anfang.")
        out.append((first, last, level))
    return out


def alternatives(result: pd.DataFrame, per_level: dict[str, pd.DataFrame], levels: dict[str, str], level: str
                 ) -> pd.DataFrame:
    """The second reading of rows matched on the import level by name that a coarser level also names
    (columns alt_level, alt_key, alt_rule; None where there is none)."""
    result = result.assign(alt_level=None, alt_key=None, alt_rule=None)
    by_name = result["level"].eq(level) & result["rule"].isin([RULES["name"], RULES["name_norm"]])
    for lv in list(levels)[1:]:
        got = per_level.get(lv)
        if got is None:
            continue
        take = by_name & result["alt_level"].isna() & got["rule"].isin(["key", "key_norm", "name", "name_norm"])
        result.loc[take, "alt_level"] = lv
        result.loc[take, "alt_key"] = got.loc[take, "area_key"]
        result.loc[take, "alt_rule"] = [f"{levels[lv]}: {RULES[r]}" for r in got.loc[take, "rule"]]
    return result


def swap(result: pd.DataFrame, take: pd.Series, note: str) -> None:
    """Rows ``take`` change to their other reading (the old one becomes the alternative)."""
    old = result.loc[take, ["level", "area_key", "rule"]].to_numpy()
    result.loc[take, ["level", "area_key"]] = result.loc[take, ["alt_level", "alt_key"]].to_numpy()
    result.loc[take, "rule"] = [f"{r} ({note})" for r in result.loc[take, "alt_rule"]]
    result.loc[take, ["alt_level", "alt_key", "alt_rule"]] = old


def _runs(levels_per_row: pd.Series) -> list[tuple[int, int]]:
    """Positions (start, end inclusive) of runs of equal non-empty values (vectorised: a long file has a
    million rows)."""
    codes = pd.factorize(levels_per_row, use_na_sentinel=True)[0]
    if not len(codes):
        return []
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:] - 1, len(codes) - 1]
    keep = codes[starts] >= 0
    return list(zip(starts[keep].tolist(), ends[keep].tolist()))


def assign(result: pd.DataFrame, per_level: dict[str, pd.DataFrame], levels: dict[str, str], level: str,
           level_rows: LevelRows) -> pd.DataFrame:
    """Per row (in sheet order, columns sheet, row, uid, level, area_key, rule, alt_*): rows in a block of a
    coarser level take that level; rows in a range of ``level_rows`` are matched on the given level only."""
    if result["alt_level"].isna().all() and not level_rows:
        return result
    for sheet, idx in result.groupby("sheet", sort=False).groups.items():
        part = result.loc[idx]
        fits = part["alt_level"].where(part["alt_level"].notna(), part["level"].where(part["level"] != level))
        for start, end in _runs(fits):
            block = part.index[start:end + 1]
            ambiguous = result.loc[block, "alt_level"].notna() & result.loc[block, "level"].eq(level)
            if ambiguous.any() and not ambiguous.all():
                swap(result, ambiguous.reindex(result.index, fill_value=False), "Ebenenblock")
    for first, last, lv in level_rows:
        take = result["row"].between(first, last)
        got = per_level.get(lv)
        if got is None:
            continue
        reading = got.loc[result.loc[take, "uid"]].set_axis(result.index[take])
        ok = reading["rule"].isin(["key", "key_norm", "name", "name_norm"])
        result.loc[take, "level"] = lv
        result.loc[take, "area_key"] = reading["area_key"].where(ok, None)
        result.loc[take, "rule"] = [f"{levels[lv]}: {RULES[r]} ({OPTION})" if o else None
                                    for r, o in zip(reading["rule"], ok)]
        result.loc[take, "reason"] = [None if o else f"als {levels[lv]} angegeben ({OPTION}), aber kein Gebiet "
                                      f"dieser Ebene passt" for o in ok]
        result.loc[take, ["alt_level", "alt_key", "alt_rule"]] = None
    return result


def describe(result: pd.DataFrame, levels: dict[str, str], level: str) -> list[str]:
    """"Zeilen 104–110: Stadtbezirk" for every run of rows on a coarser level (sheet named if several)."""
    out = []
    several = result["sheet"].nunique() > 1
    for sheet, part in result.groupby("sheet", sort=False):
        on = part["level"].where(part["level"].notna() & part["level"].ne(level))
        for start, end in _runs(on):
            first, last = part["row"].iloc[start], part["row"].iloc[end]
            span = f"Zeile {first}" if first == last else f"Zeilen {first}–{last}"
            out.append((f"{sheet}, " if several else "") + f"{span}: {levels[on.iloc[start]]}")
    return out


def resolve_doubles(rows: pd.DataFrame, data: pd.DataFrame) -> pd.Series:
    """Rows (positions in ``rows``, the matched rows) to switch to their other reading so that no area gets
    two values for one indicator and year: a doubled row switches when its other place is free, preferring
    the row whose neighbours stand on that other level."""
    keys = ["indicator", "level", "area_key", "year"]
    matched = data[data["area_key"].notna()]
    doubled = matched[matched.duplicated(keys, keep=False)]
    flip = pd.Series(False, index=rows.index)
    if doubled.empty:
        return flip
    taken = set(map(tuple, matched[keys].to_numpy().tolist()))
    fits = rows["level"].where(rows["alt_level"].isna(), rows["alt_level"])

    def neighbours(rid: int) -> int:
        lv = rows.at[rid, "alt_level"]
        near = [r for r in (rid - 1, rid + 1) if r in rows.index and rows.at[r, "sheet"] == rows.at[rid, "sheet"]]
        return sum(rows.at[r, "level"] == lv or fits[r] == lv for r in near)

    for (_, _, _, _), group in doubled.groupby(keys, sort=False):
        rids = [r for r in dict.fromkeys(group["rid"]) if pd.notna(rows.at[r, "alt_level"]) and not flip[r]]
        for rid in sorted(rids, key=lambda r: (-neighbours(r), -r)):
            mine = data[data["rid"] == rid]
            alt = {(i, rows.at[rid, "alt_level"], rows.at[rid, "alt_key"], y)
                   for i, y in zip(mine["indicator"], mine["year"])}
            if not alt & taken:
                flip[rid] = True
                taken |= alt
                break
    return flip


def refuse_doubles(rows: pd.DataFrame, data: pd.DataFrame, levels: dict[str, str], names: dict, source: str
                   ) -> None:
    """Two rows on one area (same indicator and year): a German message naming both rows, both readings and
    the option that resolves it."""
    keys = ["indicator", "level", "area_key", "year"]
    matched = data[data["area_key"].notna()]
    doubled = matched[matched.duplicated(keys, keep=False)]
    if doubled.empty:
        return

    def reading(lv, key) -> str:
        return f"{levels[lv]} {key} „{names.get((lv, key), key)}“"

    lines, hints = [], []
    for (ind, lv, key, year), group in list(doubled.groupby(keys, sort=False))[:5]:
        parts = []
        for rid in dict.fromkeys(group["rid"]):
            r = rows.loc[rid]
            other = (f", auch lesbar als {reading(r['alt_level'], r['alt_key'])}" if pd.notna(r["alt_level"])
                     else "")
            parts.append(f"Zeile {r['row']} gelesen als {reading(lv, key)} ({r['rule']}){other}")
            if pd.notna(r["alt_level"]):
                hints.append(f"{OPTION} {r['row']}={r['alt_level']}")
        lines.append(f"{ind} {year}: " + "; ".join(parts))
    hint = (f"Bitte die Ebene der Zeilen angeben, z. B. {', '.join(dict.fromkeys(hints))} ({WIZARD})" if hints
            else f"Bitte eine der Zeilen entfernen oder die Ebene der Zeilen angeben ({OPTION} ZEILEN=EBENE, "
                 f"{WIZARD})")
    raise ValidationError(f"{source}: Werte sind doppelt vorhanden, zwei Zeilen ergeben dasselbe Gebiet – "
                          + " | ".join(lines)
                          + f". {hint}. Nichts gespeichert.")
