"""Areas of a spatial level from a shapefile zip, GeoJSON or GeoPackage."""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import aggregation, fmt, store
from ..errors import ValidationError
from ..policy import Resource, User
from ..warehouse import Tx, Warehouse, read_df
from .files import check_file, safe_unzip
from .report import ImportReport, Progress, no_progress

MAX_AREAS = 50_000
MAX_LISTED = 15
SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def read_geofile(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a shapefile zip, GeoJSON or GeoPackage (zip members checked before anything is extracted)."""
    suffix = path.suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        if suffix == ".zip":
            files = safe_unzip(path, Path(tmp), SHAPE_PARTS)
            shps = [f for f in files if f.suffix.lower() == ".shp"]
            if len(shps) != 1:
                raise ValidationError(f"{path.name} muss genau eine .shp-Datei enthalten (gefunden: {len(shps)}).")
            source = shps[0]
        elif suffix in (".geojson", ".json", ".gpkg", ".shp"):
            source = path
        else:
            raise ValidationError(f"{path.name}: Format „{suffix}“ wird nicht unterstützt "
                                  "(Shapefile als ZIP, GeoJSON oder GeoPackage).")
        try:
            gdf = gpd.read_file(source, layer=layer) if layer else gpd.read_file(source)
        except Exception as exc:  # pyogrio/GDAL errors
            raise ValidationError(f"{path.name} lässt sich nicht als Geodatei lesen: {exc}") from None
    if gdf.empty:
        raise ValidationError(f"{path.name} enthält keine Geometrien.")
    if len(gdf) > MAX_AREAS:
        raise ValidationError(f"{path.name} enthält {len(gdf)} Gebiete (höchstens {MAX_AREAS}).")
    return gdf


def to_wgs84(gdf: gpd.GeoDataFrame, crs: str | None, name: str, report: ImportReport) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326; a missing or implausible CRS gives a message that names the option."""
    if crs:
        if gdf.crs is not None and gdf.crs != crs:
            report.warnings.append(f"Das Koordinatensystem der Datei ({gdf.crs.to_string()}) wurde durch {crs} ersetzt.")
        try:
            gdf = gdf.set_crs(crs, allow_override=True)
        except Exception:
            raise ValidationError(f"Unbekanntes Koordinatensystem „{crs}“ (Beispiel: EPSG:25833).") from None
    if gdf.crs is None:
        raise ValidationError(f"{name} hat kein Koordinatensystem (z. B. fehlt die .prj-Datei). Bitte das "
                              "Koordinatensystem angeben (Option --crs, z. B. EPSG:25833 für ETRS89/UTM 33N).")
    minx, miny, maxx, maxy = gdf.total_bounds
    if gdf.crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(miny) > 90 or abs(maxy) > 90):
        raise ValidationError(
            f"{name}: Die Koordinaten (bis {max(abs(minx), abs(maxx)):,.0f}) passen nicht zu {gdf.crs.to_string()} "
            "(Längen-/Breitengrade). Vermutlich ist das Koordinatensystem falsch angegeben – bitte mit --crs das "
            "richtige angeben, z. B. EPSG:25833.".replace(",", "."))
    out = gdf.to_crs(4326)
    if not np.isfinite(out.total_bounds).all():
        raise ValidationError(f"{name}: Die Umrechnung nach EPSG:4326 ist fehlgeschlagen – falsches Koordinatensystem?")
    return out


