"""Sitzung: start a Sozialraumkonferenz, moderate or follow it, its notes, protocol and the Maßnahmenliste."""
from datetime import date

import streamlit as st

from keck_data import conference, policy
from keck_data.export_protocol import protocol_markdown, protocol_pdf
from keck_data.ui import follow, resources, session, session_notes, state
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe
from keck_data.ui.targets import create_from_measure

user = session.user()
wh = atlas().wh
current = follow.current()
st.markdown(f"# Sitzung: {safe(current.title)}" if current else "# Sozialraumkonferenz")

if current:
    names = resources.area_label(current.level)
    link, label = follow.share_link()
    st.markdown(f"{current.held_on:%d.%m.%Y} · Moderation: {safe(current.moderator)} · "
                f"{'beendet' if current.closed else 'läuft'}{' · öffentlich' if current.public else ''} · "
                f"Link für Teilnehmende: `{link}`")
    if current.public and "/sitzung?" in link:  # no KECK_PUBLIC_URL: say where the public follows
        st.caption(f"Öffentlich mitverfolgen: in der öffentlichen Instanz die Adresse `/?sitzung={current.id}` "
                   "öffnen (mit KECK_PUBLIC_URL zeigen Link und QR-Code direkt dorthin).")
    if follow.driving(current):
        st.info("Sie moderieren: Ihre Ansicht (Seite, Indikator, Jahr, Ebene, Gebiet) sehen alle, die folgen.")
        if st.button("Zur Karte (Tagesordnung beginnt)", type="primary"):
            state.put("lvl", current.level)
            state.put("sel", current.agenda[0])
            st.switch_page("pages/atlas/karte.py")
    st.markdown("**Tagesordnung:** " + " · ".join(safe(names.get(a, a)) for a in current.agenda))
    notes = conference.notes(wh, current.id)
    if notes.empty:
        st.caption("Noch keine Notizen. Notizen entstehen in der Seitenleiste zum Gebiet auf der Karte.")
    else:
        session_notes.show_table(notes, {"area_name": "Gebiet", "kind": "Art", "text": "Text",
                                         "responsible": "Zuständig", "due": "Bis", "status": "Status",
                                         "author": "Von"})
    left, right = st.columns(2)
    a, sid = atlas(), current.id  # the files are built only when clicked
    left.download_button("Protokoll als PDF", lambda: protocol_pdf(a, sid), f"protokoll_{sid}.pdf",
                         "application/pdf", on_click="ignore", key="dl_protocol_pdf")
    right.download_button("Protokoll als Markdown", lambda: protocol_markdown(a, sid), f"protokoll_{sid}.md",
                          "text/markdown", on_click="ignore", key="dl_protocol_md")
    if follow.driving(current):
        with st.form("close"):
            participants = st.text_area("Teilnehmende (für das Protokoll)", value=current.participants)
            if st.form_submit_button("Sitzung beenden"):
                conference.close_session(wh, user, current.id, participants)
                st.rerun()
else:
    if policy.can(user, "start-session", policy.Resource("session")):
        with st.expander("Neue Sitzung starten", expanded=False), st.form("start"):
            title = st.text_input("Titel", placeholder="z. B. Sozialraumkonferenz Nord")
            held_on = st.date_input("Datum", value=date.today(), format="DD.MM.YYYY")
            levels = resources.levels()
            level = st.selectbox("Raumebene", list(levels["key"]), index=len(levels) - 1,
                                 format_func=dict(zip(levels["key"], levels["name"])).get)
            names = resources.area_label(level)
            agenda = st.multiselect("Tagesordnung (Gebiete)", list(names), format_func=names.get,
                                    placeholder="Bitte wählen …", select_all=False)
            public = st.checkbox("Öffentlich mitverfolgen lassen", help="Die Ansichten (nur freigegebene "
                                 "Indikatoren, keine Notizen) erscheinen live in der öffentlichen Instanz – für "
                                 "offene Bürgerkonferenzen.")
            if st.form_submit_button("Sitzung starten", type="primary"):
                new_id = conference.start_session(wh, user, title, held_on, level, agenda, public)
                follow.open_here(new_id)
                st.rerun()
    found = conference.sessions(wh)
    if found.empty:
        st.info("Noch keine Sitzungen.")
    for row in found.itertuples(index=False):
        with st.container(border=True):
            st.markdown(f"**{safe(row.title)}** – {row.held_on:%d.%m.%Y} · Moderation: {safe(row.moderator)} · "
                        f"{row.notes} Notizen{' · beendet' if row.closed else ''}")
            mine = user and user.username == row.moderator and not row.closed
            if st.button("Moderieren" if mine else "Öffnen" if row.closed else "Folgen", key=f"open_{row.id}"):
                st.session_state.pop("conf_seq", None)
                follow.open_here(row.id)
                st.rerun()

st.markdown("## Maßnahmenliste")
todo = conference.measures(wh)
if todo.empty:
    st.caption("Noch keine Maßnahmen vereinbart.")
else:
    session_notes.show_table(todo, {"area_name": "Gebiet", "text": "Maßnahme", "responsible": "Zuständig",
                                    "due": "Bis", "status": "Status", "session": "Sitzung"})
    create_from_measure(user, todo)
state.sync_url([])
