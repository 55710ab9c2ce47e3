"""Daten importieren: upload → recognised table → column mapping (new indicators inline) → dry run → commit."""
import json

import streamlit as st

from keck_data import policy
from keck_data.errors import KeckError
from keck_data.importing import import_areas, import_pois, import_values
from keck_data.importing.files import MAX_BYTES
from keck_data.ui import resources, session, upload
from keck_data.ui.resources import atlas
from keck_data.safe_text import safe

user = policy.require(session.user(), "open", "Arbeitsbereich")
wh = atlas().wh
st.markdown("# Daten importieren")
kind = st.radio("Was wird importiert?", ["Indikatorwerte", "Gebiete", "Einrichtungen"], horizontal=True)
types = {"Indikatorwerte": ["csv", "xlsx"], "Gebiete": ["zip", "geojson", "json", "gpkg"],
         "Einrichtungen": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"]}[kind]
# no type= filter: Streamlit would refuse other files with an English message; the German one is ours
file = st.file_uploader(f"Datei: {', '.join(t.upper() for t in types)} (höchstens {MAX_BYTES / 2**20:.0f} MB)")
if kind == "Indikatorwerte":
    upload.template_button()
if file is None:
    st.stop()
if not upload.has_type(file, types):
    st.stop()
done = st.session_state.get("import_done")
if done and done[0] == file.file_id:
    upload.show_report(done[1])
    st.success("Import abgeschlossen, die hochgeladene Datei wurde gelöscht. Für einen weiteren Import bitte eine "
               "neue Datei wählen.")
    upload.map_links(done[2], done[3])
    st.stop()
path = upload.stored(file)
if path is None:
    st.stop()
levels = resources.levels()
level_names = dict(zip(levels["key"], levels["name"]))
params: dict = {}
try:
    if kind == "Indikatorwerte":
        table, params["header_row"], params["skip_rows"] = upload.table_step(path)
        labels = list(table.frame.columns)
        profile = upload.profile_step(wh)
        pick = lambda label, default=None, optional=False: st.selectbox(
            label, ([""] if optional else []) + labels,
            index=(labels.index(default) + optional) if default in labels else 0, format_func=lambda c: c or "–")
        left, right = st.columns(2)
        params["level"] = left.selectbox("Raumebene", list(levels["key"])[::-1], format_func=level_names.get)
        long = bool(upload.guess_column(labels, ("indikator", "indicator")))
        params["level_rows"] = upload.level_rows_input(left)
        params["layout"] = right.radio("Aufbau", ["wide", "long"], index=int(long), horizontal=True, format_func={
            "long": "lang (Gebiet, Indikator, Jahr, Wert)", "wide": "breit (eine Spalte je Indikator)"}.get)
        params["key_col"] = left.selectbox("Gebietsschlüssel", labels, index=labels.index(
            upload.guess_column(labels, ("schlüssel", "key", "gebiet", "id", "nr")) or labels[0]))
        texts = [c for c in labels if c not in table.numeric_columns() and c != params["key_col"]]
        named = upload.guess_column(labels, ("name", "bezeichnung"))  # long: the first text column is the indicator
        params["name_col"] = pick("Gebietsname (Ersatz, wenn der Schlüssel nicht passt)",
                                  named or (next(iter(texts), None) if params["layout"] == "wide" else None),
                                  optional=True) or None
        params["empty"] = right.radio("Leere Zellen bedeuten", ["missing", "suppressed"], horizontal=True,
                                      format_func={"missing": "keine Daten",
                                                   "suppressed": "k. A. (gesperrt, z. B. weniger als 4)"}.get)
        params["decimal"] = right.selectbox("Dezimalzeichen", ["auto", ",", "."], format_func={
            "auto": "je Spalte erkennen", ",": "Komma (41,5)", ".": "Punkt (41.5)"}.get)
        if params["layout"] == "long":
            params |= {"indicator_col": pick("Indikator", upload.guess_column(labels, ("indikator", "indicator"))),
                       "year_col": pick("Jahr", upload.guess_column(labels, ("jahr", "year"))),
                       "value_col": pick("Wert", upload.guess_column(labels, ("wert", "value", "zahl")))}
            meta = st.file_uploader("Metadaten für neue Indikatoren: CSV oder XLSX (optional, siehe Vorlage)")
            params["metadata"] = upload.side_file(meta, path) if upload.has_type(meta, ["csv", "xlsx"]) else None
        else:
            params["year_col"] = pick("Jahresspalte", upload.guess_column(labels, ("jahr", "year")), optional=True)
            fixed = st.number_input("Jahr für Spalten ohne Datum im Namen", 1990, 2100, 2024)
            st.subheader("Spalten zuordnen")
            st.caption("Je Spalte: vorhandenem Indikator zuordnen, als neuen Indikator anlegen (Metadaten sind aus "
                       "Spaltenname, Beschreibungszeile und Fußnoten vorbelegt) oder nicht importieren.")
            used = {params["key_col"], params["name_col"], params["year_col"]}
            mapping, years, new = upload.mapping_step(table, [c for c in table.numeric_columns() if c not in used],
                                                      resources.indicators(), resources.topics(), profile, int(fixed),
                                                      f"{file.file_id}_{(profile or {}).get('name', '')}_")
            params |= {"columns": mapping, "column_years": None if params["year_col"] else years,
                       "indicators": new or None, "year_col": params["year_col"] or "year"}
        params["save_profile"] = st.text_input("Als Importvorlage speichern unter (optional)",
                                               (profile or {}).get("name", "")) or None
    elif kind == "Gebiete":
        cols = upload.columns(path)
        left, right = st.columns(2)
        params |= {"level": left.text_input("Schlüssel der Raumebene", "sozialraum").strip(),
                   "level_name": left.text_input("Name der Raumebene", "Sozialraum"),
                   "key_col": left.selectbox("Gebietsschlüssel", cols), "name_col": left.selectbox("Gebietsname", cols),
                   "parent_level": right.selectbox("Übergeordnete Ebene", list(levels["key"]),
                                                   format_func=level_names.get),
                   "parent_rule": right.selectbox("Zuordnung", ["spatial", "prefix"], format_func={
                       "spatial": "räumlich (größter Flächenanteil)", "prefix": "Schlüsselanfang"}.get),
                   "prefix_len": int(right.number_input("Länge des Schlüsselanfangs", 1, 20, 2)),
                   "crs": right.text_input("Koordinatensystem, falls die Datei keines hat (z. B. EPSG:25833)") or None}
    else:
        cols = upload.columns(path)
        cats = resources.poi_categories()
        left, right = st.columns(2)
        optional = lambda label, default=None: right.selectbox(
            label, [""] + cols, index=cols.index(default) + 1 if default in cols else 0) or None
        params |= {"name_col": left.selectbox("Name", cols, index=cols.index("name") if "name" in cols else 0),
                   "category": left.selectbox("Kategorie", list(cats["key"]),
                                              format_func=dict(zip(cats["key"], cats["name"])).get),
                   "lat_col": optional("Breite (lat)", "lat"), "lon_col": optional("Länge (lon)", "lon")}
        address = optional("Adresse")
        params["fields"] = {"address": address} if address else None
except KeckError as err:
    st.error(safe(err))
    st.stop()

run = {"Indikatorwerte": import_values, "Gebiete": import_areas, "Einrichtungen": import_pois}[kind]
signature = json.dumps([file.file_id, kind, params], sort_keys=True, default=str)


def execute(dry_run: bool):
    bar = st.progress(0.0, "Import wird vorbereitet …")
    return run(wh, path, dry_run=dry_run, user=user, progress=lambda f, m: bar.progress(min(f, 1.0), m), **params)


left, right = st.columns(2)
if left.button("Probelauf (nichts wird gespeichert)"):
    try:
        st.session_state["import_report"] = (signature, execute(True))
    except KeckError as err:
        st.error(safe(err))
checked = st.session_state.get("import_report")
if checked and checked[0] == signature:
    report = checked[1]
    if right.button("Jetzt importieren", type="primary"):
        try:
            report = execute(False)
            upload.discard()
            shown = [(k, max(report.details.get("years", [0]))) for k in report.details.get("indicators", [])]
            st.session_state["import_done"] = (file.file_id, report, shown, params.get("level"))
            st.session_state.pop("import_report", None)
            st.rerun()
        except KeckError as err:
            st.error(safe(err))
    upload.show_report(report)
elif checked:
    st.info("Die Einstellungen wurden geändert – bitte den Probelauf wiederholen.")
