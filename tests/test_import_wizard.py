"""The import wizard through AppTest (from app.py): a publication sheet with a new indicator created inline,
saved as an Importvorlage and reused for next year's drifted file; uploads deleted; a German size message."""
import os
import tempfile
import time

from keck_data.ui import upload
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import ok
from tests.delivery_files import publication

AREAS = [("0101", "Marktplatz"), ("0102", "Domviertel")]


def _widget(widgets, suffix):
    """The wizard's widget whose key ends with ``suffix`` (keys start with the file and profile)."""
    return next(w for w in widgets if str(w.key).endswith(suffix))


def _upload(at, path):
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(),
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).run()
    ok(at)


def test_wizard_new_indicator_profile_and_next_year(app, internal_file, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/import.py").run()
    first = publication(tmp_path / "kita_2023.xlsx", 2023, [("Kinder in Kitas", "Betreute Kinder", [40, 50])], AREAS)
    _upload(at, first)
    assert any("Gruppenkopf: Zeile 4" in c.value for c in at.caption)
    assert list(tmp_path.glob("keck_upload_*"))
    _widget(at.selectbox, "target_0").set_value("__neu__").run()
    _widget(at.text_input, "0_new_key").input("kita_wizard").run()
    _widget(at.selectbox, "0_new_topic").set_value("Bildung").run()
    assert _widget(at.text_input, "0_new_def").value == "Betreute Kinder"  # from the description row
    next(t for t in at.text_input if t.label.startswith("Als Importvorlage")).input("Kita-Statistik").run()
    next(b for b in at.button if b.label.startswith("Probelauf")).click().run()
    ok(at)
    next(b for b in at.button if b.label == "Jetzt importieren").click().run()
    ok(at)
    assert "Import abgeschlossen" in [s.value for s in at.subheader]
    assert not list(tmp_path.glob("keck_upload_*"))  # the upload is deleted after the import

    second = publication(tmp_path / "kita_2024.xlsx", 2024, [("Kinder in Kitas (betreut)", "Betreute Kinder", [41, 52])],
                         AREAS)
    _upload(at, second)
    at.selectbox(key="import_profile").set_value("Kita-Statistik").run()
    assert _widget(at.selectbox, "target_0").value == "kita_wizard"  # renamed column, found by similarity
    assert any("ähnlich" in c.value for c in at.caption)
    next(b for b in at.button if b.label.startswith("Probelauf")).click().run()
    next(b for b in at.button if b.label == "Jetzt importieren").click().run()
    ok(at)
    at.get("file_uploader")[0].set_value(None).run()
    with Warehouse(internal_file) as wh:
        got = read_df(wh, "SELECT year, value FROM indicator_value WHERE indicator = 'kita_wizard' AND "
                          "level = 'sozialraum' AND area_key = '0102' ORDER BY year")
    assert got.values.tolist() == [[2023, 50.0], [2024, 52.0]]


def test_a_swept_upload_is_stored_again_when_its_wizard_comes_back(app, tmp_path, monkeypatch):
    """The instance's sweeper deletes uploads left for two hours; a wizard used again later stores its upload
    anew instead of failing on the missing file."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/import.py").run()
    _upload(at, publication(tmp_path / "kita_2023.xlsx", 2023, [("Kinder in Kitas", "Betreute Kinder", [40, 50])],
                            AREAS))
    (folder,) = tmp_path.glob("keck_upload_*")
    old = time.time() - 3 * 3600
    os.utime(folder, (old, old))
    assert upload.purge_stale() == [folder] and not folder.exists()
    _widget(at.selectbox, "target_0").set_value("__neu__").run()  # the next step of the wizard
    ok(at)
    assert any("Gruppenkopf: Zeile 4" in c.value for c in at.caption)
    assert [p.name for p in next(tmp_path.glob("keck_upload_*")).iterdir()] == ["kita_2023.xlsx"]
    assert upload.purge_stale() == []  # in use: touched on every run


def test_too_large_upload_gets_a_german_message(app, tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "MAX_BYTES", 100)
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/import.py").run()
    path = publication(tmp_path / "gross.xlsx", 2023, [("Kinder", "", [1, 2])], AREAS)
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), "application/octet-stream")).run()
    assert any("ist mit" in e.value and "zu groß" in e.value for e in at.error)


def test_long_file_gets_no_indicator_column_as_area_name(app, tmp_path, monkeypatch):
    """A long file (key, indicator, year, value): the area-name fallback stays empty – it took the indicator column,
    so an unknown key was reported as "Name „ew_gesamt“ unbekannt" (fresh-eyes walk)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/import.py").run()
    path = tmp_path / "lang.csv"
    path.write_text("key;indicator;year;value\n0101;ew_gesamt;2025;5\n9999;ew_gesamt;2025;5\n")
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), "text/csv")).run()
    ok(at)
    assert next(r for r in at.radio if r.label == "Aufbau").value == "long"
    assert next(s for s in at.selectbox if s.label.startswith("Gebietsname")).value == ""
    next(b for b in at.button if b.label.startswith("Probelauf")).click().run()
    ok(at)
    unmatched = next(t.value for t in at.dataframe if "unbekannt" in t.value.to_string())
    assert "Schlüssel „9999“ unbekannt" in unmatched.to_string() and "ew_gesamt" not in unmatched.to_string()
