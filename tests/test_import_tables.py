"""Tables as statistics offices deliver them: title rows, group headers, description rows, footnotes, dates in
column names, column drift with profiles, integer keys, empty = suppressed, decimal points in ";" files,
German metadata headers, broken files with bounded memory, and the CLI's JSON report."""
import json
import re
import os
import subprocess
import sys

import openpyxl
import pytest

from keck_data.errors import ValidationError
from keck_data.importing import files, import_pois, import_values, metadata, profiles
from keck_data.importing.table import column_date, detect
from keck_data.policy import system
from keck_data.warehouse import read_df
from tests.conftest import ROOT
from tests.delivery_files import corrupt_member, publication, shared_string_bomb
from tests.import_helpers import fingerprint

TESTER = system("test")
AREAS = [("0101", "Marktplatz"), ("0102", "Domviertel"), ("0103", "Altstadt-Süd")]
NEW = [{"Schlüssel": "kinder_u6_neu", "Name": "Kinder unter 6 (Amt)", "Themenfeld": "Demografie",
        "Einheit": "Personen", "Art": "Anzahl", "Definition": "Kinder unter 6 Jahren mit Hauptwohnsitz",
        "Berechnung": "Anzahl", "Quelle": "Einwohnerregister", "Stichtag": "31.12."}]


def _value(wh, ind, key, year, level="sozialraum"):
    return wh.cursor().execute("SELECT value, status FROM indicator_value WHERE indicator = ? AND level = ? "
                               "AND area_key = ? AND year = ? AND origin = 'source'", [ind, level, key, year]).fetchone()


def _publication(tmp_path, year=2023, names=("insgesamt", "unter 6 Jahre"), name="pub.xlsx"):
    return publication(tmp_path / name, year, [
        (names[0], "Einwohnerinnen und Einwohner mit Hauptwohnsitz", [1200, 800, 950]),
        (names[1], "Kinder im Alter von 0 bis unter 6 Jahren", [60, ".", 45])], AREAS, total=[2950, 130])


def test_title_block_group_header_description_footnotes_and_total_row(wh, tmp_path):
    path = _publication(tmp_path)
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Sozialraum",
                           columns={"insgesamt": "ew_gesamt", "unter 6 Jahre": "kinder_u6_neu"}, indicators=NEW,
                           dry_run=False, user=TESTER)
    layout = report.details["layout"][0]
    for part in ("Titel: Zeilen 1–2", "Gruppenkopf: Zeile 4", "Spaltennamen: Zeile 5", "Beschreibung: Zeile 6",
                 "Daten: Zeilen 7–9 (3)", "Summenzeile: Zeile 10", "Fußnote: Zeilen 12–13"):
        assert part in layout
    assert report.details["columns"] == {"Bevölkerung am 31.12.2023 – insgesamt": "ew_gesamt",
                                         "Bevölkerung am 31.12.2023 – unter 6 Jahre": "kinder_u6_neu"}
    assert report.unmatched == [] and report.details["years"] == [2023]
    assert _value(wh, "ew_gesamt", "0101", 2023) == (1200.0, "ok")
    assert _value(wh, "kinder_u6_neu", "0102", 2023) == (None, "suppressed")
    assert _value(wh, "ew_gesamt", "0", 2023, "gesamtstadt") == (2950.0, "ok")  # the delivered total row
    assert any(w.startswith("1 Zeile ist eine Summe gröberer Ebenen") for w in report.warnings)
    meta = read_df(wh, "SELECT name, topic, kind, aggregation FROM indicator WHERE key = 'kinder_u6_neu'")
    assert list(meta.iloc[0]) == ["Kinder unter 6 (Amt)", "demografie", "count", "sum"]


def test_detection_can_be_overridden(tmp_path):
    grid = [["Zahlen 2024"], ["Gebiet", "Wert"], ["2024", "2025"], ["0101", "5"], ["0102", "6"]]
    auto = detect(grid, "x.csv")
    assert auto.header_row == 1 or auto.frame.shape[0] == 3  # the year row looks like data
    fixed = detect(grid, "x.csv", header_row=2, skip_rows=1)
    assert list(fixed.frame.columns) == ["Gebiet", "Wert"] and fixed.rows == [4, 5]
    with pytest.raises(ValidationError, match="Zeile 9 ist leer"):
        detect(grid, "x.csv", header_row=9)


