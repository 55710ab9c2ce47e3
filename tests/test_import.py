"""Import pipeline on the demo warehouse: every format and layout, every bad input, all-or-nothing."""
import zipfile

import openpyxl
import pandas as pd
import pytest
import shapely

from keck_data.errors import ValidationError
from keck_data.export_opendata import export_values
from keck_data.importing import files, import_areas, import_pois, import_values
from keck_data.policy import system
from keck_data.warehouse import read_df
from tests.import_helpers import demo_areas, fingerprint

TESTER = system("test")


def _value(wh, ind, key, year, level="sozialraum"):
    return wh.cursor().execute("SELECT value, status FROM indicator_value WHERE indicator = ? AND level = ? "
                               "AND area_key = ? AND year = ?", [ind, level, key, year]).fetchone()


# --- values -----------------------------------------------------------------------------------------------

def test_german_csv_cp1252_semicolon_long(wh, tmp_path):
    path = tmp_path / "werte.csv"
    text = ("Schlüssel;Indikator;Jahr;Wert\n0101;Einwohnerinnen und Einwohner;2025;1.234\n"
            "0102;ew_gesamt;2025;12.345\n0103;sgb2_quote_u15;2025;12,5\n0104;sgb2_quote_u15;2025;k. A.\n"
            "0105;sgb2_quote_u15;2025;\n0201;sgb2_quote_u15;2025;-\n")
    path.write_bytes(text.encode("cp1252"))
    progress = []
    report = import_values(wh, path, level="sozialraum", key_col="Schlüssel", indicator_col="Indikator",
                           year_col="Jahr", value_col="Wert", dry_run=False, user=TESTER, progress=lambda f, m: progress.append(f))
    assert report.committed and report.matched == 6 and report.new == 6
    assert _value(wh, "ew_gesamt", "0101", 2025) == (1234.0, "ok")
    assert _value(wh, "ew_gesamt", "0102", 2025) == (12345.0, "ok")
    assert _value(wh, "sgb2_quote_u15", "0103", 2025) == (12.5, "ok")
    assert _value(wh, "sgb2_quote_u15", "0104", 2025) == (None, "suppressed")
    assert _value(wh, "sgb2_quote_u15", "0105", 2025) == (None, "missing")
    assert _value(wh, "sgb2_quote_u15", "0201", 2025) == (None, "missing")
    assert progress[-1] == 1.0 and progress == sorted(progress)
    audit = read_df(wh, "SELECT action, entity_key FROM audit_log WHERE action = 'import-values'")
    assert "werte.csv" in list(audit["entity_key"])


