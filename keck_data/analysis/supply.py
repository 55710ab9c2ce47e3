"""Versorgungsanalyse: places of a POI category against a demand indicator per area (issue 21).

Per area of a level: places (Σ capacity of the category's POIs inside), demand (the protected value of the
demand indicator), Versorgungsquote (places per 100), gap to a target ratio, Erreichbarkeit (share of the
demand with a POI within D metres) and 2SFCA (places per demand unit reachable, :mod:`.catchment`) — and the
same for every coarser level, aggregated as Σ places / Σ demand and demand-weighted over the demand points.

Demand sits at the areas' representative points, or — where the level has a finer level with values of the
demand indicator — at the finer areas' points weighted by their values. Privacy: demand is read through
:class:`~keck_data.queries.Atlas` (small counts already "k. A."); every result built on a hidden value is hidden.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import shapely

from ..errors import NotFoundError, ValidationError
from ..queries import Atlas
from . import derived
from .catchment import to_metres, two_step_fca, utm_epsg

CAPACITY_FIELDS = ("capacity",)  # numeric POI fields that can be places
# status: of the demand (ok | suppressed = "k. A." | missing); access_status: "suppressed" where the reach or
# 2SFCA value is hidden because a demand count it depends on is hidden
COLUMNS = ["level", "key", "name", "places", "pois", "demand", "status", "quote", "gap", "reachable_share", "sfca",
           "access_status"]


@dataclass(frozen=True)
class Question:
    """What to compare: a POI category's places against a demand indicator on a level and year."""

    category: str
    demand: str
    level: str
    year: int
    radius_m: float = 500.0
    capacity_field: str = "capacity"
    target: float = 100.0  # places per 100 of the demand (e.g. 100 % for children 3–6)
    public_pois: bool = False  # only POIs shown publicly (saved results: nothing reveals a hidden facility)

    def method(self, epsg: int, points_level: str) -> dict:
        """The derivation as metadata (for the JSON answer and the derived indicators)."""
        return {"name": "Versorgungsquote, Erreichbarkeit und 2SFCA", "category": self.category,
                "capacity_field": self.capacity_field, "demand": self.demand, "level": self.level,
                "year": self.year, "radius_m": self.radius_m, "target_per_100": self.target,
                "public_pois": self.public_pois,
                "distance": f"Luftlinie in ETRS89 / UTM (EPSG:{epsg}), d ≤ D", "crs": f"EPSG:{epsg}",
                "demand_points": f"repräsentative Punkte der Ebene „{points_level}“, gewichtet mit der Nachfrage",
                "quote": "Plätze je 100 der Nachfrage; übergeordnet Σ Plätze / Σ Nachfrage",
                "reachable_share": "Anteil der Nachfrage (%) mit einer Einrichtung im Umkreis D",
                "sfca": "2SFCA: R_j = S_j / Σ_{k: d_kj ≤ D} P_k, A_i = Σ_{j: d_ij ≤ D} R_j, "
                        "je Gebiet nach Nachfrage gewichtet (Plätze je Kind)",
                "privacy": "Nachfrage mit „k. A.“ macht jeden daraus abgeleiteten Wert des Gebiets zu „k. A.“; "
                           "übergeordnete Gebiete gewichten nur Punkte mit sichtbaren Eingaben"}


@dataclass
class Inputs:
    """Everything a computation needs, read once; a scenario changes only ``pois``."""

    question: Question
    pois: pd.DataFrame  # id, name, capacity (NaN: none), lon, lat
    areas: pd.DataFrame  # level, key, name, parent_key (this level and every coarser one)
    geometry: pd.DataFrame  # key, geom of the chosen level (EPSG:4326)
    demand: pd.DataFrame  # level, area_key, value, status (protected)
    points: pd.DataFrame  # area_key (of the chosen level), lon, lat, demand (NaN: hidden)
    points_level: str
    chain: list[str] = field(default_factory=list)  # the chosen level, then its parents up to the top
    epsg: int = 25832
    points_name: str = ""  # German name of points_level (for the method text)


