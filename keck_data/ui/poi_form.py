"""The POI form shared by "new" and "edit" (returns the entered fields when submitted)."""
from __future__ import annotations

import pandas as pd
import streamlit as st


def poi_form(key: str, poi: dict, cats: pd.DataFrame) -> dict | None:
    names = dict(zip(cats["key"], cats["name"]))
    with st.form(f"poi_{key}"):
        left, right = st.columns(2)
        name = left.text_input("Name *", poi.get("name") or "")
        category = right.selectbox("Kategorie *", list(names), index=list(names).index(poi["category"])
                                   if poi.get("category") in names else 0, format_func=names.get)
        address = left.text_input("Adresse", poi.get("address") or "")
        website = right.text_input("Webseite (https://…)", poi.get("website") or "")
        lon = left.number_input("Länge (°)", value=poi.get("lon"), format="%.6f", step=0.0001)
        lat = right.number_input("Breite (°)", value=poi.get("lat"), format="%.6f", step=0.0001)
        hours = left.text_input("Öffnungszeiten", poi.get("opening_hours") or "")
        group = right.text_input("Zielgruppe", poi.get("target_group") or "")
        capacity = left.text_input("Kapazität (Plätze bzw. m²)", "" if poi.get("capacity") is None
                                   else str(int(poi["capacity"])))
        contact = right.text_input("Kontakt", poi.get("contact") or "")
        description = st.text_area("Beschreibung", poi.get("description") or "")
        public = st.checkbox("öffentlich sichtbar", value=bool(poi.get("public", True)))
        if not st.form_submit_button("Speichern", type="primary"):
            return None
    return {"name": name, "category": category, "address": address, "website": website or None, "lon": lon,
            "lat": lat, "opening_hours": hours, "target_group": group, "capacity": capacity or None,
            "contact": contact, "description": description, "public": public}
