"""The page registry: navigation, the refusal pages, the smoke test and the browser tests all read it."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from .. import policy

REFUSED = "pages/rahmen/nicht_freigegeben.py"  # not directly in pages/ (see README, Layout)
LOGIN = "pages/arbeitsbereich/anmeldung.py"


@dataclass(frozen=True)
class PageSpec:
    """One page: its file, German title, address, icon and navigation section (the resource the policy checks)."""
    file: str
    title: str
    url_path: str
    icon: str
    section: str = "Atlas"


PAGES = (
    PageSpec("pages/atlas/karte.py", "Karte", "karte", ":material/map:"),
    PageSpec("pages/atlas/tabelle.py", "Tabelle", "tabelle", ":material/table:"),
    PageSpec("pages/atlas/diagramme.py", "Diagramme", "diagramme", ":material/bar_chart:"),
    PageSpec("pages/atlas/zeitreihe.py", "Zeitreihe", "zeitreihe", ":material/show_chart:"),
    PageSpec("pages/atlas/gebietsvergleich.py", "Gebietsvergleich", "gebietsvergleich", ":material/compare:"),
    PageSpec("pages/atlas/versorgung.py", "Versorgung", "versorgung", ":material/child_care:"),
    PageSpec("pages/atlas/zusammenhaenge.py", "Zusammenhänge", "zusammenhaenge", ":material/grid_on:"),
    PageSpec("pages/atlas/indikatoren.py", "Indikatoren", "indikatoren", ":material/menu_book:"),
    PageSpec("pages/atlas/lesezeichen.py", "Lesezeichen", "lesezeichen", ":material/bookmark:"),
    PageSpec("pages/atlas/barrierefreiheit.py", "Barrierefreiheit", "barrierefreiheit", ":material/accessibility:"),
    PageSpec("pages/konferenz/sitzung.py", "Sitzung", "sitzung", ":material/groups:", "Konferenz"),
    PageSpec("pages/arbeitsbereich/einrichtungen.py", "Einrichtungen pflegen", "einrichtungen",
             ":material/location_on:", "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/pflege.py", "Indikatoren pflegen", "pflege", ":material/edit:", "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/import.py", "Daten importieren", "import", ":material/upload:", "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/gebiete.py", "Gebiete", "gebiete", ":material/layers:", "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/sozialindex.py", "Sozialindex", "sozialindex", ":material/leaderboard:",
             "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/ziele.py", "Ziele", "ziele", ":material/flag:", "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/protokoll.py", "Änderungsprotokoll", "protokoll", ":material/history:",
             "Arbeitsbereich"),
    PageSpec("pages/arbeitsbereich/benutzer.py", "Benutzer", "benutzer", ":material/group:", "Verwaltung"),
)
NAV_KEY = "_navigation_pages"
NOT_VIEWS = ("lesezeichen", "barrierefreiheit")  # atlas pages that show no view of the data
VIEW_PAGES = {p.url_path for p in PAGES if p.section == "Atlas" and p.url_path not in NOT_VIEWS}


def allowed(spec: PageSpec, public: bool, user) -> bool:
    """May this instance/user open the page? The public instance shows the atlas only."""
    if public:
        return spec.section == "Atlas"
    return policy.can(user, "open", spec.section)


def navigation(public: bool, user) -> dict[str, list[st.Page]] | list[st.Page]:
    """The st.navigation pages: every address of the registry resolves, so Streamlit never says "Page not found".

    Logged out (internal), every address shows the login form; pages the role may not open show the German
    refusal page (hidden in the menu); the map is also reachable as /karte besides the root address.
    Kept per browser session for its user: a page object resolves its file on the disk (about a hundred file
    system calls for all pages, on every rerun of every follower of a live session otherwise).
    """
    key = (public, user)
    kept = st.session_state.get(NAV_KEY)
    if kept is None or kept[0] != key:
        kept = st.session_state[NAV_KEY] = (key, _pages(public, user))
    return kept[1]


def _pages(public: bool, user) -> dict[str, list[st.Page]] | list[st.Page]:
    if not public and user is None:
        return [st.Page(LOGIN, title="Anmeldung", url_path=path, default=path == "start", icon=":material/login:")
                for path in ["start", *(p.url_path for p in PAGES)]]
    sections: dict[str, list[st.Page]] = {}
    refused = []
    for spec in PAGES:
        if allowed(spec, public, user):
            home = spec is PAGES[0]  # served at "/"; its hash must differ from the /karte alias below
            sections.setdefault(spec.section, []).append(
                st.Page(spec.file, title=spec.title, url_path="start" if home else spec.url_path, icon=spec.icon,
                        default=home))
        else:
            refused.append(st.Page(REFUSED, title=spec.title, url_path=spec.url_path, visibility="hidden"))
    alias = st.Page(PAGES[0].file, title=PAGES[0].title, url_path="karte", visibility="hidden")
    sections["Atlas"] += [alias, *refused]
    return sections["Atlas"] if public else sections