def test_dates_in_column_names_map_to_one_indicator():
    assert column_date("Arbeitslose 31.12.2019") == ("Arbeitslose", 2019, "31.12.2019")
    assert column_date("Einwohner (Dez 2019)")[:2] == ("Einwohner", 2019)
    assert column_date("Kinder unter 6, Stand: 30.06.2020")[:2] == ("Kinder unter 6", 2020)
    assert column_date("Einwohner insgesamt") == ("Einwohner insgesamt", None, "")


def test_two_years_in_one_sheet_go_to_one_indicator(wh, tmp_path):
    path = tmp_path / "zwei.csv"
    path.write_text("Schlüssel;Einwohner (Dez 2019);Einwohner (Dez 2020)\n0101;1.200;1.250\n0102;800;810\n",
                    encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel",
                           columns={"Einwohner": "ew_gesamt"}, dry_run=False, user=TESTER)
    assert report.details["years"] == [2019, 2020]
    assert _value(wh, "ew_gesamt", "0101", 2020) == (1250.0, "ok") and _value(wh, "ew_gesamt", "0102", 2019)[0] == 800


def test_profile_imports_next_year_with_drifted_columns(wh, tmp_path):
    first = _publication(tmp_path, 2023, ("Einwohner insgesamt", "Kinder unter 6 Jahren"), "2023.xlsx")
    import_values(wh, first, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Sozialraum",
                  columns={"Einwohner insgesamt": "ew_gesamt", "Kinder unter 6 Jahren": "kinder_u6_neu"},
                  indicators=NEW, save_profile="Bevölkerung Amt", dry_run=False, user=TESTER)
    assert profiles.names(wh) == ["Bevölkerung Amt"]
    second = _publication(tmp_path, 2024, ("Einwohner insg.", "Kinder unter 6 J."), "2024.xlsx")
    dry = import_values(wh, second, level="sozialraum", profile="Bevölkerung Amt")
    assert set(dry.details["columns"].values()) == {"ew_gesamt", "kinder_u6_neu"}
    assert sum("ähnlich" in w for w in dry.warnings) == 2  # shown for confirmation
    import_values(wh, second, level="sozialraum", profile="Bevölkerung Amt", dry_run=False, user=TESTER)
    assert _value(wh, "kinder_u6_neu", "0103", 2024) == (45.0, "ok") and _value(wh, "ew_gesamt", "0101", 2024)[0] == 1200
    audit = read_df(wh, "SELECT entity FROM audit_log WHERE entity = 'import_profile'")
    assert len(audit) == 1
    with pytest.raises(ValidationError, match="Importvorlage „Gibt es nicht“ gibt es nicht"):
        import_values(wh, second, level="sozialraum", profile="Gibt es nicht")


def test_integer_keys_long_csv_and_empty_cells_mean_suppressed(wh, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Jahr;Gebiet;ew_u3\n2025;101;12\n2025;102;\n2025;SR-0103;7\n", encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Gebiet", year_col="Jahr",
                           empty="suppressed", dry_run=False, user=TESTER)
    rules = {m["key"]: m["rule"] for m in report.details["matching"]}
    assert rules == {"101": "Schlüssel (normalisiert)", "102": "Schlüssel (normalisiert)",
                     "SR-0103": "Schlüssel (normalisiert)"}
    assert _value(wh, "ew_u3", "0101", 2025) == (12.0, "ok")
    assert _value(wh, "ew_u3", "0102", 2025) == (None, "suppressed")
    assert report.details["suppressed"] == 1 and report.details["values"] == 2


