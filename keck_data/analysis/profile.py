"""Auffälligkeiten: what stands out in an area — every indicator with its value, the town's value, the
deviation in SD over the level's areas (polarity-aware), its rank and its change since a base year; the three
that stand out most as German sentences.

Counts are left out (an area's count against the town's total says nothing); "k. A." and "keine Daten" are
named as such and never ranked. Rank 1 is the least favourable value (highest where a high value is bad or
neutral, lowest where it is good).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import fmt
from ..errors import NotFoundError, ValidationError
from ..privacy import LABEL_MISSING, LABEL_SUPPRESSED

STRONG, NOTABLE = 1.0, 0.5  # |deviation| in SD: "deutlich", "ungünstig"/"günstig"
BASE_YEARS_BACK = 4
COLUMNS = ["indicator", "name", "unit", "polarity", "value", "status", "value_text", "town_value", "town_text",
           "deviation", "assessment", "deviation_text", "rank", "of", "rank_text", "base_year", "change",
           "change_text"]


@dataclass
class Profile:
    """``rows``: the columns of COLUMNS, sorted by |deviation| (values without deviation last)."""

    area: str
    name: str
    level: str
    year: int
    base_year: int | None
    rows: pd.DataFrame

    def sentences(self, n: int = 3) -> list[str]:
        """The ``n`` indicators that stand out most, in plain German."""
        out = []
        for r in self.rows.dropna(subset=["deviation"]).head(n).itertuples():
            where = _where(r.deviation, r.value, r.town_value)
            town = f" ({r.town_text})" if isinstance(r.town_text, str) and r.town_text != "–" else ""
            text = f"{r.name}: {self.name} liegt mit {r.value_text} {where}{town}"
            if r.assessment in ("ungünstig", "günstig"):
                text += f" – {r.assessment}"
            text += f"; {r.rank_text}"
            if r.change == 0:
                text += f"; seit {r.base_year} unverändert"
            elif r.change_text:
                text += f"; seit {r.base_year} {r.change_text.replace('Pp.', 'Prozentpunkte')}"
            out.append(text + ".")
        return out

    def as_json(self) -> dict:
        rows = self.rows.astype(object).where(self.rows.notna(), None).to_dict(orient="records")
        return {"area": self.area, "name": self.name, "level": self.level, "year": self.year,
                "base_year": self.base_year, "rows": rows, "sentences": self.sentences()}


def profile(atlas, area: str, level: str, year: int, base_year: int | None = None) -> Profile:
    """The profile of ``area`` on ``level`` in ``year`` (shown values only: privacy applied)."""
    areas = atlas.areas(level)
    if area not in set(areas["key"]):
        raise NotFoundError(f"Das Gebiet „{area}“ gibt es auf der Ebene „{atlas.level_name(level)}“ nicht.")
    years = atlas.years()
    if year not in years:
        raise ValidationError(f"Für {year} gibt es keine Werte" + (f" (vorhanden: {min(years)}–{max(years)})."
                                                                  if years else "."))
    if base_year is None:  # the earliest of the last four years, else the latest earlier one
        earlier = [y for y in years if y < year]
        recent = [y for y in earlier if y >= year - BASE_YEARS_BACK]
        base_year = min(recent) if recent else max(earlier) if earlier else None
    if base_year is not None and base_year >= year:
        raise ValidationError(f"Das Vergleichsjahr {base_year} muss vor {year} liegen.")
    inds = atlas.indicators()
    inds = inds[inds["kind"] != "count"].set_index("key")
    vals = atlas.values(list(inds.index), [year] + ([base_year] if base_year else []))
    top = atlas.levels().iloc[0]["key"]
    rows = [_row(inds.loc[key], key, v, area, level, top, year, base_year)
            for key, v in vals.groupby("indicator", sort=False)
            if ((v["level"] == level) & (v["year"] == year)).any()]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.assign(_far=-frame["deviation"].abs().fillna(-1), _order=frame["indicator"].map(
        {k: i for i, k in enumerate(inds.index)})).sort_values(["_far", "_order"]).drop(columns=["_far", "_order"])
    name = areas.set_index("key").loc[area, "name"]
    return Profile(area, name, level, year, base_year, frame.reset_index(drop=True))


def _row(ind: pd.Series, key: str, v: pd.DataFrame, area: str, level: str, top: str, year: int,
         base_year: int | None) -> list:
    decimals, unit, polarity = int(ind["decimals"]), ind["unit"], ind["polarity"]
    now = v[(v["level"] == level) & (v["year"] == year)]
    shown = now.loc[now["status"].eq("ok") & now["value"].notna(), ["area_key", "value"]]
    mine = now[now["area_key"] == area]
    status = mine["status"].iloc[0] if len(mine) else "missing"
    value = float(mine["value"].iloc[0]) if status == "ok" and mine["value"].notna().all() else np.nan
    town = v[(v["level"] == top) & (v["year"] == year) & v["status"].eq("ok")]["value"]
    town_value = float(town.iloc[0]) if len(town) else np.nan
    deviation = rank = of = change = np.nan
    assessment, rank_text = "", LABEL_SUPPRESSED if status == "suppressed" else LABEL_MISSING
    if not np.isnan(value) and len(shown) > 1:
        x = shown["value"].to_numpy(float)
        sd = x.std()
        deviation = float((value - x.mean()) / sd) if sd > 0 else 0.0
        worse = x < value if polarity == "high_good" else x > value
        rank, of = int(worse.sum()) + 1, len(x)
        rank_text = f"Rang {rank} von {of}"
        sign = -1 if polarity == "high_good" else 1
        assessment = ("" if polarity == "neutral" else "ungünstig" if sign * deviation >= NOTABLE
                      else "günstig" if sign * deviation <= -NOTABLE else "unauffällig")
        base = v[(v["level"] == level) & (v["year"] == base_year) & (v["area_key"] == area) & v["status"].eq("ok")]
        change = float(value - base["value"].iloc[0]) if len(base) else np.nan
    return [key, ind["name"], unit, polarity, value, status, fmt.value_text(value, status, decimals, unit),
            town_value, fmt.with_unit(town_value, decimals, unit), deviation, assessment,
            "" if np.isnan(deviation) else f"{deviation:+.1f} SD".replace(".", ",").replace("-", "−"),
            rank, of, rank_text, base_year, change, fmt.difference(change, decimals, unit)]


def _where(deviation: float, value: float, town: float) -> str:
    """"deutlich über dem städtischen Wert", "etwa auf dem städtischen Wert" …"""
    reference = "dem städtischen Wert" if not np.isnan(town) else "dem Mittel der Gebiete"
    above = value > town if not np.isnan(town) else deviation > 0
    if abs(deviation) < 0.25 or (not np.isnan(town) and value == town):
        return f"etwa auf {reference}"
    return f"{'deutlich ' if abs(deviation) >= STRONG else ''}{'über' if above else 'unter'} {reference}"
