"""Open data: released values as GeoPackage/GeoJSON (areas with values) and CSV (long), with metadata, in a ZIP."""
from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import privacy
from .cells import csv_bytes
from .queries import Atlas
from .warehouse import Warehouse, read_df

README = """Offene Daten – Sozialraum-Atlas {municipality}
Stand: {today}

Inhalt
- werte.csv: alle freigegebenen Indikatorwerte im Langformat (UTF-8 mit BOM, Trennzeichen ';', Dezimalkomma).
  status: ok = Wert, suppressed = aus Datenschutzgründen keine Angabe („k. A.“), missing = keine Daten.
- metadaten.csv: Definition, Berechnung, Quelle und Stichtag jedes Indikators.
- gebiete.gpkg: je Raumebene ein Layer mit den Gebieten (EPSG:4326) und den Werten des Jahres {year};
  zu jedem Indikator eine Spalte status_<indikator> (ok, suppressed = „k. A.“, missing = keine Daten).
- <ebene>_{year}.geojson: dieselben Gebiete mit Werten und Status als GeoJSON.
Kleine Fallzahlen sind bereits unterdrückt (auch Werte, aus denen sie sich berechnen ließen); unterdrückte
Werte sind leer, ihr Status ist „suppressed“. Quoten und Mittelwerte sind auf ihre angegebenen
Nachkommastellen gerundet.
"""


def open_data_zip(atlas: Atlas, year: int | None = None) -> bytes:
    """The whole open-data package as ZIP bytes (only released indicators: pass a public Atlas)."""
    year = year or atlas.years()[-1]
    inds = atlas.indicators()
    values = privacy.round_declared(atlas.values(list(inds["key"])), inds.set_index("key"))
    long = values_long(atlas, values)[["level", "area_key", "area_name", "indicator", "year", "value", "status"]]
    meta_cols = ["key", "name", "topic_name", "unit", "kind", "definition", "calculation", "source",
                 "reference_date", "interpretation", "data_owner", "update_cycle"]
    meta = atlas.indicators()[meta_cols]
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README.format(municipality=atlas.municipality(), today=f"{date.today():%d.%m.%Y}",
                                               year=year))
        z.writestr("werte.csv", csv_bytes(long))
        z.writestr("metadaten.csv", csv_bytes(meta))
        gpkg = Path(tmp) / "gebiete.gpkg"
        for level in atlas.levels()["key"]:
            gdf = _level_frame(atlas, level, values, year)
            gdf.to_file(gpkg, layer=level, driver="GPKG")
            z.writestr(f"{level}_{year}.geojson", gdf.to_json(drop_id=True))
        z.write(gpkg, "gebiete.gpkg")
    return buf.getvalue()


def values_long(atlas: Atlas, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """All values (privacy applied) in long format with area and indicator names."""
    inds = atlas.indicators()
    values = atlas.values(list(inds["key"])) if values is None else values
    values = privacy.round_declared(values, inds.set_index("key"))
    names = read_df(atlas.wh, "SELECT level, key AS area_key, name AS area_name FROM area UNION ALL "
                              "SELECT level, key, name || ' (gemeinsam)' FROM area_group")
    out = values.merge(names, on=["level", "area_key"], how="left").merge(
        inds[["key", "name", "unit"]].rename(columns={"key": "indicator", "name": "indicator_name"}), on="indicator")
    return out[["level", "area_key", "area_name", "indicator", "indicator_name", "unit", "year", "value", "status"]]


def export_values(wh: Warehouse, path: str | Path, *, released_only: bool = False) -> int:
    """All values as CSV (UTF-8 with BOM, ';', decimal comma, "k. A." for suppressed), privacy applied; ``note``
    says why an aggregate is missing ("unvollständig: 2 von 48 Gebieten fehlen: Altstadt, Hafen")."""
    atlas = Atlas(wh, public=released_only)
    out = values_long(atlas)
    out["value"] = [("k. A." if s == "suppressed" else "") if np.isnan(v)
                    else f"{v:.6f}".rstrip("0").rstrip(".").replace(".", ",") for v, s in zip(out["value"], out["status"])]
    gaps = atlas.incomplete(list(atlas.indicators()["key"]))
    notes = {(i, lv, k, y): f"{r}: {m}" if m else r for i, lv, k, y, r, m in
             gaps[["indicator", "level", "key", "year", "reason", "missing"]].itertuples(index=False)}
    out["note"] = [notes.get(key, "") for key in zip(out["indicator"], out["level"], out["area_key"], out["year"])]
    Path(path).write_bytes(csv_bytes(out))
    return len(out)


def _level_frame(atlas: Atlas, level: str, values, year: int) -> gpd.GeoDataFrame:
    df = read_df(atlas.wh, "SELECT key, name, parent_key, ST_AsWKB(geom) AS wkb FROM area WHERE level = ? "
                           "ORDER BY key", [level])
    gdf = gpd.GeoDataFrame(df[["key", "name", "parent_key"]], geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]),
                           crs=4326)
    rows = values[(values["level"] == level) & (values["year"] == year)]
    wide = rows.pivot(index="area_key", columns="indicator", values="value")
    status = rows.pivot(index="area_key", columns="indicator", values="status").add_prefix("status_")
    out = gdf.merge(wide.join(status), left_on="key", right_index=True, how="left")
    for key in wide.columns:  # areas without a row: "missing", never an empty status
        out[f"status_{key}"] = out[f"status_{key}"].fillna("missing")
    return out
