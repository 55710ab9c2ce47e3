"""Issue 12, item 7 against the real server (python -m keck_data.ui.serve): a signed-in browser session keeps
working while a command-line import runs in the server's desk, and sees the new year right after."""
import os
import shutil
import subprocess
import sys

import pytest

from keck_data import auth
from keck_data.warehouse import Warehouse, read_df
from tests.browser_support import atlas_server, signed_in, wait_idle
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


def test_cli_import_while_the_real_server_serves_a_session(demo_file, browser, tmp_path):
    path = tmp_path / "keck.duckdb"
    shutil.copy(demo_file, path)
    with Warehouse(path) as wh:
        account = next((u, p) for u, role, p in auth.init_auth(wh, tmp_path / "auth") if role == "keck_nutzer")
        keys = list(read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"])
    csv = tmp_path / "einwohner_2030.csv"
    csv.write_text("key;indicator;year;value\n" + "".join(f"{k};ew_gesamt;2030;{500 + i}\n"
                                                          for i, k in enumerate(keys)), encoding="utf-8")
    env = {"KECK_WAREHOUSE": str(path), "KECK_AUTH_DIR": str(tmp_path / "auth"), "KECK_MODE": "internal"}
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    with atlas_server(env, tmp_path / "server.log") as url:
        try:
            signed_in(page, f"{url}/tabelle?lvl=sozialraum&inds=ew_gesamt", account)  # the server holds the file
            page.get_by_role("heading", name="Tabelle Sozialraum 2024").wait_for(timeout=90_000)
            cli = subprocess.Popen([sys.executable, "-m", "keck_data", "import-values", str(csv), "--level",
                                    "sozialraum"], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
            reloads = 0
            while cli.poll() is None:  # the session keeps being served meanwhile
                page.reload()
                wait_idle(page)
                assert "Traceback" not in page.inner_text("body")
                reloads += 1
            out, err = cli.communicate()
            assert cli.returncode == 0, err
            assert "Warte auf die laufende Anwendung" in err and f"PID {os.getpid()}" not in err
            assert "48" in out and reloads >= 1
            page.goto(f"{url}/tabelle?lvl=sozialraum&inds=ew_gesamt")  # the address without the year shown so far
            wait_idle(page)
            page.get_by_role("heading", name="Tabelle Sozialraum 2030").wait_for(timeout=90_000)  # new latest year
            info = subprocess.run([sys.executable, "-m", "keck_data", "info", "--json"], cwd=ROOT, text=True,
                                  env={**os.environ, **env}, capture_output=True)
            assert info.returncode == 0 and '"years": [2015, 2016' in info.stdout and "2030]" in info.stdout
        finally:
            context.close()
    with Warehouse(path) as wh:
        audit = read_df(wh, "SELECT actor, changed_at FROM audit_log WHERE action = 'import-values'")
        assert set(audit["actor"]) == {"cli"} and audit["changed_at"].nunique() == 1  # one audited write
        assert read_df(wh, "SELECT count(*) AS n FROM indicator_value WHERE indicator = 'ew_gesamt' AND year = 2030 "
                           "AND level = 'sozialraum' AND status = 'ok'")["n"][0] == len(keys)
