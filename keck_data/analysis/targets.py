"""Wirkungsziele: the Ampel path rule, its evaluation on privacy-protected values, and the threshold rule.

The path rule (README, "Wirkungsziele und Ampel"): basis = the value of the base year; aktuell = the value of the
latest year after it that has one; expected(year) = basis + (zielwert − basis) · (year − basisjahr) /
(zieljahr − basisjahr). grün: target reached, or aktuell at most ``toleranz`` behind expected(aktuelles Jahr)
("behind" = on the far side from the target); gelb: moved towards the target since the baseline but lags the
path; rot: otherwise; grau: no comparable value (none after the base year, or "k. A.").

Every value comes from :meth:`Atlas.values` (privacy applied, public mode: the published snapshot) rounded to the
indicator's declared decimals, so the internal and the public Ampel agree wherever a value is visible, and a
hidden value gives grau without any hint of the number.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


from .. import classify, fmt
from ..errors import ValidationError
from ..queries import Atlas
from ..warehouse import read_df

DIRECTIONS = {"senken": -1, "erhöhen": 1, "halten": 0}
STATES = ("grün", "gelb", "rot", "grau")
COLORS = {"grün": "#1a9850", "gelb": "#fdd835", "rot": "#d73027", "grau": "#8c8c8c"}
STATE_LABELS = {"grün": "grün – erreicht oder auf Kurs", "gelb": "gelb – in Zielrichtung, hinter dem Pfad",
                "rot": "rot – falsche Richtung oder keine Bewegung", "grau": "grau – kein vergleichbarer Wert"}
RULE_TEXT = ("Ampel-Regel: Basis = Wert im Basisjahr; aktuell = Wert des letzten Jahres nach dem Basisjahr, für das "
             "es einen Wert gibt. Erwartet(Jahr) = Basis + (Zielwert − Basis) · (Jahr − Basisjahr) / (Zieljahr − "
             "Basisjahr). grün: Ziel erreicht oder aktuell höchstens um die Toleranz hinter dem erwarteten Wert "
             "(auf Kurs); gelb: seit dem Basisjahr in Zielrichtung bewegt, aber hinter dem Pfad; rot: falsche "
             "Richtung oder keine Bewegung; grau: kein vergleichbarer Wert (kein neuer Wert seit dem Basisjahr "
             "oder „k. A.“). Bei „halten“: grün, solange der Wert höchstens um die Toleranz vom Zielwert abweicht.")
STATUS_KEYS = ("titel", "indikator", "ebene", "gebiet", "basis", "aktuell", "aktuelles_jahr", "zielwert", "ampel",
               "begruendung")
_EPS = 1e-9


@dataclass(frozen=True)
class Ampel:
    """One target's state with the sentence that explains it."""

    state: str
    reason: str
    basis: float | None = None
    current: float | None = None
    current_year: int | None = None
    expected: float | None = None


def expected_value(basis: float, target_value: float, base_year: int, target_year: int, year: int) -> float:
    """The straight path from the baseline to the target: its value in ``year``."""
    return basis + (target_value - basis) * (year - base_year) / (target_year - base_year)


