"""Incomplete parents (issue 12, item 4): "keine Daten (unvollständig: 2 von 5 Gebieten fehlen)" wherever the value
is shown, the missing areas one click away, the reason in export-values; the Gebiete page flags areas "ohne
Wohnbevölkerung" (audited, refused for readers)."""
import csv

import pyarrow as pa

from keck_data import editing
from keck_data.export_opendata import export_values
from keck_data.importing import set_uninhabited
from keck_data.policy import system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import ok

GAP = "keine Daten (unvollständig: 2 von 5 Gebieten fehlen)"


def _blank(wh, *keys):
    editing.save_values(wh, system("test"), "ew_gesamt", "sozialraum", 2024, {k: "" for k in keys})


def test_incomplete_parent_says_how_many_and_which_areas_are_missing(wh, tmp_path):
    _blank(wh, "0101", "0102")
    a = Atlas(wh)
    bezirk = a.level_values("ew_gesamt", "stadtbezirk", 2024).set_index("key")
    assert bezirk.loc["01", "text"] == GAP and bezirk.loc["02", "status"] == "ok"
    table = a.table(["ew_gesamt"], "stadtbezirk", 2024)
    assert GAP in set(table["Einwohnerinnen und Einwohner"])
    row = a.compare("stadtbezirk", ["01"], 2024).set_index("indicator").loc["ew_gesamt"]
    assert row["01 Altstadt"] == GAP and row["city_text"] == "keine Daten (unvollständig: 1 von 7 Gebieten fehlen)"
    gaps = a.incomplete(["ew_gesamt", "durchschnittsalter"], [2024]).set_index(["indicator", "level", "key"])
    names = read_df(wh, "SELECT name FROM area WHERE level = 'sozialraum' AND key IN ('0101', '0102') ORDER BY key")
    assert gaps.loc[("ew_gesamt", "stadtbezirk", "01"), "missing"] == ", ".join(names["name"])
    assert gaps.loc[("ew_gesamt", "gesamtstadt", "0"), "missing"] == "Altstadt"
    assert gaps.loc[("durchschnittsalter", "stadtbezirk", "01"), "missing"] == ", ".join(names["name"])  # weight

    export_values(wh, tmp_path / "werte.csv")
    with open(tmp_path / "werte.csv", encoding="utf-8-sig") as f:
        rows = {(r["indicator"], r["level"], r["area_key"], r["year"]): r for r in csv.DictReader(f, delimiter=";")}
    note = rows[("ew_gesamt", "stadtbezirk", "01", "2024")]["note"]
    assert note == f"unvollständig: 2 von 5 Gebieten fehlen: {', '.join(names['name'])}"
    assert rows[("ew_gesamt", "stadtbezirk", "02", "2024")]["note"] == ""

    set_uninhabited(wh, system("test"), "sozialraum", ["0101"])  # one of them has no residents on purpose
    gaps = Atlas(wh).incomplete(["ew_gesamt"], [2024]).set_index(["level", "key"])
    assert Atlas(wh).level_values("ew_gesamt", "stadtbezirk", 2024).set_index("key").loc["01", "text"] == \
        "keine Daten (unvollständig: 1 von 4 Gebieten fehlen)"
    assert gaps.loc[("stadtbezirk", "01"), "missing"] == names["name"][1]


def test_pages_show_the_reason_and_the_missing_areas(app, internal_file):
    with Warehouse(internal_file) as wh:
        _blank(wh, "0101", "0102")
    at = app(role="keck_nutzer", lvl="stadtbezirk", yr="2024", inds="ew_gesamt", ind="ew_gesamt", areas="01")
    at.switch_page("pages/atlas/tabelle.py").run()
    ok(at)
    reference = at.dataframe[0].value.set_index("Gebiet")
    assert reference.iloc[0, 0] == "keine Daten (unvollständig: 1 von 7 Gebieten fehlen)"
    shown = pa.ipc.open_stream(at.dataframe[1].proto.arrow_data.styler.display_values).read_pandas()
    assert shown.set_index("Gebiet").loc["Altstadt", "Einwohnerinnen und Einwohner (Personen)"] == GAP
    expander = next(e for e in at.expander if "welche Gebiete fehlen" in e.label)
    listed = expander.dataframe[0].value.set_index("Gebiet")
    assert listed.loc["01 Altstadt", "Grund"] == "unvollständig: 2 von 5 Gebieten fehlen"
    assert listed.loc["01 Altstadt", "Ohne Wert"].count(",") == 1

    for page in ("pages/atlas/karte.py", "pages/atlas/gebietsvergleich.py"):
        at.switch_page(page).run()
        ok(at)
        expander = next(e for e in at.expander if "welche Gebiete fehlen" in e.label)
        assert "01 Altstadt" in set(expander.dataframe[0].value["Gebiet"]), page
    at.switch_page("pages/atlas/karte.py").run()
    assert GAP in at.get("deck_gl_json_chart")[0].proto.json  # the map's tooltip text


def test_gebiete_page_flags_areas_without_residents(app, internal_file, logins):
    with Warehouse(internal_file) as wh:
        _blank(wh, "0201")
    at = app(role="keck_admin")
    at.switch_page("pages/arbeitsbereich/gebiete.py").run()
    ok(at)
    assert at.selectbox(key="gebiete_level").value == "sozialraum"
    at.multiselect(key="gebiete_areas_0").set_value(["0201"]).run()
    next(b for b in at.button if b.label == "Als ohne Wohnbevölkerung kennzeichnen").click().run()
    ok(at)
    assert "1 Gebiete als ohne Wohnbevölkerung gekennzeichnet" in at.success[0].value
    assert [v[:5] for v in at.dataframe[0].value["Ohne Wohnbevölkerung"]] == ["0201 "]
    with Warehouse(internal_file) as wh:
        assert read_df(wh, "SELECT status FROM indicator_value WHERE indicator = 'ew_gesamt' AND level = "
                           "'stadtbezirk' AND area_key = '02' AND year = 2024")["status"][0] == "ok"
        audit = read_df(wh, "SELECT actor, after FROM audit_log WHERE action = 'flag-areas' ORDER BY id DESC")
    assert audit["actor"][0] == logins["keck_admin"][0] and '"0201"' in audit["after"][0]

    assert at.multiselect(key="gebiete_areas_1").value == []  # the choice starts empty again
    at.multiselect(key="gebiete_areas_1").set_value(["0201"]).run()
    next(b for b in at.button if b.label == "Kennzeichnung entfernen").click().run()
    ok(at)
    assert "wieder als bewohnt" in at.success[0].value
    assert any("kein Gebiet" in i.value for i in at.info)
