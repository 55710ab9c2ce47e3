"""The notes side panel of a live session: the notes of the area on screen, and forms for those allowed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import conference, editing, policy
from ..errors import KeckError
from ..policy import User
from ..safe_text import safe
from . import follow, resources, state
from .resources import atlas


def area_on_screen(s: conference.Session) -> str | None:
    """The selected area when the view shows the session's level, else None."""
    sel = state.get("sel")
    same_level = state.get("lvl", s.level) == s.level
    return sel if sel and same_level and sel in resources.area_label(s.level) else None


def panel(user: User) -> None:
    """In the sidebar during a session: notes of the area on screen (everybody), forms (who may write)."""
    s = follow.current()
    if s is None:
        return
    names = resources.area_label(s.level)
    area = area_on_screen(s)
    with st.sidebar:
        st.divider()
        st.markdown(f"**Sitzung „{safe(s.title)}“** – Notizen")
        if area is None:
            st.caption("Für Notizen ein Gebiet der Ebene der Sitzung in der Karte anklicken oder auswählen.")
            return
        st.caption(safe(names[area]))
        found = conference.notes(atlas().wh, s.id)
        found = found[found["area_key"] == area]
        may_write = policy.can(user, "save-note", policy.Resource("note")) and not s.closed
        for note in found.itertuples(index=False):
            st.markdown(f"**{conference.KINDS[note.kind]}:** {safe(note.text)}" + _measure_line(note))
            if may_write:
                with st.expander("Bearbeiten", expanded=False):
                    note_form(user, s, area, note)
        if may_write:
            with st.expander("Neue Notiz", expanded=found.empty):
                note_form(user, s, area, None)


def _measure_line(note) -> str:
    if note.kind != "measure":
        return ""
    due = f", bis {pd.Timestamp(note.due):%d.%m.%Y}" if not pd.isna(note.due) else ""
    return f"  \n_Zuständig: {safe(note.responsible)}{due} – {conference.STATUSES[note.status]}_"


def note_form(user: User, s: conference.Session, area: str, note) -> None:
    """Create (``note`` None) or edit/delete one note; errors are shown in German, nothing is lost."""
    key = f"note_{note.id if note is not None else 'new'}"
    with st.form(key, clear_on_submit=note is None):
        kinds = list(conference.KINDS)
        kind = st.selectbox("Art", kinds, format_func=conference.KINDS.get,
                            index=kinds.index(note.kind) if note is not None else 0)
        text = st.text_area("Text", value=note.text if note is not None else "", height=90)
        responsible = st.text_input("Zuständig (bei Maßnahmen)",
                                    value=(note.responsible or "") if note is not None else "")
        due = st.date_input("Zu erledigen bis (bei Maßnahmen)", format="DD.MM.YYYY",
                            value=None if note is None or pd.isna(note.due) else pd.Timestamp(note.due).date())
        statuses = list(conference.STATUSES)
        status = st.selectbox("Status (bei Maßnahmen)", statuses, format_func=conference.STATUSES.get,
                              index=statuses.index(note.status) if note is not None else 0)
        save = st.form_submit_button("Speichern" if note is None else "Ändern", type="primary")
        delete = note is not None and st.form_submit_button("Löschen")
        bookmark = note is not None and st.form_submit_button("Als Lesezeichen")
    try:
        if save:
            conference.save_note(atlas().wh, user, s.id, area, kind, text, responsible, due, status,
                                 note_id=None if note is None else int(note.id),
                                 expected_version=None if note is None else int(note.version))
            st.rerun()
        if delete:
            conference.delete_note(atlas().wh, user, s.id, int(note.id))
            st.rerun()
        if bookmark:
            view = {k: v for k, v in state.view().items() if k not in ("present", follow.PARAM)}
            title = f"{s.title}: {conference.KINDS[note.kind]} {resources.area_label(s.level)[area]}"
            editing.save_bookmark(atlas().wh, user, title, note.text, view)
            st.success(f"Lesezeichen „{safe(title)}“ gespeichert.")
    except KeckError as err:
        st.error(safe(err))



def show_table(df: pd.DataFrame, columns: dict[str, str]) -> None:
    """Notes or measures as a table with German labels, dates as dd.mm.yyyy and empty cells empty."""
    out = df.assign(kind=df["kind"].map(conference.KINDS) if "kind" in df else None,
                    status=df["status"].map(conference.STATUSES),
                    due=pd.to_datetime(df["due"]).dt.strftime("%d.%m.%Y")
                    + (df["overdue"].map({True: " – überfällig", False: ""}) if "overdue" in df else ""))
    st.dataframe(out[list(columns)].rename(columns=columns).fillna(""), hide_index=True, width="stretch")
