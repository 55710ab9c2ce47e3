"""Table page parts: a sortable table that shows k. A./keine Daten as such, and the downloads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from .. import export_table, fmt
from . import downloads, resources
from .resources import atlas
from .targets import SYMBOLS


# On a phone the names took the whole width and every value column sat off-screen: the key is narrow, the name
# medium and pinned (it stays while the values scroll sideways, and the first value shows beside it)
AREA_COLUMNS = {"Schlüssel": st.column_config.TextColumn(width="small"),
                "Gebiet": st.column_config.TextColumn(width="medium", pinned=True)}


def styled_table(indicators: list[str], level: str, year: int):
    """(reference rows, areas) — numeric columns sort as numbers and display German text."""
    table = resources.table(indicators, level, year)
    meta = resources.indicators().set_index("key")
    cols = {"key": "Schlüssel", "name": "Gebiet"}
    header = {meta.loc[k, "name"]: f"{meta.loc[k, 'name']} ({meta.loc[k, 'unit']})" for k in indicators}
    numeric = table[["key", "name"]].rename(columns=cols)
    for key in indicators:
        numeric[header[meta.loc[key, "name"]]] = table[f"_num_{key}"]
    texts = table[list(header)].rename(columns=header)
    ref_mask = table["reference"].to_numpy()
    reference = pd.concat([numeric[["Gebiet"]], texts], axis=1)[ref_mask]
    areas = numeric[~ref_mask].reset_index(drop=True)
    area_texts = texts[~ref_mask].reset_index(drop=True)
    # st.dataframe ignores display texts of empty cells, so k. A./keine Daten (…) sit on a sentinel that sorts first
    blank = areas[area_texts.columns].isna()
    areas[area_texts.columns] = areas[area_texts.columns].fillna(-np.inf)
    for key in indicators:  # the Ampel of Wirkungsziele (or the threshold rule) where there is one
        states, _ = resources.ampel_states(key, level, year)
        if states["state"].notna().any():
            by_key = dict(zip(states["key"], states["state"]))
            areas[f"Ampel: {meta.loc[key, 'name']}"] = [SYMBOLS.get(by_key.get(k), "–") for k in areas["Schlüssel"]]
    styler = areas.style
    for key in indicators:
        col, dec = header[meta.loc[key, "name"]], int(meta.loc[key, "decimals"])
        styler = styler.format(lambda v, d=dec: fmt.number(v, d), subset=[col])
        for label, rows in area_texts.loc[blank[col], col].groupby(area_texts[col]).groups.items():
            styler = styler.format(lambda v, t=label: t, subset=(list(rows), [col]))
    return reference, styler


def download_buttons(indicators: list[str], level: str, year: int) -> None:
    if downloads.while_following():
        return
    a = atlas()
    name = f"sozialraum-atlas_{level}_{year}"
    left, right = st.columns(2)
    # the files are only built when a button is clicked
    left.download_button("Als Excel herunterladen", lambda: export_table.to_xlsx(a, indicators, level, year),
                         file_name=f"{name}.xlsx", mime="application/vnd.openxmlformats-officedocument."
                                                         "spreadsheetml.sheet", width="stretch", on_click="ignore")
    right.download_button("Als CSV herunterladen", lambda: export_table.to_csv(a, indicators, level, year),
                          file_name=f"{name}.csv", mime="text/csv", width="stretch", on_click="ignore")


def change_table(ts: pd.DataFrame, base_year: int, meta: pd.Series) -> pd.DataFrame:
    """Base-year value, latest value and the difference, as German text ("k. A." stays "k. A.")."""
    change = atlas().change_since(ts, base_year)
    d, unit = int(meta["decimals"]), meta["unit"]
    base_status = ts[ts["year"] == base_year].set_index("series")["status"]
    return pd.DataFrame({
        "Reihe": change["series"],
        f"Wert {base_year}": [fmt.value_text(v, base_status.get(s, "missing"), d, unit)
                              for s, v in zip(change["series"], change["base"])],
        "Letzter Wert": [fmt.with_unit(v, d, unit) + (f" ({int(y)})" if pd.notna(y) else "")
                         for v, y in zip(change["last"], change["last_year"])],
        f"Veränderung{' (Prozentpunkte)' if unit == '%' else ''}": [
            fmt.difference(c, d, unit) or "–" for c in change["change"]],
    })
