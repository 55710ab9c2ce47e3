"""Änderungsprotokoll: the audit log, filterable, with before/after; undo a single change where safe."""
import streamlit as st

from keck_data import editing, policy
from keck_data.ui import session
from keck_data.ui.resources import atlas

user = policy.require(session.user(), "open", "Arbeitsbereich")
st.markdown("# Änderungsprotokoll")
wh = atlas().wh
actors, entities = editing.audit_filter_options(wh)
left, right = st.columns(2)
actor = left.selectbox("Wer", ["", *actors], format_func=lambda a: a or "alle")
entity = right.selectbox("Was", ["", *entities], format_func=lambda e: e or "alles")
entries = editing.audit_entries(wh, actor or None, entity or None)
st.dataframe(entries.rename(columns={"id": "Nr.", "changed_at": "Zeit (UTC)", "actor": "Wer", "action": "Aktion",
                                     "entity": "Objekt", "entity_key": "Schlüssel", "before": "Vorher",
                                     "after": "Nachher"}), hide_index=True, width="stretch", height=500)
undoable = entries[entries["action"].isin(editing.UNDOABLE)]
if not undoable.empty:
    choice = st.selectbox("Änderung rückgängig machen", undoable["id"],
                          format_func=lambda i: "Nr. {} – {} {} ({})".format(
                              i, *undoable.set_index("id").loc[i, ["action", "entity_key", "changed_at"]]))
    if st.button("Rückgängig machen"):
        editing.undo(wh, user, int(choice))
        st.success(f"Änderung Nr. {choice} wurde rückgängig gemacht (selbst wieder protokolliert).")
