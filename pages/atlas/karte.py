"""Karte: choropleth of one indicator, optional second indicator as circles, POIs, area profile."""
import streamlit as st

from keck_data.classify import METHODS, PALETTES
from keck_data.mapdeck import MapSettings, basemaps
from keck_data.ui import downloads, follow, frame, gaps, resources, state, widgets
from keck_data.ui.maps import (area_profile, manual_breaks, map_key, map_result, metadata, reset_view, shown_deck,
                               similar_list, similar_to, stale_note, zoom_by)
from keck_data.safe_text import safe
from keck_data.ui.targets import ampel_legend, ampel_rule

with frame.controls(4) as cols:
    with cols[0]:
        ind = widgets.indicator()
    level, year = widgets.level_and_year(cols[1], cols[1], ind)
    with cols[2]:
        method = state.widget(st.selectbox, "Klassifizierung", list(METHODS), "cls", "quantile",
                              format_func=METHODS.get)
        breaks = manual_breaks(ind, level, year) if method == "manual" else ()
        if breaks:
            k = len(breaks) + 1
        else:
            method = "quantile" if method == "manual" else method
            k = int(state.widget(st.select_slider, "Klassen", [3, 4, 5, 6, 7], "k", 5))
        palette = state.widget(st.selectbox, "Farben", list(PALETTES), "pal", "orange_rot",
                               format_func=lambda p: PALETTES[p][0])
        ampel = state.toggle("Ampel (Ziele)", "ampel", help="Gebiete mit Wirkungsziel nach ihrer Ampel färben "
                             "(ohne Ziel: die Schwellenregel des Indikators, falls festgelegt)")
    with cols[3]:
        inds = resources.indicators()
        names = dict(zip(inds["key"], inds["name"]))
        ind2 = state.widget(st.selectbox, "Zweiter Indikator (Kreise)", ["", *names], "ind2", "",
                            format_func=lambda key: names.get(key, "– keiner –"))
        cats = resources.poi_categories()
        poi = state.multiselect("Einrichtungen", list(cats["key"]), "poi",
                                format_func=dict(zip(cats["key"], cats["name"])).get)
        backgrounds = basemaps()
        basemap = state.widget(st.selectbox, "Hintergrundkarte", list(backgrounds), "base", "none",
                               format_func=backgrounds.get)
        show_similar = state.toggle("Ähnliche Gebiete hervorheben", "sim", help="die 5 ähnlichsten Gebiete zum "
                                    "gewählten (Abstand über die z-Werte der Indikatoren des Themenfelds)")

key = map_key()  # a click on the map selects its area (read before the map is drawn)
similar = similar_to(state.get("sel"), level, ind, year) if show_similar else None
outlined = [state.get("sel") or "", *(state.get("areas") or []), *(similar.table["key"] if similar else [])]
selected = tuple(a for a in dict.fromkeys(outlined) if a)
settings = MapSettings(ind, level, year, method, k, palette, ind2 or None, tuple(poi), basemap, breaks, selected,
                       follow.noted_areas(), ampel)
result, meta = map_result(settings)
st.markdown(f"# {safe(meta['name'])} {year}")
stale_note(ind)
left, right = st.columns([5, 2] if frame.presenting() else [3, 1])
with left:
    with frame.figure("karte_map", f"Karte: {meta['name']} {year}, {resources.level_name(level)} – Zusammenfassung "
                                   "und Tabelle unter der Karte"):
        st.pydeck_chart(shown_deck(result, level, selected), on_select="rerun", selection_mode="single-object",
                        key=key, height=560, width="stretch")
    zoom_in, zoom_out, reset = st.columns(3)
    zoom_in.button("Vergrößern", key="map_zoom_in", on_click=zoom_by, args=(1,), icon=":material/zoom_in:",
                   width="stretch")
    zoom_out.button("Verkleinern", key="map_zoom_out", on_click=zoom_by, args=(-1,), icon=":material/zoom_out:",
                    width="stretch")
    reset.button("Gesamtansicht", key="map_reset", on_click=reset_view, icon=":material/zoom_out_map:",
                 help="Die ganze Stadt zeigen, wie beim Öffnen der Karte", width="stretch")
    st.caption("Ziehen verschiebt die Karte; das Mausrad blättert die Seite.")
    frame.map_alternative(result.values, f"{meta['name']} ({meta['unit']})", meta["polarity"],
                          f"tabelle?inds={ind}&lvl={level}&yr={year}")
with right:
    frame.selected_area(result.values, selected[:1])
    frame.legend(result, ampel_legend(settings) if ampel else f"{meta['name']} ({meta['unit']})")
    metadata(meta)
gaps.missing_areas([ind], year, level)  # full width: its table is unreadable in the legend column
area_profile(level, ind, year)
similar_list(similar)
if not frame.presenting():
    downloads.map_export(settings)
if ampel:
    ampel_rule(settings)
state.sync_url(["ind", "topic", "lvl", "yr", "cls", "k", "breaks", "pal", "ind2", "poi", "base", "areas", "sel",
                "ampel", "sim"])
