"""Download rows for maps, charts, reports and open data; files are built only when clicked."""
from __future__ import annotations

import shutil
from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from .. import export_chart, export_map, export_opendata, export_report
from ..mapdeck import MapSettings
from ..queries import Atlas
from . import follow, state
from .resources import atlas

FORMAT_NAMES = {"png": "PNG", "jpg": "JPG", "svg": "SVG", "pdf": "PDF"}


def while_following() -> bool:
    """Followers of a live session download in their own view: 40 followers registering four downloads on each
    of the moderator's steps queued for Streamlit's one lock of all downloads (bench_session profile)."""
    if follow.following():
        st.caption("Herunterladen: in der eigenen Ansicht (Schaltfläche „Eigene Ansicht“ oben).")
        return True
    return False


def _row(what: str, key: str, maker: Callable[[str], bytes], stem: str, mimes: dict[str, str]) -> None:
    """One button per format: no format picker whose rerun could race a click (a lost deferred download)."""
    if while_following():
        return
    for column, fmt in zip(st.columns(len(mimes)), mimes):
        column.download_button(f"{what} als {FORMAT_NAMES[fmt]}", lambda f=fmt: maker(f), file_name=f"{stem}.{fmt}",
                               mime=mimes[fmt], on_click="ignore", key=f"dl_{key}_{fmt}", width="stretch")


def map_export(s: MapSettings) -> None:
    a = atlas()
    _row("Karte", "map", lambda f: export_map.render_map(a, s, f),
         f"karte_{s.indicator}_{s.level}_{s.year}", export_map.FORMATS)


def chart_export(fig: go.Figure, stem: str) -> None:
    if state.get("present") == "1":  # nothing to download on the wall (as the map page)
        return
    if not (shutil.which("chromium") or shutil.which("google-chrome") or shutil.which("chromium-browser")):
        st.caption("Diagramm-Export: braucht einen lokalen Chromium-Browser (Debian: apt-get install chromium).")
        return
    _row("Diagramm", "chart", lambda f: export_chart.chart_bytes(fig, f), stem, export_chart.FORMATS)


def report_download(level: str, keys: list[str], year: int) -> None:
    if while_following():
        return
    a = atlas()
    stem = f"gebietsbericht_{'_'.join(keys)}_{year}"
    pdf, accessible = st.columns(2)
    pdf.download_button("Gebietsbericht als PDF", lambda: export_report.report_pdf(a, level, keys, year),
                        file_name=f"{stem}.pdf", mime="application/pdf", on_click="ignore", key="dl_report")
    accessible.download_button("Gebietsbericht als HTML (barrierefrei)",
                               lambda: export_report.report_html(a, level, keys, year), file_name=f"{stem}.html",
                               mime="text/html", on_click="ignore", key="dl_report_html")


def open_data_download() -> None:
    if while_following():
        return
    a = atlas()
    released = Atlas(a.wh, public=True, rule=a.rule)
    st.download_button("Offene Daten herunterladen (ZIP: CSV, GeoPackage, GeoJSON)",
                       lambda: export_opendata.open_data_zip(released), file_name="offene-daten.zip",
                       mime="application/zip", on_click="ignore", key="dl_opendata")
