"""Import throughput: 1,000,000 values from CSV (wide and long) and XLSX, and the 448 Berlin polygons.

Run: .venv/bin/python -m benchmarks.bench_import
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from benchmarks.common import ROOT, build_warehouse, germany_like
from keck_data.importing import import_areas, import_values
from keck_data.policy import system
from keck_data.warehouse import Warehouse

TESTER = system("test")

AREAS, INDICATORS, YEARS = 500, 200, 10


def metadata(path: Path) -> Path:
    rows = [{"key": f"ind{i:03d}", "name": f"Indikator {i}", "topic": "Demografie", "unit": "Personen",
             "definition": "Benchmark", "calculation": "Anzahl", "source": "Benchmark", "reference_date": "31.12.",
             "kind": "count"} for i in range(INDICATORS)]
    pd.DataFrame(rows).to_csv(path, sep=";", index=False)
    return path


def wide_frame(keys: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"key": np.repeat(keys, YEARS), "year": np.tile(np.arange(2015, 2015 + YEARS), len(keys))})
    values = rng.integers(0, 5000, (len(frame), INDICATORS))
    cols = {f"ind{i:03d}": [f"{v:,}".replace(",", ".") for v in values[:, i]] for i in range(INDICATORS)}
    return pd.concat([frame, pd.DataFrame(cols)], axis=1)


def run(label: str, wh_path: Path, fn) -> None:
    with Warehouse(wh_path) as wh:
        t = time.perf_counter()
        report = fn(wh)
        print(f"{label:44} {time.perf_counter() - t:6.1f} s  ({report.matched} values, new {report.new})")


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    base = build_warehouse(tmp / "base.duckdb", germany_like(AREAS), "Benchmark", n_indicators=1)
    keys = [f"{i:08d}" for i in range(AREAS)]
    meta = metadata(tmp / "meta.csv")
    wide = wide_frame(keys)
    wide_csv = tmp / "wide.csv"
    wide.to_csv(wide_csv, sep=";", index=False, encoding="utf-8-sig")
    long = wide.melt(id_vars=["key", "year"], var_name="indicator", value_name="value")
    long_csv = tmp / "long.csv"
    long.to_csv(long_csv, sep=";", index=False)
    print(f"files: wide CSV {wide_csv.stat().st_size / 1e6:.0f} MB, long CSV {long_csv.stat().st_size / 1e6:.0f} MB")
    for label, path, layout in [("CSV wide, 1,000,000 values", wide_csv, "wide"),
                                ("CSV long, 1,000,000 values", long_csv, "long")]:
        target = tmp / f"{layout}.duckdb"
        target.write_bytes(base.read_bytes())
        run(label, target, lambda wh: import_values(wh, path, level="gebiet", layout=layout, metadata=meta,
                                                    dry_run=False, user=TESTER))
    xlsx = tmp / "wide.xlsx"
    t = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Werte")
    ws.append(list(wide.columns))
    numbers = wide.copy()
    for col in numbers.columns[2:]:
        numbers[col] = numbers[col].str.replace(".", "", regex=False).astype(int)
    for row in numbers.itertuples(index=False):
        ws.append(list(row))
    wb.save(xlsx)
    print(f"(writing the XLSX for the test took {time.perf_counter() - t:.0f} s, {xlsx.stat().st_size / 1e6:.0f} MB)")
    target = tmp / "xlsx.duckdb"
    target.write_bytes(base.read_bytes())
    run("XLSX wide, 1,000,000 values", target,
        lambda wh: import_values(wh, xlsx, level="gebiet", layout="wide", metadata=meta, dry_run=False, user=TESTER))
    delivery = ROOT.parent / "shared" / "data" / "berlin-lor" / "delivery"
    if delivery.exists():
        target = tmp / "berlin.duckdb"
        run("Berlin 138 BZR (GeoPackage)", target, lambda wh: import_areas(
            wh, delivery / "LOR_Bezirksregionen.gpkg", level="bezirksregion", key_col="BZR_ID", name_col="BZR_NAME",
            municipality="Berlin", dry_run=False, user=TESTER))
        run("Berlin 448 PLR (shapefile zip, EPSG:25833)", target, lambda wh: import_areas(
            wh, delivery / "LOR_Planungsraeume_EPSG25833.zip", level="planungsraum", key_col="PLR_ID",
            name_col="PLR_NAME", parent_level="bezirksregion", dry_run=False, user=TESTER))
    else:
        print("skipped Berlin polygons: ../shared/data not found")


if __name__ == "__main__":
    main()