def test_utf8_bom_comma_csv_wide_with_year_column_and_dash_as_zero(wh, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("key,year,ew_u3,Geburten\n0101,2025,120,-\n0102,2025,\"1,234\",7\n", encoding="utf-8-sig")
    report = import_values(wh, path, level="sozialraum", layout="wide", dash="zero", decimal=".", dry_run=False, user=TESTER)
    assert report.rows_read == 2 and report.matched == 4
    assert _value(wh, "ew_u3", "0102", 2025) == (1234.0, "ok")
    assert _value(wh, "geburten", "0101", 2025) == (0.0, "ok")


def test_xlsx_wide_one_sheet_per_year_and_dry_run_reports_changes(wh, tmp_path):
    path = tmp_path / "jahre.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    old = _value(wh, "ew_u18", "0101", 2023)[0]
    for year in (2023, 2024):
        ws = wb.create_sheet(str(year))
        ws.append(["Gebiet", "Name", "ew_u18"])
        ws.append(["0101", "Marktplatz", old + 5 if year == 2023 else 700])
        ws.append(["9999", "Unbekannt", 3])
    ws = wb.create_sheet("Hinweise")
    ws.append(["nur Text"])
    wb.save(path)
    before = fingerprint(wh)
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Gebiet", name_col="Name", sheet="*")
    assert fingerprint(wh) == before  # a dry run writes nothing
    assert report.changed == 2 and report.new == 0 and report.matched == 2
    assert [u["key"] for u in report.unmatched] == ["9999", "9999"]
    assert "nicht zugeordnet" in report.summary()
    import_values(wh, path, level="sozialraum", layout="wide", key_col="Gebiet", name_col="Name", sheet="*",
                  dry_run=False, user=TESTER)
    assert _value(wh, "ew_u18", "0101", 2023)[0] == old + 5
    city_before = _value(wh, "ew_u18", "0", 2023, "gesamtstadt")[0]
    assert city_before == pytest.approx(read_df(wh, "SELECT sum(value) AS s FROM indicator_value WHERE indicator = "
                                                    "'ew_u18' AND level = 'sozialraum' AND year = 2023")["s"][0])


def test_shares_over_100_percent_and_negative_counts_are_reported_not_hidden(wh, tmp_path):
    path = tmp_path / "werte.csv"
    path.write_text("key;indicator;year;value\n0101;sgb2_quote_u15;2025;112,5\n0102;sgb2_quote_u15;2025;12,5\n"
                    "0103;sgb2_quote_u15;2025;-3\n0101;ew_gesamt;2025;-4\n0102;ew_gesamt;2025;400\n")
    report = import_values(wh, path, level="sozialraum", user=TESTER)
    shares = [w for w in report.warnings if w.startswith("Anteil außerhalb 0–100 %: sgb2_quote_u15 2025")]
    assert shares == ["Anteil außerhalb 0–100 %: sgb2_quote_u15 2025 – 2 Werte, z. B. 0101: 112,5, 0103: -3,0. "
                      "Bitte prüfen (Anzahl statt Anteil geliefert? Zähler und Nenner vertauscht?)."]
    assert "Negative Anzahl: ew_gesamt 2025 – 1 Wert, z. B. 0101: -4. Bitte prüfen (Veränderung statt Bestand " \
           "geliefert? Minuszeichen?)." in report.warnings
    assert not any("0102" in w for w in report.warnings)


def test_leading_zeros_and_name_fallback(wh, tmp_path):
    path = tmp_path / "namen.csv"
    path.write_text("key;name;ew_u3\n101;Marktplatz;1\nXX;Domviertel;2\nYY;Gibtsnicht;3\n", encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", name_col="name", year=2030, key_width=4)
    assert report.matched == 2 and len(report.unmatched) == 1
    assert any("Gebietsnamen" in w for w in report.warnings)


def test_new_indicator_needs_metadata(wh, tmp_path):
    values = tmp_path / "neu.csv"
    values.write_text("key;indicator;year;value\n0101;bolzplaetze;2024;2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Unbekannte Indikatoren: „bolzplaetze“"):
        import_values(wh, values, level="sozialraum")
    meta = tmp_path / "meta.csv"
    meta.write_text("key;name;topic;unit;definition;calculation;source;reference_date;kind\n"
                    "bolzplaetze;Bolzplätze;Infrastruktur;Anzahl;;Zählung;Grünflächenamt;31.12.;count\n",
                    encoding="utf-8")
    with pytest.raises(ValidationError, match="Pflichtfelder fehlen: Definition"):
        import_values(wh, values, level="sozialraum", metadata=meta)
    meta.write_text(meta.read_text().replace(";;Zählung", ";Öffentliche Bolzplätze;Zählung"), encoding="utf-8")
    import_values(wh, values, level="sozialraum", metadata=meta, dry_run=False, user=TESTER)
    assert _value(wh, "bolzplaetze", "0101", 2024) == (2.0, "ok")
    assert read_df(wh, "SELECT name FROM topic WHERE key = 'infrastruktur'")["name"][0] == "Infrastruktur"


@pytest.mark.parametrize("content, message", [
    ("key;indicator;year;value\n0101;ew_u3;2024;zwölf\n", "Zeile 2, Spalte „value“: „zwölf“"),
    ("key;indicator;year;value\n0101;ew_u3;2024;1\n0101;ew_u3;2024;2\n", "doppelt"),
    ("key;indicator;year;value\n0101;ew_u3;zwanzig;1\n", "ungültige Jahresangaben"),
    ("Gebiet;indicator;year;value\n0101;ew_u3;2024;1\n", r"Spalte „key“ \(Gebietsschlüssel\) nicht gefunden"),
    ("key;indicator;year;value\n", "nur eine Kopfzeile"),
])
def test_bad_value_files_are_refused_and_change_nothing(wh, tmp_path, content, message):
    path = tmp_path / "kaputt.csv"
    path.write_text(content, encoding="utf-8")
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match=message):
        import_values(wh, path, level="sozialraum", dry_run=False, user=TESTER)
    assert fingerprint(wh) == before


def test_empty_oversized_and_unknown_format(wh, tmp_path, monkeypatch):
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="ist leer"):
        import_values(wh, empty, level="sozialraum")
    big = tmp_path / "gross.csv"
    big.write_text("key;indicator;year;value\n" + "0101;ew_u3;2024;1\n" * 2000)
    monkeypatch.setattr(files, "MAX_BYTES", 10_000)
    with pytest.raises(ValidationError, match="zu groß"):
        import_values(wh, big, level="sozialraum")
    odd = tmp_path / "werte.pdf"
    odd.write_bytes(b"%PDF-1.4")
    monkeypatch.setattr(files, "MAX_BYTES", 10_000_000)
    with pytest.raises(ValidationError, match="nicht unterstützt"):
        import_values(wh, odd, level="sozialraum")


