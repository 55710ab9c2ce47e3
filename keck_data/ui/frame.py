"""Page frame: projector-friendly styling, presentation mode, legend and error display."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import segno
import streamlit as st

from .. import charts, summary
from ..config import settings
from ..mapdeck import CIRCLE_MAX_PX, MapResult
from ..privacy import LABEL_SUPPRESSED
from ..safe_text import html_text, safe
from . import follow, german, registry, resources, session, session_notes, state

BASE_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 18px; }
[data-testid="stMainBlockContainer"] { padding-top: 4.25rem; padding-bottom: 2rem; }  /* below the 3.75rem header */
h1 { font-size: 2rem !important; padding-top: 0 !important; }
[data-testid="stSidebarUserContent"] { padding-top: .5rem; }
[data-testid="stSidebar"] { font-size: 16px; }
/* Streamlit's file uploader has English texts that cannot be configured: German ones instead */
[data-testid="stFileUploaderDropzone"] button > * { display: none; }
[data-testid="stFileUploaderDropzone"] button::after { content: "Datei auswählen"; }
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
/* WCAG 1.4.3: captions in a grey of 7:1 (Streamlit's #828180 has 3.9:1); 2.4.7/1.4.11: a focus ring of >= 3:1 */
[data-testid="stCaptionContainer"] { opacity: 1 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: #4d4d4d !important; }
a:focus-visible, button:focus-visible, input:focus-visible, [role="button"]:focus-visible, [role="tab"]:focus-visible,
[tabindex]:focus-visible, summary:focus-visible, [data-testid="stSidebarNavLink"]:focus-visible {
    outline: 3px solid #000 !important; outline-offset: 2px !important; }
h2 { font-size: 1.5rem !important; }
/* tables wrap to the screen, also on a phone (390 px: the value columns were off-screen) */
[data-testid="stTable"] table { width: 100%; table-layout: auto; }
[data-testid="stTable"] th, [data-testid="stTable"] td { overflow-wrap: anywhere; hyphens: auto; }
@media (max-width: 640px) {
  [data-testid="stTable"] th, [data-testid="stTable"] td { font-size: 13px; padding: .2rem .25rem; }
}
/* chosen options show their whole name (were cut: "Arbeitslosenan…") */
[data-tag] { height: auto !important; max-width: 100% !important; }
[data-tag] > span { white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
/* scripts of the German layer and of accessible names take no room */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) { display: none; }
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > .keck-german:only-child) { display: none; }
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > .keck-name:only-child) { display: none; }
.keck-legend { font-size: 1rem; line-height: 1.7; }
.keck-legend .sw { display: inline-block; width: 1.4em; height: 1em; margin-right: .5em; vertical-align: middle;
                   border: 1px solid #555; }
.keck-selected { font-size: 1.1rem; border-left: 6px solid #000; padding-left: .5rem; margin-bottom: .6rem; }
.keck-legend .sw.ka { background-image: repeating-linear-gradient(45deg, transparent 0 3px, #212121 3px 4px); }
.keck-legend .part + .part { margin-top: .8em; }
.keck-legend .dot { display: inline-block; width: .9em; height: .9em; border-radius: 50%; margin-right: .5em;
                    border: 1px solid #fff; outline: 1px solid #555; vertical-align: middle; }
.keck-legend .circle { display: flex; align-items: center; gap: .4em; }
.keck-legend .circle svg { flex: none; }
</style>"""
PRESENT_CSS = """
<style>
/* projector (1280×720 and up): compact top navigation, one-line title, map filling the screen, texts >= 20 px */
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"], [data-testid="stDecoration"] { display: none !important; }
.keck-legend small { font-size: 20px; }
[data-testid="stTopNavLink"] [data-testid="stIconMaterial"] { display: none; }
[data-testid="stTopNavLink"] p, [data-testid="stTopNav"] span { font-size: 20px; }
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
/* the QR corner gets its own strip on the right: it covers no column, note, chart or button */
[data-testid="stMainBlockContainer"] { padding: 3.2rem 148px 1rem 1rem; max-width: 100%; }
[data-testid="stTable"] th, [data-testid="stTable"] td, [data-testid="stDataFrame"], .stMarkdown p,
[data-testid="stExpander"] summary, [data-testid="stExpander"] summary p, [data-testid="stWidgetLabel"] p,
[data-testid="stMain"] button p, [data-testid="stMain"] code { font-size: 22px !important; }
h1 { font-size: 1.6rem !important; line-height: 1.25 !important; white-space: nowrap; overflow: hidden;
     text-overflow: ellipsis; padding: 0 !important; margin: 0 !important; }
[data-testid="stDeckGlJsonChart"], [data-testid="stDeckGlJsonChart"] > div { height: calc(100vh - 7rem) !important; }
.keck-legend { font-size: 22px; line-height: 1.45; }
.keck-legend b { overflow-wrap: normal; word-break: normal; hyphens: auto; }
.deck-tooltip { font-size: 22px !important; line-height: 1.35 !important; max-width: 40vw; }
.st-key-end_present { position: fixed; top: .45rem; right: 1rem; z-index: 999991; width: auto !important; }
.st-key-end_present button, .st-key-end_present button p { font-size: 20px !important; min-height: 0;
                                                              padding: .1rem .6rem; }
.keck-share { position: fixed; right: .4rem; bottom: .6rem; z-index: 999990; background: #fff; padding: .3rem;
              border: 1px solid #333; text-align: center; font-size: 20px; line-height: 1.2; width: 128px;
              overflow-wrap: anywhere; }
.keck-share img { width: 112px; height: 112px; display: block; margin: 0 auto; }
</style>"""


PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
CONTROLS_SLOT = "_frame_controls"  # the sidebar container of this run where the page's controls go


def presenting() -> bool:
    return state.get("present") == "1"


def nav_position() -> str:
    """Navigation in the sidebar; on the projector a compact bar at the top (the sidebar starts closed)."""
    return "top" if presenting() else "sidebar"


def begin(url_path: str, user, title: str) -> None:
    """Before a page runs: the view state (which page it shows), the styling, in a live session the follow bar
    (a follower switches to the moderator's page here), and the sidebar: a slot for the page's controls, then
    the instance name, login and presentation toggle (drawn now, so a page that calls st.stop() keeps them)."""
    state.view()
    if settings().is_public:
        follow.begin_public(url_path)
    elif user:
        follow.begin(url_path)
    if url_path in registry.VIEW_PAGES or url_path in ("", "start"):
        state.put("page", url_path if url_path in registry.VIEW_PAGES else "karte")
    german.install(title, f"Sozialraum-Atlas {resources.municipality()}")
    style()
    with st.sidebar:
        st.session_state[CONTROLS_SLOT] = st.container()
    _sidebar(user)


def _sidebar(user) -> None:
    """Below the slot for the page's controls: instance name, login and logout, presentation toggle."""
    with st.sidebar:
        st.divider()
        st.markdown(f"**Sozialraum-Atlas {safe(resources.municipality())}**")
        if resources.is_demo():
            st.info("Synthetische Demodaten – keine echten Werte.")
        st.caption("Öffentliche Instanz: freigegebene Daten" if settings().is_public else "Interne Instanz")
        if user:
            st.caption(f"Angemeldet: {safe(user.name)} ({user.role_name})")
            if st.button("Abmelden", key="logout_button"):
                session.logout(user)
                st.rerun()
            session.remember_login()  # after the logout button: one cookie component per run
        if user is None and not settings().is_public:
            return  # the login page: nothing to present yet
        state.toggle("Präsentationsmodus", "present", help="Große Schrift, ohne Bedienelemente; die Adresse "
                                                          "zeigt Kolleginnen und Kollegen dieselbe Ansicht.")


def finish(user) -> None:
    """After the page: a live session publishes the view the page settled on; notes panel; share corner."""
    if user:
        follow.publish_view()
        session_notes.panel(user)
    if presenting():
        share_corner()


def share_corner() -> None:
    """Bottom right on the wall: a QR code and short address of this view for participants' own devices
    (in a live session the session link, so their view follows the moderator's)."""
    link, label = follow.share_link()
    qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    st.markdown(f'<div class="keck-share"><img src="{qr}" alt="QR-Code: {html_text(label)}">'
                f'<div>{html_text(label)}</div></div>', unsafe_allow_html=True)


def style() -> None:
    """Base styling on every page; in presentation mode enlarged fonts, the sidebar closed (the page's
    controls stay one click away there) and a small exit button in the top bar."""
    if presenting():
        st.set_page_config(initial_sidebar_state="collapsed")
    elif st.session_state.pop("present_ended", False):  # the controls and navigation come back with the sidebar
        st.set_page_config(initial_sidebar_state="expanded")
    st.markdown(BASE_CSS + (PRESENT_CSS if presenting() else ""), unsafe_allow_html=True)
    if presenting() and st.button("Präsentationsmodus beenden", key="end_present", type="tertiary"):
        state.put("present", "0")
        st.session_state["present_ended"] = True
        st.rerun()


