"""Benutzer: create users, reset passwords, assign role and topic rights, deactivate (Kommunen-Administration)."""
import numpy as np
import streamlit as st

from keck_data import auth, policy
from keck_data.ui import resources, session
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

user = policy.require(session.user(), "open", "Verwaltung")
wh = atlas().wh
st.markdown("# Benutzer")
users = auth.list_users(wh)
topics = resources.topics()
topic_names = dict(zip(topics["key"], topics["name"]))
users["role"] = users["role"].map(policy.role_label)
users["topics"] = users["topics"].map(lambda t: ", ".join(topic_names.get(k, k) for k in t)
                                      if isinstance(t, (list, tuple, np.ndarray)) and len(t) else "alle")
users["active"] = users["active"].map({True: "ja", False: "nein"})
st.dataframe(users.rename(columns={"username": "Benutzername", "name": "Name", "role": "Rolle",
                                   "topics": "Themenfelder", "active": "aktiv"}), hide_index=True, width="stretch")
with st.form("user"):
    st.subheader("Benutzer anlegen oder ändern")
    username = st.text_input("Benutzername")
    name = st.text_input("Name")
    roles = list(policy.ROLES)
    role = st.selectbox("Rolle", roles, index=roles.index(policy.LEAST_ROLE), format_func=policy.role_label)
    chosen = st.multiselect("Bearbeitungsrechte nur für diese Themenfelder (leer = alle)", list(topics["key"]),
                            format_func=topic_names.get, placeholder="alle Themenfelder", select_all=False)
    password = st.text_input("Neues Passwort (leer = unverändert; beendet alle Sitzungen)", type="password")
    active = st.checkbox("aktiv", value=True)
    if st.form_submit_button("Speichern", type="primary"):
        auth.save_user(wh, user, username.strip(), name.strip() or username.strip(), role, chosen,
                       password or None, active)
        st.success(f"Benutzer „{safe(username)}“ gespeichert.")
