"""Internal mode through AppTest: login, role-based pages, POI editing and conflict, bookmarks, import wizard."""
import pytest

from keck_data import editing
from keck_data.auth import User
from keck_data.warehouse import Warehouse
from tests.app_harness import markdown as _markdown


def _titles(at) -> str:
    return _markdown(at)


def test_internal_opens_on_login_and_refuses_wrong_passwords(app, logins):
    at = app("internal", role=None)
    assert "# Anmeldung" in _markdown(at) and not at.selectbox
    at.text_input(key="login_user").input(logins["keck_admin"][0])
    at.text_input(key="login_password").input("falsches-passwort")
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert "falsch" in at.error[0].value
    assert "# Anmeldung" in _markdown(at)


def test_html_in_login_name_is_inert(app):
    at = app("internal", role=None)
    at.text_input(key="login_user").input("<img src=x onerror=alert(1)>")
    at.text_input(key="login_password").input("x")
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert at.error and "<img" not in "".join(m.value for m in at.markdown if m.allow_html)


@pytest.mark.parametrize("role, allowed, refused", [
    ("keck_nutzer", [], ["pages/arbeitsbereich/einrichtungen.py", "pages/arbeitsbereich/benutzer.py"]),
    ("keck_admin", ["pages/arbeitsbereich/einrichtungen.py", "pages/arbeitsbereich/pflege.py",
                    "pages/arbeitsbereich/import.py", "pages/arbeitsbereich/protokoll.py"],
     ["pages/arbeitsbereich/benutzer.py"]),
    ("kommunen_admin", ["pages/arbeitsbereich/benutzer.py", "pages/arbeitsbereich/einrichtungen.py"], []),
])
def test_pages_by_role(app, role, allowed, refused):
    at = app("internal", role=role)
    assert "# SGB-II-Quote der unter 15-Jährigen 2024" in _markdown(at)
    for page in allowed:
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, at.exception, at.error)
    for page in refused:  # not registered for this role at all
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_logout_ends_the_session(app):
    at = app("internal", role="keck_nutzer")
    at.button(key="logout_button").click().run()
    assert "# Anmeldung" in _markdown(at)


def test_poi_edit_and_conflict_in_the_editor(app, internal_file):
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/einrichtungen.py").run()
    poi_id = at.selectbox[0].value
    capacity = next(t for t in at.text_input if t.label.startswith("Kapazität"))
    capacity.input("77")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert at.success and "Gespeichert" in at.success[0].value, at.error
    # a colleague saves the same POI meanwhile (DuckDB hands this process the app's open database)
    wh = Warehouse(internal_file)
    current = editing.get_poi(wh, int(poi_id))
    editing.update_poi(wh, User("kollegin", "Kollegin", "keck_admin"), int(poi_id), {**current, "capacity": 12},
                       current["version"])
    capacity = next(t for t in at.text_input if t.label.startswith("Kapazität"))
    capacity.input("88")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "inzwischen von kollegin" in at.error[0].value and "Gespeicherte Fassung" in at.error[0].value
    assert editing.get_poi(wh, int(poi_id))["capacity"] == 12


def test_bookmark_round_trip_and_inert_html(app):
    at = app("internal", role="keck_admin", ind="anteil_alleinerziehend", areas="0203")
    at.switch_page("pages/atlas/lesezeichen.py").run()
    at.text_input[0].input("Alleinerziehende im Hafen")
    at.text_area[0].input("**Auffällig** <script>alert('x')</script>")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert at.success
    html = "".join(m.value for m in at.markdown if "Auffällig" in m.value)
    assert "<strong>Auffällig</strong>" in html and "<script" not in html
    next(b for b in at.button if b.label == "Öffnen").click().run()
    assert "# Anteil Alleinerziehender 2024" in _markdown(at)


def test_import_wizard_dry_run_and_commit(app, internal_file):
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/import.py").run()
    csv = "key;indicator;year;value\n0101;ew_u3;2031;12\n0102;ew_u3;2031;k. A.\n9999;ew_u3;2031;4\n"
    at.get("file_uploader")[0].set_value(("werte.csv", csv.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label.startswith("Probelauf")).click().run()
    assert [m.value for m in at.metric][:2] == ["3", "2"]
    assert at.dataframe and "9999" in at.dataframe[-1].value["Schlüssel"].tolist()
    next(b for b in at.button if b.label == "Jetzt importieren").click().run()
    assert "Import abgeschlossen" in [s.value for s in at.subheader]
