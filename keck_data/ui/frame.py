"""Page frame: projector-friendly styling, presentation mode, legend and error display."""
from __future__ import annotations

import html
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from ..mapdeck import CIRCLE_MAX_PX, MapResult
from ..config import settings
from . import registry, session, state
from .resources import atlas

BASE_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 18px; }
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; padding-bottom: 2rem; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
[data-testid="stSidebarUserContent"] { padding-top: .5rem; }
[data-testid="stSidebar"] { font-size: 16px; }
/* Streamlit's file uploader has English texts that cannot be configured: German ones instead */
[data-testid="stFileUploaderDropzone"] button > * { display: none; }
[data-testid="stFileUploaderDropzone"] button::after { content: "Datei auswählen"; }
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
.keck-legend { font-size: 1rem; line-height: 1.7; }
.keck-legend .sw { display: inline-block; width: 1.4em; height: 1em; margin-right: .5em; vertical-align: middle;
                   border: 1px solid #555; }
.keck-legend .part + .part { margin-top: .8em; }
.keck-legend .dot { display: inline-block; width: .9em; height: .9em; border-radius: 50%; margin-right: .5em;
                    border: 1px solid #fff; outline: 1px solid #555; vertical-align: middle; }
.keck-legend .circle { display: flex; align-items: center; gap: .4em; }
.keck-legend .circle svg { flex: none; }
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


def begin(url_path: str) -> None:
    """Before a page runs: the view state (which page it shows) and the styling."""
    state.view()
    if url_path in registry.VIEW_PAGES or url_path in ("", "start"):
        state.put("page", url_path if url_path in registry.VIEW_PAGES else "karte")
    style()


def sidebar(user) -> None:
    """Below the page's controls in the sidebar: instance name, login and logout, presentation toggle."""
    current = atlas()
    with st.sidebar:
        st.divider()
        st.markdown(f"**Sozialraum-Atlas {html.escape(current.municipality())}**")
        if current.is_demo():
            st.info("Synthetische Demodaten – keine echten Werte.")
        st.caption("Öffentliche Instanz: freigegebene Daten" if settings().is_public else "Interne Instanz")
        if user:
            session.remember_login()
            st.caption(f"Angemeldet: {user.name} ({user.role_name})")
            if st.button("Abmelden", key="logout_button"):
                session.logout(user)
                st.rerun()
        if user is None and not settings().is_public:
            return  # the login page: nothing to present yet
        state.toggle("Präsentationsmodus", "present", help="Große Schrift, ohne Bedienelemente; die Adresse "
                                                          "zeigt Kolleginnen und Kollegen dieselbe Ansicht.")


def style() -> None:
    """Base styling on every page, enlarged fonts and hidden chrome in presentation mode."""
    st.markdown(BASE_CSS + (PRESENT_CSS if presenting() else ""), unsafe_allow_html=True)
    if presenting() and st.button("Präsentationsmodus beenden", key="end_present"):
        state.put("present", "0")
        st.rerun()


@contextmanager
def controls(groups: int = 3) -> Iterator[list]:
    """Where a page puts its widgets: stacked in the sidebar (so the map or chart is on the first screen),
    in a closed expander in presentation mode (the sidebar is hidden there)."""
    if presenting():
        with st.expander("Einstellungen", expanded=False):
            yield st.columns(groups)
    else:
        with st.sidebar:
            yield [st.container() for _ in range(groups)]


def legend(result: MapResult, title: str) -> None:
    """The map's keys: classes with German labels and area counts (k. A./keine Daten in the map's colours),
    the size key of the second indicator's circles and the colour of each POI category shown."""
    rows = [f'<div><span class="sw" style="background-color:{e.color}"></span>{html.escape(e.label)} '
            f'<small>({e.count})</small></div>' for e in result.classification.legend]
    parts = [f'<b>{html.escape(title)}</b>{"".join(rows)}']
    if result.circle_key:
        size = 2 * CIRCLE_MAX_PX + 4
        circles = "".join(
            f'<div class="circle"><svg width="{size}" height="{size}" aria-hidden="true"><circle cx="{size / 2}" '
            f'cy="{size / 2}" r="{max(k.radius_px, 1):.1f}" fill="{"none" if k.ring else "rgba(33,37,41,.6)"}" '
            f'stroke="#212529" stroke-width="{2 if k.ring else 1}"/></svg>{html.escape(k.label)}</div>'
            for k in result.circle_key)
        parts.append(f'<b>Kreise: {html.escape(result.circle_title)}</b>{circles}')
    if result.poi_key:
        pois = "".join(f'<div><span class="dot" style="background-color:{color}"></span>{html.escape(name)}</div>'
                       for name, color in result.poi_key)
        parts.append(f"<b>Einrichtungen</b>{pois}")
    st.markdown(f'<div class="keck-legend">{"".join(f"<div class=part>{p}</div>" for p in parts)}</div>',
                unsafe_allow_html=True)
