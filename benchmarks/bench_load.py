"""Load on the public instance: virtual visitors that speak Streamlit's websocket protocol (benchmarks/protocol.py).

Each visitor opens the map with an address state, then every 2.5–7.5 s changes the indicator, year or level or
moves to another public page (Karte, Tabelle, Diagramme, Zeitreihe, Gebietsvergleich, Indikatoren). Measured per
rerun: time from sending it to Streamlit's script-finished message, payload bytes received, errors (an exception,
an error box, a timeout, a lost connection). The servers are started by deploy/run_public_cluster.sh on loopback;
"direct" talks to the first replica, "proxy" to nginx in front of all of them. Server CPU and RSS come from /proc
(CPU 1.0 = one core busy; CPU ms/run = the replicas' CPU time per script run, the figure for sizing that holds on
a shared machine). kB/rerun and map kB (median of the map's reruns): Streamlit's messages (protobuf); wire kB:
a map rerun as it arrives from the network, after websocket compression. Idle sessions: RSS growth per open but
inactive map session.

Run: .venv/bin/python -m benchmarks.bench_load [--users 10,25,50,100,200] [--seconds 40] [--scale demo|448|11000]
     [--replicas 1] [--via direct|proxy] [--idle 50] [--compare] (1 vs 2 replicas behind nginx, same load)
     [--profile] (py-spy samples the replica under the first load: script, map, queries, protobuf, after-run)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import websockets

from benchmarks.cluster import cluster
from benchmarks.common import BERLIN_PLR, build_warehouse, germany_like
from benchmarks.protocol import Browser
from keck_data.demo import init_demo
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse

START = ("karte", "ind=sgb2_quote_u15&yr=2023")
PAGES = ["karte", "tabelle", "diagramme", "zeitreihe", "gebietsvergleich", "indikatoren"]
ACTIONS = [("Indikator", 0.35), ("Jahr", 0.3), ("Raumebene", 0.15), ("page", 0.2)]
P95_TARGET_MS = 1000


@dataclass
class Stats:
    """What the visitors saw during one load level."""
    ms: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    map_bytes: list[int] = field(default_factory=list)  # reruns of the map page
    map_wire: list[int] = field(default_factory=list)  # the same as received from the network
    errors: list[str] = field(default_factory=list)
    opened: list[float] = field(default_factory=list)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else (values or [0])[0]


async def visitor(url: str, start: tuple[str, str], until: float, delay: float, rng: random.Random,
                  stats: Stats) -> None:
    """One visitor: open the map after ``delay``, then act every 2.5–7.5 s until ``until``."""
    await asyncio.sleep(delay)
    browser = Browser(url)
    page = start[0]
    try:
        run = await browser.open(*start)
        stats.opened.append(run.ms)
        stats.errors += run.errors
        while time.monotonic() + 2.5 < until:
            await asyncio.sleep(rng.uniform(2.5, 7.5))
            action = rng.choices([a for a, _ in ACTIONS], [w for _, w in ACTIONS])[0]
            widget = browser.widgets.get(action)
            if widget and len(widget.options) > 1:
                run = await browser.change(action, rng.choice([o for o in widget.options if o != widget.current]))
            else:  # half of the moves from another page go back to the map
                page = "karte" if page != "karte" and rng.random() < 0.5 else rng.choice(
                    [p for p in PAGES if p != page])
                run = await browser.rerun(page_hash=browser.pages["" if page == "karte" else page])
            stats.ms.append(run.ms)
            stats.bytes.append(run.bytes)
            if page == "karte":
                stats.map_bytes.append(run.bytes)
                stats.map_wire.append(run.wire)
            stats.errors += run.errors
    except (OSError, TimeoutError, websockets.WebSocketException) as err:  # what a visitor sees as an error
        stats.errors.append(f"{type(err).__name__}: {err}")
    finally:
        with contextlib.suppress(OSError, websockets.WebSocketException):
            await browser.close()


async def load(url: str, users: int, seconds: float, start: tuple[str, str], seed: int = 1) -> Stats:
    """``users`` visitors, their starts spread over the first tenth of a second each (at most 10 s)."""
    stats = Stats()
    ramp = min(10.0, users * 0.1)
    until = time.monotonic() + ramp + seconds
    rng = random.Random(seed)
    await asyncio.gather(*(visitor(url, start, until, rng.uniform(0, ramp), random.Random(rng.random()), stats)
                           for _ in range(users)))
    return stats


class ProcWatch:
    """CPU (cores busy) and RSS of a set of processes from /proc."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.tick = os.sysconf("SC_CLK_TCK")
        self.start()

    def start(self) -> None:
        self.cpu0, self.t0 = self.cpu(), time.monotonic()

    def cpu(self) -> float:
        total = 0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / self.tick

    def rss_mb(self) -> float:
        return sum(int(line.split()[1]) for pid in self.pids for line in Path(f"/proc/{pid}/status").read_text()
                   .splitlines() if line.startswith("VmRSS:")) / 1024

    def cores(self) -> float:
        return (self.cpu() - self.cpu0) / max(time.monotonic() - self.t0, 1e-9)


