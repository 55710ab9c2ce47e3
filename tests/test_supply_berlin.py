"""Versorgungsanalyse on the real Berlin data: Kitas (places) against children under 6 per Planungsraum."""
import json

import numpy as np
import pytest

from keck_data.analysis import supply
from keck_data.cli import main
from keck_data.queries import Atlas
from keck_data.warehouse import read_df
from tests.test_import_berlin import berlin  # noqa: F401  (the imported Berlin warehouse)

Q = supply.Question("kita", "inhabitants_age_below_6", "planungsraum", 2019, radius_m=500)


@pytest.fixture(scope="module")
def result(berlin):  # noqa: F811
    wh, _, _ = berlin
    return supply.analyse(Atlas(wh), Q)


def test_quote_per_planning_area_and_berlin_wide(berlin, result):  # noqa: F811
    wh, _, _ = berlin
    plr = result.level_rows()
    assert len(plr) == 448 and result.method["crs"] == "EPSG:25833"  # Berlin lies in UTM zone 33
    places = read_df(wh, "SELECT sum(capacity) AS s FROM poi WHERE category = 'kita'")["s"][0]
    children = read_df(wh, "SELECT sum(value) AS s FROM indicator_value WHERE indicator = ? AND year = 2019 "
                           "AND level = 'planungsraum'", [Q.demand])["s"][0]
    city = result.level_rows("gesamtstadt").iloc[0]
    assert city["places"] == places == plr["places"].sum() > 100_000  # every Kita lies in a Planungsraum
    assert city["demand"] == children
    assert city["quote"] == places / children * 100  # exactly Σ places / Σ children
    ok = plr[plr["status"] == "ok"]
    assert (ok["quote"] == ok["places"] / ok["demand"] * 100).all()
    assert plr.loc[plr["status"] != "ok", "quote"].isna().all()  # "k. A." or no children: no quote
    bzr = result.level_rows("bezirksregion").set_index("key")
    sums = plr.groupby(plr["key"].str[:6])["places"].sum()
    assert (bzr["places"] == sums.reindex(bzr.index, fill_value=0)).all()
    assert 0 < city["reachable_share"] <= 100 and city["sfca"] > 0


def test_pois_without_capacity_are_named(berlin, result):  # noqa: F811
    wh, _, _ = berlin
    names = sorted(read_df(wh, "SELECT name FROM poi WHERE category = 'kita' AND capacity IS NULL")["name"])
    assert result.without_capacity == names and result.outside == []


def test_finer_points_weight_a_coarser_level(berlin, result):  # noqa: F811
    wh, _, _ = berlin
    coarse = supply.analyse(Atlas(wh), supply.Question(Q.category, Q.demand, "bezirksregion", 2019, radius_m=500))
    assert "„Planungsraum“" in coarse.method["demand_points"]
    a = coarse.level_rows().set_index("key")[["places", "demand", "quote", "reachable_share", "sfca"]]
    b = result.level_rows("bezirksregion").set_index("key")[a.columns]
    shown = a["sfca"].notna()  # as the chosen level, a Bezirksregion with a "k. A." Planungsraum is "k. A."
    assert shown.sum() > 100 and coarse.method["hidden_points"] > 0
    assert np.allclose(a[shown].to_numpy(float), b[shown].to_numpy(float), equal_nan=True)  # same points
    assert np.allclose(a[["places", "demand", "quote"]].to_numpy(float), b[["places", "demand", "quote"]].to_numpy(
        float), equal_nan=True)


def test_cli_json(berlin, result, monkeypatch, capsys):  # noqa: F811
    wh, _, _ = berlin
    monkeypatch.setenv("KECK_WAREHOUSE", str(wh.path))
    wh.close()  # the command opens the file itself (this is the module's last test)
    assert main(["versorgung", "--category", "kita", "--capacity-field", "capacity", "--demand", Q.demand,
                 "--level", "planungsraum", "--year", "2019", "--radius-m", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["areas"]) == 448 and out["pois_without_capacity"] == len(result.without_capacity)
    first = out["areas"][0]
    assert set(first) == {"key", "name", "places", "demand", "quote", "reachable_share", "sfca"}
    assert first == result.as_json()["areas"][0]
