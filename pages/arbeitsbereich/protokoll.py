"""Änderungsprotokoll: the audit log a page at a time, filterable, with before/after; undo a change where safe."""
import math

import streamlit as st

from keck_data import editing, policy
from keck_data.errors import KeckError
from keck_data.ui import session
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

PER_PAGE = 50
ENTITIES = {"poi": "Einrichtung", "indicator": "Indikator", "indicator_value": "Werte", "bookmark": "Lesezeichen",
            "user": "Benutzer", "user_role": "Benutzerrolle", "snapshot": "Veröffentlichung", "area": "Gebiet",
            "login": "Anmeldung", "profile": "Importvorlage", "session": "Sitzung", "note": "Sitzungsnotiz",
            "uninhabited_area": "Gebiete ohne Wohnbevölkerung", "target": "Ziel", "target.ampel": "Ziel-Ampel",
            "target.released": "Ziel-Freigabe", "target.evaluation": "Ziel-Bewertung"}
ACTIONS = {"save-target": "Ziel gespeichert", "import-targets": "Ziele importiert",
           "evaluate-targets": "Ampel neu bewertet", "release-target": "Ziel freigegeben",
           "withdraw-target": "Ziel-Freigabe zurückgezogen", "create-poi": "Einrichtung angelegt",
           "update-poi": "Einrichtung geändert",
           "delete-poi": "Einrichtung gelöscht", "save-indicator": "Indikator gespeichert",
           "edit-values": "Werte bearbeitet", "import-values": "Werte importiert", "import-areas": "Gebiete importiert",
           "import-pois": "Einrichtungen importiert", "release": "freigegeben", "withdraw": "Freigabe zurückgezogen",
           "publish": "veröffentlicht", "save-bookmark": "Lesezeichen gespeichert",
           "delete-bookmark": "Lesezeichen gelöscht", "save-user": "Benutzer gespeichert", "login": "Anmeldung",
           "login-failed": "Anmeldung fehlgeschlagen", "logout": "Abmeldung", "init-auth": "Konten angelegt",
           "init-demo": "Demodaten angelegt", "flag-areas": "Gebiete gekennzeichnet",
           "verweigert": "verweigert (keine Berechtigung)"}

user = policy.require(session.user(), "open", "Arbeitsbereich")
st.markdown("# Änderungsprotokoll")
wh = atlas().wh
actors, entities = editing.audit_filter_options(wh)
left, middle, right = st.columns([2, 2, 1])
actor = left.selectbox("Wer", ["", *actors], format_func=lambda a: a or "alle")
entity = middle.selectbox("Was", ["", *entities], format_func=lambda e: ENTITIES.get(e, e) if e else "alles")
total = editing.audit_count(wh, actor or None, entity or None)
pages = max(1, math.ceil(total / PER_PAGE))
page = right.number_input("Seite", min_value=1, max_value=pages, value=1, key="audit_page")
entries = editing.audit_entries(wh, actor or None, entity or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
st.caption(f"{total} Einträge · Seite {page} von {pages} · lange Werte sind gekürzt (…)")
labels = entries.assign(action=entries["action"].map(lambda a: ACTIONS.get(a, a))).fillna("")  # not "None"
st.dataframe(labels.rename(columns={"id": "Nr.", "changed_at": "Zeit (UTC)", "actor": "Wer", "action": "Aktion",
                                    "entity": "Objekt", "entity_key": "Schlüssel", "before": "Vorher",
                                    "after": "Nachher"}), hide_index=True, width="stretch", height=500)
undoable = entries[entries["action"].isin(editing.UNDOABLE)]
if not undoable.empty:
    choice = st.selectbox("Änderung rückgängig machen", undoable["id"],
                          format_func=lambda i: "Nr. {} – {} {} ({})".format(
                              i, ACTIONS[undoable.set_index("id").loc[i, "action"]],
                              *undoable.set_index("id").loc[i, ["entity_key", "changed_at"]]))
    if st.button("Rückgängig machen"):
        try:
            editing.undo(wh, user, int(choice))
            st.success(f"Änderung Nr. {choice} wurde rückgängig gemacht (selbst wieder protokolliert).")
        except KeckError as err:
            st.error(safe(err))
