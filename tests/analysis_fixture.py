"""A six-area town with three indicators whose standardised values are worked out by hand (analysis tests).

Level "gebiet" (01–06 under the town "0"), year 2023 (and 2019 for changes):

    area  A (hoch ist schlecht)   B (hoch ist gut)   C (hoch ist schlecht)
    01     6   z −2                18  z −1 → +1       6   z +1
    02    10   z  0                20  z  0            4   z −1
    03    10   z  0                20  z  0            –  (keine Daten)
    04    10   z  0                20  z  0            4   z −1
    05    12   z +1                18  z −1 → +1       6   z +1
    06    12   z +1                24  z +2 → −2       k. A. (delivered suppressed)

A: mean 10, population SD 2; B: mean 20, SD 2; C over the four areas with a value: mean 5, SD 1.
2019: A 4 lower everywhere (so the change of A is +4), B and C as in 2023.
"""
from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from keck_data import aggregation, store
from keck_data.policy import Resource, system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse

AREAS = ["01", "02", "03", "04", "05", "06"]
NAMES = ["Altstadt", "Brunnenviertel", "Castell", "Dorfmitte", "Eichenhain", "Fischerkiez"]
A = [6, 10, 10, 10, 12, 12]
B = [18, 20, 20, 20, 18, 24]
C = [6, 4, None, 4, 6, "k. A."]
LEVEL, YEAR, BASE = "gebiet", 2023, 2019


def _indicator(key: str, name: str, polarity: str, ordering: int) -> dict:
    return {"ordering": ordering, "key": key, "name": name, "topic": "soziale_lage", "unit": "%", "definition": f"{name} (Test)",
            "calculation": "gegeben", "source": "Test", "reference_date": "31.12.", "kind": "mean",
            "aggregation": "none", "polarity": polarity, "decimals": 1, "released": True}


def build(path) -> None:
    """Write the fixture warehouse at ``path``."""
    squares = [shapely.box(i * 0.01, 0, (i + 1) * 0.01, 0.01) for i in range(6)]
    town = gpd.GeoDataFrame({"key": ["0"], "name": ["Teststadt"], "parent_key": [None]},
                            geometry=[shapely.box(0, 0, 0.06, 0.01)], crs=4326)
    areas = gpd.GeoDataFrame({"key": AREAS, "name": NAMES, "parent_key": "0"}, geometry=squares, crs=4326)
    rows = []
    for year, shift in ((YEAR, 0), (BASE, -4)):
        for key, series in (("a", np.array(A) + shift), ("b", B), ("c", C)):
            for area, v in zip(AREAS, series):
                status = "suppressed" if v == "k. A." else "missing" if v is None else "ok"
                rows.append([key, LEVEL, area, year, float(v) if status == "ok" else None, status])
        rows += [[k, "stadt", "0", year, v, "ok"] for k, v in (("a", 10.0 + shift), ("b", 20.0), ("c", 5.0))]
    values = pd.DataFrame(rows, columns=["indicator", "level", "area_key", "year", "value", "status"])

    def write(tx):
        store.replace_levels(tx, [{"key": "stadt", "name": "Gesamtstadt", "parent_level": None, "ordering": 0},
                                  {"key": LEVEL, "name": "Gebiet", "parent_level": "stadt", "ordering": 1}])
        store.upsert_areas(tx, "stadt", town)
        store.upsert_areas(tx, LEVEL, areas)
        store.upsert_indicators(tx, [_indicator("a", "Quote A", "high_bad", 1),
                                     _indicator("b", "Quote B", "high_good", 2),
                                     _indicator("c", "Quote C", "high_bad", 3)])
        store.upsert_values(tx, values)
        aggregation.refresh_aggregates(tx)
        tx.cur.execute("INSERT OR REPLACE INTO meta VALUES ('municipality', 'Teststadt')")
    with Warehouse(path) as wh:
        wh.write(system(), "init-demo", [Resource("level", "test")], write)


@pytest.fixture(scope="module")
def six_file(tmp_path_factory):
    """The fixture warehouse, built once per test module."""
    path = tmp_path_factory.mktemp("six") / "keck.duckdb"
    build(path)
    return path


@pytest.fixture(scope="module")
def atlas(six_file):
    """A read-only Atlas on it (held for the module)."""
    wh = Warehouse(six_file, read_only=True)
    yield Atlas(wh)
    wh.close()


@pytest.fixture()
def six_copy(six_file, tmp_path, monkeypatch):
    """A private copy to write to, also the CLI's warehouse (the module's connection holds the original)."""
    path = tmp_path / "keck.duckdb"
    shutil.copy(six_file, path)
    monkeypatch.setenv("KECK_WAREHOUSE", str(path))
    return path
