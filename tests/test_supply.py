"""Versorgungsanalyse on a hand-computable fixture: 2 areas, 3 POIs, 4 demand points (issue 21).

Metres in ETRS89 / UTM 32N from (500 000, 5 700 000); areas A = x 0–1000, B = x 1000–2000 (y 0–1000), both in
the town "0". Demand points (y = 500): p1 x=100 P=10, p2 x=900 P=20 (in A); p3 x=1100 P=30, p4 x=1900 P=40 (in B).
POIs: s1 x=150 S=20 (A), s2 x=1050 S=30 (B), s3 x=1500 without capacity (B).
With D = 200 m: s1 reaches p1; s2 reaches p2 and p3; nobody reaches p4; s3 reaches nobody.
"""
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from keck_data.analysis import supply
from keck_data.analysis.catchment import utm_epsg
from keck_data.errors import ValidationError

X0, Y0 = 500_000, 5_700_000
BACK = Transformer.from_crs(25832, 4326, always_xy=True)


def lonlat(x, y):
    return BACK.transform(X0 + x, Y0 + y)


def square(x1, x2):
    return shapely.Polygon([lonlat(x, y) for x, y in [(x1, 0), (x2, 0), (x2, 1000), (x1, 1000)]])


def fixture(radius=200.0, point_demand=(10, 20, 30, 40), area_status=("ok", "ok")) -> supply.Inputs:
    q = supply.Question("kita", "kinder", "bezirk", 2024, radius_m=radius)
    pois = pd.DataFrame([(1, "s1", 20.0, *lonlat(150, 500)), (2, "s2", 30.0, *lonlat(1050, 500)),
                         (3, "s3", np.nan, *lonlat(1500, 500))], columns=["id", "name", "capacity", "lon", "lat"])
    areas = pd.DataFrame([("bezirk", "A", "Nord", "0"), ("bezirk", "B", "Süd", "0"), ("stadt", "0", "Stadt", None)],
                         columns=["level", "key", "name", "parent_key"])
    geometry = pd.DataFrame({"key": ["A", "B"], "geom": [square(0, 1000), square(1000, 2000)]})
    a, b = 30, 70  # the areas' own (visible) totals, also when a finer count is "k. A."
    demand = pd.DataFrame([("bezirk", "A", a, area_status[0]), ("bezirk", "B", b, area_status[1]),
                           ("stadt", "0", a + b, "ok")], columns=["level", "area_key", "value", "status"])
    xy = [lonlat(x, 500) for x in (100, 900, 1100, 1900)]
    points = pd.DataFrame({"area_key": ["A", "A", "B", "B"], "lon": [p[0] for p in xy], "lat": [p[1] for p in xy],
                           "demand": [float(d) for d in point_demand]})
    return supply.Inputs(q, pois, areas, geometry, demand, points, "block", ["bezirk", "stadt"], 25832)


def rows(result):
    return result.rows.set_index("key")


def test_quote_reach_and_2sfca_by_hand():
    r = rows(supply.compute(fixture()))
    # R_s1 = 20 / 10 = 2;  R_s2 = 30 / (20 + 30) = 0.6;  A = (2, 0.6, 0.6, 0)
    assert r.loc["A", "places"] == 20 and r.loc["A", "demand"] == 30
    assert r.loc["A", "quote"] == pytest.approx(20 / 30 * 100)
    assert r.loc["A", "gap"] == 10
    assert r.loc["A", "reachable_share"] == pytest.approx(100.0)
    assert r.loc["A", "sfca"] == pytest.approx((10 * 2 + 20 * 0.6) / 30)
    assert r.loc["B", "places"] == 30 and r.loc["B", "pois"] == 2  # s3 lies in B but has no places
    assert r.loc["B", "quote"] == pytest.approx(30 / 70 * 100) and r.loc["B", "gap"] == 40
    assert r.loc["B", "reachable_share"] == pytest.approx(30 / 70 * 100)
    assert r.loc["B", "sfca"] == pytest.approx((30 * 0.6 + 40 * 0) / 70)
    # the town: Σ places / Σ demand, never the mean of the areas' quotes
    assert r.loc["0", "quote"] == pytest.approx(50 / 100 * 100) and r.loc["0", "gap"] == 50
    assert r.loc["0", "reachable_share"] == pytest.approx(60.0)
    assert r.loc["0", "sfca"] == pytest.approx(0.5)