def ampel(values: dict[int, float], suppressed: set[int] | frozenset[int] = frozenset(), *, base_year: int,
          target_year: int, target_value: float, direction: str, tolerance: float, decimals: int = 1,
          unit: str | None = None, as_of: int | None = None) -> Ampel:
    """The Ampel of one target from its yearly values (``values``: year → value shown; ``suppressed``: years
    shown as "k. A."; years without either have no data). ``as_of`` ignores later years (the map's year)."""
    def n(v: float) -> str:
        return fmt.with_unit(v, decimals, unit)

    if direction not in DIRECTIONS:
        raise ValidationError(f"Unbekannte Richtung „{direction}“ (möglich: {', '.join(DIRECTIONS)}).")
    if base_year in suppressed:
        return Ampel("grau", f"Basiswert {base_year} „k. A.“ (Datenschutz): kein Vergleich möglich.")
    basis = values.get(base_year)
    if basis is None:
        return Ampel("grau", f"Kein Basiswert für {base_year}: kein Vergleich möglich.")
    later = sorted(y for y in {*values, *suppressed} if y > base_year and (as_of is None or y <= as_of))
    if not later:
        return Ampel("grau", f"Noch kein Wert nach dem Basisjahr {base_year} (Basis {n(basis)}).", basis)
    year = later[-1]
    if year in suppressed:
        return Ampel("grau", f"Wert {year} „k. A.“ (Datenschutz): keine Aussage möglich.", basis, None, year)
    current = values[year]
    expected = expected_value(basis, target_value, base_year, target_year, year)
    found = {"basis": basis, "current": current, "current_year": year, "expected": expected}
    now = f"{n(current)} ({year})"
    sign = DIRECTIONS[direction]
    if sign == 0:
        off = abs(current - target_value)
        if off <= tolerance + _EPS:
            return Ampel("grün", f"Gehalten: {now} weicht höchstens {n(tolerance)} vom Zielwert {n(target_value)} "
                                 "ab.", **found)
        if off < abs(basis - target_value) - _EPS:
            return Ampel("gelb", f"Näher am Zielwert {n(target_value)} als im Basisjahr ({n(basis)}), aber {now} "
                                 f"weicht um {n(off)} ab (Toleranz {n(tolerance)}).", **found)
        return Ampel("rot", f"Nicht gehalten: {now} weicht um {n(off)} vom Zielwert {n(target_value)} ab "
                            f"(Toleranz {n(tolerance)}).", **found)
    if sign * (current - target_value) >= -_EPS:
        return Ampel("grün", f"Ziel erreicht: {now}, Zielwert {n(target_value)}.", **found)
    behind = sign * (expected - current)
    path = f"laut Pfad erwartet {n(expected)}, Toleranz {n(tolerance)}"
    if behind <= tolerance + _EPS:
        return Ampel("grün", f"Auf Kurs: {now}, {path}.", **found)
    if sign * (current - basis) > _EPS:
        return Ampel("gelb", f"In Zielrichtung (Basis {n(basis)} → {now}), aber {n(behind)} hinter dem Pfad "
                             f"({path}).", **found)
    moved = "Keine Bewegung" if abs(current - basis) <= _EPS else "Falsche Richtung"
    return Ampel("rot", f"{moved}: Basis {n(basis)} ({base_year}) → {now}; Ziel: {direction} auf "
                        f"{n(target_value)} bis {target_year}.", **found)


# -- targets of a warehouse ------------------------------------------------------------------------------------

def targets(atlas: Atlas) -> pd.DataFrame:
    """The targets this atlas may show (public: released targets of released indicators).

    Returns
    -------
    DataFrame with columns id, title, indicator, level, area_key, base_year, target_year, target_value, direction,
    tolerance, criterion, responsible, status, released, ampel (last evaluated state), version, updated_by,
    updated_at, indicator_name, unit, decimals, topic, area_name, level_name
    """
    frame = read_df(atlas.wh, "SELECT t.*, i.name AS indicator_name, i.unit, i.decimals, i.topic, "
                              "a.name AS area_name, l.name AS level_name FROM target t "
                              "JOIN indicator i ON i.key = t.indicator "
                              "LEFT JOIN area a ON a.level = t.level AND a.key = t.area_key "
                              "LEFT JOIN spatial_level l ON l.key = t.level "
                              "WHERE (NOT ? OR (t.released AND i.released)) ORDER BY t.id", [atlas.public])
    return frame[frame["indicator"].isin(atlas.indicators()["key"])].reset_index(drop=True)


def evaluate(atlas: Atlas, frame: pd.DataFrame | None = None, as_of: int | None = None) -> pd.DataFrame:
    """The Ampel of every target of ``frame`` (default: :func:`targets`), from the values the atlas shows.

    Returns ``frame`` with the added columns state, reason, basis, current, current_year, expected.
    """
    frame = targets(atlas) if frame is None else frame
    out = frame.copy()
    results: list[Ampel] = []
    if len(frame):
        vals = atlas.values(sorted(set(frame["indicator"])))
        wanted = frame[["indicator", "level", "area_key", "decimals"]].drop_duplicates(["indicator", "level",
                                                                                        "area_key"])
        vals = vals.merge(wanted, on=["indicator", "level", "area_key"])
        series: dict[tuple, tuple[dict, set]] = {}
        for ind, lv, key, year, value, status, dec in vals[["indicator", "level", "area_key", "year", "value",
                                                            "status", "decimals"]].itertuples(index=False):
            shown, hidden = series.setdefault((ind, lv, key), ({}, set()))
            if status == "ok":
                shown[int(year)] = round(float(value), int(dec))
            elif status == "suppressed":
                hidden.add(int(year))
        for t in frame.itertuples(index=False):
            shown, hidden = series.get((t.indicator, t.level, t.area_key), ({}, set()))
            results.append(ampel(shown, hidden, base_year=int(t.base_year), target_year=int(t.target_year),
                                 target_value=float(t.target_value), direction=t.direction,
                                 tolerance=float(t.tolerance), decimals=int(t.decimals), unit=t.unit, as_of=as_of))
    out["state"] = [r.state for r in results]
    out["reason"] = [r.reason for r in results]
    for col in ("basis", "current", "current_year", "expected"):
        out[col] = [getattr(r, col) for r in results]
    return out


