"""Incomplete aggregates: which areas a "keine Daten (unvollständig …)" value lacks, one click away."""
from __future__ import annotations

import streamlit as st

from .. import fmt
from . import resources


def missing_areas(indicators: list[str], year: int, level: str | None = None, keys: list[str] | None = None) -> None:
    """An expander listing the areas shown as "keine Daten (unvollständig …)" with the areas they lack: those of
    ``level`` (only ``keys`` if given, every level if None) and the Gesamtstadt."""
    gaps = resources.incomplete(indicators, year)
    top = resources.levels()["key"].iloc[0]
    shown = (gaps["level"] == top) | ((level is None) | (gaps["level"] == level)) & \
        ((keys is None) | gaps["key"].isin(keys or []))
    gaps = gaps[shown]
    if gaps.empty:
        return
    inds = resources.indicators()
    with st.expander(f"Unvollständig: {fmt.count(len(gaps), 'Wert', 'Werte')} – welche Gebiete fehlen?"):
        st.dataframe(gaps.assign(indicator=gaps["indicator"].map(dict(zip(inds["key"], inds["name"]))))
                     [["name", "indicator", "reason", "missing"]]
                     .rename(columns={"name": "Gebiet", "indicator": "Indikator", "reason": "Grund",
                                      "missing": "Ohne Wert"}),
                     hide_index=True, width="stretch", height="content")