def snapshot(scale: str, tmp: Path) -> Path:
    """The published snapshot of the demo, of a 448-area town (Berlin's planning areas where available) or of
    11,000 generated Gemeinden."""
    if scale == "demo":
        source = tmp / "demo.duckdb"
        init_demo(source)
    elif scale == "448":
        areas = (gpd.read_file(BERLIN_PLR)[["id", "name", "geometry"]].rename(columns={"id": "key"})
                 if BERLIN_PLR.exists() else germany_like(448))
        source = build_warehouse(tmp / "town.duckdb", areas, "Großstadt (448 Gebiete)")
    else:
        source = build_warehouse(tmp / "de.duckdb", germany_like(11_000), "Deutschland (generiert)")
    target = tmp / f"public-{scale}.duckdb"
    with Warehouse(source) as wh:
        publish(wh, target, system("bench"))
    return target


def start_for(scale: str) -> tuple[str, str]:
    return START if scale == "demo" else ("karte", "ind=r0&yr=2024")


def report(rows: list[dict]) -> None:
    print(f"{'run':24} {'users':>5} {'reruns':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'open p50':>8} "
          f"{'kB/rerun':>8} {'map kB':>6} {'wire kB':>7} {'errors':>6} {'CPU':>5} {'CPU ms/run':>10} {'RSS MB':>7}")
    for r in rows:
        print(f"{r['run']:24} {r['users']:>5} {r['reruns']:>6} {r['p50']:>7.0f} {r['p95']:>7.0f} {r['p99']:>7.0f} "
              f"{r['open']:>8.0f} {r['kb']:>8.1f} {r['map_kb']:>6.1f} {r['map_wire_kb']:>7.1f} {r['errors']:>6} {r['cpu']:>5.2f} "
              f"{r['cpu_ms']:>10.0f} {r['rss']:>7.0f}")


def measure(run: str, url: str, watch: ProcWatch, users: int, seconds: float, start: tuple[str, str]) -> dict:
    watch.start()
    stats = asyncio.run(load(url, users, seconds, start))
    runs = len(stats.ms) + len(stats.opened)
    row = {"run": run, "users": users, "reruns": len(stats.ms), "p50": pct(stats.ms, 50), "p95": pct(stats.ms, 95),
           "cpu_ms": (watch.cpu() - watch.cpu0) * 1000 / max(runs, 1),
           "map_wire_kb": statistics.median(stats.map_wire or [0]) / 1000, "p99": pct(stats.ms, 99), "open": pct(stats.opened, 50), "kb": statistics.mean(stats.bytes or [0]) / 1000,
           "map_kb": statistics.median(stats.map_bytes or [0]) / 1000, "errors": len(stats.errors),
           "cpu": watch.cores(), "rss": watch.rss_mb()}
    for e in sorted(set(stats.errors))[:3]:
        print(f"  error ({stats.errors.count(e)}×): {e[:160]}")
    report([row])
    return row


