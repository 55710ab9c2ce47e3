"""Daten importieren: upload, column mapping, dry run shown as a table, progress bar, then commit."""
import streamlit as st

from keck_data import policy
from keck_data.errors import KeckError
from keck_data.importing import import_areas, import_pois, import_values
from keck_data.ui import session, upload, widgets
from keck_data.ui.resources import atlas

user = policy.require(session.user(), "open", "Arbeitsbereich")
wh = atlas().wh
st.markdown("# Daten importieren")
kind = st.radio("Was wird importiert?", ["Indikatorwerte", "Gebiete", "Einrichtungen"], horizontal=True)
types = {"Indikatorwerte": ["csv", "xlsx"], "Gebiete": ["zip", "geojson", "json", "gpkg"],
         "Einrichtungen": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"]}[kind]
file = st.file_uploader("Datei", type=types)
if file is None:
    st.stop()
try:
    path = upload.stored(file)
    cols = upload.columns(path)
except KeckError as err:
    st.error(str(err))
    st.stop()
levels = widgets.load("levels")
level_names = dict(zip(levels["key"], levels["name"]))
pick = lambda label, default=None, optional=False: st.selectbox(  # noqa: E731
    label, ([""] if optional else []) + cols, index=(cols.index(default) + optional) if default in cols else 0,
    format_func=lambda c: c or "–")
st.subheader("Spalten zuordnen")
left, right = st.columns(2)
with left:
    if kind == "Indikatorwerte":
        level = st.selectbox("Raumebene", list(levels["key"])[::-1], format_func=level_names.get)
        layout = st.radio("Aufbau", ["long", "wide"], format_func={"long": "lang (Gebiet, Indikator, Jahr, Wert)",
                                                                    "wide": "breit (eine Spalte je Indikator)"}.get)
        key_col = pick("Gebietsschlüssel", "key")
        name_col = pick("Gebietsname (Ersatz, wenn der Schlüssel nicht passt)", optional=True)
    elif kind == "Gebiete":
        level = st.text_input("Schlüssel der Raumebene", "sozialraum")
        level_name = st.text_input("Name der Raumebene", "Sozialraum")
        key_col = pick("Gebietsschlüssel")
        name_col = pick("Gebietsname")
    else:
        name_col = pick("Name", "name")
        cats = widgets.load("poi_categories")
        category = st.selectbox("Kategorie", list(cats["key"]), format_func=dict(zip(cats["key"], cats["name"])).get)
with right:
    if kind == "Indikatorwerte" and layout == "long":
        ind_col, year_col, value_col = pick("Indikator", "indicator"), pick("Jahr", "year"), pick("Wert", "value")
    elif kind == "Indikatorwerte":
        year = st.number_input("Jahr (wenn es keine Jahresspalte gibt)", 1990, 2100, 2024)
        year_col = pick("Jahresspalte", "year", optional=True)
    elif kind == "Gebiete":
        parent = st.selectbox("Übergeordnete Ebene", list(levels["key"]), format_func=level_names.get)
        rule = st.selectbox("Zuordnung", ["spatial", "prefix"], format_func={
            "spatial": "räumlich (größter Flächenanteil)", "prefix": "Schlüsselanfang"}.get)
        prefix = st.number_input("Länge des Schlüsselanfangs", 1, 20, 2)
        crs = st.text_input("Koordinatensystem, falls die Datei keines hat (z. B. EPSG:25833)")
    else:
        lat, lon = pick("Breite (lat)", "lat", optional=True), pick("Länge (lon)", "lon", optional=True)
        address = pick("Adresse", optional=True)

def run(dry_run: bool):
    bar = st.progress(0.0, "Import wird vorbereitet …")
    common = {"dry_run": dry_run, "user": user, "progress": lambda f, m: bar.progress(min(f, 1.0), m)}
    if kind == "Indikatorwerte":
        extra = ({"indicator_col": ind_col, "year_col": year_col, "value_col": value_col} if layout == "long" else
                 ({"year_col": year_col} if year_col else {"year": int(year)}))
        return import_values(wh, path, level=level, layout=layout, key_col=key_col, name_col=name_col or None,
                             **extra, **common)
    if kind == "Gebiete":
        return import_areas(wh, path, level=level.strip(), level_name=level_name, key_col=key_col, name_col=name_col,
                            parent_level=parent, parent_rule=rule, prefix_len=int(prefix), crs=crs or None, **common)
    return import_pois(wh, path, name_col=name_col, category=category, lat_col=lat or None, lon_col=lon or None,
                       fields={"address": address} if address else None, **common)

left, right = st.columns(2)
if left.button("Probelauf (nichts wird gespeichert)"):
    try:
        st.session_state["import_report"] = run(True)
    except KeckError as err:
        st.error(str(err))
report = st.session_state.get("import_report")
if report and report.source == path.name:
    st.subheader("Bericht des Probelaufs" if not report.committed else "Import abgeschlossen")
    c = st.columns(5)
    for col, (label, value) in zip(c, [("gelesen", report.rows_read), ("zugeordnet", report.matched),
                                       ("neu", report.new), ("geändert", report.changed),
                                       ("nicht zugeordnet", len(report.unmatched))]):
        col.metric(label, value)
    for warning in report.warnings:
        st.warning(warning)
    if report.unmatched:
        st.dataframe(report.unmatched_frame(), hide_index=True, width="stretch")
    if not report.committed and right.button("Jetzt importieren", type="primary"):
        try:
            st.session_state["import_report"] = run(False)
            st.rerun()
        except KeckError as err:
            st.error(str(err))
