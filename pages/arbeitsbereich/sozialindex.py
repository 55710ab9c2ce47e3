"""Sozialindex: choose indicators, weights and polarity, see the ranking and how stable it is, save it as an
indicator (then map, table, export, release and publish show it like any other)."""
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from keck_data import charts, fmt, policy
from keck_data.analysis import derived, sozialindex
from keck_data.analysis.sozialindex import Classes, Spec
from keck_data.errors import KeckError
from keck_data.safe_text import safe
from keck_data.ui import resources, session, state, widgets
from keck_data.ui.resources import atlas

POLARITY = {"high_bad": "hoch ist ungünstig", "high_good": "hoch ist günstig", "neutral": "neutral (wie ungünstig)"}
CLASSES = {"sd:-1,1,1.5": "4 Statusklassen nach SD (−1 / +1 / +1,5; Berlin)", "quantile:4": "Quartile",
           "quantile:5": "Quintile", "sd:-1,1": "3 Klassen nach SD (−1 / +1)"}
DEFAULTS = ["sgb2_quote_u15", "arbeitslosenanteil", "anteil_alleinerziehend"]


def _pairs(param: str) -> dict[str, str]:
    """``key:value`` entries of a list parameter of the URL (weights, polarity) as a dict."""
    return dict(entry.split(":", 1) for entry in state.get(param, []) if ":" in entry)


def _weight(text: str | None) -> float:
    """A weight from the URL, 1 when it is missing or not a number between 0.1 and 10."""
    try:
        weight = float(text)
    except (TypeError, ValueError):
        return 1.0
    return weight if 0.1 <= weight <= 10 else 1.0


user = policy.require(session.user(), "open", "Arbeitsbereich")
st.markdown("# Sozialindex")
st.caption("Indikatoren wählen und gewichten: Jeder wird über die Gebiete der Ebene standardisiert (hoch ist "
           "günstig wird umgedreht), der Index ist das gewichtete Mittel; Rang 1 = größter Handlungsbedarf.")
if message := st.session_state.pop("si_saved", None):
    st.success(message)
inds = resources.indicators()
inds = inds[inds["kind"] != "count"].set_index("key")  # shares, means and indices: counts measure size
names = inds["name"].to_dict()
left, middle, right = st.columns([1, 1, 3])
level, year = widgets.level_and_year(left, middle)
with right:
    chosen = state.multiselect("Indikatoren", list(names), "si_ind", [k for k in DEFAULTS if k in names],
                               format_func=names.get)
asked_weights, asked_polarity = _pairs("si_gew"), _pairs("si_pol")
weights, polarity = {}, {}
for key in chosen:
    a, b, c = st.columns([3, 1, 2])
    a.markdown(f"**{safe(names[key])}**  \n{safe(inds.loc[key, 'unit'])}")
    weights[key] = b.number_input("Gewicht", min_value=0.1, max_value=10.0, value=_weight(asked_weights.get(key)),
                                  step=0.5, key=f"si_w_{key}")
    own = inds.loc[key, "polarity"]
    asked = asked_polarity.get(key)
    polarity[key] = c.selectbox("Polung", list(POLARITY), index=list(POLARITY).index(asked if asked in POLARITY
                                                                                   else own),
                                key=f"si_p_{key}", format_func=POLARITY.get)
state.put("si_gew", [f"{k}:{w:g}" for k, w in weights.items() if w != 1.0])
state.put("si_pol", [f"{k}:{p}" for k, p in polarity.items() if p != inds.loc[k, "polarity"]])
a, b, c, d = st.columns(4)
with a:
    method = state.widget(st.selectbox, "Standardisierung", list(sozialindex.METHODS), "si_std",
                          format_func=sozialindex.METHODS.get)
with b:
    missing = state.widget(st.radio, "Fehlende Werte", list(sozialindex.MISSING_RULES), "si_fehl",
                           format_func={"refuse": "Gebiet ohne Index", "renormalise": "Gewichte neu verteilen"}.get)
with c:
    classes = state.widget(st.selectbox, "Klassen", list(CLASSES), "si_kl", format_func=CLASSES.get)
with d:
    dynamics = int(state.widget(st.selectbox, "Dynamik", [0, 2, 4, 6], "si_dyn",
                                format_func=lambda n: "ohne" if not n else f"Veränderung über {n} Jahre"))
