"""Export timings: a 448-area map to PDF (target ≤ 2 s) and a three-area Gebietsbericht (target ≤ 5 s).

Run: .venv/bin/python -m benchmarks.bench_exports
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd

from benchmarks.common import BERLIN_PLR, build_warehouse, timed
from keck_data.demo import init_demo
from keck_data.export_map import render_map
from keck_data.export_report import report_pdf
from keck_data.mapdeck import MapSettings
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    demo = tmp / "demo.duckdb"
    init_demo(demo)
    with Warehouse(demo, read_only=True) as wh:
        atlas = Atlas(wh)
        ms, data = timed(lambda: report_pdf(atlas, "sozialraum", ["0101", "0203", "0305"], 2024, 2015), repeat=3)
        print(f"Gebietsbericht, 3 areas, 59 indicators: {ms / 1000:.2f} s ({len(data) / 1000:.0f} kB)")
        ms, data = timed(lambda: render_map(atlas, MapSettings("sgb2_quote_u15", "sozialraum", 2024), "pdf"), 3)
        print(f"Map PDF, 48 areas: {ms / 1000:.2f} s")
    if BERLIN_PLR.exists():
        berlin = gpd.read_file(BERLIN_PLR)[["id", "name", "geometry"]].rename(columns={"id": "key"})
        path = build_warehouse(tmp / "berlin.duckdb", berlin, "Berlin")
        with Warehouse(path, read_only=True) as wh:
            atlas = Atlas(wh)
            for fmt in ("pdf", "png", "svg"):
                ms, data = timed(lambda: render_map(atlas, MapSettings("r0", "gebiet", 2024), fmt), repeat=3)
                print(f"Map {fmt.upper()}, 448 areas (Berlin PLR): {ms / 1000:.2f} s ({len(data) / 1000:.0f} kB)")
    else:
        print("skipped Berlin: ../shared/data not found")


if __name__ == "__main__":
    main()
