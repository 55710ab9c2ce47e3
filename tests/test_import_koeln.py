"""The real Köln delivery (../shared/data/koeln): three levels of shapefiles in an unusual CRS, and one long
population file that mixes the town, the Stadtbezirke (keys "001") and the Stadtteile in one sheet."""
import csv

import pytest

from keck_data.importing import import_areas, import_values
from keck_data.policy import system
from keck_data.warehouse import Warehouse
from tests.conftest import SHARED_DATA

TESTER = system("test")
KOELN = SHARED_DATA.parent / "koeln" / "delivery"
META = ("Schlüssel;Name;Themenfeld;Einheit;Art;Definition;Berechnung;Quelle;Stichtag\n"
        "einwohner;Einwohner;Demografie;Personen;Anzahl;Einwohner mit Hauptwohnsitz;Anzahl;"
        "Stadt Köln, Offene Daten Köln (CC BY);31.12.\n")


@pytest.fixture(scope="module")
def koeln(tmp_path_factory):
    if not KOELN.exists():
        pytest.skip(f"Köln test data not found at {KOELN} (../shared/data is only on developer machines)")
    base = tmp_path_factory.mktemp("koeln")
    population = base / "einwohner.csv"
    with open(KOELN / "bevoelkerung_2005-2012.csv", encoding="utf-8") as src, open(population, "w", newline="",
                                                                                   encoding="utf-8") as out:
        rows = csv.reader(src)
        writer = csv.writer(out)
        writer.writerow(next(rows))
        writer.writerows(r for r in rows if r[2] == "Einwohner in Köln")  # one of the seven tables
    meta = base / "metadaten.csv"
    meta.write_text(META, encoding="utf-8")
    wh = Warehouse(base / "koeln.duckdb")
    reports = {
        "bezirke": import_areas(wh, KOELN / "Stadtbezirk.zip", level="stadtbezirk", level_name="Stadtbezirk",
                                key_col="STB_NR", name_col="STB_NAME", municipality="Köln", dry_run=False, user=TESTER),
        "teile": import_areas(wh, KOELN / "Stadtteil.zip", level="stadtteil", level_name="Stadtteil", key_col="STT_NR",
                              name_col="STT_NAME", parent_level="stadtbezirk", dry_run=False, user=TESTER)}
    reports["dry"] = import_values(wh, population, level="stadtteil", key_col="raum_id", name_col="raum",
                                   indicator_col="zeile", year_col="jahr", value_col="zahl", metadata=meta)
    reports["einwohner"] = import_values(wh, population, level="stadtteil", key_col="raum_id", name_col="raum",
                                         indicator_col="zeile", year_col="jahr", value_col="zahl", metadata=meta,
                                         dry_run=False, user=TESTER)
    yield wh, reports
    wh.close()


def test_three_levels_nest(koeln):
    wh, reports = koeln
    counts = dict(wh.cursor().execute("SELECT level, count(*) FROM area GROUP BY level").fetchall())
    assert counts == {"gesamtstadt": 1, "stadtbezirk": 9, "stadtteil": 86}
    assert reports["teile"].unmatched == []
    lon, lat = wh.cursor().execute("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM area "
                                   "WHERE level = 'gesamtstadt'").fetchone()
    assert 6.8 < lon < 7.2 and 50.8 < lat < 51.1  # reprojected through the WKT (false easting 2,500,000 m)


def test_mixed_levels_in_one_file_leave_no_row_unmatched(koeln):
    _, reports = koeln
    dry = reports["dry"]
    assert dry.unmatched == [] and dry.rows_read == 96 * 8
    by_level = {}
    for m in dry.details["matching"]:
        by_level[m["level"]] = by_level.get(m["level"], 0) + 1
    assert by_level == {"stadtteil": 86 * 8, "stadtbezirk": 9 * 8, "gesamtstadt": 8}
    rules = {m["rule"] for m in dry.details["matching"] if m["level"] == "stadtbezirk"}
    assert rules == {"Stadtbezirk: Schlüssel (normalisiert)"}  # "001" in the file, 1 in the shapefile


def test_delivered_totals_are_kept_and_equal_the_sum(koeln):
    wh, _ = koeln
    def value(level, key, year=2012):
        return wh.cursor().execute("SELECT value, origin FROM indicator_value WHERE indicator = 'einwohner' AND "
                                   "level = ? AND area_key = ? AND year = ?", [level, key, year]).fetchone()
    assert value("gesamtstadt", "0") == (1_044_555, "source")  # SOURCE.txt: Stadt = Σ Bezirke = Σ Stadtteile
    total = wh.cursor().execute("SELECT sum(value) FROM indicator_value WHERE indicator = 'einwohner' AND "
                                "level = 'stadtteil' AND year = 2012").fetchone()[0]
    assert total == 1_044_555 and value("stadtbezirk", "1")[1] == "source"


def test_names_only_put_the_stadtbezirk_rows_on_the_stadtbezirk_level(koeln, tmp_path):
    """Issue 18: 8 of 9 Stadtbezirke are named like a Stadtteil; without the key columns the rows are still
    read as blocks (the town, then the Stadtbezirke, then the Stadtteile of each year)."""
    wh, _ = koeln
    names_only = tmp_path / "nur_namen.csv"
    with open(KOELN / "bevoelkerung_2005-2012.csv", encoding="utf-8") as src, open(names_only, "w", newline="",
                                                                                   encoding="utf-8") as out:
        rows = csv.DictReader(src)
        writer = csv.writer(out)
        writer.writerow(["jahr", "raum", "zeile", "zahl"])
        writer.writerows([r["jahr"], r["raum"], r["zeile"], r["zahl"]] for r in rows
                         if r["tabelle"] == "Einwohner in Köln")
    report = import_values(wh, names_only, level="stadtteil", name_col="raum", indicator_col="zeile",
                           year_col="jahr", value_col="zahl", dry_run=False, user=TESTER)
    assert report.unmatched == [] and report.rows_read == 96 * 8
    by_level = {}
    for m in report.details["matching"]:
        by_level[m["level"]] = by_level.get(m["level"], 0) + 1
    assert by_level == {"stadtteil": 86 * 8, "stadtbezirk": 9 * 8, "gesamtstadt": 8}
    assert "Zeilen 3–11: Stadtbezirk" in report.details["level_blocks"]
    rodenkirchen = wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = 'einwohner' AND "
                                       "level = 'stadtbezirk' AND area_key = '2' AND year = 2012").fetchone()
    assert rodenkirchen == (103_140,)
