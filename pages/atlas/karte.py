"""Karte: choropleth of one indicator, optional second indicator as circles, POIs, area profile."""
import streamlit as st

from keck_data.classify import METHODS, PALETTES
from keck_data.mapdeck import BASEMAPS, MapSettings
from keck_data.ui import downloads, frame, state, widgets
from keck_data.ui.maps import area_profile, map_result, metadata

with frame.controls(4) as cols:
    with cols[0]:
        ind = widgets.indicator()
    level, year = widgets.level_and_year(cols[1], cols[1], ind)
    with cols[2]:
        method = state.widget(st.selectbox, "Klassifizierung", [m for m in METHODS if m != "manual"], "cls",
                              "quantile", format_func=METHODS.get)
        k = int(state.widget(st.select_slider, "Klassen", [3, 4, 5, 6, 7], "k", 5))
        palette = state.widget(st.selectbox, "Farben", list(PALETTES), "pal", "orange_rot",
                               format_func=lambda p: PALETTES[p][0])
    with cols[3]:
        ind2 = state.widget(st.selectbox, "Zweiter Indikator (Kreise)", ["", *widgets.load("indicators")["key"]],
                            "ind2", "", format_func=lambda key: "– keiner –" if not key else widgets.load(
                                "indicator", key)["name"])
        cats = widgets.load("poi_categories")
        poi = state.multiselect("Einrichtungen", list(cats["key"]), "poi",
                                format_func=dict(zip(cats["key"], cats["name"])).get)
        basemap = state.widget(st.selectbox, "Hintergrundkarte", list(BASEMAPS), "base", "light",
                               format_func=BASEMAPS.get)

settings = MapSettings(ind, level, year, method, k, palette, ind2 or None, tuple(poi), basemap)
result, meta = map_result(settings)
st.markdown(f"# {meta['name']} {year}")
left, right = st.columns([3, 2] if frame.presenting() else [4, 1])
with left:
    event = st.pydeck_chart(result.deck, on_select="rerun", selection_mode="single-object", key="map",
                            height=640, width="stretch")
with right:
    frame.legend(result.classification, f"{meta['name']} ({meta['unit']})")
    metadata(meta)
area_profile(event, level, ind, year)
if not frame.presenting():
    downloads.map_export(settings)
state.sync_url(["ind", "topic", "lvl", "yr", "cls", "k", "pal", "ind2", "poi", "base", "areas", "sel"])