def load(atlas: Atlas, q: Question) -> Inputs:
    """Read POIs, areas, geometry and the protected demand for ``q``; German errors for unknown choices."""
    if q.capacity_field not in CAPACITY_FIELDS:
        raise ValidationError(f"Das Feld „{q.capacity_field}“ enthält keine Platzzahlen; möglich: "
                              + ", ".join(CAPACITY_FIELDS) + ".")
    if not q.radius_m > 0:
        raise ValidationError(f"Der Umkreis muss größer als 0 m sein (angegeben: {q.radius_m}).")
    cats = atlas.poi_categories()
    if q.category not in set(cats["key"]):
        raise NotFoundError(f"Die Einrichtungsart „{q.category}“ gibt es nicht; vorhanden: "
                            + ", ".join(cats["key"]) + ".")
    ind = atlas.indicator(q.demand)
    if ind["kind"] != "count":
        raise ValidationError(f"Die Nachfrage muss eine Anzahl sein (z. B. Kinder 3–6); „{ind['name']}“ ist "
                              f"vom Typ „{ind['kind']}“.")
    levels = atlas.levels().set_index("key")
    atlas.level_name(q.level)
    chain = [q.level]
    while isinstance(parent := levels.loc[chain[-1], "parent_level"], str) and parent in levels.index:
        chain.append(parent)
    demand = atlas.values([q.demand], [q.year])
    if demand.empty:
        raise NotFoundError(f"Für „{ind['name']}“ gibt es im Jahr {q.year} keine Werte.")
    areas = pd.concat([atlas.areas(lv).assign(level=lv) for lv in chain], ignore_index=True)
    geometry = atlas.area_geometry(q.level)
    finer = [k for k, p in levels["parent_level"].items() if p == q.level]
    points_level = finer[0] if finer and (demand["level"] == finer[0]).any() else q.level
    pts = atlas.area_geometry(points_level)
    vals = demand[demand["level"] == points_level].set_index("area_key")["value"]
    points = pd.DataFrame({"area_key": pts["key"] if points_level == q.level else pts["parent_key"],
                           "lon": pts["px"], "lat": pts["py"], "demand": pts["key"].map(vals).astype(float)})
    source = Atlas(atlas.wh, public=True, rule=atlas.rule) if q.public_pois else atlas
    pois = source.pois([q.category])[["id", "name", q.capacity_field, "lon", "lat"]].rename(
        columns={q.capacity_field: "capacity"})
    pois["capacity"] = pois["capacity"].astype(float)
    return Inputs(q, pois, areas, geometry[["key", "geom"]], demand[["level", "area_key", "value", "status"]],
                  points, points_level, chain, utm_epsg(points["lon"].to_numpy()), atlas.level_name(points_level))


@dataclass(frozen=True)
class Result:
    """Rows per area of the chosen level and of every coarser level (COLUMNS), and the POIs not counted."""

    rows: pd.DataFrame
    without_capacity: list[str]  # names of POIs without a capacity (never counted as 0 places)
    outside: list[str]  # names of POIs outside every area of the level
    method: dict

    def level_rows(self, level: str | None = None) -> pd.DataFrame:
        return self.rows[self.rows["level"] == (level or self.method["level"])].reset_index(drop=True)

    def worst_supplied(self) -> str | None:
        """Key of the area of the chosen level with the lowest quote (demand shown and > 0; ties: smallest key)."""
        rows = self.level_rows().dropna(subset=["quote"])
        return None if rows.empty else rows.sort_values(["quote", "key"]).iloc[0]["key"]

    def as_json(self) -> dict:
        """The fixed CLI answer: areas (key, name, places, demand, quote, reachable_share, sfca) of the chosen
        level, pois_without_capacity (count), method (with the parents' rows and the POIs' names)."""
        def area(r) -> dict:
            return {"key": r.key, "name": r.name, "places": int(r.places), "demand": _num(r.demand),
                    "quote": _num(r.quote), "reachable_share": _num(r.reachable_share), "sfca": _num(r.sfca)}
        parents = self.rows[self.rows["level"] != self.method["level"]]
        return {"areas": [area(r) for r in self.level_rows().itertuples()],
                "pois_without_capacity": len(self.without_capacity),
                "method": {**self.method, "pois_without_capacity_names": self.without_capacity,
                           "pois_outside_areas": self.outside,
                           "parents": [{"level": r.level, **area(r)} for r in parents.itertuples()]}}


