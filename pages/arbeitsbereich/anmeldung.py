"""Anmeldung: the internal instance opens here; after login the map."""
import streamlit as st

from keck_data.errors import KeckError
from keck_data.ui import session
from keck_data.safe_text import safe

st.markdown("# Anmeldung")
st.caption("Interner Arbeitsbereich des Sozialraum-Atlas. Die öffentliche Instanz braucht keine Anmeldung.")
with st.form("login"):
    username = st.text_input("Benutzername", key="login_user")
    password = st.text_input("Passwort", type="password", key="login_password")
    submitted = st.form_submit_button("Anmelden", type="primary")
if session.sso_configured():
    st.button("Mit Single Sign-on anmelden", on_click=st.login)
if submitted:
    try:
        session.login(username, password)
        st.rerun()  # the navigation now shows the map (default page) and the pages of the role
    except KeckError as err:
        st.error(safe(err))
