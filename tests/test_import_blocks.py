"""Issue 18: real deliveries, second round – level blocks in one sheet, numbers that are no years, rows
without a key, German CLI errors and JSON on refusal. Every fixture is built here by code."""
import json
import os
import subprocess
import sys

import pytest

from keck_data.errors import ValidationError
from keck_data.importing import import_values
from keck_data.importing.table import column_year
from keck_data.policy import system
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import ROOT

TESTER = system("test")
TWINS = {"01": "Mühlenweg", "02": "Lindenhof", "04": "Eichkamp", "05": "Marktplatz"}  # Bezirk → Sozialraum name


def _twin_bezirke(wh: Warehouse) -> None:
    """Four Stadtbezirke get the name of a Sozialraum (as 8 of 9 Stadtbezirke in Köln)."""
    for key, name in TWINS.items():
        wh.cursor().execute("UPDATE area SET name = ? WHERE level = 'stadtbezirk' AND key = ?", [name, key])


def _profile_sheet(wh: Warehouse, path, bezirk_rows=None, town=True):
    """A profile sheet by names only: every Sozialraum, then a block of Stadtbezirk rows, then the town."""
    soz = read_df(wh, "SELECT name FROM area WHERE level = 'sozialraum' ORDER BY key")["name"].tolist()
    bez = bezirk_rows or read_df(wh, "SELECT name FROM area WHERE level = 'stadtbezirk' ORDER BY key")["name"].tolist()
    lines = ["Gebiet;Einwohner"] + [f"{n};{100 + i}" for i, n in enumerate(soz)]
    lines += [f"{n};{5000 + i}" for i, n in enumerate(bez)] + (["Musterstadt insgesamt;99999"] if town else [])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(soz)


def _import(wh, path, **kw):
    return import_values(wh, path, level="sozialraum", layout="wide", name_col="Gebiet", year=2030,
                         columns={"Einwohner": "ew_gesamt"}, **kw)


def _stored(wh, level, key):
    return wh.cursor().execute("SELECT value, origin FROM indicator_value WHERE indicator = 'ew_gesamt' AND "
                               "level = ? AND area_key = ? AND year = 2030", [level, key]).fetchone()


def test_a_block_of_bezirk_rows_named_like_sozialraeume_goes_to_the_bezirk_level(wh, tmp_path):
    _twin_bezirke(wh)
    path, n = _profile_sheet(wh, tmp_path / "profil.csv")
    dry = _import(wh, path)
    first, last = n + 2, n + 8  # header in row 1
    assert dry.details["level_blocks"] == [f"Zeilen {first}–{last}: Stadtbezirk", f"Zeile {last + 1}: Gesamtstadt"]
    assert f"Ebenenblock: Zeilen {first}–{last}: Stadtbezirk" in dry.summary()
    rules = {m["row"]: (m["level"], m["area_key"], m["rule"]) for m in dry.details["matching"]}
    assert rules[first] == ("stadtbezirk", "01", "Stadtbezirk: Name (Ebenenblock)")  # "Mühlenweg", also a Sozialraum
    assert rules[first + 2] == ("stadtbezirk", "03", "Stadtbezirk: Name")  # "Am Hafen": only a Bezirk
    assert dry.unmatched == [] and dry.details["matched_rows"] == n + 8
    _import(wh, path, dry_run=False, user=TESTER)
    assert _stored(wh, "stadtbezirk", "01") == (5000.0, "source")
    assert _stored(wh, "sozialraum", "0201") == (105.0, "source")  # the Sozialraum Mühlenweg keeps its own row


def test_an_area_matched_twice_prefers_the_reading_where_every_row_has_one_place(wh, tmp_path):
    _twin_bezirke(wh)
    path, n = _profile_sheet(wh, tmp_path / "nur_zwillinge.csv", ["Mühlenweg", "Lindenhof"], town=False)
    dry = _import(wh, path)  # both Bezirk rows are also Sozialraum names: no row says "Bezirk" alone
    rules = {m["row"]: (m["level"], m["area_key"]) for m in dry.details["matching"]}
    assert rules[n + 2] == ("stadtbezirk", "01") and rules[n + 3] == ("stadtbezirk", "02")
    assert rules[7] == ("sozialraum", "0201")


