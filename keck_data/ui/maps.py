"""Map page parts: the cached map build, the metadata popover and the clicked area's profile."""
from __future__ import annotations

import copy
import dataclasses
import json

import pandas as pd
import streamlit as st
from pydeck.bindings.json_tools import default_serialize

from .. import area_groups, classify, fmt
from ..analysis import derived
from ..analysis import similar as similar_areas
from ..errors import KeckError, ValidationError
from ..mapdeck import CompactDeck, MapResult, MapSettings, build
from ..queries import Atlas
from ..safe_text import safe
from . import resources, state, widgets

AREA_LAYERS = ("areas", "circles", "circles_ka")
METADATA_FIELDS = [("definition", "Definition"), ("calculation", "Berechnung"), ("source", "Quelle"),
                   ("reference_date", "Stichtag"), ("interpretation", "Hinweise zur Interpretation"),
                   ("data_owner", "Datenhalter"), ("update_cycle", "Aktualisierung")]


class SerializedDeck:
    """A built deck as st.pydeck_chart reads it: its JSON, serialised once, and its tooltip (nothing else kept).
    The first view is written last, so the zoom buttons replace it without serialising the areas again."""

    layers = ()  # what Streamlit inspects on pandas ≥ 3: the data is already in the JSON

    def __init__(self, deck: CompactDeck) -> None:
        view, deck.initial_view_state = deck.initial_view_state, None
        try:
            body = deck.to_json()  # everything but the first view
        finally:
            deck.initial_view_state = view
        self._view = json.loads(json.dumps(view, default=default_serialize))
        self._cut, self._tooltip = len(body) - 1, deck._tooltip
        self._json = self._with(body, self._view)

    def _with(self, json_text: str, view: dict) -> str:
        return f'{json_text[:self._cut]},"initialViewState":{json.dumps(view)}}}'

    def zoomed(self, steps: int, centre: tuple[float, float] | None = None) -> SerializedDeck:
        """The same map ``steps`` zoom levels closer (around ``centre``, lon/lat, if given). Streamlit's map
        applies only what changed in the first view: a new zoom alone keeps where the user has dragged to."""
        view = {**self._view, "zoom": self._view["zoom"] + steps}
        if centre:
            view["longitude"], view["latitude"] = centre
        shown = copy.copy(self)
        shown._json = self._with(self._json, view)
        return shown

    def to_json(self) -> str:
        return self._json


MAX_MAPS = 64  # built maps kept (one per view: a selected area is part of it; 11,000 areas make MBs of JSON)


def map_result(s: MapSettings) -> tuple[MapResult, pd.Series]:
    """The map of these settings: built and serialised once per snapshot and view, then shared by every
    session. A bench_load profile showed every rerun rebuilding and re-serialising the same few maps; only
    the JSON stays in memory (about 15 kB on the demo)."""
    built = resources.kept(("map", dataclasses.astuple(s)), lambda a: _build(a, s), max_entries=MAX_MAPS)
    return built, resources.indicator(s.indicator)


def _build(a: Atlas, s: MapSettings) -> MapResult:
    shapes = resources.display_shapes(s.level)
    values = resources.level_values(s.indicator, s.level, s.year)
    values2 = resources.level_values(s.indicator2, s.level, s.year) if s.indicator2 else None
    pois = resources.pois(list(s.poi_categories)) if s.poi_categories else None
    ampel = resources.ampel_states(s.indicator, s.level, s.year) if s.ampel else None
    result = build(a, s, shapes, values, values2, pois, resources.bounds(), ampel)
    return dataclasses.replace(result, deck=SerializedDeck(result.deck))


def metadata(meta: pd.Series) -> None:
    """The indicator's metadata, one click away."""
    with st.popover("ℹ️ Metadaten", width="stretch"):
        st.markdown(f"**{safe(meta['name'])}** ({safe(meta['unit'])}) – Themenfeld {safe(meta['topic_name'])}")
        for col, label in METADATA_FIELDS:
            if isinstance(meta.get(col), str) and meta[col]:
                st.markdown(f"**{label}:** {safe(meta[col])}")


def stale_note(indicator: str) -> None:
    """A derived indicator whose inputs changed since it was computed: "veraltet" until recomputed."""
    state, why = resources.derived_states().get(indicator, ("aktuell", None))
    if state == derived.STALE:
        st.warning(f"Dieser abgeleitete Indikator ist **veraltet**: {why}. Neu berechnen unter Arbeitsbereich → "
                   "Sozialindex.")


def standouts(area: str, level: str, year: int) -> None:
    """Was fällt auf? The three indicators in which the area stands out most, as sentences."""
    try:
        sentences = resources.profile(area, level, year).sentences()
    except KeckError as err:
        st.info(str(err))
        return
    with st.container(border=True, key="was_faellt_auf"):
        st.markdown("## Was fällt auf?")
        st.markdown("\n".join(f"- {safe(s)}" for s in sentences) if sentences else "Keine Werte zum Vergleichen.")


def similar_to(area: str | None, level: str, indicator: str, year: int) -> similar_areas.Similar | None:
    """Vergleichbare Gebiete: the five areas most similar to the selected one over the Themenfeld's shares and
    means (None without a selected area, or with a German note why not)."""
    if not area:
        return None
    inds = resources.indicators()
    topic = resources.indicator(indicator)["topic"]
    keys = list(inds.loc[(inds["topic"] == topic) & (inds["kind"] != "count"), "key"])
    try:
        return resources.similar(area, level, year, keys)
    except KeckError as err:
        st.info(f"Ähnliche Gebiete: {err}")
        return None