def test_semicolon_file_with_decimal_points_is_never_read_as_thousands(wh, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text("key;sgb2_quote_u15;ew_gesamt\n0101;41.5;1.234\n0102;7.25;2.345\n", encoding="utf-8")
    dry = import_values(wh, path, level="sozialraum", layout="wide", year=2025)
    assert any("1.234" in w for w in dry.warnings)  # ambiguous next to a decimal-point column: asked
    with pytest.raises(ValidationError, match="Dezimalzeichen unklar.*ew_gesamt"):
        import_values(wh, path, level="sozialraum", layout="wide", year=2025, dry_run=False, user=TESTER)
    path.write_text("key;sgb2_quote_u15\n0101;41.5\n0102;7,25\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="widersprüchlich"):
        import_values(wh, path, level="sozialraum", layout="wide", year=2025)
    path.write_text("key;sgb2_quote_u15;ew_gesamt\n0101;41.5;1234\n0102;7.25;2345\n", encoding="utf-8")
    import_values(wh, path, level="sozialraum", layout="wide", year=2025, dry_run=False, user=TESTER)
    assert _value(wh, "sgb2_quote_u15", "0101", 2025)[0] == 41.5
    german = tmp_path / "deutsch.csv"
    german.write_text("key;ew_gesamt\n0101;1.234\n0102;12.345\n", encoding="utf-8")
    import_values(wh, german, level="sozialraum", layout="wide", year=2026, dry_run=False, user=TESTER)
    assert _value(wh, "ew_gesamt", "0102", 2026)[0] == 12345


def test_german_metadata_headers_and_rates_need_existing_parts(wh, tmp_path):
    meta = tmp_path / "metadaten.csv"
    meta.write_text("Schlüssel;Name;Themenfeld;Einheit;Art;Zähler;Nenner;Definition;Berechnung;Quelle;Stichtag\n"
                    "quote_u6;Anteil unter 6;Demografie;%;Quote;kinder_u6_neu;ew_gesamt;Anteil der Kinder unter 6;"
                    "Kinder u6 / EW × 100;Amt;31.12.\n"
                    "kinder_u6_neu;Kinder unter 6;Demografie;Personen;Anzahl;;;Kinder unter 6;Anzahl;Amt;31.12.\n",
                    encoding="utf-8")
    values = tmp_path / "werte.csv"
    values.write_text("key;Kinder unter 6;Anteil unter 6\n0101;60;5,0\n", encoding="utf-8")
    import_values(wh, values, level="sozialraum", layout="wide", year=2025, metadata=meta, dry_run=False,
                  user=TESTER)
    row = read_df(wh, "SELECT kind, numerator, denominator, aggregation FROM indicator WHERE key = 'quote_u6'")
    assert list(row.iloc[0]) == ["rate", "kinder_u6_neu", "ew_gesamt", "ratio"]
    meta.write_text(meta.read_text().replace("quote_u6;", "quote_x;").replace(";ew_gesamt;", ";gibt_es_nicht;"),
                    encoding="utf-8")
    values.write_text("key;quote_x\n0101;5,0\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Zähler/Nenner „gibt_es_nicht“ gibt es nicht"):
        import_values(wh, values, level="sozialraum", layout="wide", year=2025, metadata=meta)


def test_metadata_template_has_german_headers_and_validates(tmp_path):
    path = tmp_path / "vorlage.xlsx"
    path.write_bytes(metadata.template())
    header = [c.value for c in openpyxl.load_workbook(path)["Metadaten"][1]]
    assert header[:9] == ["Schlüssel", "Name", "Themenfeld", "Einheit", "Definition", "Berechnung", "Quelle",
                          "Stichtag", "Art"]
    rows = metadata.validate(metadata.read_metadata(path), ["kinder_u6"], {"demografie": "Demografie"})
    assert rows[0]["topic"] == "demografie" and rows[0]["kind"] == "count"


def test_new_columns_are_candidates_in_a_dry_run_with_guessed_metadata(wh, tmp_path):
    path = _publication(tmp_path, names=("Einwohner insgesamt", "Anteil Alleinerziehende (%)"))
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel")
    cands = {c["column"]: c for c in report.details["candidates"]}
    rate = cands["Bevölkerung am 31.12.2023 – Anteil Alleinerziehende (%)"]
    assert rate["kind"] == "rate" and rate["unit"] == "%" and rate["year"] == 2023
    assert rate["definition"] == "Kinder im Alter von 0 bis unter 6 Jahren"  # from the description row
    assert rate["source"].startswith("Einwohnerregister Musterstadt") and rate["reference_date"] == "31.12.2023"
    with pytest.raises(ValidationError, match="keine Spalte ist einem Indikator zugeordnet"):
        import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", dry_run=False, user=TESTER)


@pytest.mark.parametrize("content, message", [
    ('key;ew_u3\n0101;5\n0102;"6\n0103;7\n', "Zeile 3: Ein Anführungszeichen"),
    ("key;ew_u3\n0101;5\n0102;6;7;8\n0103;7\n", "Zeile 3: 4 gefüllte Felder, aber nur 2 Spalten"),
])
def test_broken_csv_is_refused_with_the_line(wh, tmp_path, content, message):
    path = tmp_path / "kaputt.csv"
    path.write_text(content, encoding="utf-8")
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match=message):
        import_values(wh, path, level="sozialraum", layout="wide", year=2025, dry_run=False, user=TESTER)
    assert fingerprint(wh) == before


@pytest.mark.parametrize("how", ["crc", "size"])
def test_xlsx_with_bad_checksum_or_lying_size(wh, tmp_path, how):
    good = _publication(tmp_path)
    bad = corrupt_member(good, tmp_path / f"{how}.xlsx", "xl/worksheets/sheet1.xml", how)
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match="sheet1.xml“ ist (beschädigt|größer als)"):
        import_values(wh, bad, level="sozialraum", layout="wide", key_col="Schlüssel", dry_run=False, user=TESTER)
    assert fingerprint(wh) == before


