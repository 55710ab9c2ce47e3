"""The demo municipality: geometry valid and nested, enough content, plausible values, deterministic."""
import itertools

import numpy as np
import shapely

from keck_data import catalogue, demo
from keck_data.demo import init_demo
from keck_data.warehouse import Warehouse, read_df


def _geoms(wh, level):
    df = read_df(wh, "SELECT key, parent_key, ST_AsWKB(geom) AS wkb, ST_AsWKB(geom_display) AS disp "
                     "FROM area WHERE level = ? ORDER BY key", [level])
    df["g"] = [shapely.from_wkb(bytes(b)) for b in df["wkb"]]
    df["d"] = [shapely.from_wkb(bytes(b)) for b in df["disp"]]
    return df


def test_levels_and_area_counts(ro_wh):
    counts = dict(ro_wh.cursor().execute("SELECT level, count(*) FROM area GROUP BY level").fetchall())
    assert counts["gesamtstadt"] == 1
    assert 6 <= counts["stadtbezirk"] <= 8
    assert 35 <= counts["sozialraum"] <= 60
    keys = [r[0] for r in ro_wh.cursor().execute("SELECT key FROM area WHERE level = 'sozialraum'").fetchall()]
    assert all(k.startswith("0") and len(k) == 4 for k in keys)  # leading zeros kept


def test_polygons_valid_non_overlapping_and_tile_their_parent(ro_wh):
    city = _geoms(ro_wh, "gesamtstadt")["g"].iloc[0]
    for level, parent_level in [("stadtbezirk", "gesamtstadt"), ("sozialraum", "stadtbezirk")]:
        children, parents = _geoms(ro_wh, level), _geoms(ro_wh, parent_level).set_index("key")
        assert all(g.is_valid and g.geom_type == "Polygon" for g in children["g"]), level
        assert all(g.is_valid for g in children["d"]), f"display geometry of {level}"
        for a, b in itertools.combinations(children["g"], 2):
            assert a.intersection(b).area < 1e-12
        for parent_key, group in children.groupby("parent_key"):
            union = shapely.union_all(list(group["g"]))
            parent = parents.loc[parent_key, "g"]
            assert abs(union.area - parent.area) / parent.area < 1e-9
            assert union.symmetric_difference(parent).area / parent.area < 1e-9
        assert abs(sum(g.area for g in children["g"]) - city.area) / city.area < 1e-9


def test_irregular_shapes(ro_wh):
    soz = _geoms(ro_wh, "sozialraum")
    vertex_counts = {len(g.exterior.coords) for g in soz["g"]}
    areas = np.array([g.area for g in soz["g"]])
    assert len(vertex_counts) > 3 and areas.max() / areas.min() > 2


def test_topics_indicators_and_metadata(ro_wh):
    topics = read_df(ro_wh, "SELECT name FROM topic")["name"].tolist()
    assert len(topics) >= 7 and "Demografie" in topics and "Beteiligung" in topics
    inds = read_df(ro_wh, "SELECT * FROM indicator")
    assert len(inds) >= 40
    for col in ("definition", "calculation", "source", "reference_date", "unit", "name"):
        assert inds[col].str.len().min() > 0, col
    assert set(inds["kind"]) == {"count", "rate", "mean", "index"}
    rates = inds[inds["kind"] == "rate"]
    assert rates["numerator"].isin(inds["key"]).all() and rates["denominator"].isin(inds["key"]).all()
    assert (~inds["released"]).sum() >= 1  # some indicators stay internal


def test_values_plausible(ro_wh):
    years = read_df(ro_wh, "SELECT DISTINCT year FROM indicator_value ORDER BY year")["year"].tolist()
    assert years == list(range(2015, 2025))
    sgb = read_df(ro_wh, "SELECT area_key, year, value FROM indicator_value WHERE indicator = 'sgb2_quote_u15' "
                         "AND level = 'sozialraum' AND status = 'ok'")
    pop = read_df(ro_wh, "SELECT area_key, year, value AS pop FROM indicator_value "
                         "WHERE indicator = 'ew_gesamt' AND level = 'sozialraum'")
    regular = sgb.merge(pop, on=["area_key", "year"]).query("pop > 1000")["value"]
    assert 1 <= regular.min() <= 6 and 35 <= regular.max() <= 50
    corr = ro_wh.cursor().execute(
        "SELECT corr(a.value, b.value) FROM indicator_value a JOIN indicator_value b USING (level, area_key, year) "
        "WHERE a.indicator = 'sgb2_quote_u15' AND b.indicator = 'anteil_alleinerziehend' AND level = 'sozialraum'"
    ).fetchone()[0]
    assert corr > 0.5


def test_small_counts_and_missing_years_exist(ro_wh):
    small = ro_wh.cursor().execute(
        "SELECT count(*) FROM indicator_value v JOIN indicator i ON i.key = v.indicator "
        "WHERE i.kind = 'count' AND v.status = 'ok' AND v.value <= 3").fetchone()[0]
    assert small > 10
    missing = read_df(ro_wh, "SELECT DISTINCT year FROM indicator_value WHERE indicator = 'sprachfoerderbedarf' "
                             "AND status = 'missing' AND level = 'sozialraum'")["year"].tolist()
    assert sorted(missing) == [2020, 2021]


def test_pois(ro_wh):
    by_cat = dict(ro_wh.cursor().execute("SELECT category, count(*) FROM poi GROUP BY category").fetchall())
    assert sum(by_cat.values()) >= 150 and len(by_cat) >= 5
    kitas = read_df(ro_wh, "SELECT capacity, opening_hours, address, website, target_group FROM poi "
                           "WHERE category = 'kita'")
    assert kitas.notna().all().all()
    inside = ro_wh.cursor().execute(
        "SELECT count(*) FROM poi p, area a WHERE a.level = 'gesamtstadt' AND ST_Within(p.geom, a.geom)"
    ).fetchone()[0]
    assert inside == sum(by_cat.values())
    assert ro_wh.cursor().execute("SELECT count(*) FROM poi WHERE NOT public").fetchone()[0] >= 1


def test_demo_is_deterministic(tmp_path, ro_wh):
    path = tmp_path / "again.duckdb"
    init_demo(path)
    sql = "SELECT sum(hash(indicator, level, area_key, year, round(value, 9), status)) FROM indicator_value"
    with Warehouse(path, read_only=True) as again:
        assert again.cursor().execute(sql).fetchone() == ro_wh.cursor().execute(sql).fetchone()


def test_init_demo_keeps_an_existing_warehouse(demo_copy):
    assert init_demo(demo_copy)["skipped"] is True


def test_catalogue_keys_unique():
    keys = [i["key"] for i in catalogue.INDICATORS]
    assert len(keys) == len(set(keys))
    assert set(demo.MISSING_YEARS) <= set(keys)
