"""Zeitreihe: an indicator over all years for chosen areas and the city, and the change since a base year."""
import streamlit as st

from keck_data import charts
from keck_data.ui import downloads, frame, resources, state, widgets
from keck_data.ui.tables import change_table
from keck_data.safe_text import safe
from keck_data.ui.targets import target_series

with frame.controls(3) as cols:
    with cols[0]:
        ind = widgets.indicator()
    with cols[1]:
        level = widgets.level()
        chosen = widgets.areas(level)
    with cols[2]:
        years = resources.years(ind)
        base = int(state.widget(st.selectbox, "Basisjahr für die Veränderung", years, "by", years[0]))
meta = resources.indicator(ind)
st.markdown("# Zeitreihe")
ts = resources.timeseries(ind, level, chosen)
if ts.empty or ts["value"].isna().all():
    st.info(f"Keine Daten für {safe(meta['name'])} in den gewählten Gebieten.")
else:
    fig = charts.timeseries(ts, meta)
    fig = charts.with_targets(fig, *target_series(ind, level, chosen))
    frame.chart(fig)
    downloads.chart_export(fig, f"zeitreihe_{ind}")
    if ts["value"].isna().any():
        st.caption("Lücken in den Linien: Jahre ohne Wert (keine Daten oder k. A.) – nicht als 0 dargestellt.")
    st.markdown(f"## Veränderung seit {base}")
    st.dataframe(change_table(ts, base, meta), hide_index=True, width="stretch", height="content")
state.sync_url(["ind", "topic", "lvl", "areas", "by"])
