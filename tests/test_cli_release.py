"""Command line: release/withdraw indicators (audited), publish explains an empty release, info shows gaps."""
import os
import subprocess
import sys

from keck_data import editing
from keck_data.cli import year_ranges
from keck_data.policy import system
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import ROOT


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "keck_data", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env})


def test_release_from_the_command_line_and_publish_explains_zero(demo_copy, tmp_path):
    env = {"KECK_WAREHOUSE": str(demo_copy), "KECK_PUBLIC_WAREHOUSE": str(tmp_path / "p.duckdb")}
    with Warehouse(demo_copy) as wh:
        released = list(read_df(wh, "SELECT key FROM indicator WHERE released")["key"])
    r = _cli("release", *released, "--withdraw", env=env)
    assert r.returncode == 0 and "zurückgezogen" in r.stdout
    r = _cli("publish", env=env)
    assert r.returncode == 0 and "0 Indikatoren freigegeben – zuerst freigeben" in r.stdout
    r = _cli("release", "sozialindex", env=env)
    assert r.returncode == 0 and "1 Indikatoren freigegeben" in r.stdout
    assert "Veröffentlicht: 1 Indikatoren" in _cli("publish", env=env).stdout
    r = _cli("release", "gibt_es_nicht", env=env)
    assert r.returncode == 2 and "gibt_es_nicht" in r.stderr
    with Warehouse(demo_copy) as wh:
        audit = read_df(wh, "SELECT count(*) AS n FROM audit_log WHERE action IN ('release', 'withdraw')")["n"][0]
    assert audit == len(released) + 1


def test_info_shows_gaps_in_years():
    assert year_ranges([2011, 2017, 2018, 2019, 2020, 2021, 2022]) == "2011, 2017–2022"
    assert year_ranges([2015]) == "2015" and year_ranges([2019, 2015, 2016]) == "2015–2016, 2019"


def test_uninhabited_flag_from_the_command_line_completes_the_parent(demo_copy):
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    with Warehouse(demo_copy) as wh:
        editing.save_values(wh, system("test"), "ew_gesamt", "sozialraum", 2024, {"0101": ""})  # no value
        note = read_df(wh, "SELECT status, note FROM indicator_value WHERE indicator = 'ew_gesamt' AND level = "
                           "'stadtbezirk' AND area_key = '01' AND year = 2024")
    assert note["status"][0] == "missing" and note["note"][0].startswith("unvollständig: 1 von ")
    r = _cli("uninhabited", "--level", "sozialraum", "0101", env=env)
    assert r.returncode == 0, r.stderr
    with Warehouse(demo_copy) as wh:
        row = read_df(wh, "SELECT status, value FROM indicator_value WHERE indicator = 'ew_gesamt' AND level = "
                          "'stadtbezirk' AND area_key = '01' AND year = 2024")
        assert row["status"][0] == "ok" and row["value"][0] > 0
        assert read_df(wh, "SELECT count(*) AS n FROM audit_log WHERE action = 'flag-areas' AND entity = 'uninhabited_area'")["n"][0] == 1
    r = _cli("uninhabited", "--level", "sozialraum", "9999", env=env)
    assert r.returncode == 2 and "9999" in r.stderr
