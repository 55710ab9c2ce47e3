"""The pickers every page shares: Themenfeld → Indikator, Raumebene, Jahr, Gebiete."""
from __future__ import annotations

import streamlit as st

from ..errors import ValidationError
from ..queries import MAX_COMPARE
from . import resources, state

DEFAULT_INDICATOR = "sgb2_quote_u15"


def indicator(label: str = "Indikator", param: str = "ind", with_topic: bool = True,
              exclude: tuple[str, ...] = (), default: str = DEFAULT_INDICATOR) -> str:
    """Themenfeld, then indicator; returns the indicator key.

    The indicator decides the Themenfeld (so ``?ind=…`` opens its Themenfeld); choosing another Themenfeld
    switches to that Themenfeld's first indicator.
    """
    inds = resources.indicators()
    inds = inds[~inds["key"].isin(exclude)]
    names = dict(zip(inds["key"], inds["name"]))
    current = state.get(param)
    if current not in names:
        current = default if default in names else inds["key"].iloc[0]
    if with_topic:
        topic_of = dict(zip(inds["key"], inds["topic"]))
        first_of: dict[str, str] = {}
        for key, topic in topic_of.items():
            first_of.setdefault(topic, key)
        topic_names = dict(zip(inds["topic"], inds["topic_name"]))
        state.put("topic", topic_of[current])
        topic = state.widget(st.selectbox, "Themenfeld", list(first_of), "topic", topic_of[current],
                             format_func=topic_names.get, then=lambda t: state.put(param, first_of[t]))
        names = {k: n for k, n in names.items() if topic_of[k] == topic}
    return state.widget(st.selectbox, label, list(names), param, current, format_func=names.get)


def level(param: str = "lvl", include_top: bool = False) -> str:
    lv = resources.levels()
    if not include_top and len(lv) > 1:
        lv = lv.iloc[1:]
    names = dict(zip(lv["key"], lv["name"]))
    return state.widget(st.selectbox, "Raumebene", list(names), param, list(names)[-1], format_func=names.get)


def year(indicator_key: str | None, param: str = "yr") -> int:
    years = resources.years(indicator_key) or resources.years(None)
    if not years:
        raise ValidationError("Für diesen Indikator liegen keine Werte vor.")
    return int(state.widget(st.selectbox, "Jahr", years, param, years[-1]))


def level_and_year(level_column, year_column, indicator_key: str | None = None) -> tuple[str, int]:
    """Raumebene and Jahr, each in its own column (or both in the same one)."""
    with level_column:
        chosen_level = level()
    with year_column:
        chosen_year = year(indicator_key)
    return chosen_level, chosen_year


def areas(level_key: str, label: str = "Gebiete", param: str = "areas", limit: int = MAX_COMPARE) -> list[str]:
    """Chosen areas of a level (at most ``limit``; more from a URL are cut with a message)."""
    names = resources.area_label(level_key)
    wanted = [a for a in state.get(param, []) or [] if a in names]
    if len(wanted) > limit:
        st.error(f"Es können höchstens {limit} Gebiete verglichen werden; angezeigt werden die ersten {limit}.")
        state.put(param, wanted[:limit])
    return state.multiselect(label, list(names), param, format_func=names.get, max_selections=limit)


def add_area(key: str, param: str = "areas", limit: int = MAX_COMPARE) -> str | None:
    """Add an area to the comparison; returns an error message when the limit is reached."""
    chosen = list(state.get(param, []) or [])
    if key in chosen:
        return None
    if len(chosen) >= limit:
        return (f"Es können höchstens {limit} Gebiete verglichen werden. Bitte zuerst ein Gebiet aus dem "
                "Vergleich entfernen.")
    state.put(param, chosen + [key])
    return None
