"""Command line: release/withdraw indicators (audited), publish explains an empty release, info shows gaps."""
import os
import subprocess
import sys

from keck_data.cli import year_ranges
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
