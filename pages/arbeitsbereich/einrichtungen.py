"""Einrichtungen pflegen: list, filter, add (click on the map or enter coordinates), edit, delete."""
import pandas as pd
import streamlit as st

from keck_data import editing, fmt, policy
from keck_data.errors import KeckError
from keck_data.mapdeck import placement_deck
from keck_data.ui import resources, session
from keck_data.ui.poi_form import poi_form
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

user = policy.require(session.user(), "open", "Arbeitsbereich")
wh = atlas().wh
cats = resources.poi_categories()
cat_names = dict(zip(cats["key"], cats["name"]))
st.markdown("# Einrichtungen pflegen")
if flash := st.session_state.pop("poi_flash", None):  # after a save the page reruns, so the list is current
    st.success(safe(flash))
left, right = st.columns(2)
chosen = left.multiselect("Kategorien", list(cats["key"]), default=list(cats["key"]), format_func=cat_names.get)
search = right.text_input("Name enthält")
pois = resources.pois(chosen)
if search:
    pois = pois[pois["name"].str.contains(search, case=False, regex=False)]
listed = pois[["id", "name", "category_name", "address", "capacity", "website"]].assign(
    capacity=pois["capacity"].map(lambda v: "" if pd.isna(v) else fmt.number(v, 0))).fillna("")
st.dataframe(listed.rename(
    columns={"id": "Nr.", "name": "Name", "category_name": "Kategorie", "address": "Adresse", "capacity": "Kapazität",
             "website": "Web"}), hide_index=True, width="stretch", height=300)

mode = st.radio("Aktion", ["Bearbeiten", "Neu anlegen"], horizontal=True)
if mode == "Neu anlegen":
    st.caption("In die Karte klicken, um die Lage zu setzen – oder Koordinaten eintragen.")
    marker = st.session_state.get("new_poi_pos")
    event = st.pydeck_chart(placement_deck(atlas(), resources.display_shapes(resources.levels()["key"]
                                                                  .iloc[-1]), marker),
                            on_select="rerun", selection_mode="single-object", key="place", height=420)
    picked = event.selection.objects.get("grid", []) if event and event.selection else []
    if picked:
        st.session_state["new_poi_pos"] = tuple(picked[0]["pos"])
        marker = st.session_state["new_poi_pos"]
    data = poi_form("new", {"category": chosen[0] if chosen else "kita", "public": True,
                            "lon": marker[0] if marker else None, "lat": marker[1] if marker else None}, cats)
    if data:
        try:
            new_id = editing.create_poi(wh, user, data)
            st.session_state.pop("new_poi_pos", None)
            st.session_state["poi_flash"] = f"„{data['name']}“ angelegt (Nr. {new_id})."
            st.rerun()
        except KeckError as err:
            st.error(safe(err))
elif not pois.empty:
    poi_id = st.selectbox("Einrichtung", list(pois["id"]), format_func=dict(zip(pois["id"], pois["name"])).get)
    current = editing.get_poi(wh, int(poi_id))
    version = st.session_state.setdefault(f"poi_version_{poi_id}", current["version"])  # as first opened
    data = poi_form(f"edit_{poi_id}", current, cats)
    if data:
        try:
            editing.update_poi(wh, user, int(poi_id), data, version)
            st.session_state[f"poi_version_{poi_id}"] = editing.get_poi(wh, int(poi_id))["version"]
            st.session_state["poi_flash"] = f"Gespeichert: „{data['name']}“."
            st.rerun()
        except KeckError as err:
            st.error(safe(err))
    with st.expander("Löschen"):
        sure = st.checkbox(f"„{current['name']}“ wirklich löschen")
        if st.button("Endgültig löschen", disabled=not sure):
            try:
                editing.delete_poi(wh, user, int(poi_id), version)
                st.session_state.pop(f"poi_version_{poi_id}", None)
                st.rerun()
            except KeckError as err:
                st.error(safe(err))