def _polygons(gdf: gpd.GeoDataFrame, keys: pd.Series, name: str, report: ImportReport) -> gpd.GeoSeries:
    """Valid (Multi)Polygons; broken ones repaired and reported, empty or non-areal ones refused."""
    geoms = gdf.geometry
    empty = geoms.isna() | geoms.is_empty
    if empty.any():
        listed = ", ".join(f"Zeile {i + 1} ({k})" for i, k in zip(np.flatnonzero(empty)[:MAX_LISTED], keys[empty]))
        raise ValidationError(f"{name}: Gebiete ohne Geometrie: {listed}.")
    wrong = ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        raise ValidationError(f"{name}: nur Flächen sind erlaubt; {int(wrong.sum())} Objekte sind "
                              f"{', '.join(sorted(set(geoms[wrong].geom_type)))} (z. B. {keys[wrong].iloc[0]}).")
    invalid = ~geoms.is_valid
    if invalid.any():
        repaired = geoms[invalid].make_valid().apply(
            lambda g: shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]))
        geoms = geoms.copy()
        geoms[invalid] = repaired
        report.warnings.append(f"{int(invalid.sum())} Geometrien waren ungültig und wurden repariert: "
                               + ", ".join(keys[invalid].head(MAX_LISTED)) + ".")
        report.details["repaired"] = list(keys[invalid])
        still = geoms.is_empty | ~geoms.is_valid
        if still.any():
            raise ValidationError(f"{name}: Geometrien nicht reparierbar: {', '.join(keys[still].head(MAX_LISTED))}.")
    return geoms


def _parents(gdf: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, rule: str, parent_col: str | None,
             prefix_len: int | None) -> pd.Series:
    """Parent key per area: by majority of the area (spatial), by key prefix, or from a column."""
    if rule == "prefix":
        if not prefix_len:
            raise ValidationError("Für die Zuordnung über den Schlüsselanfang bitte die Länge angeben (--prefix-len).")
        cand = gdf["key"].str[:prefix_len]
    elif rule == "column":
        if not parent_col or parent_col not in gdf.columns:
            raise ValidationError(f"Spalte „{parent_col}“ für das übergeordnete Gebiet fehlt.")
        cand = gdf[parent_col].astype(str).str.strip()
    elif rule == "spatial":
        equal_area = 3035  # ETRS89-LAEA: areas in m² anywhere in Europe
        own = gdf[["key", "geometry"]].to_crs(equal_area)
        par = parents[["key", "geometry"]].rename(columns={"key": "parent"}).to_crs(equal_area)
        pieces = gpd.overlay(own, par, how="intersection", keep_geom_type=True)
        pieces["share"] = pieces.area / pieces["key"].map(own.set_index("key").area)
        best = pieces.sort_values("share").drop_duplicates("key", keep="last").set_index("key")
        best = best[best["share"] > 0.5]["parent"]
        return gdf["key"].map(best)
    else:
        raise ValidationError(f"Unbekannte Zuordnungsregel „{rule}“ (spatial, prefix oder column).")
    return cand.where(cand.isin(set(parents["key"])))