def test_two_rows_on_one_area_name_both_rows_both_readings_and_the_option(wh, tmp_path):
    _twin_bezirke(wh)
    path, n = _profile_sheet(wh, tmp_path / "doppelt.csv", ["Mühlenweg", "Mühlenweg"], town=False)
    with pytest.raises(ValidationError) as err:
        _import(wh, path)
    text = str(err.value)
    assert "Zeile 7 gelesen als Sozialraum 0201 „Mühlenweg“ (Name)" in text  # the Sozialraum's own row
    assert f"Zeile {n + 2} gelesen als Sozialraum 0201 „Mühlenweg“" in text  # one Bezirk row too many
    assert "auch lesbar als Stadtbezirk 01 „Mühlenweg“" in text
    assert "--level-rows" in text and "Ebene für Zeilenbereich" in text and "Nichts gespeichert" in text


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "keck_data", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env})


def test_cli_level_rows_override_and_json_on_refusal(demo_copy, tmp_path):
    with Warehouse(demo_copy) as wh:
        _twin_bezirke(wh)
        doubled, n = _profile_sheet(wh, tmp_path / "doppelt.csv", ["Mühlenweg", "Mühlenweg"], town=False)
        wh.cursor().execute("DELETE FROM area WHERE level = 'sozialraum' AND name = 'Mühlenweg'")
        lone, m = _profile_sheet(wh, tmp_path / "ohne.csv", ["Lindenhof"], town=False)  # reads as a Sozialraum
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    args = ["--level", "sozialraum", "--layout", "wide", "--area-name", "Gebiet", "--year", "2030",
            "--map", "Einwohner=ew_gesamt", "--json"]
    refused = _cli("import-values", str(doubled), *args, env=env)
    assert refused.returncode == 2 and "zwei Zeilen ergeben dasselbe Gebiet" in refused.stderr
    data = json.loads(refused.stdout)
    assert data["committed"] is False and "--level-rows" in data["error"]
    dry = json.loads(_cli("import-values", str(lone), *args, "--dry-run", env=env).stdout)
    assert {r["row"]: r["level"] for r in dry["matching"]}[m + 2] == "sozialraum"
    done = _cli("import-values", str(lone), *args, "--level-rows", f"{m + 2}=Stadtbezirk", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    rows = {r["row"]: (r["level"], r["rule"]) for r in data["matching"]}
    assert rows[m + 2] == ("stadtbezirk", "Stadtbezirk: Name (--level-rows)")
    assert data["level_blocks"] == [f"Zeile {m + 2}: Stadtbezirk"] and data["committed"] is True
    wrong = _cli("import-values", str(lone), *args, "--level-rows", "3-2=bezirk", "--dry-run", env=env)
    assert wrong.returncode == 2 and "Raumebene „bezirk“ unbekannt" in wrong.stderr


@pytest.mark.parametrize("label, year, rule", [
    ("Sozialwohnungen mit Bindungsauslauf bis 2022", None, ""),
    ("Bindungen ab 2019", None, ""),
    ("Zuzüge 2010–2015", None, ""),
    ("Bindung bis zum 31.12.2022", None, ""),
    ("Grundschulen (2016/)", 2016, "Jahr in Klammern am Ende"),
    ("Einwohner am 31.12.2016", 2016, "Stichtag im Spaltennamen"),
    ("Arbeitslose 31.12.2019", 2019, "Datum im Spaltennamen"),
    ("Einwohner (Stand: 2019)", 2019, "Stichtag im Spaltennamen"),
    ("Bevölkerung am 31.12.2024 – Merkmal 0 (Dez 2024)", 2024, "Stichtag im Spaltennamen"),
])
def test_a_year_comes_only_from_a_reference_date(label, year, rule):
    stem, got, _, how = column_year(label)
    assert (got, how) == (year, rule)
    assert stem == label if year is None else not any(c.isdigit() for c in stem.replace("Merkmal 0", ""))


def test_periods_in_column_names_are_no_years_and_generated_keys_are_unique(wh, tmp_path):
    long_name = "Anteil der Schülerinnen und Schüler mit Übergang auf ein Gymnasium an allen Übergängen"
    path = tmp_path / "profil.csv"
    path.write_text(f"Schlüssel;Sozialwohnungen mit Bindungsauslauf bis 2022;Grundschulen (2016/);{long_name} 2017;"
                    f"{long_name} 2018\n0101;114;2;40,1;41,0\n0102;8;1;30,2;33,3\n", encoding="utf-8")
    dry = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2017)
    years = dry.details["column_years"]
    assert years["Sozialwohnungen mit Bindungsauslauf bis 2022"] == {"year": 2017,
                                                                     "rule": "--year bzw. Jahr im Assistenten"}
    assert years["Grundschulen (2016/)"] == {"year": 2016, "rule": "Jahr in Klammern am Ende"}
    names = {c["column"]: c["name"] for c in dry.details["candidates"]}
    assert names["Grundschulen (2016/)"] == "Grundschulen"
    keys = [c["key"] for c in dry.details["candidates"]]
    assert len(keys) == len(set(keys)) == 4 and all(len(k) <= 60 for k in keys)
    assert "(--year bzw. Jahr im Assistenten: 2017)" in dry.summary()


