"""Two warehouses, one KECK_AUTH_DIR (issue 12, item 9): passwords live in the folder, roles in each warehouse.
init-auth gives the demo accounts their role in the second warehouse and says why any other login would fail."""
import shutil

import pytest

from keck_data import auth, cli
from keck_data.errors import PermissionDenied
from keck_data.policy import User
from keck_data.warehouse import Warehouse, read_df

ADMIN = User("verwaltung", "Admin", "kommunen_admin")


@pytest.fixture()
def town_b(demo_file, tmp_path):
    path = tmp_path / "b" / "keck.duckdb"
    path.parent.mkdir()
    shutil.copy(demo_file, path)
    return path


def _init_auth(monkeypatch, capsys, warehouse, directory):
    monkeypatch.setenv("KECK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KECK_AUTH_DIR", str(directory))
    assert cli.main(["init-auth"]) == 0
    return capsys.readouterr()


def test_second_warehouse_on_a_shared_auth_dir_signs_in(demo_copy, town_b, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KECK_COOKIE_KEY", raising=False)
    shared = tmp_path / "auth"
    first = _init_auth(monkeypatch, capsys, demo_copy, shared)
    passwords = {line.split()[0]: line.split()[-1] for line in first.out.splitlines() if "Passwort:" in line}
    assert set(passwords) == {"verwaltung", "statistik", "planung"} and not first.err

    second = _init_auth(monkeypatch, capsys, town_b, shared)
    assert "erhalten ihre Rolle auch in diesem Warehouse" in second.out and "Passwort: wie bisher" in second.out
    assert not second.err
    with Warehouse(town_b) as wh:
        assert auth.authenticate(wh, "statistik", passwords["statistik"], directory=shared).role == "keck_admin"
        audit = read_df(wh, "SELECT entity_key FROM audit_log WHERE action = 'init-auth'")
    assert set(audit["entity_key"]) == {"verwaltung", "statistik", "planung"}
    assert "Passwort: wie bisher" not in _init_auth(monkeypatch, capsys, town_b, shared).out  # nothing new


def test_init_auth_says_why_a_login_will_fail(demo_copy, town_b, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KECK_COOKIE_KEY", raising=False)
    shared = tmp_path / "auth"
    _init_auth(monkeypatch, capsys, demo_copy, shared)
    _init_auth(monkeypatch, capsys, town_b, shared)
    with Warehouse(demo_copy) as wh:  # an account made in town A only has a role there
        auth.save_user(wh, ADMIN, "anna", "Anna", "keck_nutzer", password="ein-langes-passwort", directory=shared)
    with Warehouse(town_b) as wh, pytest.raises(PermissionDenied):
        auth.authenticate(wh, "anna", "ein-langes-passwort", directory=shared)
    warned = _init_auth(monkeypatch, capsys, town_b, shared).err
    assert "Warnung: Konten in" in warned and "ohne Rolle in diesem Warehouse" in warned and ": anna –" in warned

    other = tmp_path / "anderer_ordner"  # town B started with another folder: its roles have no passwords
    other.mkdir()
    (other / "secrets.toml").write_text((shared / "secrets.toml").read_text())
    shutil.copy(shared / "credentials.yaml", other / "credentials.yaml")
    with Warehouse(town_b) as wh:
        creds = auth.load_credentials(other)
        del creds["usernames"]["verwaltung"]
        auth.save_credentials(creds, other)
        problems = auth.login_problems(wh, other)
    assert any("Rollen ohne Passwort" in p and "verwaltung" in p and "KECK_AUTH_DIR" in p for p in problems)
    assert any("Kein aktiver Kommunen-Admin mit Passwort" in p for p in problems)
