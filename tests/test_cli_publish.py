"""CLI commands and the public snapshot (released only, privacy applied, atomic, picked up without restart)."""
import json
import os
import subprocess
import sys

from keck_data.cli import info
from keck_data.policy import Resource, system
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.schema import LATEST_VERSION
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import ROOT


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "keck_data", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_init_demo_info_and_publish_from_the_command_line(tmp_path):
    env = {"KECK_WAREHOUSE": str(tmp_path / "k.duckdb"), "KECK_PUBLIC_WAREHOUSE": str(tmp_path / "p.duckdb")}
    r = _cli("init-demo", env=env)
    assert r.returncode == 0 and "Demo-Warehouse" in r.stdout
    assert "schon vorhanden" in _cli("init-demo", env=env).stdout
    r = _cli("info", "--json", env=env)
    data = json.loads(r.stdout)
    assert data["municipality"] == "Musterstadt" and data["demo"] is True
    assert [lv["areas"] for lv in data["levels"]][0] == 1 and data["indicators"] >= 40
    assert data["years"] == list(range(2015, 2025)) and sum(data["pois"].values()) >= 150
    assert "Raumebenen: Gesamtstadt (1)" in _cli("info", env=env).stdout
    r = _cli("publish", env=env)
    assert r.returncode == 0 and "Veröffentlicht" in r.stdout and (tmp_path / "p.duckdb").exists()


def test_cli_errors_are_german_with_exit_code_2(tmp_path):
    r = _cli("info", env={"KECK_WAREHOUSE": str(tmp_path / "none.duckdb")})
    assert r.returncode == 2 and r.stderr.startswith("Fehler: ")
    r = _cli("publish", env={"KECK_WAREHOUSE": str(tmp_path / "none.duckdb"),
                             "KECK_PUBLIC_WAREHOUSE": str(tmp_path / "p.duckdb")})
    assert r.returncode == 2 and "nichts zu veröffentlichen" in r.stderr and not (tmp_path / "none.duckdb").exists()


def test_info_counts(ro_wh):
    data = info(ro_wh)
    assert data["indicators_released"] < data["indicators"]
    assert data["schema_version"] == LATEST_VERSION


def test_snapshot_has_only_released_public_and_protected_data(wh, tmp_path):
    target = tmp_path / "public.duckdb"
    result = publish(wh, target, system("tester"))
    assert result["suppressed"] > 0
    with Warehouse(target, read_only=True) as pub:
        unreleased = set(read_df(wh, "SELECT key FROM indicator WHERE NOT released")["key"])
        published = set(read_df(pub, "SELECT DISTINCT indicator FROM indicator_value")["indicator"])
        assert published and not (published & unreleased)
        assert not (set(read_df(pub, "SELECT key FROM indicator")["key"]) & unreleased)
        assert read_df(pub, "SELECT count(*) AS n FROM poi WHERE NOT public")["n"][0] == 0
        assert read_df(pub, "SELECT count(*) AS n FROM poi")["n"][0] > 150
        assert read_df(pub, "SELECT count(*) AS n FROM indicator_value WHERE status = 'suppressed' "
                            "AND value IS NOT NULL")["n"][0] == 0
        # every small count is gone from the file itself, not only from the UI
        small = read_df(pub, "SELECT count(*) AS n FROM indicator_value v JOIN indicator i ON i.key = v.indicator "
                             "WHERE i.kind = 'count' AND v.value <= 3")["n"][0]
        assert small == 0
        internal = Atlas(wh, public=True).level_values("sgb2_quote_u15", "sozialraum", 2024)
        public = Atlas(pub, public=True).level_values("sgb2_quote_u15", "sozialraum", 2024)
        assert internal["text"].tolist() == public["text"].tolist()
    audit = read_df(wh, "SELECT actor, action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert tuple(audit.iloc[0]) == ("tester", "publish")
    assert not list(tmp_path.glob(".*.tmp"))


def test_republish_replaces_the_file_atomically(wh, tmp_path):
    target = tmp_path / "public.duckdb"
    publish(wh, target, system())
    reader = Warehouse(target, read_only=True)  # a running public instance keeps its handle
    first_inode = os.stat(target).st_ino
    wh.write(system(), "release", [Resource("indicator", "sozialindex")], lambda tx: (tx.cur.execute("UPDATE indicator SET released = TRUE WHERE key = 'sozialindex'"),
                                         tx.audit("indicator", "sozialindex", False, True)))
    publish(wh, target, system())
    assert os.stat(target).st_ino != first_inode
    assert "sozialindex" not in set(read_df(reader, "SELECT key FROM indicator")["key"])  # old snapshot intact
    reader.close()
    with Warehouse(target, read_only=True) as fresh:
        assert "sozialindex" in set(read_df(fresh, "SELECT key FROM indicator")["key"])


def test_export_commands(tmp_path, demo_copy):
    import zipfile
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    r = _cli("export-opendata", str(tmp_path / "od.zip"), env=env)
    assert r.returncode == 0, r.stderr
    names = zipfile.ZipFile(tmp_path / "od.zip").namelist()
    assert {"werte.csv", "metadaten.csv", "gebiete.gpkg", "README.txt"} <= set(names)
    r = _cli("export-values", str(tmp_path / "w.csv"), "--released-only", env=env)
    assert r.returncode == 0 and "Werte nach" in r.stdout
    r = _cli("import-values", str(tmp_path / "w.csv"), "--level", "sozialraum", "--dry-run", env=env)
    assert r.returncode == 2 and "Spalte „key“" in r.stderr
