"""Page frame: projector-friendly styling, presentation mode, legend and error display."""
from __future__ import annotations

import html
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from ..classify import Classification
from . import state

BASE_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 18px; }
.keck-legend { font-size: 1rem; line-height: 1.7; }
.keck-legend .sw { display: inline-block; width: 1.4em; height: 1em; margin-right: .5em; vertical-align: middle;
                   border: 1px solid #555; }
.keck-legend .sw.ka { background-image: repeating-linear-gradient(45deg, #8c8c8c 0 3px, #d0d0d0 3px 6px); }
</style>"""
PRESENT_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"] { display: none !important; }
html, body, [data-testid="stAppViewContainer"] { font-size: 24px; }
h1 { font-size: 2.8rem !important; } .keck-legend { font-size: 1.5rem; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; max-width: 100%; }
.keck-legend b { overflow-wrap: normal; word-break: normal; hyphens: auto; }
</style>"""


def presenting() -> bool:
    return state.get("present") == "1"


def style() -> None:
    """Base styling on every page, enlarged fonts and hidden chrome in presentation mode."""
    st.markdown(BASE_CSS + (PRESENT_CSS if presenting() else ""), unsafe_allow_html=True)
    if presenting() and st.button("Präsentationsmodus beenden", key="end_present"):
        state.put("present", "0")
        st.rerun()


@contextmanager
def controls(columns: int = 3) -> Iterator[list]:
    """Where a page puts its widgets: columns normally, a closed expander in presentation mode."""
    if presenting():
        with st.expander("Einstellungen", expanded=False):
            yield st.columns(columns)
    else:
        yield st.columns(columns)


def legend(cls: Classification, title: str) -> None:
    """The legend with German labels, area counts and the k. A./keine Daten entries."""
    rows = []
    for entry in cls.legend:
        hatch = " ka" if entry.label.startswith("k. A.") else ""
        rows.append(f'<div><span class="sw{hatch}" style="background-color:{entry.color}"></span>'
                    f'{html.escape(entry.label)} <small>({entry.count})</small></div>')
    st.markdown(f'<div class="keck-legend"><b>{html.escape(title)}</b>{"".join(rows)}</div>',
                unsafe_allow_html=True)