PROFILE_PARTS = [  # (what, a frame that marks it), counted inclusively over the replica's busy samples
    ("script run (app.py and the page)", "<module> (app.py"),
    ("  map: build the deck (mapdeck.build)", "build (keck_data/mapdeck.py"),
    ("  map: deck JSON (to_json)", "to_json ("),
    ("  DuckDB queries (keck_data.queries/warehouse)", "(keck_data/warehouse.py"),
    ("  elements to protobuf (DeltaGenerator._enqueue)", "DeltaGenerator._enqueue ("),
    ("after the run (ScriptRunner._on_script_finished)", "ScriptRunner._on_script_finished ("),
    ("websocket/event loop (uvicorn, starlette)", "BaseEventLoop.run_forever ("),
]


def profile(pid: int, seconds: float, out: Path) -> None:
    """Sample the replica with py-spy (requirements-dev.txt) while it is under load; print where the time goes."""
    spy = Path(sys.executable).parent / "py-spy"
    subprocess.run([str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50",
                    "--format", "raw", "--nonblocking", "--output", str(out)], check=True, capture_output=True)
    stacks = [line.rsplit(" ", 1) for line in out.read_text().splitlines() if line.strip()]
    total = sum(int(n) for _, n in stacks)
    print(f"profile: {total} busy samples of the replica in {seconds:.0f} s ({out})")
    for what, frame in PROFILE_PARTS:
        share = sum(int(n) for stack, n in stacks if frame in stack) / max(total, 1)
        print(f"  {what:52} {share:6.1%}")


def idle_memory(url: str, watch: ProcWatch, count: int, start: tuple[str, str]) -> float:
    """RSS growth per open, inactive map session (MB)."""
    async def run() -> float:
        before = watch.rss_mb()
        browsers = [Browser(url) for _ in range(count)]
        for b in browsers:
            await b.open(*start)
        await asyncio.sleep(3)
        after = watch.rss_mb()
        for b in browsers:
            await b.close()
        return (after - before) / count
    per = asyncio.run(run())
    print(f"idle: {count} open map sessions: {per:.2f} MB RSS per session")
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="10,25,50,100,200")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--scale", choices=["demo", "448", "11000"], default="demo")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--via", choices=["direct", "proxy"], default="direct")
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--compare", action="store_true", help="1 vs 2 replicas behind nginx at each load")
    parser.add_argument("--profile", action="store_true", help="py-spy profile of the replica at the first load")
    args = parser.parse_args()
    users = [int(u) for u in args.users.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench_load_"))
    snap = snapshot(args.scale, tmp)
    start = start_for(args.scale)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; snapshot {args.scale}")
    rows, per_session = [], None
    setups = [(1, "proxy"), (2, "proxy")] if args.compare else [(args.replicas, args.via)]
    for replicas, via in setups:
        with cluster(snap, replicas, tmp / f"cluster-{replicas}") as (direct, proxy, pids):
            url = proxy if via == "proxy" else direct[0]
            watch = ProcWatch(pids if via == "proxy" else pids[:1])
            asyncio.run(load(url, 2, 8, start))  # warm the caches
            if per_session is None and args.idle:
                per_session = idle_memory(url, watch, args.idle, start)
            if args.profile:
                with ThreadPoolExecutor(1) as pool:
                    spy = pool.submit(profile, pids[0], args.seconds, tmp / "profile.txt")
                    measure("1 replica, profiled", url, watch, users[0], args.seconds, start)
                    spy.result()
            for n in users:
                rows.append(measure(f"{replicas} replica(s) {via}", url, watch, n, args.seconds, start))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (other work on this machine shares its cores)")
    report(rows)
    held = [r for r in rows if r["p95"] <= P95_TARGET_MS and not r["errors"]]
    best = max(held, key=lambda r: r["users"]) if held else min(rows, key=lambda r: r["users"])
    print(f"users={best['users'] if held else 0} p95_ms={best['p95']:.0f} errors={best['errors']} "
          f"rss_mb_per_session={per_session if per_session is not None else float('nan'):.2f}")


if __name__ == "__main__":
    sys.exit(main())
