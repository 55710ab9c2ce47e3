"""Page tests with streamlit's AppTest, started from app.py, in internal and public mode."""
import json

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app_harness import markdown as _markdown
from tests.app_harness import ok as _ok
from tests.conftest import ROOT

PAGES = ["pages/atlas/karte.py", "pages/atlas/tabelle.py", "pages/atlas/diagramme.py", "pages/atlas/zeitreihe.py",
         "pages/atlas/gebietsvergleich.py", "pages/atlas/indikatoren.py"]


def test_map_is_the_landing_page_with_indicator_and_legend(app):
    at = app()
    _ok(at)
    assert "Sozialraum-Atlas Musterstadt" in "\n".join(m.value for m in at.sidebar.markdown)
    assert "Synthetische Demodaten" in at.sidebar.info[0].value
    text = _markdown(at)
    assert "# SGB-II-Quote der unter 15-Jährigen 2024" in text
    assert "keck-legend" in text and "bis " in text and " %" in text
    assert at.selectbox(key="w_ind").value == "sgb2_quote_u15"


def test_changing_the_indicator_changes_legend_and_url(app):
    at = app()
    before = [m.value for m in at.markdown if 'class="keck-legend"' in m.value][0]
    at.selectbox(key="w_ind").set_value("anteil_alleinerziehend").run()
    _ok(at)
    after = [m.value for m in at.markdown if 'class="keck-legend"' in m.value][0]
    assert after != before and "Anteil Alleinerziehender" in after
    assert at.query_params["ind"] == ["anteil_alleinerziehend"] or at.query_params["ind"] == "anteil_alleinerziehend"


def test_view_is_restored_from_the_url(app):
    at = app(ind="betreuungsquote_u3", lvl="stadtbezirk", yr="2019", cls="equal_interval", k="4", pal="blau")
    _ok(at)
    assert at.selectbox(key="w_topic").value == "kinderbetreuung"
    assert at.selectbox(key="w_lvl").value == "stadtbezirk"
    assert at.selectbox(key="w_yr").value == 2019
    assert at.selectbox(key="w_cls").value == "equal_interval"
    assert "# Betreuungsquote unter 3 Jahren 2019" in _markdown(at)
    assert _markdown(at).count('class="sw') >= 3


def test_invalid_url_values_fall_back_to_defaults(app):
    at = app(ind="gibt_es_nicht", yr="1850", k="99", lvl="<script>")
    _ok(at)
    assert at.selectbox(key="w_ind").value == "sgb2_quote_u15" and at.selectbox(key="w_yr").value == 2024


def test_area_profile_and_comparison_limit(app):
    at = app(sel="0101", areas="0102,0103,0104")
    _ok(at)
    assert "## Profil: 0101" in _markdown(at)  # h2 after the h1 (heading order)
    [add] = [b for b in at.button if b.label == "Zum Gebietsvergleich hinzufügen"]
    add.click().run()
    assert any("höchstens 3 Gebiete" in e.value for e in at.error)


def test_comparison_page_shows_three_areas_and_refuses_four(app):
    at = app(areas="0101,0102,0103,0104")
    at.switch_page("pages/atlas/gebietsvergleich.py").run()
    assert any("höchstens 3 Gebiete" in e.value for e in at.error)
    assert len(at.table) >= 7  # one per Themenfeld (plus the chart's data)
    assert any("0103 Schlossgarten" in t.value.columns for t in at.table)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_internal(app, page):
    at = app()
    at.switch_page(page).run()
    _ok(at)


def test_table_page_reference_rows_and_downloads(app):
    at = app(inds="sgb2_quote_u15,inobhutnahmen")
    at.switch_page("pages/atlas/tabelle.py").run()
    _ok(at)
    reference, table = at.dataframe[0].value, at.dataframe[1].value
    assert list(reference["Gebiet"])[:2] == ["Musterstadt", "Altstadt"] and len(reference) == 8  # city + districts
    assert len(table) == 48
    assert len(at.get("download_button")) == 2
    config = json.loads(at.dataframe[1].proto.columns)  # on a phone the name stays while the values scroll
    assert config["Gebiet"]["pinned"] is True and config["Gebiet"]["width"] == "medium"
    assert config["Schlüssel"]["width"] == "small"


