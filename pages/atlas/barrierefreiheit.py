"""Erklärung zur Barrierefreiheit (BITV 2.0): status, known gaps and their alternatives, feedback contact."""
import streamlit as st

from keck_data.accessibility import statement
from keck_data.config import settings
from keck_data.ui import resources

st.markdown("# Erklärung zur Barrierefreiheit")
text, contact_set = statement(resources.municipality(), settings())
if not contact_set and not settings().is_public:
    st.warning("Für die öffentliche Instanz fehlt die Kontaktadresse für Rückmeldungen: beim Start "
               "KECK_A11Y_CONTACT setzen (siehe README, „Erklärung zur Barrierefreiheit“).")
st.markdown(text)
