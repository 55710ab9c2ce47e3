"""Open data: released values as GeoPackage/GeoJSON (areas with values) and CSV (long), with metadata, in a ZIP."""
from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import shapely

from .export_table import neutralise
from .queries import Atlas
from .warehouse import read_df

README = """Offene Daten – Sozialraum-Atlas {municipality}
Stand: {today}

Inhalt
- werte.csv: alle freigegebenen Indikatorwerte im Langformat (UTF-8 mit BOM, Trennzeichen ';', Dezimalkomma).
  status: ok = Wert, suppressed = aus Datenschutzgründen keine Angabe („k. A.“), missing = keine Daten.
- metadaten.csv: Definition, Berechnung, Quelle und Stichtag jedes Indikators.
- gebiete.gpkg: je Raumebene ein Layer mit den Gebieten (EPSG:4326) und den Werten des Jahres {year}.
- <ebene>_{year}.geojson: dieselben Gebiete mit Werten als GeoJSON.
Kleine Fallzahlen sind bereits unterdrückt; unterdrückte Werte sind leer.
"""


def open_data_zip(atlas: Atlas, year: int | None = None) -> bytes:
    """The whole open-data package as ZIP bytes (only released indicators: pass a public Atlas)."""
    year = year or atlas.years()[-1]
    inds = atlas.indicators()
    keys = list(inds["key"])
    values = atlas.values(keys)
    names = read_df(atlas.wh, "SELECT level, key AS area_key, name AS area_name FROM area")
    long = values.merge(names, on=["level", "area_key"], how="left")[
        ["level", "area_key", "area_name", "indicator", "year", "value", "status"]]
    long["area_name"] = long["area_name"].astype(str).map(neutralise)
    meta_cols = ["key", "name", "topic_name", "unit", "kind", "definition", "calculation", "source",
                 "reference_date", "interpretation", "data_owner", "update_cycle"]
    meta = inds[meta_cols].copy()
    for col in meta.columns:
        meta[col] = meta[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README.format(municipality=atlas.municipality(), today=f"{date.today():%d.%m.%Y}",
                                               year=year))
        z.writestr("werte.csv", long.to_csv(sep=";", decimal=",", index=False).encode("utf-8-sig"))
        z.writestr("metadaten.csv", meta.to_csv(sep=";", index=False).encode("utf-8-sig"))
        gpkg = Path(tmp) / "gebiete.gpkg"
        for level in atlas.levels()["key"]:
            gdf = _level_frame(atlas, level, values, year)
            gdf.to_file(gpkg, layer=level, driver="GPKG")
            z.writestr(f"{level}_{year}.geojson", gdf.to_json(drop_id=True))
        z.write(gpkg, "gebiete.gpkg")
    return buf.getvalue()


def _level_frame(atlas: Atlas, level: str, values, year: int) -> gpd.GeoDataFrame:
    df = read_df(atlas.wh, "SELECT key, name, parent_key, ST_AsWKB(geom) AS wkb FROM area WHERE level = ? "
                           "ORDER BY key", [level])
    gdf = gpd.GeoDataFrame(df[["key", "name", "parent_key"]], geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]),
                           crs=4326)
    wide = values[(values["level"] == level) & (values["year"] == year)].pivot(
        index="area_key", columns="indicator", values="value")
    return gdf.merge(wide, left_on="key", right_index=True, how="left")