def import_areas(wh: Warehouse, path: str | Path, *, level: str, key_col: str, name_col: str,
                 level_name: str | None = None, parent_level: str | None = None, parent_rule: str = "spatial",
                 parent_col: str | None = None, prefix_len: int | None = None, crs: str | None = None,
                 key_width: int | None = None, layer: str | None = None, municipality: str | None = None,
                 dry_run: bool = True, user: User | None = None, progress: Progress = no_progress) -> ImportReport:
    """Check (and with ``dry_run=False`` write) the areas of one level; existing values are kept."""
    path = check_file(path)
    report = ImportReport("Gebiete", path.name)
    progress(0.05, "Geodatei wird gelesen …")
    gdf = read_geofile(path, layer)
    report.rows_read = len(gdf)
    for col, what in ((key_col, "Schlüssel"), (name_col, "Name")):
        if col not in gdf.columns:
            raise ValidationError(f"{path.name}: Spalte „{col}“ ({what}) fehlt. Vorhanden: "
                                  + ", ".join(c for c in gdf.columns if c != "geometry") + ".")
    if pd.api.types.is_numeric_dtype(gdf[key_col]):
        report.warnings.append(f"Die Schlüsselspalte „{key_col}“ ist als Zahl gespeichert – führende Nullen können "
                               "verloren sein (Option --key-width ergänzt sie).")
        gdf[key_col] = gdf[key_col].map(lambda v: str(int(v)) if pd.notna(v) else "")
    gdf = gdf.assign(key=gdf[key_col].astype(str).str.strip(), name=gdf[name_col].astype(str).str.strip())
    if key_width:
        gdf["key"] = gdf["key"].str.zfill(key_width)
    blank = gdf["key"].isin(["", "nan", "None"])
    if blank.any():
        raise ValidationError(f"{path.name}: {fmt.count(int(blank.sum()), 'Gebiet', 'Gebiete')} ohne Schlüssel (Zeilen "
                              + ", ".join(str(i + 1) for i in np.flatnonzero(blank)[:MAX_LISTED]) + ").")
    dup = gdf["key"].duplicated(keep=False)
    if dup.any():
        raise ValidationError(f"{path.name}: Schlüssel mehrfach vergeben: "
                              + ", ".join(sorted(set(gdf.loc[dup, "key"]))[:MAX_LISTED]) + ".")
    progress(0.2, "Koordinatensystem und Geometrien werden geprüft …")
    gdf = to_wgs84(gdf, crs, path.name, report)
    gdf = gdf.set_geometry(_polygons(gdf, gdf["key"], path.name, report))

    levels = read_df(wh, "SELECT key, name, parent_level, ordering FROM spatial_level").set_index("key")
    existing = read_df(wh, "SELECT key, name, parent_key, ST_AsWKB(geom) AS wkb FROM area WHERE level = ?", [level])
    create_total = levels.empty and parent_level is None
    if parent_level is None and not create_total and level in levels.index:
        parent_level = levels.loc[level, "parent_level"] if pd.notna(levels.loc[level, "parent_level"]) else None
    if parent_level is None and not create_total and not (level in levels.index):
        raise ValidationError("Bitte die übergeordnete Raumebene angeben (vorhanden: "
                              + ", ".join(levels.index) + ").")
    if parent_level is not None and parent_level not in levels.index:
        raise ValidationError(f"Die übergeordnete Raumebene „{parent_level}“ gibt es nicht.")
    _check_location(wh, gdf, path.name)

    progress(0.45, "Übergeordnete Gebiete werden zugeordnet …")
    total = None
    if create_total:
        total = gpd.GeoDataFrame({"key": ["0"], "name": [municipality or "Gesamtstadt"], "parent_key": [None]},
                                 geometry=[shapely.union_all(gdf.geometry.values)], crs=4326)
        gdf["parent_key"] = "0"
        parent_level = "gesamtstadt"
    elif parent_level is not None:
        parents = _parent_areas(wh, parent_level)
        gdf["parent_key"] = _parents(gdf, parents, parent_rule, parent_col, prefix_len)
        orphans = gdf[gdf["parent_key"].isna()]
        other = ("--parent-rule column (mit --parent-column) oder --parent-rule prefix (mit --prefix-len)"
                 if parent_rule == "spatial" else "eine andere --parent-rule (spatial, column oder prefix)")
        for i, key, name in zip(orphans.index, orphans["key"], orphans["name"]):
            report.unmatched.append({"row": int(i) + 1, "key": key, "name": name, "reason":
                                     f"{name} (Schlüssel {key}): kein übergeordnetes Gebiet ({parent_level}) gefunden "
                                     f"(Regel „{parent_rule}“) – ggf. {other}"})
    else:
        gdf["parent_key"] = None
    report.matched = len(gdf) - len(report.unmatched)
    _diff(gdf, existing, report)
    progress(0.6, "Anzeige-Geometrie wird vereinfacht …")
    if dry_run:
        progress(1.0, "Probelauf fertig")
        return report

    def write(tx: Tx) -> None:
        new_levels = []
        if total is not None:
            new_levels.append({"key": "gesamtstadt", "name": "Gesamtstadt", "parent_level": None, "ordering": 0})
        if level not in levels.index:
            ordering = (levels.loc[parent_level, "ordering"] + 1) if parent_level in levels.index else 1
            new_levels.append({"key": level, "name": level_name or level.capitalize(), "parent_level": parent_level,
                               "ordering": int(ordering)})
        elif level_name:
            tx.cur.execute("UPDATE spatial_level SET name = ? WHERE key = ?", [level_name, level])
        if new_levels:
            store.replace_levels(tx, new_levels)
        if total is not None:
            store.upsert_areas(tx, "gesamtstadt", total)
            if municipality:
                tx.cur.execute("INSERT OR REPLACE INTO meta VALUES ('municipality', ?)", [municipality])
        store.upsert_areas(tx, level, gdf[["key", "name", "parent_key", "geometry"]])
        progress(0.85, "Gröbere Ebenen werden neu berechnet …")
        aggregation.refresh_aggregates(tx)
        tx.audit("area", level, {"keys": sorted(existing["key"])}, report.as_dict())

    wh.write(user, "import-areas", [Resource("level", level)], write)
    report.committed = True
    progress(1.0, "Import abgeschlossen")
    return report


