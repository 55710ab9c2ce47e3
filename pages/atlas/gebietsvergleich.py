"""Gebietsvergleich: up to three areas side by side, all indicators by Themenfeld, city value and difference."""
import streamlit as st

from keck_data.ui import downloads, frame, resources, widgets

with frame.controls(3) as cols:
    level, year = widgets.level_and_year(cols[0], cols[1])
    with cols[2]:
        chosen = widgets.areas(level, "Gebiete (höchstens 3)")

st.markdown(f"# Gebietsvergleich {year}")
if not chosen:
    st.info("Bitte bis zu drei Gebiete wählen – hier oder in der Karte mit „Zum Gebietsvergleich hinzufügen“.")
else:
    downloads.report_download(level, chosen, year)
    table = resources.compare(level, chosen, year)
    city = resources.municipality()
    for topic, group in table.groupby("topic", sort=False):
        st.subheader(topic)
        shown = group.drop(columns=["topic", "indicator", "unit", "decimals", "city"]).rename(
            columns={"name": "Indikator", "city_text": city})
        st.dataframe(shown, hide_index=True, width="stretch", height=35 * (len(shown) + 1) + 3)
widgets.state.sync_url(["lvl", "yr", "areas"])
