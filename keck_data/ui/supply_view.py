"""The Versorgung page's pieces: the choices, cached results, the planned changes of this session, the
before/after maps and tables. Nothing here writes unless the user saves (scenario or derived indicators)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import classify, fmt, policy
from ..analysis import scenario, supply
from ..errors import KeckError
from ..mapdeck import placement_deck, value_deck
from ..safe_text import safe
from . import resources, state, widgets
from .resources import atlas

ADDED, CLOSED = "supply_added", "supply_closed"  # this session's planned changes (never written by themselves)
RADII = [300, 500, 750, 1000, 1500, 2000]


def question(cols) -> supply.Question:
    """Einrichtungsart, Nachfrage (a count), Raumebene, Jahr, Umkreis and Zielquote, bound to the URL."""
    cats = resources.poi_categories()
    counts = resources.indicators()
    counts = counts[counts["kind"] == "count"]
    with cols[0]:
        category = state.widget(st.selectbox, "Einrichtungsart", list(cats["key"]), "cat", "kita",
                                format_func=dict(zip(cats["key"], cats["name"])).get)
        demand = state.widget(st.selectbox, "Nachfrage (Anzahl)", list(counts["key"]), "dem", "ew_3_6",
                              format_func=dict(zip(counts["key"], counts["name"])).get)
    level, year = widgets.level_and_year(cols[1], cols[1], demand)
    with cols[2]:
        radius = state.widget(st.select_slider, "Umkreis (m, Luftlinie)", RADII, "radius", 500,
                              format_func=lambda m: fmt.number(m, 0))
        target = state.widget(st.select_slider, "Zielquote (Plätze je 100)", [35, 50, 75, 90, 100], "target", 100)
    return supply.Question(category, demand, level, int(year), radius_m=float(radius), target=float(target))


def inputs(q: supply.Question) -> supply.Inputs:
    return resources.kept(("supply_inputs", q), lambda a: supply.load(a, q))


def comparison(q: supply.Question) -> scenario.Comparison:
    """Before/after for this session's planned changes (the "before" alone when nothing is planned)."""
    added, closed = planned(q), tuple(st.session_state.get(CLOSED, {}).get(q.category, ()))
    before = resources.kept(("supply_before", q), lambda a: supply.compute(inputs(q)))
    key = ("supply_cmp", q, tuple(tuple(sorted(a.items())) for a in added), closed)
    return resources.kept(key, lambda a: scenario.compare(inputs(q), added, closed, before), max_entries=16)


def planned(q: supply.Question) -> list[dict]:
    return st.session_state.setdefault(ADDED, {}).setdefault(q.category, [])


def planning_form(q: supply.Question, before: supply.Result) -> None:
    """Place a planned facility (area → its representative point, a click on the map, or coordinates) with its
    places, or close existing ones; changes live in this session until saved."""
    rows = before.level_rows().sort_values(["quote", "key"], na_position="last")
    labels = dict(zip(rows["key"], rows["key"] + " " + rows["name"] + " (Quote " + [
        fmt.value_text(v, s if pd.isna(v) else "ok", 1, None) for v, s in zip(rows["quote"], rows["status"])] + ")"))
    points = inputs(q).points.drop_duplicates("area_key").set_index("area_key")
    st.markdown("### Szenario: geplante Einrichtung")
    left, right = st.columns([2, 3])
    with right:
        st.caption("In die Karte klicken, um den Standort zu setzen – oder ein Gebiet bzw. Koordinaten wählen.")
        event = st.pydeck_chart(placement_deck(atlas(), resources.display_shapes(q.level),
                                               st.session_state.get("supply_pos")),
                                on_select="rerun", selection_mode="single-object", key="supply_place", height=380)
        picked = event.selection.objects.get("grid", []) if event and event.selection else []
        if picked:
            st.session_state["supply_pos"] = tuple(picked[0]["pos"])
    with left:
        area = st.selectbox("Standort im Gebiet (zuerst das am schlechtesten versorgte)", list(labels),
                            format_func=labels.get, key="supply_area")
        pos = st.session_state.get("supply_pos")
        if pos is None and area in points.index:
            pos = (float(points.loc[area, "lon"]), float(points.loc[area, "lat"]))
        if pos is None:
            st.info("Für dieses Gebiet ist kein Standort bekannt; bitte in die Karte klicken.")
            return
        lon = st.number_input("Länge (Grad)", value=float(pos[0]), format="%.5f", key=f"supply_lon_{area}_{pos}")
        lat = st.number_input("Breite (Grad)", value=float(pos[1]), format="%.5f", key=f"supply_lat_{area}_{pos}")
        name = st.text_input("Name", value="Geplante Einrichtung", key="supply_name")
        places = st.number_input("Plätze", min_value=1, max_value=2000, value=100, step=10, key="supply_places")
        if st.button("Einrichtung hinzufügen", type="primary"):
            new = {"name": name, "lon": lon, "lat": lat, "capacity": int(places)}
            try:
                supply.with_changes(inputs(q), [new])  # German message for a wrong entry, before it is kept
                planned(q).append(new)
                st.session_state.pop("supply_pos", None)
            except KeckError as err:
                st.error(safe(err))
    pois = inputs(q).pois
    closed = st.session_state.setdefault(CLOSED, {})
    closed[q.category] = st.multiselect("Bestehende Einrichtungen schließen", list(pois["id"]),
                                        default=list(closed.get(q.category, [])),
                                        format_func=dict(zip(pois["id"], pois["name"])).get,
                                        placeholder="Bitte wählen …", key=f"supply_close_{q.category}")
    if planned(q):
        st.caption("Geplant: " + safe("; ".join(f"{a['name']} ({a['capacity']} Plätze)" for a in planned(q))))
        if st.button("Geplante Einrichtungen verwerfen"):
            planned(q).clear()
            st.rerun()


