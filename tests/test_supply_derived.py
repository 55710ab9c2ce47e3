"""Versorgung results saved as derived indicators: metadata, values, privacy, "veraltet" after a demand change."""
import pandas as pd
import pytest

from keck_data import editing, store
from keck_data.analysis import derived, supply
from keck_data.policy import Resource, system
from keck_data.queries import Atlas
from keck_data.warehouse import read_df

Q = supply.Question("kita", "ew_3_6", "sozialraum", 2023, radius_m=800)


def test_saved_as_derived_indicators_and_marked_stale(wh):
    atlas = Atlas(wh)
    hidden = atlas.pois(["kita"]).sort_values("capacity").iloc[-1]  # a Kita not shown publicly
    current = editing.get_poi(wh, int(hidden["id"]))
    editing.update_poi(wh, system("test"), int(hidden["id"]), {**current, "public": False}, current["version"])
    result = supply.analyse(Atlas(wh), Q)
    keys = supply.save_results(wh, system("test"), Q)
    assert keys == ["vs_kita_ew_3_6_sozialraum_2023_quote", "vs_kita_ew_3_6_sozialraum_2023_reachable_share_800m",
                    "vs_kita_ew_3_6_sozialraum_2023_sfca_800m"]
    listed = derived.listing(wh).set_index("key")
    assert listed.loc[keys[1], "method"] == "supply" and listed.loc[keys[1], "inputs"] == {"ew_3_6": 1.0}
    assert listed.loc[keys[1], "parameters"]["radius_m"] == 800 and listed.loc[keys[0], "parameters"]["year"] == 2023
    meta = read_df(wh, "SELECT name, unit, topic, calculation FROM indicator WHERE key = ?", [keys[0]]).iloc[0]
    assert meta["name"].startswith("Versorgungsquote Kita – ")
    assert meta["unit"] == "Plätze je 100" and meta["topic"] == "kinderbetreuung" and "EPSG:25832" in meta["calculation"]
    fresh = Atlas(wh)
    shown = fresh.level_values(keys[0], "sozialraum", 2023).set_index("key")
    rows = result.level_rows().set_index("key")
    ok = rows["status"] == "ok"
    city = result.level_rows("gesamtstadt").iloc[0]
    saved_city = fresh.level_values(keys[0], "gesamtstadt", 2023)["value"][0]
    assert saved_city == pytest.approx((city["places"] - hidden["capacity"]) / city["demand"] * 100)  # public only
    home = supply._assign(pd.DataFrame([hidden]), supply.load(fresh, Q).geometry)[0]
    same = ok[ok].index.drop(home)
    assert shown.loc[same, "value"].to_numpy() == pytest.approx(rows.loc[same, "quote"].to_numpy())

    area = rows.index[0]  # a demand value changes: every result built on it is "veraltet" in the same write
    def edit(tx):
        store.upsert_values(tx, pd.DataFrame([{"indicator": "ew_3_6", "level": "sozialraum", "area_key": area,
                                               "year": 2023, "value": 999.0, "status": "ok"}]))
        tx.audit("indicator_value", "ew_3_6", None, 999)
    wh.write(system("test"), "edit-values", [Resource("indicator", "ew_3_6", "demografie")], edit)
    assert set(derived.stale(wh)["key"]) == set(keys)
    assert derived.recompute(wh, system("test")) and derived.stale(wh).empty
    again = Atlas(wh).level_values(keys[0], "sozialraum", 2023).set_index("key")
    assert again.loc[area, "value"] == pytest.approx(rows.loc[area, "places"] / 999 * 100)


def test_poi_changes_make_saved_results_stale(wh):
    atlas = Atlas(wh)
    keys = supply.save_results(wh, system("test"), Q)
    pois = atlas.pois(["kita"])
    first = editing.get_poi(wh, int(pois["id"].iloc[0]))
    editing.update_poi(wh, system("test"), int(first["id"]), {**first, "capacity": (first["capacity"] or 0) + 10},
                       first["version"])
    stale = derived.stale(wh).set_index("key")
    assert set(stale.index) == set(keys) and "Kita" in stale.loc[keys[0], "stale_reason"]
    derived.recompute(wh, system("test"))
    other = atlas.pois(["spielplatz"])  # another category leaves the Kita results current
    editing.delete_poi(wh, system("test"), int(other["id"].iloc[0]), editing.get_poi(wh, int(other["id"].iloc[0]))["version"])
    assert derived.stale(wh).empty
