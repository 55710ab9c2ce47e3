"""The import wizard's parts: uploads as temporary files (deleted after the import), the recognised table
with its preview, the column mapping with inline creation of new indicators, and the report."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from ..importing import metadata as md
from ..importing import profiles
from ..importing.areas import read_geofile
from ..importing.files import MAX_BYTES, read_grid, read_table
from ..importing.report import ImportReport
from ..importing.table import Table, column_date, preview
from ..importing.values import IGNORE, map_columns, read_sheets
from ..safe_text import safe
from . import resources

GEO = (".zip", ".geojson", ".json", ".gpkg")
FOLDERS = "keck_upload_folders"
STALE_HOURS = 2  # an upload folder untouched this long belongs to a wizard session that was left
SWEEP_SECONDS = 600
NEW = "__neu__"
KIND_LABELS = md.KIND_NAMES


def stored(upload) -> Path | None:
    """The upload written once to a private temp folder (re-used across reruns); earlier uploads of this
    session are deleted. None (with a German message) when the file is too large."""
    if upload.size > MAX_BYTES:
        st.error(f"Die Datei {safe(upload.name)} ist mit {upload.size / 1e6:.1f} MB zu groß (höchstens "
                 f"{MAX_BYTES / 2**20:.0f} MB). Bitte aufteilen.")
        return None
    key = f"upload_{upload.file_id}"
    if key not in st.session_state or not Path(st.session_state[key]).exists():  # new, or swept meanwhile
        discard()
        folder = Path(tempfile.mkdtemp(prefix="keck_upload_"))
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        st.session_state[key] = str(path)
        st.session_state[FOLDERS] = [str(folder)]
    os.utime(Path(st.session_state[key]).parent)  # in use: not swept
    return Path(st.session_state[key])


def purge_stale(hours: float = STALE_HOURS) -> list[Path]:
    """Delete the upload folders of wizard sessions that ended without an import (untouched for ``hours``);
    returns them. A session that comes back stores its upload again (:func:`stored`)."""
    limit = time.time() - hours * 3600
    gone = []
    for folder in Path(tempfile.gettempdir()).glob("keck_upload_*"):
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


def sweep_abandoned(every: float = SWEEP_SECONDS) -> threading.Thread:
    """The internal instance's sweeper: :func:`purge_stale` at start and every ``every`` seconds (a daemon
    thread; the uploads of a wizard left open no longer wait in the temp folder for the next upload)."""
    def sweep() -> None:
        while True:
            purge_stale()
            time.sleep(every)
    thread = threading.Thread(target=sweep, name="keck-upload-sweep", daemon=True)
    thread.start()
    return thread


def has_type(file, types: list[str]) -> bool:
    """Is the upload one of ``types`` (file endings)? If not, a German message says which are accepted."""
    if file is None:
        return False
    ending = Path(file.name).suffix.lower().lstrip(".")
    if ending in types:
        return True
    st.error(f"{safe(file.name)}: Dateityp „{safe(ending or 'ohne Endung')}“ wird hier nicht angenommen – bitte "
             f"eine Datei vom Typ {', '.join(t.upper() for t in types)} wählen.")
    return False


def side_file(extra, main: Path) -> Path:
    """A second upload (e.g. metadata) stored next to the main upload and deleted with it."""
    path = main.parent / f"zusatz_{Path(extra.name).name}"
    path.write_bytes(extra.getbuffer())
    return path


def discard() -> None:
    """Delete this session's uploaded temp files (after an import, or when another file is chosen)."""
    for folder in st.session_state.pop(FOLDERS, []):
        shutil.rmtree(folder, ignore_errors=True)
    for key in [k for k in st.session_state if str(k).startswith("upload_")]:
        del st.session_state[key]


def columns(path: Path) -> list[str]:
    """Column names of a geodata file or simple table (areas and POIs)."""
    if path.suffix.lower() in GEO:
        return [c for c in read_geofile(path).columns if c != "geometry"]
    frame, _ = read_table(path)
    return list(frame.columns)


@st.cache_data(max_entries=4, show_spinner="Tabelle wird erkannt …")
def detected(path: str, mtime: float, header_row: int | None, skip_rows: int | None) -> tuple[Table, pd.DataFrame]:
    """The recognised table of the first sheet and a preview of the sheet's rows with their roles."""
    sheets, _ = read_sheets(Path(path), None, header_row, skip_rows)
    grid = next(iter(read_grid(Path(path))[0].values()))
    return sheets[0].table, preview(grid, sheets[0].table)


