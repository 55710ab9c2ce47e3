"""Lesezeichen: save the current view with an interpretation; list, open, delete; public ones for everyone."""
import json

import streamlit as st

from keck_data import editing, policy
from keck_data.config import settings
from keck_data.ui import session, state
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

public = settings().is_public
user = None if public else session.user()
st.markdown("# Lesezeichen")
if user:
    with st.expander("Aktuelle Ansicht speichern", expanded=False):
        view = {k: v for k, v in state.view().items() if k not in ("present",)}
        st.caption(safe(f"Ansicht: Seite „{view.get('page', 'karte')}“, "
                        + ", ".join(f"{k}={v}" for k, v in view.items() if k != "page")))
        with st.form("bookmark"):
            title = st.text_input("Titel")
            text = st.text_area("Interpretation (Markdown)", height=150)
            make_public = st.checkbox("Öffentlich (erscheint nach dem Veröffentlichen in der öffentlichen Instanz)",
                                      disabled=not policy.can(user, "save-bookmark",
                                                                policy.Resource("bookmark", public=True)))
            if st.form_submit_button("Speichern", type="primary"):
                editing.save_bookmark(atlas().wh, user, title, text, view, make_public)
                st.success(f"Lesezeichen „{safe(title)}“ gespeichert.")
marks = editing.bookmarks(atlas().wh, user, public_only=public)
if marks.empty:
    st.info("Noch keine Lesezeichen.")
for row in marks.itertuples(index=False):
    view = json.loads(row.view_state)
    with st.container(border=True):
        st.markdown(f"## {safe(row.title)}")
        about = ("öffentlich" if row.public else "intern", row.owner, row.created_at[:16])  # public: no owner
        st.caption(" · ".join(safe(p) for p in about if p))
        st.markdown(editing.render_markdown(row.interpretation), unsafe_allow_html=True)  # sanitised (nh3)
        left, right = st.columns([1, 5])
        if left.button("Öffnen", key=f"open_{row.id}"):
            st.session_state["view"] = {k: v for k, v in view.items()}
            st.switch_page(f"pages/atlas/{view.get('page', 'karte')}.py")
        if policy.can(user, "delete-bookmark", policy.Resource("bookmark", owner=row.owner, public=row.public)):
            if right.button("Löschen", key=f"del_{row.id}"):
                editing.delete_bookmark(atlas().wh, user, int(row.id))
                st.rerun()
