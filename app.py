"""Sozialraum-Atlas: entry point (page config, mode, login, role-based navigation)."""
import streamlit as st

from keck_data.config import settings
from keck_data.errors import KeckError
from keck_data.ui import frame, session, state
from keck_data.ui.resources import atlas

st.set_page_config(page_title="Sozialraum-Atlas", page_icon=":material/map:", layout="wide")

ATLAS = [
    st.Page("pages/atlas/karte.py", title="Karte", url_path="karte", icon=":material/map:", default=True),
    st.Page("pages/atlas/tabelle.py", title="Tabelle", url_path="tabelle", icon=":material/table:"),
    st.Page("pages/atlas/diagramme.py", title="Diagramme", url_path="diagramme", icon=":material/bar_chart:"),
    st.Page("pages/atlas/zeitreihe.py", title="Zeitreihe", url_path="zeitreihe", icon=":material/show_chart:"),
    st.Page("pages/atlas/gebietsvergleich.py", title="Gebietsvergleich", url_path="gebietsvergleich",
            icon=":material/compare:"),
    st.Page("pages/atlas/indikatoren.py", title="Indikatoren", url_path="indikatoren", icon=":material/menu_book:"),
    st.Page("pages/atlas/lesezeichen.py", title="Lesezeichen", url_path="lesezeichen", icon=":material/bookmark:"),
]
EDITING = [
    st.Page("pages/arbeitsbereich/einrichtungen.py", title="Einrichtungen pflegen", url_path="einrichtungen",
            icon=":material/location_on:"),
    st.Page("pages/arbeitsbereich/pflege.py", title="Indikatoren pflegen", url_path="pflege", icon=":material/edit:"),
    st.Page("pages/arbeitsbereich/import.py", title="Daten importieren", url_path="import", icon=":material/upload:"),
    st.Page("pages/arbeitsbereich/protokoll.py", title="Änderungsprotokoll", url_path="protokoll", icon=":material/history:"),
]
ADMIN = [st.Page("pages/arbeitsbereich/benutzer.py", title="Benutzer", url_path="benutzer", icon=":material/group:")]
# Logged out, every address shows the login form; after login the same address shows the page asked for.
LOGIN = [st.Page("pages/arbeitsbereich/anmeldung.py", title="Anmeldung", url_path=p.url_path, default=i == 0,
                 icon=":material/login:") for i, p in enumerate(ATLAS + EDITING + ADMIN)]


def pages_for(public: bool, user) -> list | dict:
    """Public: the atlas only. Internal: the login page until logged in, then pages by role."""
    if public:
        return ATLAS
    if user is None:
        return LOGIN
    sections = {"Atlas": ATLAS}
    if user.role in ("keck_admin", "kommunen_admin"):
        sections["Arbeitsbereich"] = EDITING
    if user.role == "kommunen_admin":
        sections["Verwaltung"] = ADMIN
    return sections


try:
    cfg = settings()
    current_user = None
    if not cfg.is_public:
        session.cookie_key()  # refuse to run the internal instance with a missing or example key
        current_user = session.user()
    page = st.navigation(pages_for(cfg.is_public, current_user),
                         position="hidden" if not cfg.is_public and current_user is None else "sidebar")
    current = atlas()
    state.view()
    if page.url_path in {p.url_path for p in ATLAS if p.url_path != "lesezeichen"}:
        state.put("page", page.url_path or "karte")
    with st.sidebar:
        st.markdown(f"## Sozialraum-Atlas {current.municipality()}")
        if current.is_demo():
            st.info("Synthetische Demodaten – keine echten Werte.")
        st.caption("Öffentliche Instanz: freigegebene Daten" if cfg.is_public else "Interne Instanz")
        if current_user:
            session.remember_login()
            st.caption(f"Angemeldet: {current_user.name} ({current_user.role_name})")
            if st.button("Abmelden", key="logout_button"):
                session.logout(current_user)
                st.rerun()
        state.toggle("Präsentationsmodus", "present", help="Große Schrift, ohne Bedienelemente; die Adresse "
                                                          "zeigt Kolleginnen und Kollegen dieselbe Ansicht.")
    frame.style()
    page.run()
except KeckError as err:
    st.error(str(err))