def compute(inputs: Inputs, pois: pd.DataFrame | None = None) -> Result:
    """The supply table for ``inputs`` (or for a scenario's changed ``pois``)."""
    q = inputs.question
    pois = inputs.pois if pois is None else pois
    home = _assign(pois, inputs.geometry)
    epsg = inputs.epsg
    pts = inputs.points
    catch = two_step_fca(to_metres(pts["lon"], pts["lat"], epsg), pts["demand"].to_numpy(float),
                         to_metres(pois["lon"], pois["lat"], epsg), pois["capacity"].to_numpy(float), q.radius_m)
    weight = pts["demand"].to_numpy(float)
    known = ~np.isnan(weight)
    known_acc = known & ~np.isnan(catch.access)
    point_rows = pd.DataFrame({  # sums over the points whose inputs are visible, and how many are not
        "w": np.where(known, weight, 0.0), "reach": np.where(known & catch.reached, weight, 0.0),
        "w_acc": np.where(known_acc, weight, 0.0),
        "acc": np.where(known_acc & (weight > 0), np.nan_to_num(catch.access, posinf=0.0) * weight, 0.0),
        "hide_share": ~known, "hide_sfca": ~known_acc})
    poi_rows = pd.DataFrame({"area_key": home, "places": pois["capacity"].fillna(0.0)})
    rows = []
    ancestors = _ancestors(inputs)
    for level in inputs.chain:
        up = ancestors[level]
        places = poi_rows.assign(key=poi_rows["area_key"].map(up)).groupby("key")["places"].agg(["sum", "size"])
        by_pt = point_rows.assign(key=pts["area_key"].map(up)).groupby("key").sum()
        dem = inputs.demand[inputs.demand["level"] == level].set_index("area_key")
        for a in inputs.areas[inputs.areas["level"] == level].itertuples():
            rows.append(_row(level, a.key, a.name, places, by_pt, dem, q.target, strict=level == q.level))
    return Result(pd.DataFrame(rows, columns=COLUMNS),
                  sorted(pois.loc[pois["capacity"].isna(), "name"]),
                  sorted(pois.loc[pd.isna(home), "name"]),
                  q.method(epsg, inputs.points_name or inputs.points_level) | {"hidden_points": int((~known).sum())})


def _row(level, key, name, places, by_pt, dem, target, strict: bool) -> list:
    """One area's row. ``strict`` (the chosen level): reach and 2SFCA are "k. A." where any demand they depend
    on is; coarser levels weigh only the points whose inputs are visible (a hidden count is treated like a
    missing one, so the aggregate reveals nothing about it)."""
    n_places = float(places["sum"].get(key, 0.0))
    status = dem["status"].get(key, "missing")
    demand = float(dem["value"].get(key)) if status == "ok" and pd.notna(dem["value"].get(key)) else None
    quote = n_places / demand * 100 if demand else None
    gap = max(0, math.ceil(round(target / 100 * demand - n_places, 9))) if demand is not None else None
    share = sfca = None
    pt = by_pt.loc[key] if key in by_pt.index else None
    access = status
    if status == "ok" and pt is not None:
        hide_share, hide_sfca = strict and pt["hide_share"] > 0, strict and pt["hide_sfca"] > 0
        share = pt["reach"] / pt["w"] * 100 if pt["w"] > 0 and not hide_share else None
        sfca = pt["acc"] / pt["w_acc"] if pt["w_acc"] > 0 and not hide_sfca else None
        access = "suppressed" if hide_sfca else "ok"
    if status == "ok" and demand == 0:
        status = access = "missing"  # no demand: a quote would divide by zero
    return [level, key, name, int(round(n_places)), int(places["size"].get(key, 0)), demand, status, quote, gap,
            share, sfca, access]


def _assign(pois: pd.DataFrame, geometry: pd.DataFrame) -> np.ndarray:
    """The key of the area each POI lies in (None outside every area; on a shared edge the smaller key)."""
    keys = np.full(len(pois), None, dtype=object)
    if pois.empty:
        return keys
    tree = shapely.STRtree(geometry["geom"].to_numpy())
    i, j = tree.query(shapely.points(pois["lon"], pois["lat"]), predicate="intersects")
    for poi, area in sorted(zip(i, j), key=lambda p: (p[0], -p[1])):  # last write wins: the smallest key
        keys[poi] = geometry["key"].iloc[area]
    return keys


def _ancestors(inputs: Inputs) -> dict[str, dict]:
    """For every level of the chain: key of the chosen level → key of its area on that level."""
    parent = {lv: dict(zip(g["key"], g["parent_key"])) for lv, g in inputs.areas.groupby("level")}
    keys = list(inputs.areas.loc[inputs.areas["level"] == inputs.question.level, "key"])
    out, current = {}, {k: k for k in keys}
    for i, level in enumerate(inputs.chain):
        if i:
            current = {k: parent[inputs.chain[i - 1]].get(v) for k, v in current.items()}
        out[level] = current
    return out


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def with_changes(inputs: Inputs, added: list[dict] = (), closed: list[int] = ()) -> pd.DataFrame:
    """The POIs of a scenario: planned facilities added (name, lon, lat, capacity), closed ones (ids) removed."""
    pois = inputs.pois[~inputs.pois["id"].isin(list(closed))]
    for n, new in enumerate(added):
        if not new.get("capacity") or float(new["capacity"]) <= 0:
            raise ValidationError(f"Geplante Einrichtung {n + 1}: bitte eine Platzzahl größer als 0 angeben.")
        if not (-180 <= float(new["lon"]) <= 180 and -90 <= float(new["lat"]) <= 90):
            raise ValidationError(f"Geplante Einrichtung {n + 1}: die Koordinaten ({new['lon']}, {new['lat']}) "
                                  "sind keine Länge/Breite in Grad.")
    extra = pd.DataFrame([{"id": -(n + 1), "name": a.get("name") or f"Geplante Einrichtung {n + 1}",
                           "capacity": float(a["capacity"]), "lon": float(a["lon"]), "lat": float(a["lat"])}
                          for n, a in enumerate(added)], columns=pois.columns)
    return pd.concat([pois, extra], ignore_index=True) if len(extra) else pois.reset_index(drop=True)


