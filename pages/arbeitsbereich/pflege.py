"""Indikatoren pflegen: metadata (mandatory fields enforced), values in a grid, Freigabe, Veröffentlichen."""
import streamlit as st

from keck_data import editing, policy
from keck_data.config import settings
from keck_data.errors import KeckError
from keck_data.importing.metadata import KIND_NAMES, KINDS, PRIVACY_HELP, PRIVACY_NAMES
from keck_data.ui import resources, session
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

user = policy.require(session.user(), "open", "Arbeitsbereich")
wh = atlas().wh
inds = resources.indicators()
if user.topics:
    inds = inds[inds["topic"].isin(user.topics)]
topics = resources.topics()
st.markdown("# Indikatoren pflegen")
key = st.selectbox("Indikator", ["", *inds["key"]], format_func=lambda k: "– neuer Indikator –" if not k else
                   dict(zip(inds["key"], inds["name"]))[k])
meta = inds.set_index("key").loc[key].to_dict() if key else {}

with st.form(f"meta_{key}"):
    st.subheader("Metadaten (* Pflichtfeld)")
    left, right = st.columns(2)
    new_key = left.text_input("Schlüssel *", key or "", disabled=bool(key))
    name = right.text_input("Name *", meta.get("name", ""))
    topic_keys = list(topics["key"]) if not user.topics else list(user.topics)
    topic = left.selectbox("Themenfeld *", topic_keys, index=topic_keys.index(meta["topic"]) if meta.get("topic") in
                           topic_keys else 0, format_func=dict(zip(topics["key"], topics["name"])).get)
    unit = right.text_input("Einheit *", meta.get("unit", ""))
    kind = left.selectbox("Art *", list(KINDS), index=list(KINDS).index(meta.get("kind", "count")),
                          format_func=lambda k: KIND_NAMES.get(k, k))
    polarity = right.selectbox("Ein hoher Wert ist …", ["high_bad", "high_good", "neutral"],
                               index=["high_bad", "high_good", "neutral"].index(meta.get("polarity", "neutral")),
                               format_func={"high_bad": "ungünstig", "high_good": "günstig", "neutral": "neutral"}.get)
    privacy = left.selectbox("Geheimhaltung", list(PRIVACY_NAMES), index=list(PRIVACY_NAMES).index(
        meta.get("privacy") or "threshold"), format_func=PRIVACY_HELP.get)
    numerator = right.text_input("Zähler-Indikator (bei Quoten)", meta.get("numerator") or "")
    denominator = left.text_input("Nenner-Indikator (bei Quoten)", meta.get("denominator") or "")
    definition = st.text_area("Definition *", meta.get("definition", ""))
    calculation = st.text_area("Berechnung *", meta.get("calculation", ""))
    source = left.text_input("Quelle *", meta.get("source", ""))
    reference_date = right.text_input("Stichtag *", meta.get("reference_date", ""))
    interpretation = st.text_area("Hinweise zur Interpretation", meta.get("interpretation") or "")
    owner = left.text_input("Datenhalter", meta.get("data_owner") or "")
    cycle = right.text_input("Aktualisierung", meta.get("update_cycle") or "")
    old_rule = meta.get("ampel_rule")
    rule = left.text_input("Ampel-Regel ohne Ziele", old_rule if isinstance(old_rule, str) else "",
                           placeholder="z. B. sd:1 oder cut:10;20",
                           help="Schwellenregel für die Ampel-Karte, solange es auf einer Ebene keine Wirkungsziele "
                                "gibt – eine Regel, kein Ziel. „sd:1“: mehr als 1 Standardabweichung ungünstiger als "
                                "der städtische Wert = rot, ungünstiger = gelb, sonst grün. „cut:10;20“: feste "
                                "Grenzen (bis 10 grün, bis 20 gelb, darüber rot; bei „hoch ist günstig“ umgekehrt).")
    if st.form_submit_button("Metadaten speichern", type="primary"):
        try:
            editing.save_indicator(wh, user, {
                "key": key or new_key.strip(), "name": name, "topic": topic, "unit": unit, "kind": kind,
                "polarity": polarity, "privacy": privacy, "numerator": numerator or None,
                "denominator": denominator or None,
                "definition": definition, "calculation": calculation, "source": source,
                "reference_date": reference_date, "interpretation": interpretation or None,
                "data_owner": owner or None, "update_cycle": cycle or None, "ampel_rule": rule.strip() or None,
                "aggregation": KINDS[kind] if not (kind == "rate" and not numerator) else "none"})
            st.success("Metadaten gespeichert.")
        except KeckError as err:
            st.error(safe(err))

if key:
    released = st.toggle("Freigegeben (erscheint nach dem Veröffentlichen öffentlich)", value=bool(meta["released"]))
    if released != bool(meta["released"]):
        try:
            editing.set_released(wh, user, key, released)
        except KeckError as err:  # e.g. a derived indicator built on indicators not yet released
            st.error(safe(err))
        else:
            st.rerun()
    st.subheader("Werte bearbeiten")
    left, right = st.columns(2)
    levels = resources.levels()
    level = left.selectbox("Raumebene", list(levels["key"])[::-1], format_func=dict(zip(levels["key"],
                                                                                         levels["name"])).get)
    years = resources.years(None)
    year = right.number_input("Jahr", min_value=1990, max_value=2100, value=int(years[-1]) if years else 2024)
    grid = editing.raw_values(wh, user, key, level, int(year))
    edited = st.data_editor(grid.rename(columns={"key": "Schlüssel", "name": "Gebiet", "text": "Wert"}),
                            disabled=["Schlüssel", "Gebiet"], hide_index=True, key=f"grid_{key}_{level}_{year}",
                            width="stretch", height=400)
    st.caption("Zahlen im deutschen Format (1.234,5); „k. A.“ = geheim zu halten, leer = keine Daten. "
               "Gröbere Ebenen werden beim Speichern neu berechnet.")
    if st.button("Werte speichern", type="primary"):
        changed = {k: t for k, t, old in zip(edited["Schlüssel"], edited["Wert"], grid["text"]) if t != old}
        try:
            n = editing.save_values(wh, user, key, level, int(year), changed) if changed else 0
            st.success(f"{n} Werte gespeichert.")
        except KeckError as err:
            st.error(safe(err))

st.divider()
st.subheader("Veröffentlichen")
st.caption("Schreibt den öffentlichen Datenstand: nur freigegebene Indikatoren, Datenschutz angewandt, "
           "öffentliche Einrichtungen und Lesezeichen.")
if st.button("Veröffentlichen"):
    result = editing.publish_snapshot(wh, user, settings().public_warehouse_path)
    st.success(f"Veröffentlicht: {result['indicators']} Indikatoren, {result['values']} Werte "
               f"({result['suppressed']} als „k. A.“).")
