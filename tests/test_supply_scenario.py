"""Szenario "geplante Einrichtung" on the demo warehouse: before/after, nothing written until saved (audited),
never in the public snapshot."""
import json

import pytest

from keck_data.analysis import scenario, supply
from keck_data.errors import PermissionDenied, ValidationError
from keck_data.policy import User
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df

Q = supply.Question("kita", "ew_3_6", "sozialraum", 2023, radius_m=800)
PLANNER = User("planung", "Planerin", "keck_nutzer")


def test_planned_kita_in_the_worst_area(wh):
    inputs = supply.load(Atlas(wh), Q)
    before = supply.compute(inputs)
    worst = before.worst_supplied()
    row = before.level_rows().set_index("key").loc[worst]
    assert row["quote"] == before.level_rows()["quote"].min()
    lon, lat = inputs.points.set_index("area_key").loc[worst, ["lon", "lat"]]
    version = wh.version()
    cmp = scenario.compare(inputs, added=[{"name": "Kita Neubau", "lon": lon, "lat": lat, "capacity": 100}])
    t = cmp.table.set_index(["level", "key"])
    assert t.loc[("sozialraum", worst), "quote_change"] == pytest.approx(100 / row["demand"] * 100)
    assert t.loc[("sozialraum", worst), "places_after"] == row["places"] + 100
    assert t.loc[("sozialraum", worst), "reachable_share_after"] == pytest.approx(100.0)
    others = t.drop(index=("sozialraum", worst)).xs("sozialraum", level="level")
    assert (others["places_after"] == others["places_before"]).all()
    city = t.xs("gesamtstadt", level="level").iloc[0]
    assert city["places_after"] - city["places_before"] == 100
    assert wh.version() == version and read_df(wh, "SELECT count(*) AS n FROM supply_scenario")["n"][0] == 0

    new_id = scenario.save(wh, PLANNER, "Neubau im schlechtest versorgten Sozialraum", cmp)
    stored = scenario.saved(wh)
    assert list(stored["id"]) == [new_id] and stored["owner"][0] == "planung"
    assert json.loads(stored["added"][0])[0]["capacity"] == 100
    audit = read_df(wh, "SELECT actor, action, entity_key FROM audit_log WHERE entity = 'supply_scenario'")
    assert audit.values.tolist() == [["planung", "save-scenario", str(new_id)]]


def test_closing_a_kita_and_bad_input(wh):
    inputs = supply.load(Atlas(wh), Q)
    biggest = inputs.pois.sort_values("capacity", ascending=False).iloc[0]
    cmp = scenario.compare(inputs, closed=[int(biggest["id"])])
    city = cmp.table[cmp.table["level"] == "gesamtstadt"].iloc[0]
    assert city["places_before"] - city["places_after"] == biggest["capacity"]
    with pytest.raises(ValidationError, match="Titel"):
        scenario.save(wh, PLANNER, " ", cmp)
    with pytest.raises(ValidationError, match="ändert nichts"):
        scenario.save(wh, PLANNER, "leer", scenario.compare(inputs))
    with pytest.raises(PermissionDenied):
        scenario.save(wh, None, "anonym", cmp)
    with pytest.raises(ValidationError, match="Platzzahl"):
        supply.with_changes(inputs, added=[{"lon": 7.0, "lat": 51.0, "capacity": -5}])
    with pytest.raises(ValidationError, match="capacity"):
        supply.load(Atlas(wh), supply.Question("kita", "ew_3_6", "sozialraum", 2023, capacity_field="name"))
    with pytest.raises(ValidationError, match="Anzahl"):
        supply.load(Atlas(wh), supply.Question("kita", "sgb2_quote_u15", "sozialraum", 2023))


def test_scenarios_never_reach_the_public_snapshot(wh, tmp_path):
    inputs = supply.load(Atlas(wh), Q)
    lon, lat = inputs.points[["lon", "lat"]].iloc[0]
    scenario.save(wh, PLANNER, "intern", scenario.compare(inputs, added=[{"lon": lon, "lat": lat, "capacity": 50}]))
    target = tmp_path / "public.duckdb"
    publish(wh, target, User("admin", "Admin", "kommunen_admin"))
    with Warehouse(target, read_only=True) as pub:
        assert read_df(pub, "SELECT count(*) AS n FROM supply_scenario")["n"][0] == 0
