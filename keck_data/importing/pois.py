"""Points of interest from GeoJSON/GeoPackage/shapefile zip or CSV/XLSX (lat/lon, or x/y with a CRS)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ValidationError
from ..policy import Resource, User
from ..store import insert_pois
from ..warehouse import Tx, Warehouse, read_df
from .areas import read_geofile, to_wgs84
from .files import check_file, column_decimals, parse_values, read_table
from .report import ImportReport, Progress, no_progress

TEXT_FIELDS = ["address", "opening_hours", "target_group", "website", "contact", "description"]
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DUPLICATE_METRES = 25
TOLERANCE_METRES = float(os.environ.get("KECK_POI_TOLERANCE_M", "0"))  # how far outside the town a point may lie


def _text(series: pd.Series, limit: int = 500) -> pd.Series:
    """Plain text without control characters, trimmed (HTML stays text and is escaped when shown)."""
    return series.fillna("").astype(str).map(lambda s: CONTROL.sub("", s).strip()[:limit]).replace("", None)


def _field(frame: pd.DataFrame, spec: str | None) -> pd.Series | None:
    """A field from one column or several joined with spaces ("e_strasse,e_hnr")."""
    if not spec:
        return None
    cols = [c.strip() for c in spec.split(",")]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValidationError(f"Spalte(n) {', '.join(missing)} nicht gefunden. Vorhanden: "
                              + ", ".join(c for c in frame.columns if c != "geometry")[:500] + ".")
    parts = frame[cols].fillna("").astype(str)
    return parts.apply(lambda r: " ".join(v.strip() for v in r if v.strip() and v != "None"), axis=1)


def _points(path: Path, frame_cols: dict, crs: str | None, report: ImportReport) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".xlsx", ".xlsm"):
        frame, dialect = read_table(path)
        if frame_cols.get("lat") and frame_cols.get("lon"):
            xs, ys, src_crs = frame_cols["lon"], frame_cols["lat"], "EPSG:4326"
        elif frame_cols.get("x") and frame_cols.get("y"):
            if not crs:
                raise ValidationError("Für x/y-Koordinaten bitte das Koordinatensystem angeben (--crs, "
                                      "z. B. EPSG:25833).")
            xs, ys, src_crs = frame_cols["x"], frame_cols["y"], crs
        else:
            raise ValidationError("Bitte die Koordinatenspalten angeben: --lat/--lon oder --x/--y mit --crs.")
        for col in (xs, ys):
            if col not in frame.columns:
                raise ValidationError(f"{path.name}: Koordinatenspalte „{col}“ fehlt.")
        cells = pd.concat([frame[xs], frame[ys]], ignore_index=True)
        decimals, _ = column_decimals(cells, pd.Series([xs] * len(frame) + [ys] * len(frame)),
                                      "," if dialect["decimal"] == "," else ".")
        x, _, xbad = parse_values(frame[xs], decimals[xs])  # 51.52 in a ";" file stays 51.52
        y, _, ybad = parse_values(frame[ys], decimals[ys])
        bad = xbad | ybad | np.isnan(x) | np.isnan(y)
        if bad.any():
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:15])
            raise ValidationError(f"{path.name}: ungültige oder fehlende Koordinaten in Zeile(n) {rows}.")
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=src_crs)
        gdf["_row"] = np.arange(len(frame)) + 2
        return to_wgs84(gdf, None, path.name, report)
    gdf = read_geofile(path)
    if not gdf.geometry.geom_type.isin(["Point"]).all():
        raise ValidationError(f"{path.name}: POIs müssen Punkte sein.")
    gdf["_row"] = np.arange(len(gdf)) + 1
    return to_wgs84(gdf, crs, path.name, report)


def import_pois(wh: Warehouse, path: str | Path, *, name_col: str = "name", category: str | None = None,
                category_col: str | None = None, category_map: dict[str, str] | None = None,
                lat_col: str | None = None, lon_col: str | None = None, x_col: str | None = None,
                y_col: str | None = None, crs: str | None = None, fields: dict[str, str] | None = None,
                capacity_col: str | None = None, public: bool = True, tolerance_m: float | None = None,
                dry_run: bool = True, user: User | None = None, progress: Progress = no_progress) -> ImportReport:
    """Check (and with ``dry_run=False`` add) POIs; duplicates and points outside the municipality are reported."""
    path = check_file(path)
    report = ImportReport("Einrichtungen", path.name)
    progress(0.1, "Datei wird gelesen …")
    gdf = _points(path, {"lat": lat_col, "lon": lon_col, "x": x_col, "y": y_col}, crs, report)
    report.rows_read = len(gdf)
    cats = read_df(wh, "SELECT key, name FROM poi_category")
    by_name = {n.lower(): k for k, n in zip(cats["key"], cats["name"])} | {k: k for k in cats["key"]}
    if category:
        if category not in by_name and category.lower() not in by_name:
            raise ValidationError(f"Unbekannte Kategorie „{category}“. Vorhanden: {', '.join(cats['name'])}.")
        cat = pd.Series(by_name.get(category, by_name.get(category.lower())), index=gdf.index)
    elif category_col:
        raw = _text(_field(gdf, category_col))
        mapped = raw.map(lambda v: (category_map or {}).get(v) or by_name.get(str(v).lower()))
        unknown = sorted(set(raw[mapped.isna()].dropna()))
        if unknown:
            raise ValidationError("Unbekannte Kategorien: " + ", ".join(f"„{u}“" for u in unknown[:15])
                                  + ". Bitte zuordnen (Wert=Kategorie) oder die Kategorie anlegen.")
        cat = mapped
    else:
        raise ValidationError("Bitte eine Kategorie (--category) oder eine Kategorienspalte angeben.")
    names = _text(_field(gdf, name_col), 200)
    pois = pd.DataFrame({"name": names, "category": cat, "lon": gdf.geometry.x.round(7), "lat": gdf.geometry.y.round(7),
                         "public": public, "_row": gdf["_row"].to_numpy()})
    for target, spec in (fields or {}).items():
        if target not in TEXT_FIELDS:
            raise ValidationError(f"Unbekanntes Feld „{target}“ (möglich: {', '.join(TEXT_FIELDS)}).")
        pois[target] = _text(_field(gdf, spec)).to_numpy()
    if capacity_col:
        cap, _, bad = parse_values(_field(gdf, capacity_col).fillna(""))
        pois["capacity"] = np.where(bad | np.isnan(cap), np.nan, cap)
    if "website" in pois:
        web = pois["website"].fillna("")
        fixable = web.str.match(r"^www\.", case=False)
        pois.loc[fixable, "website"] = "https://" + web[fixable]
        bad_url = pois["website"].notna() & ~pois["website"].fillna("").str.match(r"^https?://[^\s<>\"']+$")
        if bad_url.any():
            report.warnings.append(f"{int(bad_url.sum())} ungültige Webadressen wurden weggelassen.")
            pois.loc[bad_url, "website"] = None
    progress(0.5, "Lage und Dubletten werden geprüft …")
    _name_nameless(pois, dict(zip(cats["key"], cats["name"])), report)
    no_name = pois["name"].isna()
    for row, lat, lon in zip(pois.loc[no_name, "_row"], pois.loc[no_name, "lat"], pois.loc[no_name, "lon"]):
        report.unmatched.append({"row": int(row), "key": "", "reason": f"Name fehlt und keine Adresse – bitte in der "
                                 f"Datei benennen (Lage {lat:.5f}, {lon:.5f})"})
    keep = ~no_name
    keep &= _inside(wh, pois, TOLERANCE_METRES if tolerance_m is None else tolerance_m, report)
    keep &= ~_duplicates(wh, pois, keep, report)
    result = pois[keep].drop(columns="_row")
    report.matched = report.new = len(result)
    report.details["by_category"] = result["category"].value_counts().to_dict()
    if dry_run:
        progress(1.0, "Probelauf fertig")
        return report

    def write(tx: Tx) -> None:
        insert_pois(tx, result)
        tx.audit("poi", path.name, None, report.as_dict())

    wh.write(user, "import-pois", [Resource("poi")], write)
    report.committed = True
    progress(1.0, "Import abgeschlossen")
    return report


def _name_nameless(pois: pd.DataFrame, category_names: dict[str, str], report: ImportReport) -> None:
    """POIs without a name (common for playgrounds) are named by category and address: "Spielplatz Lindenweg 3"."""
    if "address" not in pois:
        return
    fixable = pois["name"].isna() & pois["address"].notna()
    if fixable.any():
        pois.loc[fixable, "name"] = pois.loc[fixable, "category"].map(category_names) + " " + pois.loc[fixable, "address"]
        report.warnings.append(f"{int(fixable.sum())} Einrichtungen ohne Namen wurden nach Kategorie und Adresse "
                               "benannt (z. B. „" + pois.loc[fixable, "name"].iloc[0] + "“).")


def _inside(wh: Warehouse, pois: pd.DataFrame, tolerance_m: float, report: ImportReport) -> pd.Series:
    """Points must lie in the municipality (exactly, or within ``tolerance_m`` metres of its border)."""
    row = wh.cursor().execute("SELECT ST_AsWKB(ST_Union_Agg(geom)) FROM area WHERE level = "
                              "(SELECT key FROM spatial_level ORDER BY ordering LIMIT 1)").fetchone()
    if not row or not row[0]:
        return pd.Series(True, index=pois.index)
    equal_area = 3035  # ETRS89-LAEA: metres anywhere in Europe
    town = gpd.GeoSeries([shapely.from_wkb(bytes(row[0]))], crs=4326).to_crs(equal_area).iloc[0]
    points = gpd.GeoSeries(gpd.points_from_xy(pois["lon"], pois["lat"]), crs=4326).to_crs(equal_area)
    distance = shapely.distance(town, points.to_numpy())
    inside = pd.Series(distance <= tolerance_m, index=pois.index)
    for r, name, d in zip(pois.loc[~inside, "_row"], pois.loc[~inside, "name"], distance[~inside.to_numpy()]):
        report.unmatched.append({"row": int(r), "key": name or "",
                                 "reason": f"liegt {d:,.0f} m außerhalb der Kommune".replace(",", ".")})
    return inside


def _duplicates(wh: Warehouse, pois: pd.DataFrame, keep: pd.Series, report: ImportReport) -> pd.Series:
    """Same name and category within 25 m, in the file or already in the warehouse."""
    existing = read_df(wh, "SELECT name, category, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM poi")
    cell = 0.0003  # about 25 m: compare on a grid and its neighbours
    seen: dict[tuple, list[tuple[float, float]]] = {}

    def key(name, cat):
        return (str(name).strip().lower(), cat)

    for n, c, x, y in zip(existing["name"], existing["category"], existing["lon"], existing["lat"]):
        seen.setdefault(key(n, c), []).append((x, y))
    dup = pd.Series(False, index=pois.index)
    for i in pois.index[keep]:
        k = key(pois.at[i, "name"], pois.at[i, "category"])
        x, y = pois.at[i, "lon"], pois.at[i, "lat"]
        if any(abs(x - px) < cell * 1.6 and abs(y - py) < cell for px, py in seen.get(k, [])):
            dup[i] = True
            report.unmatched.append({"row": int(pois.at[i, "_row"]), "key": pois.at[i, "name"],
                                     "reason": f"Dublette (gleicher Name im Umkreis von {DUPLICATE_METRES} m)"})
        else:
            seen.setdefault(k, []).append((x, y))
    if dup.any():
        report.warnings.append(f"{int(dup.sum())} Dubletten wurden übersprungen.")
    return dup