@contextmanager
def figure(key: str, label: str) -> Iterator[None]:
    """A map or chart with an accessible name (role figure): what it shows, and where its text alternative is."""
    german.name(key, label)
    with st.container(key=key):
        yield


def chart(fig, key: str = "chart") -> None:
    """A plotly chart, named by its title, with its data as a table one click below (WCAG 1.1.1)."""
    title = charts.plain(fig.layout.title.text)
    with figure(key, f"Diagramm: {title} – die Daten stehen in der Tabelle darunter"):
        st.plotly_chart(charts.for_wall(fig) if presenting() else fig, width="stretch", config=PLOTLY_CONFIG)
    with st.expander("Daten als Tabelle"):
        st.table(charts.table_of(fig).set_index(fig.layout.meta["rows"]))


def map_alternative(values, title: str, polarity: str, page_link: str) -> None:
    """Below the map: a sentence naming the highest and lowest areas and the k. A. count, the values as a
    table one click away, and a link to the table page of the same view."""
    st.markdown(f'<p class="keck-summary">{html_text(summary.sentence(values, polarity))}</p>',
                unsafe_allow_html=True)
    with st.expander("Als Tabelle anzeigen"):
        st.table(summary.value_table(values, title).set_index("Gebiet"))
        st.markdown(f"[Auf der Seite „Tabelle“ öffnen]({page_link})")


@contextmanager
def controls(groups: int = 3) -> Iterator[list]:
    """Where a page puts its widgets: stacked in the sidebar, so the map or chart is on the first screen (in
    presentation mode the sidebar starts closed: nothing of it on the wall, one click to open)."""
    with st.session_state[CONTROLS_SLOT]:
        yield [st.container() for _ in range(groups)]


def selected_area(values, keys: tuple[str, ...]) -> None:
    """Beside the map: the selected area and its value (on the wall the profile below is off the screen)."""
    chosen = values[values["key"].isin(keys)] if keys else values.iloc[0:0]
    for key, name, text in zip(chosen["key"], chosen["name"], chosen["text"]):
        st.markdown(f'<div class="keck-selected">Ausgewählt: <b>{html_text(f"{key} {name}")}</b> – '
                    f"{html_text(text)}</div>", unsafe_allow_html=True)


def legend(result: MapResult, title: str) -> None:
    """The map's keys: classes with German labels and area counts (k. A./keine Daten in the map's colours),
    the size key of the second indicator's circles and the colour of each POI category shown."""
    rows = [f'<div><span class="sw{" ka" if hatched else ""}" style="background-color:{e.color}"></span>'
            f'{html_text(e.label)}{", schraffiert" if hatched else ""} <small>({e.count})</small></div>'
            for e in result.classification.legend for hatched in [e.label.startswith(LABEL_SUPPRESSED)]]
    parts = [f'<b>{html_text(title)}</b>{"".join(rows)}']
    if result.circle_key:
        size = 2 * CIRCLE_MAX_PX + 4
        circles = "".join(
            f'<div class="circle"><svg width="{size}" height="{size}" aria-hidden="true"><circle cx="{size / 2}" '
            f'cy="{size / 2}" r="{max(k.radius_px, 1):.1f}" fill="{"none" if k.ring else "rgba(33,37,41,.6)"}" '
            f'stroke="#212529" stroke-width="{2 if k.ring else 1}"/></svg>{html_text(k.label)}</div>'
            for k in result.circle_key)
        parts.append(f'<b>Kreise: {html_text(result.circle_title)}</b>{circles}')
    if result.poi_key:
        pois = "".join(f'<div><span class="dot" style="background-color:{color}"></span>{html_text(name)}</div>'
                       for name, color in result.poi_key)
        parts.append(f"<b>Einrichtungen</b>{pois}")
    if result.noted:
        parts.append('<div><span class="dot" style="background-color:#fff;outline:3px solid #000"></span>'
                     "Notizen der Sitzung</div>")
    st.markdown(f'<div class="keck-legend">{"".join(f"<div class=part>{p}</div>" for p in parts)}</div>',
                unsafe_allow_html=True)
