"""Shown for an address the role (or the public instance) may not open, instead of Streamlit's "Page not found"."""
import streamlit as st

from keck_data.config import settings

st.markdown("# Seite nicht verfügbar")
if settings().is_public:
    st.warning("Diese Seite gibt es nur im internen Arbeitsbereich, nicht in der öffentlichen Instanz.")
else:
    st.warning("Diese Seite ist für Ihre Rolle nicht freigegeben. Bitte wenden Sie sich an die "
               "Kommunen-Administration, wenn Sie sie brauchen.")
st.page_link("pages/atlas/karte.py", label="Zur Karte", icon=":material/map:")