BOMB_SCRIPT = """
import re, sys
from keck_data.errors import ValidationError
from keck_data.importing import import_values
from keck_data.warehouse import Warehouse
with Warehouse(sys.argv[1]) as wh:
    try:
        import_values(wh, sys.argv[2], level="sozialraum", layout="wide", year=2025, dry_run=False)
        print("IMPORTED")
    except ValidationError as err:
        print(err)
# VmHWM: this process's own peak (ru_maxrss would include the parent's pages at fork time)
print("PEAK_MB", int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024)
"""


def test_shared_strings_bomb_is_refused_with_bounded_memory(demo_copy, tmp_path):
    bomb = shared_string_bomb(tmp_path / "bombe.xlsx")
    assert bomb.stat().st_size < 1_000_000
    from keck_data.warehouse import Warehouse
    with Warehouse(demo_copy) as wh:
        before = fingerprint(wh)
    out = subprocess.run([sys.executable, "-c", BOMB_SCRIPT, str(demo_copy), str(bomb)], check=False, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert "Mio. Zeichen Text" in out.stdout, out.stdout + out.stderr
    peak = int(out.stdout.split("PEAK_MB")[1])
    assert peak < 500, f"peak RSS {peak} MB"
    with Warehouse(demo_copy) as wh:
        assert fingerprint(wh) == before


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "keck_data", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env})


