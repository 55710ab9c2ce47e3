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


def test_public_page_lists_released_results(wh, tmp_path, monkeypatch):
    import pandas as pd
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from keck_data import editing
    from keck_data.analysis import supply
    from keck_data.policy import system
    from keck_data.publish import publish
    from keck_data.queries import Atlas
    from tests.conftest import ROOT

    q = supply.Question("kita", "ew_3_6", "sozialraum", 2023, radius_m=800)
    keys = supply.save_results(wh, system("test"), q)
    result = supply.analyse(Atlas(wh), supply.Question(**{**q.__dict__, "public_pois": True}))
    editing.set_released(wh, system("test"), keys[0], True)
    target = tmp_path / "public.duckdb"
    publish(wh, target, system("test"))
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("KECK_MODE", "public")
    monkeypatch.setenv("KECK_PUBLIC_WAREHOUSE", str(target))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/atlas/versorgung.py").run()
    ok(at)
    assert at.selectbox(key="w_vs").options == [Atlas(wh).indicator(keys[0])["name"]]  # only the released one
    table = at.table[0].value
    rows = result.level_rows().set_index("key")
    first = table.iloc[0]
    assert first["Schlüssel"] == rows.index[0] and len(table) == len(rows)
    from keck_data import fmt
    quote, status = rows["quote"].iloc[0], rows["status"].iloc[0]
    assert first.iloc[2] == fmt.value_text(quote, status if pd.isna(quote) else "ok", 1, "Plätze je 100")
    st.cache_resource.clear()