def table_step(path: Path) -> tuple[Table, int | None, int | None]:
    """Detection with its preview and the two overrides (row of the column names, rows to skip)."""
    left, right = st.columns(2)
    header = left.number_input("Zeile der Spaltennamen (0 = automatisch erkennen)", 0, 10_000, 0,
                               key=f"hdr_{path}")
    skip = right.number_input("Zeilen zwischen Spaltennamen und Daten (-1 = automatisch)", -1, 100, -1,
                              key=f"skip_{path}")
    header_row, skip_rows = (int(header) or None), (None if skip < 0 else int(skip))
    table, rows = detected(str(path), path.stat().st_mtime, header_row, skip_rows)
    st.caption("Erkannt – " + safe(table.summary()))
    with st.expander("Vorschau: so wurde die Tabelle gelesen", expanded=False):
        st.dataframe(rows, hide_index=True, width="stretch")
    return table, header_row, skip_rows


def level_rows_input(where) -> list[str] | None:
    """The wizard's "Ebene für Zeilenbereich" (as --level-rows): "50-56=stadtbezirk; 57=gesamtstadt"."""
    text = where.text_input("Ebene für Zeilenbereich (optional, z. B. 104-110=stadtbezirk; mehrere mit „;“)",
                            help="Zeilennummern wie in der Vorschau; die Ebene als Schlüssel oder Name. Sonst "
                                 "werden Zeilen gröberer Ebenen als Block erkannt.")
    return [part.strip() for part in text.split(";") if part.strip()] or None


def guess_column(labels: list[str], words: tuple[str, ...]) -> str | None:
    """The first label containing one of ``words`` (lower case)."""
    return next((c for c in labels if any(w in c.lower() for w in words)), None)


def mapping_step(table: Table, value_columns: list[str], indicators: pd.DataFrame, topics: pd.DataFrame,
                 profile: dict | None, fixed_year: int | None, prefix: str
                 ) -> tuple[dict[str, str], dict[str, int], list[dict]]:
    """One line per value column: existing indicator, new indicator (metadata inline) or ignore; its year.

    ``prefix`` starts every widget key (the file and the chosen Importvorlage), so another file or profile
    starts from its own suggestions.

    Returns (column → indicator key or "" to ignore, column → year, metadata rows of new indicators).
    """
    known = {k: k for k in indicators["key"]} | {n.lower(): k for k, n in zip(indicators["key"], indicators["name"])}
    suggested, how = map_columns(value_columns, None, (profile or {}).get("columns"), known)
    names = dict(zip(indicators["key"], indicators["name"]))
    options = [IGNORE, NEW, *indicators["key"]]
    label_of = {IGNORE: "– nicht importieren –", NEW: "+ neuer Indikator"} | {k: f"{n} ({k})" for k, n in names.items()}
    mapping, years, new = {}, {}, []
    notes = "\n".join(table.notes)
    for i, col in enumerate(value_columns):
        stem, header_year, date = column_date(col)
        with st.container(border=True, key=f"map_{i}"):
            left, mid, right = st.columns([5, 4, 1.4])
            left.markdown(f"**{safe(col)}**" + (f"  \n{safe(table.descriptions[col])}" if col in table.descriptions
                                                else ""))
            default = suggested.get(col) or IGNORE
            choice = mid.selectbox(f"Zuordnung für Spalte {i + 1}", options, index=options.index(default)
                                   if default in options else 0, format_func=label_of.get, key=f"{prefix}target_{i}")
            if "ähnlich" in how.get(col, ""):
                mid.caption(f"aus der Importvorlage: {safe(how[col])}")
            year = right.number_input("Jahr", 1900, 2100, header_year or fixed_year or 2024, key=f"{prefix}year_{i}")
            mapping[col], years[col] = ("" if choice == IGNORE else choice), int(year)
            if choice == NEW:
                guess = md.guess(stem, table.descriptions.get(col, ""), notes, date)
                row = _new_indicator(f"{prefix}{i}_", guess, topics, names)
                mapping[col] = row["key"]
                new.append(row)
    return mapping, years, new