def test_cli_dry_run_json_and_an_import_that_matches_nothing(demo_copy, tmp_path):
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    path = _publication(tmp_path, names=("ew_gesamt", "Neue Spalte"))
    r = _cli("import-values", str(path), "--level", "sozialraum", "--layout", "wide", "--key", "Schlüssel",
             "--area-name", "Sozialraum", "--dry-run", "--json", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["rows"] == 4 and data["matched_rows"] == 4 and data["unmatched_rows"] == []
    assert data["columns"] == {"Bevölkerung am 31.12.2023 – ew_gesamt": "ew_gesamt",
                               "Bevölkerung am 31.12.2023 – Neue Spalte": None}
    assert data["values"] == 4 and data["suppressed"] == 0 and data["missing"] == 0
    assert data["candidates"][0]["column"].endswith("Neue Spalte")
    nothing = tmp_path / "fremd.csv"
    nothing.write_text("key;ew_gesamt\n7777;1\n8888;2\n", encoding="utf-8")
    r = _cli("import-values", str(nothing), "--level", "sozialraum", "--layout", "wide", "--year", "2025", env=env)
    assert r.returncode == 2 and "keine Zeile passt" in r.stderr
    r = _cli("import-values", "--help", env=env)
    assert "Themenfeld" in r.stdout and "--header-row" in r.stdout and "--profile" in r.stdout


def test_workbook_reader_bounds_and_german_dates(tmp_path):
    path = tmp_path / "datum.xlsx"
    wb = openpyxl.Workbook()
    import datetime
    wb.active.append(["Stichtag", datetime.date(2019, 12, 31)])
    wb.save(path)
    grid, sep = files.read_grid(path)
    assert next(iter(grid.values())) == [["Stichtag", "31.12.2019"]] and sep is None


def test_delivered_total_next_to_the_sum_of_its_areas_is_reported(wh, tmp_path):
    areas = read_df(wh, "SELECT key, name FROM area WHERE level = 'sozialraum' ORDER BY key")
    path = publication(tmp_path / "summe.xlsx", 2023, [("ew_gesamt", "Einwohner", [100] * len(areas))],
                       list(areas.itertuples(index=False)), total=[100 * len(areas) + 48])
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel")
    line = next(t for t in report.details["totals_check"] if t.startswith("Musterstadt"))
    assert len(areas) == 48 and line == ("Musterstadt, ew_gesamt 2023: geliefert 4.848, Summe der Gebiete "
                                         "(Sozialraum) 4.800, Differenz 1,0 %")
    assert any("Gelieferte Summen weichen ab" in w for w in report.warnings)



def test_rows_without_an_area_count_towards_the_town(wh, tmp_path):
    areas = read_df(wh, "SELECT key, name FROM area WHERE level = 'sozialraum' ORDER BY key")
    rows = "\n".join(f"{k};{n};100;5,0" for k, n in areas.itertuples(index=False))
    path = tmp_path / "ohne.csv"
    path.write_text(f"Schlüssel;Name;ew_gesamt;sgb2_quote_u15\n{rows}\n;nicht zuordenbar;12;\n", encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Name",
                           year=2030, dry_run=False, user=TESTER)
    assert report.unmatched == [] and report.details["unassigned_rows"] == [
        {"row": len(areas) + 2, "key": "", "name": "nicht zuordenbar"}]
    assert _value(wh, "ew_gesamt", "0", 2030, "gesamtstadt") == (100.0 * len(areas) + 12, "ok")
    note = wh.cursor().execute("SELECT note FROM indicator_value WHERE indicator = 'ew_gesamt' AND level = "
                               "'gesamtstadt' AND year = 2030").fetchone()[0]
    assert note == "inkl. 12 ohne Gebietszuordnung"
    assert any("sgb2_quote_u15 2030: kein Anzahl-Indikator" in w for w in report.warnings)


def test_pois_outside_the_town_exactly_and_nameless_playgrounds(wh, tmp_path):
    town = wh.cursor().execute("SELECT ST_XMax(geom), ST_Y(ST_Centroid(geom)) FROM area WHERE level = 'gesamtstadt'"
                               ).fetchone()
    east, lat = town
    path = tmp_path / "spielplaetze.csv"
    outside = east + 0.004  # east of the town's easternmost point
    path.write_text("name;lat;lon;strasse\n"
                    f";{lat};{east - 0.02};Lindenweg 3\n"
                    f"Am Rand;{lat};{outside};Feldweg 1\n"
                    f";{lat};{east - 0.03};\n", encoding="utf-8")
    report = import_pois(wh, path, category="spielplatz", lat_col="lat", lon_col="lon", fields={"address": "strasse"})
    reasons = {u["row"]: u["reason"] for u in report.unmatched}
    assert re.fullmatch(r"liegt [\d.]+ m außerhalb der Kommune", reasons[3])
    assert 200 < int(reasons[3].split()[1].replace(".", "")) < 2000  # the old check let up to ~1 km pass
    assert reasons[4].startswith("Name fehlt und keine Adresse")
    assert any("„Spielplatz Lindenweg 3“" in w for w in report.warnings) and report.new == 1
    tolerant = import_pois(wh, path, category="spielplatz", lat_col="lat", lon_col="lon",
                           fields={"address": "strasse"}, tolerance_m=2000)
    assert tolerant.new == 2


def test_a_rate_whose_parts_do_not_exist_is_refused_when_saved(wh):
    from keck_data import editing
    meta = {"key": "quote_neu", "name": "Quote neu", "topic": "demografie", "unit": "%", "kind": "rate",
            "definition": "Test", "calculation": "a / b × 100", "source": "Test", "reference_date": "31.12.",
            "numerator": "ew_u3", "denominator": "gibt_es_nicht"}
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match="Zähler/Nenner „gibt_es_nicht“ gibt es nicht"):
        editing.save_indicator(wh, TESTER, meta)
    assert fingerprint(wh) == before


def test_combined_rows_are_matched_to_an_area_group_not_called_unknown(wh, tmp_path):
    path = tmp_path / "gemeinsam.csv"
    path.write_text("Gebiet;ew_gesamt\nMarktplatz und Domviertel;1.234\n0103;7\n", encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Gebiet", name_col="Gebiet",
                           year=2030)
    assert report.unmatched == []
    assert report.details["matching"][0]["rule"] == "kombinierte Zeile → Gebietsgruppe Marktplatz + Domviertel"
