"""Helpers for benchmarks: warehouses at several scales, timing."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from keck_data import aggregation, store
from keck_data.policy import Resource, system
from keck_data.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
BERLIN_PLR = ROOT.parent / "shared" / "data" / "berlin-lor" / "geometry" / "berlin-lor-planning-areas-until-2020.idfix.geojson"


def timed(fn, repeat: int = 7) -> tuple[float, object]:
    """Median wall time in ms over ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def germany_like(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` Voronoi areas over a Germany-sized box (stands in for all German Gemeinden)."""
    rng = np.random.default_rng(seed)
    box = shapely.box(5.9, 47.3, 15.0, 55.0)
    pts = np.column_stack([rng.uniform(5.9, 15.0, n), rng.uniform(47.3, 55.0, n)])
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=box))
    cells = shapely.set_precision(shapely.intersection(cells, box), 1e-6)
    return gpd.GeoDataFrame({"key": [f"{i:08d}" for i in range(len(cells))],
                             "name": [f"Gemeinde {i}" for i in range(len(cells))]}, geometry=cells, crs=4326)


def build_warehouse(path: Path, areas: gpd.GeoDataFrame, municipality: str, n_indicators: int = 6) -> Path:
    """A one-level warehouse (plus the whole as Gesamtstadt) with random counts and rates for 2 years."""
    path.unlink(missing_ok=True)
    rng = np.random.default_rng(3)
    areas = areas.assign(parent_key="0")
    whole = gpd.GeoDataFrame({"key": ["0"], "name": [municipality], "parent_key": [None]},
                             geometry=[shapely.union_all(areas.geometry.values)], crs=4326)
    inds = [{"key": "pop", "name": "Einwohner", "topic": "t", "unit": "Personen", "kind": "count",
             "aggregation": "sum", "polarity": "neutral", "decimals": 0, "definition": "d", "calculation": "c",
             "source": "s", "reference_date": "r", "released": True}]
    for i in range(n_indicators):
        inds.append({"key": f"n{i}", "name": f"Zähler {i}", "topic": "t", "unit": "Personen", "kind": "count",
                     "aggregation": "sum", "polarity": "high_bad", "decimals": 0, "definition": "d",
                     "calculation": "c", "source": "s", "reference_date": "r", "released": True})
        inds.append({"key": f"r{i}", "name": f"Quote {i}", "topic": "t", "unit": "%", "kind": "rate",
                     "aggregation": "ratio", "numerator": f"n{i}", "denominator": "pop", "scale": 100.0,
                     "polarity": "high_bad", "decimals": 1, "definition": "d", "calculation": "c", "source": "s",
                     "reference_date": "r", "released": True})
    rows = []
    for year in (2023, 2024):
        pop = rng.integers(50, 20000, len(areas))
        rows.append(pd.DataFrame({"indicator": "pop", "area_key": areas["key"], "year": year, "value": pop}))
        for i in range(n_indicators):
            num = rng.binomial(pop, rng.uniform(0.01, 0.4, len(areas)))
            rows.append(pd.DataFrame({"indicator": f"n{i}", "area_key": areas["key"], "year": year, "value": num}))
            rows.append(pd.DataFrame({"indicator": f"r{i}", "area_key": areas["key"], "year": year,
                                      "value": num / pop * 100}))
    values = pd.concat(rows).assign(level="gebiet", status="ok")

    def populate(tx):
        tx.cur.execute("INSERT OR REPLACE INTO meta VALUES ('municipality', ?)", [municipality])
        store.replace_levels(tx, [{"key": "gesamt", "name": "Gesamt", "ordering": 0},
                                  {"key": "gebiet", "name": "Gebiet", "parent_level": "gesamt", "ordering": 1}])
        store.upsert_areas(tx, "gesamt", whole)
        store.upsert_areas(tx, "gebiet", areas)
        store.replace_topics(tx, [("t", "Thema")])
        store.upsert_indicators(tx, inds)
        store.upsert_values(tx, values)
        aggregation.refresh_aggregates(tx)

    with Warehouse(path) as wh:
        wh.write(system("bench"), "init-demo", [Resource("level", "gebiet")], populate)
    return path
