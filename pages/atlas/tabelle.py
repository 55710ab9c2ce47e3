"""Tabelle: several indicators × areas of a level and year, with reference rows and Excel download."""
import streamlit as st

from keck_data.ui import frame, gaps, resources, state, widgets
from keck_data.ui.tables import AREA_COLUMNS, download_buttons, styled_table
from keck_data.safe_text import safe

with frame.controls(3) as cols:
    level, year = widgets.level_and_year(cols[0], cols[1])
    with cols[2]:
        inds = resources.indicators()
        chosen = state.multiselect("Indikatoren", list(inds["key"]), "inds",
                                   default=["sgb2_quote_u15", "anteil_alleinerziehend", "ew_u18"],
                                   format_func=dict(zip(inds["key"], inds["name"])).get)

st.markdown(f"# Tabelle {safe(resources.level_name(level))} {year}")
if not chosen:
    st.info("Bitte mindestens einen Indikator wählen.")
else:
    reference, table = styled_table(chosen, level, year)
    st.caption("Vergleichswerte")
    st.dataframe(reference, hide_index=True, width="stretch", height="content", column_config=AREA_COLUMNS)
    st.dataframe(table, hide_index=True, width="stretch", height="content" if len(table.data) <= 15 else 600,
                 column_config=AREA_COLUMNS)
    gaps.missing_areas(chosen, year)
    download_buttons(chosen, level, year)
state.sync_url(["lvl", "yr", "inds"])
