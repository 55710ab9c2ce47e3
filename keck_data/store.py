"""Low-level bulk writes used inside a :class:`~keck_data.warehouse.Tx` (demo build and imports)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from .analysis import derived
from .policy import Resource
from .warehouse import Tx

INDICATOR_COLUMNS = [
    "key", "name", "topic", "unit", "definition", "calculation", "source", "reference_date", "interpretation",
    "data_owner", "update_cycle", "kind", "numerator", "denominator", "scale", "aggregation", "weight",
    "polarity", "decimals", "released", "ordering", "parts", "share", "ampel_rule", "privacy",
]
VALUE_COLUMNS = ["indicator", "level", "area_key", "year", "value", "status", "origin", "note"]


def indicator_resources(cur, keys, new: dict[str, dict] | None = None) -> list[Resource]:
    """The indicators ``keys`` and, for rates, their numerator and denominator, each with its Themenfeld.

    ``new`` gives indicators not (yet) in the warehouse (key → dict with topic, numerator, denominator); a write
    that touches a rate touches its parts too (releasing a rate publishes what its counts say, and a new rate
    in one Themenfeld must not publish a count of another).
    """
    known = {k: (t, n, d) for k, t, n, d in cur.execute(
        "SELECT key, topic, numerator, denominator FROM indicator").fetchall()}
    known |= {k: (i.get("topic"), i.get("numerator"), i.get("denominator")) for k, i in (new or {}).items()}
    found: dict[str, str | None] = {}
    for key in keys:
        topic, numerator, denominator = known.get(key, (None, None, None))
        found[key] = topic
        for part in (numerator, denominator):
            if part:
                found.setdefault(part, known.get(part, (None,))[0])
    return [Resource("indicator", k, t) for k, t in found.items()]


def display_geometry(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """A simplified copy for maps that keeps shared borders (coverage simplification).

    The tolerance grows until the level has at most about 25 vertices per area (at least 8,000, at most
    60,000 in all), so the map payload stays small for any number of areas.
    """
    max_vertices = min(60_000, max(8_000, 25 * len(geoms)))
    minx, miny, maxx, maxy = geoms.total_bounds
    tolerance = max(maxx - minx, maxy - miny) / 4000
    coverage = bool(shapely.coverage_is_valid(geoms.values))  # gaps/overlaps: simplify each area on its own
    simplified = geoms
    for _ in range(12):
        simplified = geoms.simplify_coverage(tolerance) if coverage else geoms.simplify(tolerance)
        if shapely.get_num_coordinates(simplified.values).sum() <= max_vertices:
            break
        tolerance *= 1.6
    return simplified.make_valid() if not simplified.is_valid.all() else simplified


def replace_levels(tx: Tx, levels: list[dict]) -> None:
    for lv in levels:
        tx.cur.execute(
            "INSERT OR REPLACE INTO spatial_level VALUES (?, ?, ?, ?)",
            [lv["key"], lv["name"], lv.get("parent_level"), lv["ordering"]],
        )
        tx.audit("spatial_level", lv["key"], None, lv)


def upsert_areas(tx: Tx, level: str, areas: gpd.GeoDataFrame) -> None:
    """Insert or update the areas of one level (columns key, name, parent_key, geometry in EPSG:4326)."""
    frame = pd.DataFrame({
        "level": level,
        "key": areas["key"].astype(str).values,
        "name": areas["name"].astype(str).values,
        "parent_key": areas["parent_key"].values if "parent_key" in areas else None,
        "population": areas["population"].values if "population" in areas else None,
        "geom": shapely.to_wkb(areas.geometry.values),
        "geom_display": shapely.to_wkb(display_geometry(areas.geometry).values),
    })
    tx.cur.register("new_areas", frame)
    tx.cur.execute(
        "INSERT OR REPLACE INTO area SELECT level, key, name, parent_key, population, "
        "ST_GeomFromWKB(geom), ST_GeomFromWKB(geom_display) FROM new_areas"
    )
    tx.cur.unregister("new_areas")
    tx.audit("area", level, None, {"level": level, "count": len(frame)})
    derived.mark_level_stale(tx, level, f"Gebiete der Ebene „{level}“ geändert ({tx.action})")


def replace_topics(tx: Tx, topics: list[tuple[str, str]]) -> None:
    for i, (key, name) in enumerate(topics):
        tx.cur.execute("INSERT OR REPLACE INTO topic VALUES (?, ?, ?)", [key, name, i])
    tx.audit("topic", None, None, [k for k, _ in topics])


def upsert_indicators(tx: Tx, indicators: list[dict]) -> None:
    defaults = {"scale": 100.0, "decimals": 1, "released": False, "ordering": 0, "privacy": "threshold"}
    frame = pd.DataFrame([[ind.get(c, defaults.get(c)) for c in INDICATOR_COLUMNS] for ind in indicators],
                         columns=INDICATOR_COLUMNS).astype({"scale": float, "decimals": int, "ordering": int})
    frame["released"] = frame["released"].astype(bool)
    tx.written.update(frame["key"])
    tx.cur.register("new_indicators", frame)
    tx.cur.execute("INSERT OR REPLACE INTO indicator BY NAME SELECT * FROM new_indicators")
    tx.cur.unregister("new_indicators")
    tx.audit("indicator", None, None, [i["key"] for i in indicators])
    derived.mark_stale(tx, frame["key"], _changed("Metadaten", frame["key"], tx))


def upsert_values(tx: Tx, values: pd.DataFrame) -> None:
    """Insert or replace indicator values (columns of VALUE_COLUMNS; origin and note optional)."""
    frame = values.copy()
    frame["origin"] = frame["origin"] if "origin" in frame else "source"
    frame["note"] = frame["note"] if "note" in frame else None
    frame = frame[VALUE_COLUMNS]
    tx.written.update(frame.loc[frame["origin"] == "source", "indicator"].unique())
    tx.cur.register("new_values", frame)
    tx.cur.execute(
        "INSERT OR REPLACE INTO indicator_value SELECT indicator, level, CAST(area_key AS VARCHAR), "
        "CAST(year AS INTEGER), CAST(value AS DOUBLE), status, origin, note FROM new_values"
    )
    tx.cur.unregister("new_values")
    derived.mark_stale(tx, frame["indicator"].unique(), _changed("Werte", frame["indicator"].unique(), tx))


def _changed(what: str, keys, tx: Tx) -> str:
    """Why a derived indicator became stale: "Werte von „a“, „b“ geändert (import-values)"."""
    keys = sorted(set(keys))
    named = ", ".join(f"„{k}“" for k in keys[:3]) + (f" und {len(keys) - 3} weitere" if len(keys) > 3 else "")
    return f"{what} von {named} geändert ({tx.action})"


def insert_pois(tx: Tx, pois: pd.DataFrame) -> None:
    """Insert POIs (columns name, category, address, lon, lat and optional details)."""
    frame = pois.copy()
    for col in ["address", "opening_hours", "target_group", "capacity", "website", "contact", "description"]:
        if col not in frame:
            frame[col] = None
    frame["public"] = frame["public"] if "public" in frame else True
    tx.cur.register("new_pois", frame)
    tx.cur.execute(
        "INSERT INTO poi (name, category, address, geom, opening_hours, target_group, capacity, website, contact, "
        "description, public, updated_by, updated_at) SELECT name, category, address, ST_Point(lon, lat), "
        "opening_hours, target_group, CAST(capacity AS INTEGER), website, contact, description, public, ?, now() "
        "FROM new_pois",
        [tx.actor],
    )
    tx.cur.unregister("new_pois")
    derived.mark_poi_stale(tx, frame["category"].unique())
    tx.audit("poi", None, None, {"inserted": len(frame)})