EVALUATED = "targets_evaluated"  # meta key: the data version the stored evaluations were made on
EVALUATION_COLUMNS = ("state", "reason", "basis", "current", "current_year", "expected")


def evaluation_json(row) -> str:
    """One target's stored evaluation (the columns of :data:`EVALUATION_COLUMNS`)."""
    return json.dumps({c: None if _missing(getattr(row, c)) else getattr(row, c) for c in EVALUATION_COLUMNS},
                      ensure_ascii=False, default=float)


def current(atlas: Atlas) -> pd.DataFrame:
    """:func:`evaluate` of every target, read from the evaluations stored with the targets when they were made on
    exactly the data this atlas shows (every import, edit and target change stores them); else computed now."""
    frame = targets(atlas)
    stored = frame["evaluation"].dropna()
    if (atlas.public or len(stored) < len(frame) or not len(frame)
            or atlas.wh.meta(EVALUATED) != atlas.data_version()):
        return evaluate(atlas, frame)
    parsed = pd.DataFrame([json.loads(e) for e in stored], index=frame.index, columns=list(EVALUATION_COLUMNS))
    return pd.concat([frame, parsed], axis=1)


def status_rows(evaluated: pd.DataFrame) -> list[dict]:
    """``ziele status --json``: one object per target with exactly :data:`STATUS_KEYS`."""
    return [dict(zip(STATUS_KEYS, [r.title, r.indicator, r.level, r.area_key, _num(r.basis), _num(r.current),
                                   None if _missing(r.current_year) else int(r.current_year),
                                   float(r.target_value), r.state, r.reason]))
            for r in evaluated.itertuples(index=False)]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _num(v) -> float | None:
    return None if _missing(v) else float(v)


def path_points(target: pd.Series) -> pd.DataFrame:
    """The straight path from baseline to target for the Zeitreihe (year, value), None without a baseline."""
    if _missing(target.get("basis")):
        return pd.DataFrame(columns=["year", "value"])
    years = [int(target["base_year"]), int(target["target_year"])]
    return pd.DataFrame({"year": years, "value": [float(target["basis"]), float(target["target_value"])]})


# -- Ampel without targets: a threshold rule in the indicator's metadata ------------------------------------------

RULE_LABEL = "Schwellenregel (kein Ziel)"
_RULE = re.compile(r"^\s*(sd|cut)\s*:\s*(.+)$", re.IGNORECASE)


def parse_rule(text: str | None) -> tuple[str, list[float]] | None:
    """"sd:1" (more than 1 standard deviation worse than the town = rot, worse than the town = gelb) or
    "cut:10;20" (fixed cut-offs: up to 10 grün, up to 20 gelb, above rot – for "hoch ist gut" the other way)."""
    if not isinstance(text, str) or not text.strip():
        return None
    m = _RULE.match(str(text))
    numbers = [p.strip().replace(",", ".") for p in m[2].split(";")] if m else []
    try:
        values = [float(p) for p in numbers]
    except ValueError:
        values = []
    kind = m[1].lower() if m else ""
    if kind == "sd" and len(values) == 1 and values[0] > 0:
        return kind, values
    if kind == "cut" and len(values) == 2 and values[0] < values[1]:
        return kind, values
    raise ValidationError(f"Ampel-Regel „{text}“ nicht verstanden. Möglich: „sd:1“ (mehr als 1 Standardabweichung "
                          "ungünstiger als der städtische Wert = rot, ungünstiger als die Stadt = gelb) oder "
                          "„cut:10;20“ (feste Grenzen: bis 10 grün, bis 20 gelb, darüber rot).")


def describe_rule(text: str, polarity: str, decimals: int = 1, unit: str | None = None) -> str:
    """The rule in German, as shown next to the map."""
    kind, values = parse_rule(text)
    worse = "über" if polarity != "high_good" else "unter"
    if kind == "sd":
        return (f"{RULE_LABEL}: rot = mehr als {fmt.number(values[0], 1)} Standardabweichung {worse} dem "
                f"städtischen Wert, gelb = {worse} dem städtischen Wert, grün = sonst.")
    low, high = (fmt.with_unit(v, decimals, unit) for v in values)
    if polarity == "high_good":
        return f"{RULE_LABEL}: grün = ab {high}, gelb = ab {low}, rot = unter {low}."
    return f"{RULE_LABEL}: grün = bis {low}, gelb = bis {high}, rot = über {high}."


