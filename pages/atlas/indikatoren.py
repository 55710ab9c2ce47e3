"""Indikatoren: the catalogue with all metadata, searchable."""
import streamlit as st

from keck_data.importing.metadata import KIND_NAMES, PRIVACY_HELP
from keck_data.ui import downloads, frame, resources, state
from keck_data.ui.maps import METADATA_FIELDS
from keck_data.safe_text import safe

with frame.controls(1) as cols:
    with cols[0]:
        st.session_state["w_q"] = state.get("q", "")
        query = st.text_input("Suche (Name, Definition, Quelle)", key="w_q",
                              on_change=lambda: state.put("q", st.session_state["w_q"]))

inds = resources.indicators()
if query:
    text = inds[["key", "name", "definition", "source", "topic_name"]].fillna("").agg(" ".join, axis=1)
    inds = inds[text.str.contains(query, case=False, regex=False)]
st.markdown(f"# Indikatoren ({len(inds)})")
downloads.open_data_download()
if inds.empty:
    st.info(f"Kein Indikator passt zu „{safe(query)}“.")
for topic, group in inds.groupby("topic_name", sort=False):
    st.markdown(f"## {safe(topic)}")
    for _, ind in group.iterrows():
        with st.expander(safe(f"{ind['name']} ({ind['unit']})")):
            kind = KIND_NAMES.get(ind["kind"], ind["kind"])
            st.markdown(f"**Schlüssel:** {safe(ind['key'])} · **Art:** {safe(kind)} · "
                        f"**Geheimhaltung:** {safe(PRIVACY_HELP.get(ind['privacy'], ind['privacy']))}")
            for col, label in METADATA_FIELDS:
                if isinstance(ind[col], str) and ind[col]:
                    st.markdown(f"**{label}:** {safe(ind[col])}")
state.sync_url(["q"])
