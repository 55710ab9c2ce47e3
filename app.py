"""Sozialraum-Atlas: entry point (page config, mode, navigation)."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from keck_data.config import settings
from keck_data.errors import KeckError
from keck_data.ui import frame, state
from keck_data.ui.resources import atlas

st.set_page_config(page_title="Sozialraum-Atlas", page_icon=":material/map:", layout="wide")

PAGES = [
    st.Page("pages/karte.py", title="Karte", url_path="karte", icon=":material/map:", default=True),
    st.Page("pages/tabelle.py", title="Tabelle", url_path="tabelle", icon=":material/table:"),
    st.Page("pages/diagramme.py", title="Diagramme", url_path="diagramme", icon=":material/bar_chart:"),
    st.Page("pages/zeitreihe.py", title="Zeitreihe", url_path="zeitreihe", icon=":material/show_chart:"),
    st.Page("pages/gebietsvergleich.py", title="Gebietsvergleich", url_path="gebietsvergleich", icon=":material/compare:"),
    st.Page("pages/indikatoren.py", title="Indikatoren", url_path="indikatoren", icon=":material/menu_book:"),
]

# A folder called pages/ makes Streamlit start each server's first run in the old auto-discovery mode;
# st.navigation switches it off, and one rerun shows the explicitly registered pages from then on.
first_run_in_folder_mode = PagesManager.uses_pages_directory
page = st.navigation(PAGES)
if first_run_in_folder_mode:
    st.rerun()
try:
    current = atlas()
    state.view()
    with st.sidebar:
        st.markdown(f"## Sozialraum-Atlas {current.municipality()}")
        if current.is_demo():
            st.info("Synthetische Demodaten – keine echten Werte.")
        st.caption("Öffentliche Instanz: freigegebene Daten" if settings().is_public else "Interne Instanz")
        state.toggle("Präsentationsmodus", "present", help="Große Schrift, ohne Bedienelemente; die Adresse "
                                                          "zeigt Kolleginnen und Kollegen dieselbe Ansicht.")
    frame.style()
    page.run()
except KeckError as err:
    st.error(str(err))