state.sync_url(["lvl", "yr", "si_ind", "si_gew", "si_pol", "si_std", "si_fehl", "si_kl", "si_dyn"])
if not chosen:
    st.info("Bitte mindestens einen Indikator wählen.")
    st.stop()
spec = Spec(level, int(year), weights, method, missing, {k: p for k, p in polarity.items() if p != inds.loc[k, "polarity"]},
            Classes.parse(classes), dynamics or None)
try:
    result = resources.sozialindex(spec)
except KeckError as err:
    st.error(safe(err))
    st.stop()
table = result.table
if result.missing:
    rule = "ohne Index" if missing == "refuse" else "mit neu verteilten Gewichten"
    st.warning(f"{fmt.count(len(result.missing), 'Gebiet', 'Gebiete')} {rule}, weil ein Wert fehlt oder „k. A.“ "
               "ist: " + safe("; ".join(f"{r.name} ({r.lacking})" for r in table.itertuples() if r.lacking)))
ranking, stability, matrix = st.tabs(["Rangfolge", "Rangstabilität", "Status und Dynamik"])
with ranking:
    shown = pd.DataFrame({
        "Rang": [str(r) if r else "–" for r in table["rank"]], "Gebiet": table["key"] + " " + table["name"],
        "Index": [fmt.number(s, 2) for s in table["score"]], "Klasse": table["class_label"],
        "Rang bei ±25 % Gewicht": [f"{p}–{q}" if r else "" for r, p, q in
                                   zip(table["rank"], table["rank_p05"], table["rank_p95"])],
        "Klasse stabil": ["" if not r else "ja" if s else "nein" for r, s in zip(table["rank"], table["class_stable"])],
        "fehlt": table["lacking"]})
    st.dataframe(shown, hide_index=True, width="stretch")
with stability:
    st.caption("Jedes Gewicht zufällig um bis zu ±25 % verändert, 1.000 Ziehungen (fester Startwert): Der Strich "
               "reicht vom 5. bis zum 95. Perzentil der Ränge; rot = Klasse nicht stabil.")
    st.plotly_chart(charts.rank_stability(table, f"Sozialindex {year}: Rangstabilität",
                                          "Sozialraum-Atlas, eigene Berechnung"), key="si_stability")
with matrix:
    if dynamics:
        st.dataframe(sozialindex.status_dynamics_matrix(result), width="stretch")
    else:
        st.info("Für die Status-Dynamik-Matrix oben eine Dynamik wählen.")
with st.form("si_save"):
    st.markdown("#### Als Indikator speichern")
    a, b = st.columns([1, 2])
    key = a.text_input("Schlüssel", value=f"sozialindex_{year}", key="si_key")
    name = b.text_input("Name", value=f"Sozialindex {year}", key="si_name")
    if st.form_submit_button("Speichern", type="primary"):
        try:
            sozialindex.save(atlas().wh, user, atlas(), spec, key.strip(), name.strip())
        except KeckError as err:
            st.error(safe(err))
        else:
            link = "/karte?" + urlencode({"ind": key.strip(), "lvl": level, "yr": year})
            st.session_state["si_saved"] = (f"„{name.strip()}“ gespeichert – [auf der Karte zeigen]({link}). "
                                            "Freigeben unter „Indikatoren pflegen“.")
            st.rerun()
st.markdown("#### Abgeleitete Indikatoren")
saved = derived.listing(atlas().wh)
if saved.empty:
    st.info("Noch keine abgeleiteten Indikatoren gespeichert.")
else:
    st.dataframe(pd.DataFrame({"Schlüssel": saved["key"], "Name": saved["name"], "Stand": saved["state"],
                               "Grund": saved["stale_reason"].fillna(""),
                               "freigegeben": saved["released"].map({True: "ja", False: "nein"})}),
                 hide_index=True, width="stretch", height="content")
    if saved["stale"].any() and st.button("Veraltete neu berechnen", key="si_recompute"):
        try:
            done = derived.recompute(atlas().wh, user)
        except KeckError as err:
            st.error(safe(err))
        else:
            st.session_state["si_saved"] = f"Neu berechnet: {', '.join(done)}."
            st.rerun()