def similar_list(found: similar_areas.Similar | None) -> None:
    """The similar areas outlined on the map, with what differs most."""
    if found is not None:
        st.markdown(f"#### Vergleichbare Gebiete zu {found.name}")
        st.dataframe(found.table.assign(distance=[fmt.number(d, 2) for d in found.table["distance"]]).rename(
            columns={"key": "Schlüssel", "name": "Gebiet", "distance": "Abstand", "differs": "Unterschiede v. a."}),
            hide_index=True, width="stretch", height="content")


def map_key() -> str:
    """The map widget's key; a click on the map is taken once, here, before the map is drawn.

    The clicked area becomes the selection ("sel"), then the map gets a new key: that clears Streamlit's own
    selection state, which would otherwise pale every other area and keep overriding the selectbox.
    """
    count = st.session_state.setdefault("map_clicks", 0)
    event = st.session_state.get(f"map_{count}")
    objects = event.selection.objects if event and event.get("selection") else {}
    picked = [o for layer in AREA_LAYERS for o in objects.get(layer, [])]  # an area or its circle
    if picked:
        state.put("sel", picked[0]["k"].split(area_groups.SEPARATOR)[0])  # a group: its first member's profile
        st.session_state["map_clicks"] = count = count + 1
    return f"map_{count}"


ZOOM_STEPS = (-2, 8)  # how far the buttons zoom out and in from the whole town


def zoom_by(step: int) -> None:
    """A zoom button: one level closer (1) or farther (−1), within ZOOM_STEPS."""
    low, high = ZOOM_STEPS
    st.session_state["map_zoom"] = min(high, max(low, st.session_state.get("map_zoom", 0) + step))


def reset_view() -> None:
    """Back to the whole municipality: a new key draws the map afresh at its first view (as after a click)."""
    st.session_state["map_zoom"] = 0
    st.session_state["map_clicks"] = st.session_state.get("map_clicks", 0) + 1


def shown_deck(result: MapResult, level: str, selected: tuple[str, ...]) -> SerializedDeck:
    """The map at the zoom of the buttons; zoomed in, it is centred on the selected area (a click draws the map
    afresh, and it would otherwise jump back to the town's centre)."""
    steps = st.session_state.get("map_zoom", 0)
    if not steps:
        return result.deck
    shapes = resources.display_shapes(level)
    chosen = shapes[shapes["key"] == (selected[0] if selected else None)]
    centre = (float(chosen["cx"].iloc[0]), float(chosen["cy"].iloc[0])) if steps > 0 and len(chosen) else None
    return result.deck.zoomed(steps, centre)


def manual_breaks(indicator: str, level: str, year: int) -> tuple[float, ...]:
    """The breaks input for manual classes (German numbers; kept in the URL as "breaks").

    Returns () while the input is empty or invalid; a German message says why. Breaks belong to the indicator
    they were typed for: after a change of indicator they are dropped with a message (they made a one-colour
    map of another indicator's values, issue 22).
    """
    typed_for = st.session_state.get("breaks_for")
    st.session_state["breaks_for"] = indicator
    if typed_for not in (None, indicator) and (state.get("breaks") or st.session_state.get("w_breaks")):
        state.put("breaks", [])
        st.session_state["w_breaks"] = ""
        name = resources.indicator(typed_for)["name"]
        st.info(f"Die manuellen Klassengrenzen galten für „{name}“ – bitte für diesen Indikator neu eingeben; "
                "bis dahin: Quantile.")
    saved = state.get("breaks") or []
    st.session_state.setdefault("w_breaks", "; ".join(fmt.number(float(b), 6).rstrip("0").rstrip(",")
                                                      for b in saved))
    text = st.text_input("Klassengrenzen (mit ; getrennt)", key="w_breaks", placeholder="z. B. 10; 20,5; 30",
                         help="2 bis 6 aufsteigende Grenzen zwischen dem kleinsten und dem größten Wert.")
    if not text.strip():
        st.info("Bitte Klassengrenzen eingeben, z. B. 10; 20,5; 30 – bis dahin: Quantile.")
        return ()
    try:
        breaks = classify.parse_breaks(text, resources.level_values(indicator, level, year)["value"])
    except ValidationError as err:
        st.error(f"{safe(err)} – bis zur Korrektur: Quantile.")
        return ()
    state.put("breaks", [f"{b:g}" for b in breaks])
    return breaks


def area_profile(level: str, indicator: str, year: int) -> None:
    """The selected area (map click or selectbox): values of its Themenfeld and 'add to comparison'."""
    names = resources.area_label(level)
    options = ["", *names]
    key = state.widget(st.selectbox, "Gebiet auswählen (oder in der Karte anklicken)", options, "sel", "",
                       format_func=lambda k: "– kein Gebiet –" if not k else names[k])
    if not key:
        return
    topic = resources.indicator(indicator)["topic_name"]
    profile = resources.compare(level, [key], year)
    profile = profile[profile["topic"] == topic]
    standouts(key, level, year)
    st.markdown(f"## Profil: {safe(names[key])} ({year})")
    st.dataframe(profile[["name", names[key], "city_text", f"Δ {names[key]}"]].rename(
        columns={"name": "Indikator", "city_text": "Gesamtstadt", f"Δ {names[key]}": "Differenz"}),
        hide_index=True, width="stretch", height="content")
    chosen = state.get("areas", []) or []
    if st.button("Zum Gebietsvergleich hinzufügen", disabled=key in chosen):
        message = widgets.add_area(key)
        if message:
            st.error(safe(message))
        else:
            st.success(f"{safe(names[key])} ist im Gebietsvergleich ({len(state.get('areas'))} von 3).")
