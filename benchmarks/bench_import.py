"""Import throughput: 1,000,000 values from CSV (wide and long) and XLSX; table detection and dry run of a
100-column publication sheet; peak memory of the shared-strings bomb; 2,000 rows matched against 11,000
areas; the real Berlin and Köln deliveries.

Run: .venv/bin/python -m benchmarks.bench_import
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from benchmarks.common import ROOT, build_warehouse, germany_like
from keck_data.importing import import_areas, import_values
from keck_data.importing.matching import match
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
        t, cpu = time.perf_counter(), time.process_time()
        report = fn(wh)
        print(f"{label:56} {time.perf_counter() - t:6.1f} s wall, {time.process_time() - cpu:6.1f} s CPU  "
              f"({report.matched} values, new {report.new})")


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
    publication_sheet(tmp, base, keys, meta)
    bomb_memory(tmp)
    matching_speed()
    real_deliveries(tmp, meta)


def publication_sheet(tmp: Path, base: Path, keys: list[str], meta: Path) -> None:
    """Detection + dry run of a 100-column × 200-row sheet with title block, group header and description row."""
    from tests.delivery_files import publication
    rng = np.random.default_rng(7)
    areas = [(k, f"Gemeinde {i}") for i, k in enumerate(keys[:200])]
    columns = [(f"Merkmal {j} (Dez 2024)", f"Beschreibung des Merkmals {j} in einem ganzen Satz",
                list(rng.integers(0, 9000, len(areas)))) for j in range(100)]
    path = publication(tmp / "publication.xlsx", 2024, columns, areas, total=[0] * 100)
    target = tmp / "publication.duckdb"
    target.write_bytes(base.read_bytes())
    mapping = {f"Merkmal {j}": "ind000" for j in range(1)} | {f"Merkmal {j}": "" for j in range(1, 100)}
    run("publication 100 columns × 200 rows: detection + dry run", target, lambda wh: import_values(
        wh, path, level="gebiet", layout="wide", key_col="Schlüssel", columns=mapping, metadata=meta))


def bomb_memory(tmp: Path) -> None:
    """Peak RSS of a process that tries to import the shared-strings bomb (refused)."""
    from tests.delivery_files import shared_string_bomb
    bomb = shared_string_bomb(tmp / "bomb.xlsx")
    script = ("import re, sys\nfrom pathlib import Path\nfrom keck_data.importing.files import read_grid\n"
              "try:\n    read_grid(Path(sys.argv[1]))\nexcept Exception as e:\n    print(type(e).__name__)\n"
              "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, str(bomb)], check=False, cwd=ROOT,
                         capture_output=True, text=True).stdout
    outcome, peak = out.split()
    print(f"{'XLSX shared-strings bomb (' + str(bomb.stat().st_size // 1000) + ' kB, 3.6 GB expanded)':44} "
          f"{time.perf_counter() - t:6.1f} s  ({outcome}, peak RSS {peak} MB)")


def matching_speed() -> None:
    """2,000 delivered rows (keys in another spelling, some names only) against 11,000 areas."""
    areas = pd.DataFrame({"key": [f"{i:08d}" for i in range(11_000)], "name": [f"Gemeinde {i}" for i in range(11_000)]})
    rng = np.random.default_rng(3)
    picks = rng.choice(11_000, 2_000, replace=False)
    rows = pd.DataFrame({"key": [str(int(k)) if i % 3 else "" for i, k in enumerate(areas["key"][picks])],
                         "name": [n.upper() if i % 2 else n for i, n in enumerate(areas["name"][picks])]})
    rows.loc[:49, "key"], rows.loc[:49, "name"] = "?", "Unbekannter Ort"
    t = time.perf_counter()
    got = match(rows, areas)
    print(f"{'matching 2,000 rows against 11,000 areas':44} {time.perf_counter() - t:6.1f} s  "
          f"({got['area_key'].notna().sum()} matched, rules {got['rule'].value_counts().to_dict()})")


def real_deliveries(tmp: Path, meta: Path) -> None:
    delivery = ROOT.parent / "shared" / "data" / "berlin-lor" / "delivery"
    if delivery.exists():
        target = tmp / "berlin.duckdb"
        run("Berlin 138 BZR (GeoPackage)", target, lambda wh: import_areas(
            wh, delivery / "LOR_Bezirksregionen.gpkg", level="bezirksregion", key_col="BZR_ID", name_col="BZR_NAME",
            municipality="Berlin", dry_run=False, user=TESTER))
        run("Berlin 448 PLR (shapefile zip, EPSG:25833)", target, lambda wh: import_areas(
            wh, delivery / "LOR_Planungsraeume_EPSG25833.zip", level="planungsraum", key_col="PLR_ID",
            name_col="PLR_NAME", parent_level="bezirksregion", dry_run=False, user=TESTER))
        run("Berlin Einwohner CSV (448 PLR, dry run)", target, lambda wh: import_values(
            wh, delivery / "Einwohner_Alter_31122019.csv", level="planungsraum", layout="wide",
            key_col="Planungsraum", year=2019, columns={"Einwohner": "ind000"}, metadata=meta))
    else:
        print("skipped Berlin: ../shared/data not found")
    koeln = ROOT.parent / "shared" / "data" / "koeln" / "delivery"
    if koeln.exists():
        target = tmp / "koeln.duckdb"
        run("Köln 9 Stadtbezirke (shapefile zip)", target, lambda wh: import_areas(
            wh, koeln / "Stadtbezirk.zip", level="stadtbezirk", key_col="STB_NR", name_col="STB_NAME",
            municipality="Köln", dry_run=False, user=TESTER))
        run("Köln 86 Stadtteile (shapefile zip)", target, lambda wh: import_areas(
            wh, koeln / "Stadtteil.zip", level="stadtteil", key_col="STT_NR", name_col="STT_NAME",
            parent_level="stadtbezirk", dry_run=False, user=TESTER))
        koeln_meta = tmp / "koeln_meta.csv"
        koeln_meta.write_text("Schlüssel;Name;Themenfeld;Einheit;Art;Definition;Berechnung;Quelle;Stichtag\n"
                        "einwohner;Einwohner;Demografie;Personen;Anzahl;EW;Anzahl;Stadt Köln;31.12.\n", encoding="utf-8")
        population = tmp / "koeln_einwohner.csv"
        frame = pd.read_csv(koeln / "bevoelkerung_2005-2012.csv", dtype=str)
        frame[frame["tabelle"] == "Einwohner in Köln"].to_csv(population, index=False)
        run("Köln Einwohner 2005–2012 (3 levels in one file)", target, lambda wh: import_values(
            wh, population, level="stadtteil", key_col="raum_id", name_col="raum", indicator_col="zeile",
            year_col="jahr", value_col="zahl", metadata=koeln_meta, dry_run=False, user=TESTER))
    else:
        print("skipped Köln: ../shared/data not found")
    print(f"peak RSS of this benchmark: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