def rule_states(values: pd.Series, statuses: pd.Series, city: float | None, text: str, polarity: str
                ) -> list[str]:
    """The threshold rule's state per value (grau for "k. A." and areas without data)."""
    if polarity not in ("high_bad", "high_good"):
        raise ValidationError("Eine Schwellenregel braucht die Polarität „hoch ist gut“ oder „hoch ist schlecht“.")
    kind, limits = parse_rule(text)
    sign = 1.0 if polarity == "high_bad" else -1.0
    ok = statuses.eq("ok")
    shown = values.astype(float)
    sd = float(shown[ok].std(ddof=0)) if ok.sum() > 1 else 0.0
    out = []
    for v, visible in zip(shown, ok):
        if not visible:
            out.append("grau")
        elif kind == "sd":
            if city is None or _missing(city):
                out.append("grau")
                continue
            worse = sign * (v - city)
            out.append("rot" if worse > limits[0] * sd + _EPS else "gelb" if worse > _EPS else "grün")
        else:
            low, high = (limits if sign > 0 else [-limits[1], -limits[0]])
            w = sign * v
            out.append("grün" if w <= low + _EPS else "gelb" if w <= high + _EPS else "rot")
    return out


def map_states(atlas: Atlas, indicator: str, level: str, year: int) -> tuple[pd.DataFrame, str]:
    """The Ampel per area of a level for the map: targets of the indicator on that level if there are any
    (evaluated with the values up to ``year``; abandoned ones left out), else the indicator's threshold rule,
    else nothing.

    Returns (DataFrame key, state (grün/gelb/rot/grau or None = kein Ziel), reason; the legend's heading).
    """
    values = atlas.level_values(indicator, level, year)
    mine = targets(atlas)
    mine = mine[(mine["indicator"] == indicator) & (mine["level"] == level) & (mine["status"] != "aufgegeben")]
    out = pd.DataFrame({"key": values["key"], "state": None, "reason": "kein Ziel"})
    if len(mine):
        done = evaluate(atlas, mine, as_of=year).drop_duplicates("area_key", keep="last").set_index("area_key")
        known = out["key"].isin(done.index)
        out.loc[known, "state"] = out.loc[known, "key"].map(done["state"])
        out.loc[known, "reason"] = out.loc[known, "key"].map("Ziel „" + done["title"] + "“: " + done["reason"])
        return out, "Ampel der Wirkungsziele"
    ind = atlas.indicator(indicator)
    rule = ind.get("ampel_rule")
    if isinstance(rule, str) and rule.strip() and ind["polarity"] != "neutral":
        city = atlas.reference_values(indicator, year)
        town = city.loc[city["status"].eq("ok"), "value"]
        out["state"] = rule_states(values["value"], values["status"], float(town.iloc[0]) if len(town) else None,
                                   rule, ind["polarity"])
        out["reason"] = describe_rule(rule, ind["polarity"], int(ind["decimals"]), ind["unit"])
        return out, RULE_LABEL
    return out, "Ampel: für diesen Indikator gibt es auf dieser Ebene kein Ziel und keine Schwellenregel"


class AmpelClassification(classify.Classification):
    """The map's classes are the Ampel states (grün, gelb, rot, grau); −1 = no target and no rule."""

    def color_of(self, i: int, status: str) -> str:
        return classify.COLOR_MISSING if i < 0 else self.colors[i]


def ampel_classification(states: pd.DataFrame, keys: pd.Series) -> AmpelClassification:
    """The Ampel of :func:`map_states` as the map's classification, with the legend's counts."""
    by_key = dict(zip(states["key"], states["state"]))
    classes = np.array([STATES.index(by_key[k]) if by_key.get(k) in STATES else -1 for k in keys], dtype=int)
    legend = [classify.LegendEntry(STATE_LABELS[s], COLORS[s], int((classes == i).sum()))
              for i, s in enumerate(STATES)]
    legend.append(classify.LegendEntry("kein Ziel", classify.COLOR_MISSING, int((classes < 0).sum())))
    return AmpelClassification(bounds=[], classes=classes, colors=[COLORS[s] for s in STATES], legend=legend)