def set_uninhabited(wh: Warehouse, user: User | None, level: str, keys: list[str], uninhabited: bool = True) -> int:
    """Flag areas "ohne Wohnbevölkerung" (or remove the flag): their missing values no longer make the parent
    incomplete. Returns the number of areas changed."""
    known = set(read_df(wh, "SELECT key FROM area WHERE level = ?", [level])["key"])
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValidationError(f"Gebiete der Ebene „{level}“ nicht gefunden: {', '.join(unknown[:MAX_LISTED])}.")
    before = sorted(read_df(wh, "SELECT key FROM uninhabited_area WHERE level = ?", [level])["key"])

    def write(tx: Tx) -> None:
        for key in keys:
            tx.cur.execute("DELETE FROM uninhabited_area WHERE level = ? AND key = ?", [level, key])
            if uninhabited:
                tx.cur.execute("INSERT INTO uninhabited_area VALUES (?, ?)", [level, key])
        aggregation.refresh_aggregates(tx)
        after = [k for (k,) in tx.cur.execute("SELECT key FROM uninhabited_area WHERE level = ? ORDER BY key",
                                             [level]).fetchall()]
        tx.audit("uninhabited_area", level, before, after)

    wh.write(user, "flag-areas", [Resource("level", level)], write)
    return len(keys)


def _parent_areas(wh: Warehouse, level: str) -> gpd.GeoDataFrame:
    df = read_df(wh, "SELECT key, ST_AsWKB(geom) AS wkb FROM area WHERE level = ?", [level])
    if df.empty:
        raise ValidationError(f"Die übergeordnete Ebene „{level}“ hat keine Gebiete.")
    return gpd.GeoDataFrame({"key": df["key"]}, geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]), crs=4326)


def _check_location(wh: Warehouse, gdf: gpd.GeoDataFrame, name: str) -> None:
    """New areas must lie where the municipality is (catches swapped axes and wrong CRS)."""
    row = wh.cursor().execute("SELECT ST_AsWKB(ST_Envelope_Agg(geom)) FROM area").fetchone()
    if row and row[0]:
        extent = shapely.from_wkb(bytes(row[0])).buffer(0.05)
        if not extent.intersects(shapely.box(*gdf.total_bounds)):
            raise ValidationError(f"{name}: Die Gebiete liegen nicht im Gebiet der Kommune – stimmt das "
                                  "Koordinatensystem (Option --crs)?")


def _diff(gdf: gpd.GeoDataFrame, existing: pd.DataFrame, report: ImportReport) -> None:
    old = existing.set_index("key")
    keys = set(gdf["key"])
    report.new = int((~gdf["key"].isin(old.index)).sum())
    same = 0
    for key, name, parent, geom in zip(gdf["key"], gdf["name"], gdf["parent_key"], gdf.geometry):
        if key in old.index:
            o = old.loc[key]
            same += bool(o["name"] == name and o["parent_key"] == parent and
                         shapely.from_wkb(bytes(o["wkb"])).equals_exact(geom, 1e-9))
    report.unchanged = same
    report.changed = len(gdf) - report.new - same
    gone = sorted(set(old.index) - keys)
    if gone:
        stays = "bleibt" if len(gone) == 1 else "bleiben"
        report.warnings.append(f"{fmt.count(len(gone), 'bisheriges Gebiet fehlt', 'bisherige Gebiete fehlen')} in "
                               f"der Datei und {stays} unverändert erhalten (bitte prüfen): "
                               + ", ".join(gone[:MAX_LISTED]) + ".")
        report.details["disappeared"] = gone
