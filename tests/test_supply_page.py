"""The Versorgung page (AppTest from app.py): internal with the scenario, public with released results only."""
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import markdown, ok


def _scenarios(path) -> int:
    with Warehouse(path) as wh:  # the app's own connection config: DuckDB shares the open database
        return int(read_df(wh, "SELECT count(*) AS n FROM supply_scenario")["n"][0])


def test_internal_page_adds_a_kita_in_the_worst_area_and_saves_the_scenario(app, internal_file):
    at = app(role="keck_nutzer")
    at.switch_page("pages/atlas/versorgung.py").run()
    ok(at)
    assert "# Versorgung 2024" in markdown(at)
    worst = at.selectbox(key="supply_area").value  # the worst-supplied area comes first
    assert not at.table  # nothing planned yet: no "Veränderte Gebiete"
    at.number_input(key="supply_places").set_value(100)
    next(b for b in at.button if b.label == "Einrichtung hinzufügen").click().run()
    ok(at)
    changed = at.table[0].value
    row = changed[changed["Gebiet"].str.startswith(worst)].iloc[0]
    plus = float(row["Änderung der Quote"].lstrip("+").replace(".", "").replace(",", "."))
    demand = float(row["Nachfrage"].replace(".", ""))
    assert plus == round(100 / demand * 100, 1)
    assert int(row["Plätze nachher"].replace(".", "")) - int(row["Plätze vorher"].replace(".", "")) == 100
    assert _scenarios(internal_file) == 0  # planning writes nothing

    next(t for t in at.text_input if t.label == "Titel des Szenarios").input("Neubau Kita")
    next(b for b in at.button if b.label == "Szenario speichern").click().run()
    ok(at)
    assert "Szenario „Neubau Kita“ gespeichert" in at.success[0].value
    assert _scenarios(internal_file) == 1
    assert not any(b.label.startswith("Ergebnis als Indikatoren") for b in at.button)  # planners do not edit data


def test_public_page_shows_no_scenario(app):
    at = app(mode="public")
    at.switch_page("pages/atlas/versorgung.py").run()
    ok(at)
    assert not any(b.label == "Einrichtung hinzufügen" for b in at.button)
    assert "noch keine Ergebnisse der Versorgungsanalyse freigegeben" in "\n".join(i.value for i in at.info)