def analyse(atlas: Atlas, q: Question) -> Result:
    """``compute(load(atlas, q))``: the supply table of the warehouse as it is."""
    return compute(load(atlas, q))



# -- results as derived indicators -----------------------------------------------------------------------------

MEASURES = {  # measure → (German name, unit, decimals, the row's status column)
    "quote": ("Versorgungsquote", "Plätze je 100", 1, "status"),
    "reachable_share": ("Erreichbarkeit", "%", 1, "access_status"),
    "sfca": ("2SFCA-Versorgung", "Plätze je Kind", 3, "access_status"),
}
KEY_PREFIX = "vs_"  # keys of saved supply results (the public Versorgung page lists the released ones)


def indicator_key(q: Question, measure: str) -> str:
    radius = "" if measure == "quote" else f"_{int(round(q.radius_m))}m"
    return f"{KEY_PREFIX}{q.category}_{q.demand}_{q.level}_{q.year}_{measure}{radius}"


def derived_values(result: Result, measure: str) -> pd.DataFrame:
    """level, area_key, year, value, status of one measure for every row (hidden where its inputs are)."""
    rows = result.rows
    value = rows[measure].astype(float)
    status = np.where(rows[MEASURES[measure][3]].eq("suppressed") | rows["status"].eq("suppressed"), "suppressed",
                      np.where(value.isna(), "missing", "ok"))
    return pd.DataFrame({"level": rows["level"], "area_key": rows["key"], "year": result.method["year"],
                         "value": value.where(status == "ok"), "status": status})


def save_results(wh, user, q: Question) -> list[str]:
    """Save quote, reachable share and 2SFCA as derived indicators (method "supply"); returns their keys.

    Computed from the public POIs only: a released result must not reveal the places of a hidden facility."""
    atlas = Atlas(wh)
    q = replace(q, public_pois=True)
    result = analyse(atlas, q)
    m = result.method
    category = dict(zip(atlas.poi_categories()["key"], atlas.poi_categories()["name"]))[q.category]
    demand = atlas.indicator(q.demand)["name"]
    topics = set(atlas.topics()["key"])
    keys = []
    for measure, (label, unit, decimals, _) in MEASURES.items():
        params = {k: m[k] for k in ("category", "capacity_field", "demand", "level", "year", "radius_m",
                                    "target_per_100", "crs", "public_pois")} | {"measure": measure}
        within = ""
        if measure == "quote":
            params.pop("radius_m")
        else:
            within = f", {fmt_m(q.radius_m)}"
        meta = {"key": indicator_key(q, measure), "name": f"{label} {category} – {demand} {q.year}{within}",
                "definition": m[measure], "unit": unit, "decimals": decimals, "polarity": "high_good",
                "calculation": f"{m['name']}: {m[measure]}; Entfernung: {m['distance']}; Nachfragepunkte: "
                               f"{m['demand_points']}; nur öffentlich gezeigte Einrichtungen; {m['privacy']}"}
        if "kinderbetreuung" in topics:
            meta["topic"] = "kinderbetreuung"
        derived.save(wh, user, meta, derived.Derivation("supply", {q.demand: 1.0}, params),
                     derived_values(result, measure))
        keys.append(meta["key"])
    return keys


def fmt_m(metres: float) -> str:
    return f"{int(round(metres)):,} m".replace(",", ".")


def recompute(atlas: Atlas, derivation) -> pd.DataFrame:
    """Recompute one saved measure from its derivation (called by :func:`derived.recompute`)."""
    p = derivation.parameters
    q = Question(p["category"], p["demand"], p["level"], int(p["year"]), radius_m=float(p.get("radius_m", 500.0)),
                 capacity_field=p["capacity_field"], target=float(p["target_per_100"]),
                 public_pois=bool(p.get("public_pois", True)))
    return derived_values(analyse(atlas, q), p["measure"])
