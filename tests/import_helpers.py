"""Helpers for import tests: warehouse fingerprints and files shaped like real deliveries."""
from __future__ import annotations

import geopandas as gpd
import shapely

from keck_data.warehouse import Warehouse, read_df

TABLES = ["meta", "spatial_level", "area", "topic", "indicator", "indicator_value", "poi_category", "poi",
          "bookmark", "audit_log", "user_role", "login_attempt", "session_epoch"]


def fingerprint(wh: Warehouse) -> dict:
    """A content hash per table: equal fingerprints mean nothing changed."""
    return {t: wh.cursor().execute(
        f"SELECT count(*), md5(coalesce(string_agg(CAST(x AS VARCHAR), '|' ORDER BY CAST(x AS VARCHAR)), '')) "
        f"FROM {t} x").fetchone() for t in TABLES}


def demo_areas(wh: Warehouse, level: str = "sozialraum") -> gpd.GeoDataFrame:
    df = read_df(wh, "SELECT key, name, parent_key, ST_AsWKB(geom) AS wkb FROM area WHERE level = ? ORDER BY key",
                 [level])
    return gpd.GeoDataFrame(df[["key", "name", "parent_key"]],
                            geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]), crs=4326)