def test_rows_with_an_empty_key_are_without_area_not_unmatched(wh, tmp_path):
    areas = read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"].tolist()
    path = tmp_path / "export.csv"
    path.write_text("gebiet_id;ew_gesamt;ew_u3\n" + "".join(f"{k};10;1\n" for k in areas) + ";7;0\n;5;0\n",
                    encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="gebiet_id", year=2030,
                           dry_run=False, user=TESTER)
    assert report.unmatched == [] and [r["row"] for r in report.details["unassigned_rows"]] == [
        len(areas) + 2, len(areas) + 3]
    assert {m["rule"] for m in report.details["matching"] if m["row"] > len(areas) + 1} == {
        "ohne Gebiet (Schlüssel leer)"}
    assert _stored(wh, "gesamtstadt", "0") == (10.0 * len(areas) + 12, "source")
    assert f"Zeilen gelesen: {len(areas) + 2} – einem Gebiet zugeordnet: {len(areas)}, ohne Gebiet: 2, nicht " \
           f"zugeordnet: 0; Werte übernommen: {2 * len(areas)}" in report.summary()


def _two_columns(path, year):
    path.write_text(f"Schlüssel;Einwohner am 31.12.{year};Kinder unter 3 am 31.12.{year}\n0101;1200;40\n"
                    "0102;800;30\n", encoding="utf-8")
    return path


def test_map_and_profile_are_merged_the_explicit_one_wins(wh, tmp_path):
    import_values(wh, _two_columns(tmp_path / "a.csv", 2028), level="sozialraum", layout="wide", key_col="Schlüssel",
                  columns={"Einwohner": "ew_gesamt", "Kinder unter 3": "ew_u3"}, save_profile="Amt",
                  dry_run=False, user=TESTER)
    report = import_values(wh, _two_columns(tmp_path / "b.csv", 2029), profile="Amt", columns={"Einwohner": "ew_u18"})
    assert report.details["columns"] == {"Einwohner am 31.12.2029": "ew_u18", "Kinder unter 3 am 31.12.2029": "ew_u3"}
    assert report.details["column_rules"]["Einwohner am 31.12.2029"] == "angegeben (statt Vorlage: ew_gesamt)"
    assert any("Importvorlage „Amt“ (1 Spalten) zusammengeführt" in w for w in report.warnings)
    assert report.details["values"] == 4  # 107 instead of 1,177 values before: the profile's columns were dropped


