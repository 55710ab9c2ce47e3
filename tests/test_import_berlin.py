"""The real Berlin data (../shared/data/berlin-lor) imported through the public API, as a user would."""
import pytest

from keck_data.importing import import_areas, import_pois, import_values
from keck_data.policy import system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import require_shared_data

TESTER = system("test")

MSS_META = """key;name;topic;unit;definition;calculation;source;reference_date;kind;aggregation;polarity;decimals
s1_percentage_unemployed;Arbeitslosenanteil (MSS S1);Soziale Lage;%;Arbeitslose je 100 Einwohner 15–65;Arbeitslose / EW 15–65 × 100;MSS Berlin, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12. des Vorjahres;rate;none;high_bad;2
s4_percentage_transfer_payments_recipients_below_15_years;Kinderarmut unter 15 (MSS S4);Soziale Lage;%;Anteil unter 15-Jähriger in SGB-II-Bedarfsgemeinschaften;Kinder in BG / EW unter 15 × 100;MSS Berlin, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12. des Vorjahres;rate;none;high_bad;2
k02_single_parent_households;Alleinerziehende (MSS K02);Soziale Lage;%;Anteil Alleinerziehender an Haushalten mit Kindern;HH Alleinerziehende / HH mit Kindern × 100;MSS Berlin, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12. des Vorjahres;rate;none;high_bad;2
inhabitants;Einwohner;Demografie;Personen;Einwohner mit Hauptwohnsitz;Anzahl;Einwohnerregisterstatistik, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12.;count;sum;neutral;0
inhabitants_age_below_6;Kinder unter 6;Demografie;Personen;Einwohner unter 6 Jahren;Anzahl;Einwohnerregisterstatistik, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12.;count;sum;neutral;0
inhabitants_age_6_15;Kinder 6 bis unter 15;Demografie;Personen;Einwohner von 6 bis unter 15 Jahren;Anzahl;Einwohnerregisterstatistik, AfS Berlin-Brandenburg (CC BY 3.0 DE);31.12.;count;sum;neutral;0
"""
MSS = ["s1_percentage_unemployed", "s4_percentage_transfer_payments_recipients_below_15_years",
       "k02_single_parent_households"]
POP = ["inhabitants", "inhabitants_age_below_6", "inhabitants_age_6_15"]


@pytest.fixture(scope="module")
def berlin(tmp_path_factory):
    data = require_shared_data()
    base = tmp_path_factory.mktemp("berlin")
    meta = base / "metadaten.csv"
    meta.write_text(MSS_META, encoding="utf-8")
    wh = Warehouse(base / "berlin.duckdb")
    reports = {"bzr": import_areas(wh, data / "delivery" / "LOR_Bezirksregionen.gpkg", level="bezirksregion",
                                   level_name="Bezirksregion", key_col="BZR_ID", name_col="BZR_NAME",
                                   municipality="Berlin", dry_run=False, user=TESTER),
               "plr": import_areas(wh, data / "delivery" / "LOR_Planungsraeume_EPSG25833.zip", level="planungsraum",
                                   level_name="Planungsraum", key_col="PLR_ID", name_col="PLR_NAME",
                                   parent_level="bezirksregion", dry_run=False, user=TESTER)}
    for year in (2013, 2015, 2017, 2019):
        reports[f"mss{year}"] = import_values(
            wh, data / "indicators" / "mss" / f"berlin-lor-monitoring-social-urban-development-{year}-00-planning-areas.csv",
            level="planungsraum", layout="wide", key_col="id", name_col="name", year=year, key_width=8,
            columns={c: c for c in MSS}, metadata=meta, dry_run=False, user=TESTER)
    for year in range(2015, 2021):
        reports[f"pop{year}"] = import_values(
            wh, data / "indicators" / "population" / f"berlin-lor-population-{year}-02-t2-planning-areas.csv",
            level="planungsraum", layout="wide", key_col="id", year=year, key_width=8,
            columns={c: c for c in POP}, metadata=meta, dry_run=False, user=TESTER)
    reports["kita"] = import_pois(wh, data / "poi" / "kindertagesstaetten.geojson", name_col="e_name", category="kita",
                                  fields={"address": "e_strasse,e_hnr,e_plz,e_ort", "website": "e_web",
                                          "contact": "e_tel"}, capacity_col="e_platz", dry_run=False, user=TESTER)
    reports["jfe"] = import_pois(wh, data / "poi" / "jugendfreizeiteinrichtungen.geojson", name_col="e_name",
                                 category="jugendzentrum", fields={"address": "e_strasse,e_hnr,e_plz,e_ort"},
                                 dry_run=False, user=TESTER)
    yield wh, reports, data
    wh.close()


