"""Map rerun server time and bytes sent, at three scales, against the naive way.

Run: .venv/bin/python -m benchmarks.bench_map
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pydeck as pdk
import shapely

from benchmarks.common import BERLIN_PLR, build_warehouse, germany_like, timed
from keck_data.demo import init_demo
from keck_data.mapdeck import MapSettings, build
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df


def naive_bytes(atlas: Atlas, level: str, indicator: str, year: int) -> tuple[float, int]:
    """GeoDataFrame.to_json of the full geometry into a pydeck GeoJsonLayer, serialised the default way."""
    def run():
        df = read_df(atlas.wh, "SELECT key, name, ST_AsWKB(geom) AS wkb FROM area WHERE level = ?", [level])
        gdf = gpd.GeoDataFrame(df[["key", "name"]], geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]),
                               crs=4326)
        vals = atlas.level_values(indicator, level, year)
        gdf = gdf.merge(vals[["key", "value"]], on="key")
        layer = pdk.Layer("GeoJsonLayer", json.loads(gdf.to_json()), id="areas", get_fill_color=[200, 30, 0, 140])
        return pdk.Deck(layers=[layer], map_provider=None).to_json()
    ms, payload = timed(run, repeat=3)
    return ms, len(payload.encode())


def measure(name: str, path: Path, level: str, indicators: tuple[str, str], year: int) -> dict:
    with Warehouse(path, read_only=True) as wh:
        atlas = Atlas(wh)
        shapes = atlas.display_shapes(level)  # cached per level in the UI
        bounds = atlas.bounds()
        n = len(shapes)

        def rerun(i=[0]):
            ind = indicators[i[0] % 2]
            i[0] += 1
            values = atlas.level_values(ind, level, year)  # a changed indicator is not cached yet
            s = MapSettings(ind, level, year, basemap="none")
            return build(atlas, s, shapes, values, bounds=bounds).deck.to_json()

        ms, payload = timed(rerun)
        naive_ms, naive_size = naive_bytes(atlas, level, indicators[0], year)
    size = len(payload.encode())
    return {"scale": name, "areas": n, "rerun_ms": round(ms, 1), "bytes": size, "naive_ms": round(naive_ms, 1),
            "naive_bytes": naive_size, "bytes_ratio": round(naive_size / size, 1)}


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    results = []
    demo = tmp / "demo.duckdb"
    init_demo(demo)
    results.append(measure("Musterstadt (demo)", demo, "sozialraum", ("sgb2_quote_u15", "anteil_alleinerziehend"), 2024))
    if BERLIN_PLR.exists():
        t = time.perf_counter()
        berlin = gpd.read_file(BERLIN_PLR)[["id", "name", "geometry"]].rename(columns={"id": "key"})
        path = build_warehouse(tmp / "berlin.duckdb", berlin, "Berlin")
        print(f"Berlin warehouse built in {time.perf_counter() - t:.1f} s")
        results.append(measure("Berlin PLR", path, "gebiet", ("r0", "r1"), 2024))
    else:
        print(f"skipped Berlin: {BERLIN_PLR} not found")
    t = time.perf_counter()
    path = build_warehouse(tmp / "de.duckdb", germany_like(11_000), "Deutschland (generiert)")
    print(f"11,000-area warehouse built in {time.perf_counter() - t:.1f} s")
    results.append(measure("11,000 Gemeinden (generated)", path, "gebiet", ("r0", "r1"), 2024))
    print(f"{'scale':32} {'areas':>6} {'rerun ms':>9} {'kB sent':>9} {'naive ms':>9} {'naive kB':>9} {'ratio':>6}")
    for r in results:
        print(f"{r['scale']:32} {r['areas']:>6} {r['rerun_ms']:>9} {r['bytes'] / 1000:>9.0f} {r['naive_ms']:>9} "
              f"{r['naive_bytes'] / 1000:>9.0f} {r['bytes_ratio']:>6}")


if __name__ == "__main__":
    main()