def maps(q: supply.Question, cmp: scenario.Comparison) -> None:
    """Versorgungsquote before and after side by side, with one classification (the "before" classes)."""
    shapes = resources.display_shapes(q.level)
    before, after = (_values(r.level_rows()) for r in (cmp.before, cmp.after))
    inner = classify.classify(before["value"], before["status"], "quantile", 5, "orange_rot", "high_good",
                              1).bounds[:-1]  # the "before" class limits serve both maps
    bounds = resources.bounds()
    for column, title, values, markers in zip(st.columns(2), ["Vorher", "Nachher"], [before, after],
                                              [[], [(a["lon"], a["lat"]) for a in cmp.added]]):
        with column:
            st.markdown(f"**{title}: Versorgungsquote (Plätze je 100)**")
            shown = classify.classify(values["value"], values["status"], "manual" if inner else "quantile", 5,
                                      "orange_rot", "high_good", 1, manual_breaks=inner or None)
            st.pydeck_chart(value_deck(shapes, values, shown, bounds, "Versorgungsquote", markers), height=420,
                            key=f"supply_map_{title}")
            st.caption(" · ".join(f"{e.label} ({e.count})" for e in shown.legend))


def _values(rows: pd.DataFrame) -> pd.DataFrame:
    status = rows["status"].where(rows["quote"].notna() | rows["status"].ne("ok"), "missing")
    return pd.DataFrame({"key": rows["key"], "value": rows["quote"], "status": status,
                         "text": [fmt.value_text(v, s, 1, None) for v, s in zip(rows["quote"], status)]})


def save_forms(q: supply.Question, cmp: scenario.Comparison, user) -> None:
    """Save the scenario (internal, audited) and — for data editors — the results as derived indicators."""
    with st.form("supply_save"):
        title = st.text_input("Titel des Szenarios")
        if st.form_submit_button("Szenario speichern"):
            try:
                new_id = scenario.save(atlas().wh, user, title, cmp)
                st.success(f"Szenario „{safe(title.strip())}“ gespeichert (Nr. {new_id}, nur intern sichtbar).")
            except KeckError as err:
                st.error(safe(err))
    if policy.can(user, "save-derived", policy.Resource("indicator", supply.indicator_key(q, "quote"),
                                                         "kinderbetreuung")):
        if st.button("Ergebnis als Indikatoren speichern (ohne Szenario)"):
            try:
                keys = supply.save_results(atlas().wh, user, q)
                st.success("Gespeichert als abgeleitete Indikatoren: " + ", ".join(keys) + ". Freigabe unter "
                           "„Indikatoren pflegen“.")
            except KeckError as err:
                st.error(safe(err))


def public_results() -> None:
    """The public instance: released Versorgung results (derived indicators) of a level and year."""
    inds = resources.indicators()
    released = inds[inds["key"].str.startswith(supply.KEY_PREFIX)]
    st.markdown("# Versorgung")
    if released.empty:
        st.info("Es sind noch keine Ergebnisse der Versorgungsanalyse freigegeben.")
        return
    names = dict(zip(released["key"], released["name"]))
    key = state.widget(st.selectbox, "Ergebnis", list(names), "vs", format_func=names.get)
    level = widgets.level()
    year = widgets.year(key)
    values = resources.level_values(key, level, year)
    st.markdown(f"## {safe(names[key])}")
    st.caption(resources.indicator(key)["calculation"])
    st.table(values[["key", "name", "text"]].rename(columns={"key": "Schlüssel", "name": "Gebiet",
                                                               "text": names[key]}), hide_index=True)
