"""Text alternatives and the Erklärung zur Barrierefreiheit (issue 22): summary sentence, chart tables, the
hatched "k. A." on the interactive map, German titles, and the pages that show them (AppTest from app.py)."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from keck_data import charts, summary
from keck_data.accessibility import statement
from keck_data.config import settings
from keck_data.mapdeck import MapSettings, build
from keck_data.queries import Atlas
from tests.app_harness import markdown


@pytest.fixture(scope="module")
def atlas(ro_wh):
    return Atlas(ro_wh)


def values(rows):
    return pd.DataFrame(rows, columns=["key", "name", "value", "status", "text"])


def test_summary_names_highest_lowest_and_hidden_areas():
    v = values([("01", "Nord", 12.5, "ok", "12,5 %"), ("02", "Süd", 3.0, "ok", "3,0 %"),
                ("03", "Ost", 7.0, "ok", "7,0 %"), ("04", "West", 9.0, "ok", "9,0 %"),
                ("05", "Mitte", None, "suppressed", "k. A."), ("06", "Hafen", None, "missing", "keine Daten"),
                ("07", "Wald", 3.0, "ok", "3,0 %")])
    assert summary.sentence(v, "high_bad") == (
        "Höchste Werte: Nord (12,5 %), West (9,0 %), Ost (7,0 %) (ungünstig); niedrigste: Süd (3,0 %), "
        "Wald (3,0 %) (günstig); k. A.: 1 Gebiet; keine Daten: 1 Gebiet.")  # a tie: by key
    assert summary.sentence(v.iloc[[4, 5]], "neutral") == "Keine Werte; k. A.: 1 Gebiet; keine Daten: 1 Gebiet."
    table = summary.value_table(v, "Quote (%)")
    assert list(table["Gebiet"]) == ["Nord", "West", "Ost", "Süd", "Wald", "Mitte", "Hafen"]
    assert list(table["Quote (%)"])[-2:] == ["k. A.", "keine Daten"]


def test_every_chart_has_its_data_as_a_table(atlas):
    ind = atlas.indicator("sgb2_quote_u15")
    vals = atlas.level_values("sgb2_quote_u15", "stadtbezirk", 2024)
    ranking = charts.ranking(vals, atlas.reference_values("sgb2_quote_u15", 2024), ind, [], True, "Musterstadt", 2024)
    table = charts.table_of(ranking)
    shown = vals[vals["status"] == "ok"]
    assert len(table) == len(shown) and table.columns[0] == "Gebiet"
    row = shown.iloc[0]
    assert table.set_index("Gebiet").loc[f"{row['key']} {row['name']}"].iloc[0] == row["text"].replace(" %", "")
    ts = atlas.timeseries("sgb2_quote_u15", "stadtbezirk", ["01"])
    series = charts.table_of(charts.timeseries(ts, ind))
    assert series.columns[0] == "Jahr" and len(series.columns) == 3 and len(series) == ts["year"].nunique()
    assert "%" in series.iloc[0, 1]
    data, r = atlas.scatter("sgb2_quote_u15", "anteil_alleinerziehend", "stadtbezirk", 2024)
    pairs = charts.table_of(charts.scatter(data, ind, atlas.indicator("anteil_alleinerziehend"), r, [],
                                           "Musterstadt", 2024))
    assert list(pairs.columns[1:]) == [charts.plain(charts._axis(ind)),
                                       charts.plain(charts._axis(atlas.indicator("anteil_alleinerziehend")))]
    assert len(pairs) == len(data) and "<br>" not in "".join(pairs.columns)


def test_k_a_areas_are_hatched_on_the_interactive_map(atlas):
    s = MapSettings("geburten", "sozialraum", 2024)
    result = build(atlas, s)
    hidden = result.values[result.values["status"] == "suppressed"]
    assert len(hidden), "the demo needs k. A. areas for this test"
    hatch = next(layer for layer in result.deck.layers if layer.id == "hatch")
    assert len(hatch.data) >= 5 * len(hidden)  # several lines across every hidden area
    for key in ("sgb2_quote_u15", "ew_u18", "anteil_alleinerziehend"):  # hatched exactly where k. A. is
        other = build(atlas, dataclasses.replace(s, indicator=key))
        hatched = any(layer.id == "hatch" for layer in other.deck.layers)
        assert hatched == (other.values["status"] == "suppressed").any(), key


def test_statement_names_the_contact_or_says_it_is_missing(monkeypatch):
    monkeypatch.setenv("KECK_A11Y_CONTACT", "barrierefreiheit@musterstadt.de, Tel. 0123 456")
    text, ok = statement("Musterstadt", settings())
    assert ok and "[barrierefreiheit@musterstadt.de,](mailto:barrierefreiheit@musterstadt.de,)" not in text
    assert "mailto:barrierefreiheit@musterstadt.de" in text and "Tel. 0123 456" in text and "{" not in text
    monkeypatch.delenv("KECK_A11Y_CONTACT")
    text, ok = statement("Musterstadt", settings())
    assert not ok and "Kontaktadresse ist noch nicht eingetragen" in text


def test_statement_page_public_and_internal(app, monkeypatch):
    at = app("public", None)
    at.switch_page("pages/atlas/barrierefreiheit.py").run()
    assert "# Erklärung zur Barrierefreiheit" in markdown(at) and "Feedback und Kontakt" in markdown(at)
    assert not at.warning  # the public page itself states the missing contact in German text
    at = app("internal", "keck_nutzer")
    at.switch_page("pages/atlas/barrierefreiheit.py").run()
    assert "KECK_A11Y_CONTACT" in at.warning[0].value


def test_map_page_says_what_it_shows_in_words(app):
    at = app("public", None, ind="geburten", lvl="sozialraum")
    text = markdown(at)
    assert "Höchste Werte:" in text and "k. A.:" in text and "schraffiert" in text
    assert [e.label for e in at.expander][:1] == ["Als Tabelle anzeigen"]
    assert "tabelle?inds=geburten&lvl=sozialraum&yr=2024" in text


def test_charts_are_readable(atlas):
    """Issue 22, item 10: no value squeezed into a bar, vertical axis titles short enough for the plot,
    scatter points named at both ends and where highlighted."""
    ind = atlas.indicator("sgb2_quote_u15")
    vals = atlas.level_values("sgb2_quote_u15", "sozialraum", 2024)
    city = atlas.reference_values("sgb2_quote_u15", 2024)
    column = charts.ranking(vals, city, ind, [], False, "Musterstadt", 2024)
    assert column.data[0].text is None  # 40+ columns: values in the hover and the table, not at 5 px
    few = charts.ranking(vals.head(8), city, ind, [], False, "Musterstadt", 2024)
    assert few.data[0].textposition == "outside" and few.data[0].textfont.size >= 16
    assert max(len(line) for line in column.layout.yaxis.title.text.split("<br>")) <= 22
    data, r = atlas.scatter("sgb2_quote_u15", "anteil_alleinerziehend", "sozialraum", 2024)
    chosen = data.iloc[len(data) // 2]
    scatter = charts.scatter(data, ind, atlas.indicator("anteil_alleinerziehend"), r, [chosen["key"]],
                             "Musterstadt", 2024)
    named = [t for t in scatter.data[0].texttemplate if t]
    top, bottom = data.loc[data["value_y"].idxmax(), "name"], data.loc[data["value_y"].idxmin(), "name"]
    assert {top, bottom, chosen["name"]} == set(named)
