"""Diagramme: column, bar and scatter charts; areas from the comparison are highlighted."""
import streamlit as st

from keck_data import charts
from keck_data.ui import downloads, frame, resources, state, widgets
from keck_data.safe_text import safe

KINDS = {"column": "Säulendiagramm", "bar": "Balkendiagramm", "scatter": "Streudiagramm"}
SCATTER_Y = "anteil_alleinerziehend"  # correlated with the default x (SGB-II-Quote), never x itself

with frame.controls(4) as cols:
    with cols[0]:
        kind = state.widget(st.radio, "Diagrammart", list(KINDS), "chart", "column", format_func=KINDS.get)
    level, year = widgets.level_and_year(cols[1], cols[1])
    with cols[2]:
        x = widgets.indicator("Indikator" if kind != "scatter" else "Indikator (x-Achse)")
    with cols[3]:
        y = widgets.indicator("Indikator (y-Achse)", param="y", with_topic=False, exclude=(x,),
                              default=SCATTER_Y) if kind == "scatter" else None
highlight = state.get("areas", []) or []
st.markdown(f"# {KINDS[kind]}")
level_name = resources.level_name(level)
if kind == "scatter":
    data, r = resources.scatter(x, y, level, year)
    fig = None if data.empty else charts.scatter(data, resources.indicator(x), resources.indicator(y), r, highlight,
                                                 resources.municipality(), year)
else:
    values = resources.level_values(x, level, year)
    fig = None if not (values["status"] == "ok").any() else charts.ranking(
        values, resources.reference_values(x, year), resources.indicator(x), highlight, kind == "bar",
        resources.municipality(), year)
if fig is None:
    st.info(f"Keine Daten für {safe(resources.indicator(x)['name'])} ({safe(level_name)}, {year}) – "
            "alle Werte fehlen oder sind aus Datenschutzgründen nicht angegeben (k. A.).")
else:
    frame.chart(fig)
    downloads.chart_export(fig, f"diagramm_{kind}_{x}_{year}")
if highlight:
    st.caption("Hervorgehoben: die Gebiete aus dem Gebietsvergleich.")
state.sync_url(["chart", "lvl", "yr", "ind", "topic", "y", "areas"])
