"""A new public snapshot while visitors are reading: running reruns finish on the old one, later ones use the
new one, and nobody sees an error, a traceback or a server path."""
import os
import shutil
import threading
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from keck_data import editing
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.conftest import ROOT

PAGES = ["pages/atlas/karte.py", "pages/atlas/tabelle.py", "pages/atlas/indikatoren.py", "pages/atlas/zeitreihe.py"]


@pytest.fixture()
def snapshots(demo_file, tmp_path):
    """Two different snapshots (the second has the Sozialindex released) and the served file."""
    source = tmp_path / "keck.duckdb"
    shutil.copy(demo_file, source)
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with Warehouse(source) as wh:
        publish(wh, first, system())
        editing.set_released(wh, system(), "sozialindex", True)
        publish(wh, second, system())
    served = tmp_path / "public" / "public.duckdb"
    served.parent.mkdir()
    shutil.copy(first, served)
    return first, second, served


def test_30_swaps_while_4_sessions_rerun_show_no_error(snapshots, monkeypatch):
    first, second, served = snapshots
    monkeypatch.setenv("KECK_MODE", "public")
    monkeypatch.setenv("KECK_PUBLIC_WAREHOUSE", str(served))
    st.cache_data.clear()
    st.cache_resource.clear()
    problems, runs, stop = [], [], threading.Event()

    def visitor(n: int) -> None:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        i = n
        while not stop.is_set():
            at.switch_page(PAGES[i % len(PAGES)]).run()
            i += 1
            runs.append(1)
            problems.extend(f"{PAGES[(i - 1) % len(PAGES)]}: {e.value}" for e in [*at.exception, *at.error])

    sessions = [threading.Thread(target=visitor, args=(n,)) for n in range(4)]
    for s in sessions:
        s.start()
    time.sleep(3)
    for i in range(30):  # exactly what publish does: a complete file renamed over the served one
        tmp = served.with_name(f".public.duckdb.{i}.tmp")
        shutil.copy(second if i % 2 == 0 else first, tmp)
        os.replace(tmp, served)
        seen = len(runs)
        deadline = time.time() + 120
        while len(runs) < seen + 2 and time.time() < deadline:  # the next swap comes while others still read
            time.sleep(0.05)
    stop.set()
    for s in sessions:
        s.join(timeout=300)
    st.cache_resource.clear()
    assert not problems, problems[:5]
    assert len(runs) >= 60, "the sessions hardly ran"


def test_public_errors_are_a_german_box_without_traceback_or_path(app, monkeypatch):
    from keck_data.queries import Atlas

    def broken(self, *args):
        raise RuntimeError("/srv/keck/warehouse/public.duckdb: kaputt")

    monkeypatch.setattr(Atlas, "table", broken)
    at = app("public")
    at.switch_page("pages/atlas/tabelle.py").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Diese Ansicht konnte gerade nicht angezeigt werden. Bitte die Seite "
                                           "neu laden."]


def test_public_server_hides_error_details(monkeypatch):
    from keck_data.ui import serve
    started = []
    monkeypatch.setattr(serve.cli, "main", lambda: started.append(list(serve.sys.argv)))
    monkeypatch.setattr(serve.sys, "argv", ["serve", "--server.port", "8502"])
    monkeypatch.setenv("KECK_MODE", "public")
    serve.main()
    assert started[0][3:8] == ["--client.showErrorDetails", "none", "--runner.postScriptGC", "false", "--server.port"]
