"""Gebietsvergleich: up to three areas side by side, all indicators by Themenfeld, city value and difference."""
import streamlit as st

from keck_data import charts
from keck_data.ui import downloads, frame, gaps, resources, state, widgets
from keck_data.safe_text import safe

VIEWS = {"index": "Gesamtstadt = 100", "raw": "Werte"}

with frame.controls(3) as cols:
    level, year = widgets.level_and_year(cols[0], cols[0])
    with cols[1]:
        chosen = widgets.areas(level, "Gebiete (höchstens 3)")
st.markdown(f"# Gebietsvergleich {year}")
if not chosen:
    st.info("Bitte bis zu drei Gebiete wählen – links unter „Gebiete“ oder in der Karte mit "
            "„Zum Gebietsvergleich hinzufügen“.")
else:
    table = resources.compare(level, chosen, year)
    names = resources.area_label(level)
    city = resources.municipality()
    topics = list(dict.fromkeys(table["topic"]))
    with cols[2]:
        topic = state.widget(st.selectbox, "Themenfeld im Diagramm", topics, "ctopic", topics[0])
        view = state.widget(st.radio, "Diagramm zeigt", list(VIEWS), "cview", "index", format_func=VIEWS.get)
    counts = set(resources.indicators().query("kind == 'count'")["key"])
    rows = table[(table["topic"] == topic) & ~table["indicator"].isin(counts)]  # counts: see the tables
    if view == "index":
        rows = rows[rows["city"].notna() & (rows["city"] != 0)]
    if rows.empty:
        st.info(f"Keine Daten für „{safe(topic)}“ im Jahr {year}.")
    else:
        fig = charts.comparison(rows, chosen, [names[k] for k in chosen], city, topic, view == "index")
        frame.chart(fig)
        downloads.chart_export(fig, f"gebietsvergleich_{year}")
    downloads.report_download(level, chosen, year)
    for name, group in table.groupby("topic", sort=False):
        st.markdown(f"## {safe(name)}")
        shown = group[["name", *(names[k] for k in chosen), "city_text", *(f"Δ {names[k]}" for k in chosen)]]
        # an HTML table: its columns wrap to the page (the Δ columns ran off the right edge at 1366 px)
        st.table(shown.rename(columns={"name": "Indikator", "city_text": city}).set_index("Indikator"))
    gaps.missing_areas(list(table["indicator"]), year, level, chosen)
    st.caption("Diagramm: Anteile, Quoten, Mittelwerte und Indizes (Anzahlen nur in den Tabellen). "
               "Δ: Unterschied zur Gesamtstadt; bei Anteilen in Prozentpunkten (Pp.). Für Anzahlen kein Δ.")
state.sync_url(["lvl", "yr", "areas", "ctopic", "cview"])