def test_cli_takes_the_level_from_the_profile_and_speaks_german(demo_copy, tmp_path):
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    with Warehouse(demo_copy) as wh:
        import_values(wh, _two_columns(tmp_path / "a.csv", 2028), level="sozialraum", layout="wide",
                      key_col="Schlüssel", columns={"Einwohner": "ew_gesamt", "Kinder unter 3": "ew_u3"},
                      save_profile="Amt", dry_run=False, user=TESTER)
    ok = _cli("import-values", str(_two_columns(tmp_path / "b.csv", 2029)), "--profile", "Amt", "--dry-run",
              "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["values"] == 4
    missing = _cli("import-areas", str(tmp_path / "b.csv"), env=env)
    assert missing.returncode == 2 and "Diese Angaben fehlen: --level, --key, --name" in missing.stderr
    assert "the following" not in missing.stderr and "Aufruf:" in missing.stderr
    no_level = _cli("import-values", str(tmp_path / "b.csv"), "--layout", "wide", "--dry-run", env=env)
    assert no_level.returncode == 2 and "Bitte die Raumebene der Werte angeben (--level" in no_level.stderr


def test_unknown_metadata_headers_are_named_with_the_nearest_known_one(wh, tmp_path):
    meta = tmp_path / "meta.csv"
    meta.write_text("Schlüssel;Name;Themnfeld;Einheit;Art;Definition;Berechnung;Quelle;Stichtag;Farbe\n"
                    "neu;Neu;Demografie;Personen;Anzahl;Neu;Anzahl;Amt;31.12.;rot\n", encoding="utf-8")
    path = tmp_path / "neu.csv"
    path.write_text("Schlüssel;neu\n0101;5\n0102;6\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Themenfeld"):
        import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2030, metadata=meta)
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2030,
                           metadata=meta, columns={"neu": ""})
    assert ("Spalte „Themnfeld“ der Metadaten ist unbekannt und wird ignoriert – gemeint „Themenfeld“?"
            in report.warnings)
    assert any(w.startswith("Spalte „Farbe“ der Metadaten ist unbekannt") for w in report.warnings)


def test_a_wide_file_read_as_long_suggests_layout_wide(wh, tmp_path):
    path = _two_columns(tmp_path / "breit.csv", 2029)
    with pytest.raises(ValidationError, match="sieht breit aus .*Bitte --layout wide angeben"):
        import_values(wh, path, level="sozialraum", key_col="Schlüssel")


def test_an_area_without_parent_names_the_parent_rule(wh, tmp_path):
    from tests.import_helpers import demo_areas
    from keck_data.importing import import_areas
    gdf = demo_areas(wh)
    gdf.loc[0, "key"] = "9901"
    gdf.to_file(tmp_path / "soz.gpkg")
    report = import_areas(wh, tmp_path / "soz.gpkg", level="sozialraum", key_col="key", name_col="name",
                          parent_level="stadtbezirk", parent_rule="prefix", prefix_len=2)
    assert "kein übergeordnetes Gebiet (stadtbezirk) gefunden (Regel „prefix“) – ggf. eine andere --parent-rule " \
           "(spatial, column oder prefix)" in report.unmatched[0]["reason"]
    far = demo_areas(wh)
    far.geometry = far.geometry.translate(0.3, 0)
    far.to_file(tmp_path / "weit.gpkg")
    reason = import_areas(wh, tmp_path / "weit.gpkg", level="sozialraum", key_col="key", name_col="name",
                          parent_level="stadtbezirk").unmatched
    assert reason and "--parent-rule column (mit --parent-column) oder --parent-rule prefix" in reason[-1]["reason"]