def test_failure_inside_the_transaction_rolls_everything_back(wh, tmp_path, monkeypatch):
    path = tmp_path / "ok.csv"
    path.write_text("key;indicator;year;value\n0101;ew_u3;2024;1\n", encoding="utf-8")
    before = fingerprint(wh)
    from keck_data import aggregation

    def broken(tx):
        raise RuntimeError("Stromausfall")
    monkeypatch.setattr(aggregation, "refresh_aggregates", broken)
    with pytest.raises(RuntimeError):
        import_values(wh, path, level="sozialraum", dry_run=False, user=TESTER)
    assert fingerprint(wh) == before


def test_export_values_round_trip(wh, tmp_path):
    out = tmp_path / "werte.csv"
    n = export_values(wh, out, released_only=True)
    text = out.read_bytes().decode("utf-8-sig")
    assert n > 10_000 and "k. A." in text and "sozialindex" not in text
    frame = pd.read_csv(out, sep=";", dtype=str, encoding="utf-8-sig")
    assert set(frame["status"]) == {"ok", "suppressed", "missing"}


# --- areas ------------------------------------------------------------------------------------------------

def test_reimport_keeps_values_and_reports_disappeared_areas(wh, tmp_path):
    gdf = demo_areas(wh)
    value_before = _value(wh, "ew_gesamt", "0102", 2024)
    gdf = gdf[gdf["key"] != "0101"].copy()
    gdf.loc[gdf["key"] == "0102", "name"] = "Domviertel-Nord"
    gdf.to_file(tmp_path / "soz.geojson", driver="GeoJSON")
    report = import_areas(wh, tmp_path / "soz.geojson", level="sozialraum", key_col="key", name_col="name",
                          parent_level="stadtbezirk", dry_run=False, user=TESTER)
    assert report.changed == 1 and report.new == 0 and report.unchanged == len(gdf) - 1
    assert report.details["disappeared"] == ["0101"] and any("0101" in w for w in report.warnings)
    assert _value(wh, "ew_gesamt", "0102", 2024) == value_before
    assert read_df(wh, "SELECT name FROM area WHERE key = '0101'")["name"][0] == "Marktplatz"  # kept, not dropped
    parents = read_df(wh, "SELECT key, parent_key FROM area WHERE level = 'sozialraum'")
    assert (parents["parent_key"] == parents["key"].str[:2]).all()  # spatial majority rule


