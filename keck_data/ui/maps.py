"""Map page parts: the cached map build, the metadata popover and the clicked area's profile."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ..mapdeck import MapResult, MapSettings, build
from . import state, widgets
from .resources import atlas, load

METADATA_FIELDS = [("definition", "Definition"), ("calculation", "Berechnung"), ("source", "Quelle"),
                   ("reference_date", "Stichtag"), ("interpretation", "Hinweise zur Interpretation"),
                   ("data_owner", "Datenhalter"), ("update_cycle", "Aktualisierung")]


def map_result(s: MapSettings) -> tuple[MapResult, pd.Series]:
    """Build the map from cached shapes and values (only colours and labels are computed per rerun)."""
    a = atlas()
    shapes = load("display_shapes", s.level)
    values = load("level_values", s.indicator, s.level, s.year)
    values2 = load("level_values", s.indicator2, s.level, s.year) if s.indicator2 else None
    pois = load("pois", list(s.poi_categories)) if s.poi_categories else None
    return build(a, s, shapes, values, values2, pois, load("bounds")), load("indicator", s.indicator)


def metadata(meta: pd.Series) -> None:
    """The indicator's metadata, one click away."""
    with st.popover("ℹ️ Metadaten", width="stretch"):
        st.markdown(f"**{meta['name']}** ({meta['unit']}) – Themenfeld {meta['topic_name']}")
        for col, label in METADATA_FIELDS:
            if isinstance(meta.get(col), str) and meta[col]:
                st.markdown(f"**{label}:** {meta[col]}")


def area_profile(event, level: str, indicator: str, year: int) -> None:
    """Clicked area (or the selectbox fallback): values of its Themenfeld and 'add to comparison'."""
    picked = event.selection.objects.get("areas", []) if event and event.selection else []
    if picked:
        state.put("sel", picked[0]["k"])
    names = load("area_label", level)
    options = ["", *names]
    key = state.widget(st.selectbox, "Gebiet auswählen (oder in der Karte anklicken)", options, "sel", "",
                       format_func=lambda k: "– kein Gebiet –" if not k else names[k])
    if not key:
        return
    topic = load("indicator", indicator)["topic_name"]
    profile = load("compare", level, [key], year)
    profile = profile[profile["topic"] == topic]
    st.subheader(f"Profil: {names[key]} ({year})")
    st.dataframe(profile[["name", names[key], "city_text", f"Δ {names[key]}"]].rename(
        columns={"name": "Indikator", "city_text": "Gesamtstadt", f"Δ {names[key]}": "Differenz"}),
        hide_index=True, width="stretch")
    chosen = state.get("areas", []) or []
    if st.button("Zum Gebietsvergleich hinzufügen", disabled=key in chosen):
        message = widgets.add_area(key)
        if message:
            st.error(message)
        else:
            st.success(f"{names[key]} ist im Gebietsvergleich ({len(state.get('areas'))} von 3).")
