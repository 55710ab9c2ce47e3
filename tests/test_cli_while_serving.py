"""Command line while the internal instance runs (issue 12, item 7): a command finding the warehouse held by the
instance hands its job to the instance's desk; one finding it held by another command waits its turn."""
import io
import json
import os
import subprocess
import sys

import pytest

from keck_data import handover
from keck_data.errors import WarehouseError
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import ok
from tests.conftest import ROOT


def _cli(*args, env, cwd=ROOT):
    return subprocess.Popen([sys.executable, "-m", "keck_data", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def _values(wh: Warehouse) -> dict:
    rows = wh.cursor().execute("SELECT indicator, level, area_key, year, CAST(value AS VARCHAR), status "
                               "FROM indicator_value WHERE NOT (indicator = 'ew_gesamt' AND year = 2025)").fetchall()
    return {r[:4]: r[4:] for r in rows}


def test_import_from_the_command_line_while_the_instance_serves_sessions(app, internal_file, tmp_path):
    sessions = [app(role="keck_admin"), app(role="keck_nutzer")]  # the second shares the first's warehouse
    for at in sessions:
        ok(at)
    with Warehouse(internal_file) as wh:  # in this process, next to the instance's own connection
        keys = list(read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"])
        before = _values(wh)
    csv = tmp_path / "einwohner_2025.csv"
    csv.write_text("key;indicator;year;value\n" + "".join(f"{k};ew_gesamt;2025;{1000 + i}\n"
                                                          for i, k in enumerate(keys)), encoding="utf-8")
    env = {"KECK_WAREHOUSE": str(internal_file)}
    proc = _cli("import-values", csv.name, "--level", "sozialraum", env=env, cwd=tmp_path)
    reruns = 0
    while proc.poll() is None:  # the sessions keep working while the import runs in the instance
        for at, page in zip(sessions, ["pages/atlas/karte.py", "pages/atlas/tabelle.py"]):
            at.switch_page(page).run() if reruns % 2 else at.run()
            ok(at)
        reruns += 1
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Warte auf die laufende Anwendung" in err and f"PID {os.getpid()}" in err
    assert "48" in out and reruns >= 1

    with Warehouse(internal_file) as wh:
        new = read_df(wh, "SELECT area_key, value, status FROM indicator_value WHERE indicator = 'ew_gesamt' "
                          "AND level = 'sozialraum' AND year = 2025 ORDER BY area_key")
        assert list(new["area_key"]) == keys and list(new["value"]) == [1000 + i for i in range(len(keys))]
        city = read_df(wh, "SELECT value FROM indicator_value WHERE indicator = 'ew_gesamt' AND level = "
                           "'gesamtstadt' AND year = 2025")["value"]
        assert list(city) == [sum(1000 + i for i in range(len(keys)))]  # aggregated inside the same write
        after = _values(wh)
        assert {k: v for k, v in after.items() if k in before} == before  # nothing else changed or lost
        audit = read_df(wh, "SELECT actor, entity_key FROM audit_log WHERE action = 'import-values'")
    assert ("cli", csv.name) in set(zip(audit["actor"], audit["entity_key"]))

    at = sessions[0]
    at.switch_page("pages/atlas/karte.py").run()
    at.selectbox(key="w_topic").set_value("demografie").run()
    at.selectbox(key="w_ind").set_value("ew_gesamt").run()
    at.selectbox(key="w_yr").set_value(2025).run()  # the instance's pages see the new year at once
    ok(at)
    assert "2025" in at.markdown[0].value or any("2025" in m.value for m in at.markdown if m.value.startswith("# "))

    refused = _cli("release", "gibt_es_nicht", env=env)
    _, err = refused.communicate()
    assert refused.returncode == 2 and "Den Indikator „gibt_es_nicht“ gibt es nicht" in err
    rebuild = _cli("init-demo", "--force", env=env)
    _, err = rebuild.communicate()
    assert rebuild.returncode == 2 and "zuerst die Anwendung beenden" in err and internal_file.exists()


HOLD = ("import sys\nfrom keck_data.warehouse import Warehouse\n"
        "wh = Warehouse(sys.argv[1]); print('offen', flush=True); sys.stdin.readline()")


def test_a_command_waits_for_another_command_or_says_why_it_gave_up(demo_copy):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(demo_copy)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "offen"
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    gave_up = _cli("info", env={**env, "KECK_WAIT_SECONDS": "1"})
    _, err = gave_up.communicate()
    assert gave_up.returncode == 2
    assert f"PID {holder.pid}" in err and "Nach 1 s Warten noch immer belegt" in err
    waiting = _cli("release", "sozialindex", "--withdraw", env=env)
    assert waiting.stderr.readline().startswith("Warte auf die laufende Anwendung …")
    holder.communicate("fertig\n")  # the other command ends: the waiting one takes its turn
    out, err = waiting.communicate()
    assert waiting.returncode == 0 and "1 Indikatoren zurückgezogen" in out, err
    with Warehouse(demo_copy) as wh:
        assert not wh.cursor().execute("SELECT released FROM indicator WHERE key = 'sozialindex'").fetchone()[0]


def test_a_job_nobody_takes_is_withdrawn_with_a_german_message(tmp_path):
    path = tmp_path / "keck.duckdb"
    folder = handover.spool(path)
    folder.mkdir()
    (folder / "desk.json").write_text(json.dumps({"pid": os.getpid()}))  # a desk that never looks
    with pytest.raises(WarehouseError, match="nach 1 s nicht angenommen"):
        handover.submit(path, {"command": "info"}, io.StringIO(), io.StringIO(), timeout=1)
    assert list(folder.glob("*.job")) == []  # it will not run later either
    (folder / "desk.json").write_text(json.dumps({"pid": 2 ** 22 + 1}))  # a process that is gone
    with pytest.raises(WarehouseError, match="er wurde nicht ausgeführt"):
        handover.submit(path, {"command": "info"}, io.StringIO(), io.StringIO(), timeout=60)
    assert list(folder.glob("*.job")) == []


def test_audit_privacy_while_the_instance_runs_uses_its_relations(app, internal_file, public_file):
    """Issue 23, item 7: the audit used to read the relations from the snapshot alone while the instance held
    the internal file, and still exited 0; now it runs in the instance, with the internal relations."""
    ok(app(role="keck_nutzer"))  # the instance holds the internal file
    env = {"KECK_WAREHOUSE": str(internal_file), "KECK_PUBLIC_WAREHOUSE": str(public_file)}
    proc = _cli("audit-privacy", env=env)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, out + err
    assert out.startswith("0 Zellen rekonstruierbar, 0 enger als 4") and "eingeschränkt" not in out
    assert "Warte auf die laufende Anwendung" in err


def test_audit_privacy_without_the_internal_warehouse_says_it_checked_less(public_file, tmp_path):
    proc = _cli("audit-privacy", "--snapshot", str(public_file), env={"KECK_WAREHOUSE": str(tmp_path / "fehlt.duckdb")})
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 3, out + err
    assert out.startswith("0 Zellen rekonstruierbar") and "Nur eingeschränkt geprüft" in out
