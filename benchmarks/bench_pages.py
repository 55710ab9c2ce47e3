"""Server time per rerun of every page (AppTest, from app.py), at the demo scale and at Berlin's 448 areas.

Run: .venv/bin/python -m benchmarks.bench_pages
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from streamlit.testing.v1 import AppTest

from benchmarks.common import BERLIN_PLR, build_warehouse
from keck_data import auth, cli, handover
from keck_data.demo import init_demo
from keck_data.warehouse import Warehouse

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/atlas/karte.py", "pages/atlas/tabelle.py", "pages/atlas/diagramme.py", "pages/atlas/zeitreihe.py",
         "pages/atlas/gebietsvergleich.py", "pages/atlas/indikatoren.py"]


def _time(fn, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(name: str, path: Path, params: dict, indicators: tuple[str, str]) -> None:
    os.environ["KECK_WAREHOUSE"] = str(path)
    os.environ["KECK_MODE"] = "internal"
    os.environ["KECK_AUTH_DIR"] = tempfile.mkdtemp()
    with Warehouse(path) as wh:
        username, _, password = auth.init_auth(wh)[1]  # the keck_admin demo login
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "Anmelden").click().run()
    assert not at.exception, at.exception
    flip = iter(indicators * 10)
    change = _time(lambda: at.selectbox(key="w_ind").set_value(next(flip)).run())
    print(f"{name}: map rerun after changing the indicator: {change:.0f} ms (median of 5, AppTest)")
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        print(f"{name}: {page:28} rerun {_time(lambda: at.run()):6.0f} ms")


def desk_cost(name: str, path: Path) -> None:
    """What the instance pays for taking command-line jobs: the desk thread's idle look at the job folder
    (page reruns keep using the open connection and pay nothing)."""
    with Warehouse(path) as wh:
        desk = handover.Desk(wh, cli.run_job)
        desk.folder.mkdir(exist_ok=True)
        n = 2000
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            desk.poll()
        wall, cpu = (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n
    print(f"{name}: desk idle poll {wall * 1e6:.0f} µs wall, {cpu * 1e6:.0f} µs CPU, every "
          f"{handover.POLL_SECONDS * 1000:.0f} ms = {cpu / handover.POLL_SECONDS:.3%} of one core")


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    demo = tmp / "demo.duckdb"
    init_demo(demo)
    measure("Musterstadt", demo, {"areas": "0101,0102"}, ("sgb2_quote_u15", "anteil_alleinerziehend"))
    desk_cost("Musterstadt", demo)
    if BERLIN_PLR.exists():
        berlin = gpd.read_file(BERLIN_PLR)[["id", "name", "geometry"]].rename(columns={"id": "key"})
        path = build_warehouse(tmp / "berlin.duckdb", berlin, "Berlin")
        measure("Berlin 448", path, {"ind": "r0", "areas": "01011101,01011102", "inds": "r0,r1,n0"}, ("r0", "r1"))


if __name__ == "__main__":
    main()