def test_poi_without_capacity_is_counted_named_and_reaches():
    result = supply.compute(fixture(radius=450.0))  # s3 now reaches p3 and p4 (400 m)
    assert result.without_capacity == ["s3"] and result.as_json()["pois_without_capacity"] == 1
    r = rows(result)
    assert r.loc["B", "reachable_share"] == pytest.approx(100.0)  # reached, but no places from s3
    assert r.loc["B", "sfca"] == pytest.approx(30 * 0.6 / 70) and r.loc["B", "places"] == 30


def test_suppressed_demand_hides_what_is_derived_from_it():
    # p3's count is "k. A.": R_s2 depends on it, so A of p2 and p3 is unknown
    r = rows(supply.compute(fixture(point_demand=(10, 20, np.nan, 40))))
    assert r.loc["A", "quote"] == pytest.approx(20 / 30 * 100)  # A's own demand is visible
    assert r.loc["A", "reachable_share"] == pytest.approx(100.0)
    assert pd.isna(r.loc["A", "sfca"])  # p2 shares s2 with the hidden p3
    assert pd.isna(r.loc["B", "reachable_share"]) and pd.isna(r.loc["B", "sfca"])
    # the town weighs only points whose inputs are visible (p1, p2, p4 for reach; p1, p4 for 2SFCA)
    assert r.loc["0", "reachable_share"] == pytest.approx((10 + 20) / (10 + 20 + 40) * 100)
    assert r.loc["0", "sfca"] == pytest.approx((10 * 2 + 40 * 0) / (10 + 40))
    assert r.loc["A", "access_status"] == "suppressed" and r.loc["0", "access_status"] == "ok"
    hidden = rows(supply.compute(fixture(area_status=("ok", "suppressed"))))
    assert hidden.loc["B", "status"] == "suppressed"
    assert hidden.loc["B", ["demand", "quote", "gap", "reachable_share", "sfca"]].isna().all()
    assert hidden.loc["B", "places"] == 30  # places are no secret


def test_json_has_exactly_the_fixed_keys():
    out = supply.compute(fixture()).as_json()
    assert set(out) == {"areas", "pois_without_capacity", "method"}
    assert [set(a) for a in out["areas"]] == [{"key", "name", "places", "demand", "quote", "reachable_share",
                                              "sfca"}] * 2
    assert out["method"]["crs"] == "EPSG:25832" and out["method"]["radius_m"] == 200.0
    assert out["method"]["parents"][0]["quote"] == pytest.approx(50.0)


def test_scenario_adds_and_closes():
    inputs = fixture()
    before = rows(supply.compute(inputs))
    lon, lat = lonlat(1900, 520)  # 100 places next to p4 in B
    after = rows(supply.compute(inputs, supply.with_changes(inputs, added=[{"capacity": 100, "lon": lon,
                                                                            "lat": lat}], closed=[1])))
    assert after.loc["B", "quote"] - before.loc["B", "quote"] == pytest.approx(100 / 70 * 100)
    assert after.loc["A", "places"] == 0 and after.loc["B", "reachable_share"] == pytest.approx(100.0)
    assert after.loc["B", "sfca"] == pytest.approx((30 * 30 / 50 + 40 * 100 / 40) / 70)
    with pytest.raises(ValidationError, match="Platzzahl"):
        supply.with_changes(inputs, added=[{"capacity": 0, "lon": lon, "lat": lat}])


def test_utm_zone_of_the_town():
    assert utm_epsg(np.array([13.4])) == 25833 and utm_epsg(np.array([6.96])) == 25832
    assert not math.isnan(fixture().points["lon"].iloc[0])