def test_a_total_with_an_area_missing_reports_the_partial_sum_and_the_gap(wh, tmp_path):
    areas = read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"].tolist()
    path = tmp_path / "luecke.csv"
    rows = "".join(f"{k};Gebiet {k};100\n" for k in areas[1:])  # the first area has no row
    path.write_text(f"Schlüssel;Name;ew_gesamt\n{rows};Musterstadt insgesamt;{100 * (len(areas) - 1) + 7479}\n",
                    encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Name",
                           year=2030)
    line = next(t for t in report.details["totals_check"] if t.startswith("Musterstadt"))
    assert len(areas) == 48 and line == ("Musterstadt, ew_gesamt 2030: geliefert 12.179, Summe der 47 Gebiete mit "
                                         "Wert 4.700, 1 Gebiet ohne Wert, Lücke 7.479")
    assert any("Lücke 7.479" in w for w in report.warnings)


def test_a_delivered_metadata_pair_names_english_columns_and_asks_once_for_the_rest(demo_copy, tmp_path):
    """Table meta + column meta as a statistics office ships them: English column names get German names,
    units and sources; Themenfeld and Art are asked once, in one table, then the import commits."""
    tables = tmp_path / "tabellen.csv"
    tables.write_text("table;title;source;footnote\nbev_export;Bevölkerung am 31.12.2023;Einwohnerregister;"
                      "Hauptwohnsitz\nanderes;Anderes;Amt X;\n", encoding="utf-8")
    columns = tmp_path / "spalten.csv"
    columns.write_text("Tabelle;Spalte;Bezeichnung;Einheit\nbev_export;pop_u18;Einwohner unter 18 Jahren;Personen\n"
                       "bev_export;pop_65plus;Einwohner ab 65 Jahren;Personen\nanderes;pop_u18;Falsch;x\n",
                       encoding="utf-8")
    data = tmp_path / "bev_export.csv"
    data.write_text("gebiet_id;pop_u18;pop_65plus\n0101;200;150\n0102;180;90\n", encoding="utf-8")
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    args = ["import-values", str(data), "--level", "sozialraum", "--layout", "wide", "--key", "gebiet_id",
            "--year", "2023",
            "--metadata-tables", str(tables), "--metadata-columns", str(columns)]
    dry = _cli(*args, "--dry-run", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["columns"] == {"pop_u18": "pop_u18", "pop_65plus": "pop_65plus"}
    assert report["metadata_missing"] == [
        {"key": "pop_65plus", "name": "Einwohner ab 65 Jahren", "missing": ["Themenfeld", "Art", "Berechnung"]},
        {"key": "pop_u18", "name": "Einwohner unter 18 Jahren", "missing": ["Themenfeld", "Art", "Berechnung"]}]
    assert any("Schlüssel;Themenfeld;Art;Berechnung\npop_65plus;;;\npop_u18;;;" in w for w in report["warnings"])
    refused = _cli(*args, env=env)
    assert refused.returncode == 2 and "Themenfeld" in refused.stderr and "Nichts gespeichert" in refused.stderr
    filled = tmp_path / "fehlend.csv"
    filled.write_text("Schlüssel;Themenfeld;Art\npop_u18;Demografie;Anzahl\npop_65plus;Demografie;Anzahl\n",
                      encoding="utf-8")
    done = _cli(*args, "--metadata", str(filled), env=env)
    assert done.returncode == 0, done.stderr
    with Warehouse(demo_copy) as wh:
        ind = read_df(wh, "SELECT name, unit, source, definition, reference_date, kind, calculation, topic FROM "
                          "indicator WHERE key = 'pop_u18'").iloc[0].to_dict()
        assert ind == {"name": "Einwohner unter 18 Jahren", "unit": "Personen", "source": "Einwohnerregister",
                       "definition": "Einwohner unter 18 Jahren (Hauptwohnsitz)", "reference_date": "31.12.2023",
                       "kind": "count", "calculation": "Anzahl", "topic": "demografie"}
        assert wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = 'pop_65plus' AND "
                                   "area_key = '0102' AND year = 2023").fetchone() == (90.0,)