def test_prefix_rule_and_unmatched_parents(wh, tmp_path):
    gdf = demo_areas(wh)
    gdf.loc[0, "key"] = "9901"
    gdf.to_file(tmp_path / "soz.geojson", driver="GeoJSON")
    report = import_areas(wh, tmp_path / "soz.geojson", level="sozialraum", key_col="key", name_col="name",
                          parent_level="stadtbezirk", parent_rule="prefix", prefix_len=2)
    assert [u["key"] for u in report.unmatched] == ["9901"]
    assert "kein übergeordnetes Gebiet" in report.unmatched[0]["reason"]


def _shapefile_zip(gdf, archive, skip: str | None = None):
    """A shapefile written to a zip, optionally without one of its parts (e.g. the .prj)."""
    folder = archive.parent / f"shp_{archive.stem}"
    folder.mkdir()
    gdf.to_file(folder / "soz.shp")
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            if f.suffix != skip:
                z.write(f, f.name)
    return archive


def test_shapefile_zip_in_utm_with_broken_geometry(wh, tmp_path):
    gdf = demo_areas(wh).to_crs(25832)
    x0, y0, x1, y1 = gdf.geometry.iloc[0].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])  # self-intersecting
    gdf.loc[0, "geometry"] = bowtie
    archive = _shapefile_zip(gdf, tmp_path / "soz.zip")
    report = import_areas(wh, archive, level="sozialraum", key_col="key", name_col="name", dry_run=False, user=TESTER)
    assert report.details["repaired"] == [gdf.loc[0, "key"]] and any("repariert" in w for w in report.warnings)
    areas = demo_areas(wh)
    assert areas.geometry.is_valid.all()
    assert abs(areas.total_bounds[0] - 8.3) < 0.3  # back in degrees


def test_missing_and_wrong_crs(wh, tmp_path):
    gdf = demo_areas(wh).to_crs(25832)
    archive = _shapefile_zip(gdf, tmp_path / "ohne_prj.zip", skip=".prj")
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match="kein Koordinatensystem.*--crs"):
        import_areas(wh, archive, level="sozialraum", key_col="key", name_col="name", dry_run=False, user=TESTER)
    report = import_areas(wh, archive, level="sozialraum", key_col="key", name_col="name", crs="EPSG:25832")
    assert report.matched == len(gdf)
    wrong = tmp_path / "falsch.geojson"
    gdf.set_crs(4326, allow_override=True).to_file(wrong, driver="GeoJSON")  # metres labelled as degrees
    with pytest.raises(ValidationError, match="passen nicht zu EPSG:4326"):
        import_areas(wh, wrong, level="sozialraum", key_col="key", name_col="name", dry_run=False, user=TESTER)
    elsewhere = tmp_path / "anderswo.geojson"
    demo_areas(wh).set_geometry(demo_areas(wh).translate(30, 0)).to_file(elsewhere, driver="GeoJSON")
    with pytest.raises(ValidationError, match="nicht im Gebiet der Kommune"):
        import_areas(wh, elsewhere, level="sozialraum", key_col="key", name_col="name", dry_run=False, user=TESTER)
    assert fingerprint(wh) == before


def test_duplicate_keys_missing_columns_and_points(wh, tmp_path):
    gdf = demo_areas(wh)
    gdf.loc[1, "key"] = gdf.loc[0, "key"]
    gdf.to_file(tmp_path / "dup.geojson", driver="GeoJSON")
    with pytest.raises(ValidationError, match="mehrfach vergeben: 0101"):
        import_areas(wh, tmp_path / "dup.geojson", level="sozialraum", key_col="key", name_col="name")
    with pytest.raises(ValidationError, match="Spalte „SCHLUESSEL“"):
        import_areas(wh, tmp_path / "dup.geojson", level="sozialraum", key_col="SCHLUESSEL", name_col="name")
    pts = demo_areas(wh).set_geometry(demo_areas(wh).representative_point())
    pts.to_file(tmp_path / "pts.geojson", driver="GeoJSON")
    with pytest.raises(ValidationError, match="nur Flächen"):
        import_areas(wh, tmp_path / "pts.geojson", level="sozialraum", key_col="key", name_col="name")