def test_areas_and_nesting(berlin):
    wh, reports, _ = berlin
    counts = dict(wh.cursor().execute("SELECT level, count(*) FROM area GROUP BY level").fetchall())
    assert counts == {"gesamtstadt": 1, "bezirksregion": 138, "planungsraum": 448}
    plr = read_df(wh, "SELECT key, parent_key FROM area WHERE level = 'planungsraum'")
    assert plr["parent_key"].notna().all()
    assert (plr["parent_key"] == plr["key"].str[:6]).all()  # spatial majority agrees with the key hierarchy
    assert plr["key"].str.len().eq(8).all() and plr["key"].str.startswith("0").sum() > 300
    assert reports["plr"].unmatched == [] and reports["bzr"].matched == 138


def test_join_rates_as_documented(berlin):
    _, reports, _ = berlin
    assert [reports[f"mss{y}"].rows_read for y in (2013, 2015, 2017, 2019)] == [434, 435, 436, 436]
    assert all(reports[f"mss{y}"].unmatched == [] for y in (2013, 2015, 2017, 2019))  # 100 % with idfix ids
    assert [reports[f"pop{y}"].rows_read for y in range(2015, 2021)] == [447, 447, 447, 447, 448, 448]
    assert all(reports[f"pop{y}"].unmatched == [] for y in range(2015, 2021))


def test_dash_and_empty_cells(berlin):
    wh, reports, _ = berlin
    k02 = read_df(wh, "SELECT year, status, count(*) AS n FROM indicator_value WHERE indicator = "
                      "'k02_single_parent_households' AND level = 'planungsraum' GROUP BY ALL")
    late = k02[k02["year"].isin([2017, 2019])]
    assert set(late["status"]) == {"missing"} and late["n"].sum() == 436 * 2  # "-" = no data in 2017/2019
    early = k02[(k02["year"] == 2013) & (k02["status"] == "ok")]
    assert early["n"].sum() > 400


def test_known_values(berlin):
    wh, _, _ = berlin
    def value(ind, key, year, level="planungsraum"):
        return wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = ? AND area_key = ? "
                                   "AND year = ? AND level = ?", [ind, key, year, level]).fetchone()[0]
    assert value("s4_percentage_transfer_payments_recipients_below_15_years", "01011101", 2019) == pytest.approx(15.43624)
    assert value("inhabitants", "01011101", 2019) == 3445
    assert value("inhabitants", "01011102", 2019) == 188
    assert value("inhabitants", "0", 2020, "gesamtstadt") == 3_769_962  # SOURCE.txt sanity sum 2020-02
    plr_sum = read_df(wh, "SELECT sum(value) AS s FROM indicator_value WHERE level = 'planungsraum' AND "
                          "year = 2019 AND area_key LIKE '010111%' AND indicator = 'inhabitants'")["s"][0]
    assert value("inhabitants", "010111", 2019, "bezirksregion") == plr_sum
    assert value("s1_percentage_unemployed", "010111", 2019, "bezirksregion") is None  # rate without parts: not aggregable


def test_german_delivery_csv_matches_the_source_table(berlin, tmp_path):
    wh, _, data = berlin
    report = import_values(wh, data / "delivery" / "Einwohner_Alter_31122019.csv", level="planungsraum",
                           layout="wide", key_col="Planungsraum", year=2019,
                           columns={"Einwohner": "inhabitants", "Unter 6 Jahre": "inhabitants_age_below_6"})
    assert report.rows_read == 448 and report.matched == 448 * 2 and report.unmatched == []
    assert report.changed == 0 and report.unchanged == 448 * 2  # same numbers as the open-data table


def test_pois(berlin):
    wh, reports, _ = berlin
    assert reports["kita"].rows_read == 2880 and reports["jfe"].rows_read == 407
    by_cat = dict(wh.cursor().execute("SELECT category, count(*) FROM poi GROUP BY category").fetchall())
    assert by_cat["kita"] + len(reports["kita"].unmatched) == 2880
    assert by_cat["jugendzentrum"] + len(reports["jfe"].unmatched) == 407
    assert all("Dublette" in u["reason"] for u in reports["kita"].unmatched + reports["jfe"].unmatched)
    row = read_df(wh, "SELECT name, address, capacity, ST_X(geom) AS lon FROM poi WHERE name = 'Kita F.A.I.R.play'")
    assert row["capacity"][0] == 69 and "Albrechtstr. 20" in row["address"][0] and 13.0 < row["lon"][0] < 13.8


def test_atlas_reads_berlin(berlin):
    wh, _, _ = berlin
    atlas = Atlas(wh)
    vals = atlas.level_values("s4_percentage_transfer_payments_recipients_below_15_years", "planungsraum", 2019)
    assert len(vals) == 448 and (vals["status"] == "ok").sum() == 436
    assert atlas.timeseries("inhabitants", "bezirksregion", ["010111"])["value"].notna().sum() >= 6