def test_time_series_and_charts(app):
    at = app(ind="quote_sprachfoerderbedarf", lvl="stadtbezirk", areas="01,02")
    at.switch_page("pages/atlas/zeitreihe.py").run()
    _ok(at)
    assert any("nicht als 0" in c.value for c in at.caption)
    at.switch_page("pages/atlas/diagramme.py").run()
    _ok(at)
    at.radio(key="w_chart").set_value("scatter").run()
    _ok(at)


def test_catalogue_search(app):
    at = app(q="Kita")
    at.switch_page("pages/atlas/indikatoren.py").run()
    _ok(at)
    assert "# Indikatoren (" in _markdown(at)
    titles = [e.label for e in at.expander]
    assert any("Kita-Plätze" in t for t in titles) and not any("Wahlbeteiligung" in t for t in titles)


def test_presentation_mode_hides_controls_and_enlarges(app):
    at = app(present="1")
    _ok(at)
    css = at.markdown[0].value
    assert "stTopNav" in css and "font-size: 22px" in css
    assert at.button(key="end_present")
    assert at.sidebar.selectbox(key="w_ind")  # the controls stay in the (closed) sidebar, off the wall


def test_public_mode_shows_only_released_data(app):
    at = app("public")
    _ok(at)
    assert "Öffentliche Instanz" in "\n".join(c.value for c in at.sidebar.caption)
    topics = at.selectbox(key="w_topic").options
    at.selectbox(key="w_topic").set_value("soziale_lage").run()
    options = at.selectbox(key="w_ind").options
    assert "Sozialindex" not in options and "SGB-II-Quote der unter 15-Jährigen" in options
    for page in PAGES:
        at.switch_page(page).run()
        _ok(at)
    assert topics


def test_public_mode_hides_unreleased_indicator_from_url(app):
    at = app("public", ind="sozialindex")
    _ok(at)
    assert at.selectbox(key="w_ind").value != "sozialindex"


def _old_schema(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        con.execute("INSERT INTO schema_version VALUES (1, now())")


@pytest.mark.parametrize("snapshot,expected", [
    ("fehlt", "Es gibt noch keinen veröffentlichten Datenstand. Bitte später erneut versuchen."),
    ("kaputt", "Der veröffentlichte Datenstand kann gerade nicht gelesen werden. Bitte später erneut versuchen."),
    ("alt", "Der veröffentlichte Datenstand kann gerade nicht gelesen werden. Bitte später erneut versuchen.")])
def test_public_mode_without_a_readable_snapshot_says_so_in_german_only(snapshot, expected, monkeypatch, tmp_path,
                                                                        caplog):
    """Issue 23, item 7: visitors read one German sentence, never the server's path or DuckDB's message; the
    operator finds both in the log."""
    path = tmp_path / f"{snapshot}.duckdb"
    if snapshot == "kaputt":
        path.write_bytes(b"kein DuckDB" * 1000)
    elif snapshot == "alt":
        _old_schema(path)
    st.cache_resource.clear()
    monkeypatch.setenv("KECK_MODE", "public")
    monkeypatch.setenv("KECK_PUBLIC_WAREHOUSE", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert [e.value for e in at.error] == [expected] and not at.exception
    shown = _markdown(at) + " ".join(e.value for e in at.error)
    assert str(tmp_path) not in shown and "duckdb" not in shown.lower()
    assert str(path) in caplog.text  # for the operator


@pytest.mark.parametrize("mode", ["internal", "public"])
def test_export_buttons_on_pages(app, mode):
    at = app(mode, areas="0101,0203")
    labels = [b.label for b in at.get("download_button")]
    assert {"Karte als PNG", "Karte als JPG", "Karte als SVG", "Karte als PDF"} <= set(labels)
    at.switch_page("pages/atlas/gebietsvergleich.py").run()
    assert "Gebietsbericht als PDF" in [b.label for b in at.get("download_button")]
    at.switch_page("pages/atlas/indikatoren.py").run()
    assert any(b.label.startswith("Offene Daten") for b in at.get("download_button"))
    at.switch_page("pages/atlas/diagramme.py").run()
    assert "Diagramm als PNG" in [b.label for b in at.get("download_button")]
