"""deploy/run_public_cluster.sh: two public replicas behind nginx on loopback, driven over Streamlit's protocol.

Affinity, downloads and failover are checked with the virtual browser of the load benchmark
(benchmarks/protocol.py); nginx's access log (route cookie and upstream per request) shows who served whom.
"""
import asyncio
import os
import re
import shutil
import signal

import pytest

from benchmarks.cluster import cluster
from benchmarks.protocol import Browser, run
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse

pytestmark = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx)")
MAP = ("karte", "ind=sgb2_quote_u15&yr=2023&lvl=stadtbezirk")


@pytest.fixture(scope="module")
def snapshot(demo_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    shutil.copy(demo_file, folder / "keck.duckdb")
    with Warehouse(folder / "keck.duckdb") as wh:
        publish(wh, folder / "public.duckdb", system())
    return folder / "public.duckdb"


def served_by(log: str, route: str, path: str = "") -> list[str]:
    """The replica that finally answered each request of one visitor (by its route cookie), in order."""
    return [m.group(1).split(", ")[-1] for m in re.finditer(rf'{path}[^"]*" \d+ upstream=([^=]+) route={route}$',
                                                             log, re.MULTILINE)]


async def visit(url: str, cookies: dict | None = None) -> Browser:
    """Open the map through nginx; the run shows the map and no error."""
    browser = Browser(url)
    browser.cookies.update(cookies or {})
    run = await browser.open(*MAP)
    assert not run.errors, run.errors
    assert "deck_gl_json_chart" in browser.elements
    return browser


def test_two_replicas_affinity_download_and_failover(snapshot, tmp_path):
    with cluster(snapshot, 2, tmp_path) as (replicas, proxy, pids):
        async def scenario() -> None:
            visitors = [await visit(proxy) for _ in range(3)]
            for b in visitors:  # downloads are held by the session's replica: each one must arrive
                run = await b.rerun(page_hash=b.pages["tabelle"])
                assert not run.errors, run.errors
                body = await b.download("Als CSV herunterladen")
                assert body.decode("utf-8-sig").startswith("Ebene;Schlüssel;Gebiet;")
            log = (tmp_path / "access.log").read_text()
            served = [set(served_by(log, b.cookies["keck_route"])) for b in visitors]
            assert all(len(s) == 1 for s in served), served  # page, downloads: one replica per visitor
            dead = next(iter(served[0]))
            os.kill(pids[replicas.index(f"http://{dead}")], signal.SIGKILL)
            for b in visitors:
                await b.close()
            again = await visit(proxy, visitors[0].cookies)  # the same visitor reloads: the other replica answers
            fresh = [await visit(proxy) for _ in range(3)]  # new visitors: none is sent to the dead replica
            for b in [again, *fresh]:
                await b.close()
            await asyncio.sleep(0.5)  # nginx logs a websocket when it closes
            log = (tmp_path / "access.log").read_text()
            assert served_by(log, again.cookies["keck_route"], "/_stcore/stream")[-1] != dead
            for b in fresh:
                assert dead not in served_by(log, b.cookies["keck_route"]), log

        run(scenario())
