"""Ziele: Wirkungsziele with their Ampel, create/change (also from a Maßnahme), Freigabe, history, Zielbericht."""
import streamlit as st

from keck_data import conference, policy
from keck_data.analysis import target_edits, targets
from keck_data.errors import KeckError
from keck_data.safe_text import safe
from keck_data.ui import resources, session, state
from keck_data.ui.resources import atlas
from keck_data.ui.targets import report_download, status_table, target_form

user = policy.require(session.user(), "open", "Arbeitsbereich")
wh = atlas().wh
st.markdown("# Ziele")
st.caption(targets.RULE_TEXT)
if message := st.session_state.pop("ziel_saved", None):
    st.success(message)
status = resources.target_status()
status_table(status)
if not status.empty:
    report_download("ziele")

measures = conference.measures(wh)
from_measure = state.get("massnahme")
titles = dict(zip(status["id"], status["title"]))
chosen = st.selectbox("Ziel bearbeiten", [0, *titles], format_func=lambda i: titles.get(i, "– neues Ziel –"),
                      index=0 if from_measure else None, placeholder="Ziel wählen …")
if chosen is not None:
    if chosen:
        current = status.set_index("id").loc[chosen].to_dict() | {"id": chosen}
        current["measures"] = target_edits.linked_measures(wh, chosen)
    elif from_measure:
        current = target_edits.measure_context(wh, int(from_measure))
        st.info(f"Aus der Maßnahme „{safe(current['title'])}“: Gebiet und Indikator sind vorausgefüllt.")
    else:
        current = {}
    try:
        saved = target_form(user, current, measures)
        if saved:
            state.view().pop("massnahme", None)
            st.session_state["ziel_saved"] = f"Ziel gespeichert (Ampel: {saved})."
            st.rerun()  # the table above shows the saved target
    except KeckError as err:
        st.error(safe(err))
    if chosen:
        released = st.toggle("Freigegeben (erscheint nach dem Veröffentlichen öffentlich)",
                             value=bool(current["released"]), key=f"rel_{chosen}")
        if released != bool(current["released"]):
            target_edits.set_target_released(wh, user, chosen, released)
            st.rerun()
        with st.expander("Verlauf (alle Fassungen)"):
            st.dataframe(target_edits.history(wh, chosen).rename(columns={
                "version": "Fassung", "changed_at": "Zeit", "actor": "Von", "data": "Inhalt"}), hide_index=True)
state.sync_url(["massnahme"])
