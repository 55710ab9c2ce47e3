"""Gebiete: areas "ohne Wohnbevölkerung" (harbour, forest, islands) have no values on purpose, so they do not
make the coarser areas "unvollständig"; flagged here or with ``python -m keck_data uninhabited``."""
import pandas as pd
import streamlit as st

from keck_data import policy
from keck_data.errors import KeckError
from keck_data.importing import set_uninhabited
from keck_data.ui import resources, session
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

user = policy.require(session.user(), "open", "Arbeitsbereich")
st.markdown("# Gebiete")
st.caption("Gebiete ohne Wohnbevölkerung (Hafen, Wald, Inseln) haben absichtlich keine Werte: Bei den gröberen "
           "Ebenen zählen sie nicht als fehlend, deren Summen bleiben vollständig.")
if message := st.session_state.pop("gebiete_saved", None):
    st.success(safe(message))
levels = resources.levels().iloc[1:]
level = st.selectbox("Raumebene", list(levels["key"]), index=len(levels) - 1, key="gebiete_level",
                     format_func=dict(zip(levels["key"], levels["name"])).get)
labels = resources.area_label(level)
flagged = resources.uninhabited(level)
if flagged:
    st.dataframe(pd.DataFrame({"Ohne Wohnbevölkerung": [labels.get(k, k) for k in flagged]}), hide_index=True,
                 width="stretch", height="content")
else:
    st.info("Auf dieser Ebene ist kein Gebiet als „ohne Wohnbevölkerung“ gekennzeichnet.")
saves = st.session_state.setdefault("gebiete_saves", 0)  # a new widget after each save starts empty
chosen = st.multiselect("Gebiete", list(labels), format_func=labels.get, key=f"gebiete_areas_{saves}",
                        placeholder="Bitte wählen …", select_all=False)
left, right = st.columns(2)
flag = left.button("Als ohne Wohnbevölkerung kennzeichnen", type="primary", disabled=not chosen, width="stretch")
unflag = right.button("Kennzeichnung entfernen", disabled=not chosen, width="stretch")
if flag or unflag:
    try:
        n = set_uninhabited(atlas().wh, user, level, chosen, flag)
    except KeckError as err:
        st.error(safe(err))
    else:
        state = "als ohne Wohnbevölkerung" if flag else "wieder als bewohnt"
        st.session_state["gebiete_saved"] = f"{n} Gebiete {state} gekennzeichnet; gröbere Ebenen neu berechnet."
        st.session_state["gebiete_saves"] = saves + 1
        st.rerun()