def _new_indicator(keys: str, guess: dict, topics: pd.DataFrame, names: dict[str, str]) -> dict:
    """The metadata fields of a new indicator, pre-filled from the column, its description and the footnotes."""
    a, b, c, d = st.columns(4)
    row = {"key": a.text_input("Schlüssel", guess["key"], key=f"{keys}new_key"),
           "name": b.text_input("Name", guess["name"], key=f"{keys}new_name"),
           "topic": c.selectbox("Themenfeld", list(topics["name"]), key=f"{keys}new_topic"),
           "unit": d.text_input("Einheit", guess["unit"], key=f"{keys}new_unit")}
    kinds = list(KIND_LABELS)
    row["kind"] = a.selectbox("Art", kinds, index=kinds.index(guess["kind"]), format_func=KIND_LABELS.get,
                              key=f"{keys}new_kind")
    if row["kind"] == "rate":
        parts = [""] + list(names)
        row["numerator"] = b.selectbox("Zähler", parts, format_func=lambda k: names.get(k, "–"), key=f"{keys}new_num")
        row["denominator"] = c.selectbox("Nenner", parts, format_func=lambda k: names.get(k, "–"),
                                         key=f"{keys}new_den")
    row["reference_date"] = d.text_input("Stichtag", guess["reference_date"], key=f"{keys}new_date")
    row["definition"] = st.text_input("Definition", guess["definition"], key=f"{keys}new_def")
    e, f = st.columns(2)
    row["calculation"] = e.text_input("Berechnung", guess["calculation"], key=f"{keys}new_calc")
    row["source"] = f.text_input("Quelle", guess["source"], key=f"{keys}new_src")
    return row


def profile_step(wh) -> dict | None:
    """Choose a saved Importvorlage (its settings and column mapping pre-fill the wizard)."""
    saved = profiles.names(wh)
    if not saved:
        return None
    name = st.selectbox("Importvorlage verwenden", [""] + saved, format_func=lambda n: n or "– keine –",
                        key="import_profile")
    return profiles.load(wh, name) | {"name": name} if name else None


def show_report(report: ImportReport) -> None:
    """Figures, recognised layout, column mapping, warnings and the rows that found no area."""
    st.subheader("Bericht des Probelaufs" if not report.committed else "Import abgeschlossen")
    figures = [("Zeilen gelesen", report.rows_read), ("Zeilen zugeordnet", report.details.get("matched_rows",
                                                                                              report.matched)),
               ("Zeilen nicht zugeordnet", len(report.unmatched)), ("Werte übernommen", report.matched),
               ("neu", report.new), ("geändert", report.changed)]
    for col, (label, value) in zip(st.columns(len(figures)), figures):
        col.metric(label, value)
    for layout in report.details.get("layout", []):
        st.caption("Erkannt – " + safe(layout))
    if report.details.get("level_blocks"):
        st.caption("Zeilen gröberer Ebenen – " + safe("; ".join(report.details["level_blocks"])))
    if report.details.get("columns"):
        rules = report.details.get("column_rules", {})
        st.dataframe(pd.DataFrame({"Spalte": list(report.details["columns"]),
                                   "Indikator": [k or "–" for k in report.details["columns"].values()],
                                   "Zuordnung": [rules.get(c, "") for c in report.details["columns"]]}),
                     hide_index=True, width="stretch")
    matching = pd.DataFrame(report.details.get("matching", []))
    if not matching.empty and matching["rule"].notna().any():
        counts = matching["rule"].fillna("nicht zugeordnet").value_counts()
        st.caption("Zuordnung der Zeilen: " + safe(", ".join(f"{rule} {n}" for rule, n in counts.items())))
    for warning in report.warnings:
        st.warning(safe(warning))
    for change in report.details.get("ziele", []):
        st.info(f"Ampel geändert – {change}")
    if report.unmatched:
        st.dataframe(report.unmatched_frame(), hide_index=True, width="stretch")


def map_links(imported: list[tuple[str, int]], level: str) -> None:
    """One link per imported indicator and year to its map (a new tab), named like the indicator."""
    inds = resources.indicators()
    names = dict(zip(inds["key"], inds["name"]))
    for key, year in imported:
        link = f"./?ind={key}&lvl={level}&yr={year}"
        st.markdown(f"[„{safe(names.get(key, key))}“ {year} auf der Karte ansehen]({link})")


def template_button() -> None:
    st.download_button("Metadaten-Vorlage (XLSX) herunterladen", md.template(), "metadaten_vorlage.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", help=md.HELP)