def _zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_slip_and_decompression_bomb(wh, tmp_path):
    slip = _zip(tmp_path / "slip.zip", {"../../etc/evil.shp": b"x", "ok.dbf": b"y"})
    with pytest.raises(ValidationError, match="unzulässigen Pfad"):
        import_areas(wh, slip, level="sozialraum", key_col="key", name_col="name")
    assert not (tmp_path.parent / "etc").exists()
    bomb = _zip(tmp_path / "bomb.zip", {"a.shp": b"\0" * 60_000_000})
    with pytest.raises(ValidationError, match="ZIP-Bombe"):
        import_areas(wh, bomb, level="sozialraum", key_col="key", name_col="name")
    not_zip = tmp_path / "kaputt.zip"
    not_zip.write_bytes(b"PK\x03\x04 kaputt")
    with pytest.raises(ValidationError, match="keine gültige ZIP-Datei"):
        import_areas(wh, not_zip, level="sozialraum", key_col="key", name_col="name")


# --- POIs -------------------------------------------------------------------------------------------------

def test_pois_from_csv_with_html_duplicates_and_outside_points(wh, tmp_path):
    path = tmp_path / "kitas.csv"
    path.write_text(
        "Name;Breite;Länge;Plätze;Web;Art\n"
        "<script>alert(1)</script> Kita;51,52;8,46;45;www.kita.example;Kita\n"
        "Kita Sonnenschein;51,53;8,45;60;https://sonne.example;Kita\n"
        "Kita Sonnenschein;51,53;8,45;60;https://sonne.example;Kita\n"
        "Kita Mond;48,1;11,5;20;;Kita\n"
        ";51,52;8,46;;;Kita\n", encoding="utf-8")
    before = read_df(wh, "SELECT count(*) AS n FROM poi")["n"][0]
    report = import_pois(wh, path, name_col="Name", lat_col="Breite", lon_col="Länge", category_col="Art",
                         capacity_col="Plätze", fields={"website": "Web"}, dry_run=False, user=TESTER)
    reasons = sorted(u["reason"] for u in report.unmatched)
    assert report.new == 2 and len(reasons) == 3
    assert any("Dublette" in r for r in reasons) and any("außerhalb" in r for r in reasons)
    assert any("Name fehlt" in r for r in reasons)
    rows = read_df(wh, "SELECT name, website, capacity FROM poi ORDER BY id DESC LIMIT 2")
    assert "<script>alert(1)</script> Kita" in set(rows["name"])  # stored as text, escaped when shown
    assert "https://www.kita.example" in set(rows["website"])
    assert read_df(wh, "SELECT count(*) AS n FROM poi")["n"][0] == before + 2
    again = import_pois(wh, path, name_col="Name", lat_col="Breite", lon_col="Länge", category="kita")
    assert again.new == 0


def test_pois_unknown_category_and_missing_coordinates(wh, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("name;lat;lon;typ\nA;51,52;8,46;Bolzplatz\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Unbekannte Kategorien: „Bolzplatz“"):
        import_pois(wh, path, lat_col="lat", lon_col="lon", category_col="typ")
    report = import_pois(wh, path, lat_col="lat", lon_col="lon", category_col="typ",
                         category_map={"Bolzplatz": "spielplatz"})
    assert report.new == 1
    path.write_text("name;lat;lon\nA;;8,46\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Koordinaten in Zeile"):
        import_pois(wh, path, lat_col="lat", lon_col="lon", category="kita")
    with pytest.raises(ValidationError, match="--crs"):
        import_pois(wh, path, x_col="lat", y_col="lon", category="kita")
