"""A live Sozialraumkonferenz with 40 followers on one internal instance: follow latency and server CPU.

A real internal server (``python -m keck_data.ui.serve``) and virtual browsers that speak Streamlit's websocket
protocol (:mod:`benchmarks.protocol`), signed in with the atlas's own cookie token: one moderator and N followers
of one session. Each follower does what its browser does: the follow bar is an ``st.fragment(run_every=…)``, so
the browser re-sends a fragment rerun every ``follow.POLL_SECONDS``; when the moderator's sequence number moved,
the fragment takes over the view and the server reruns the whole page. The moderator changes indicator, year and
selected area every few seconds on the map. Latency = from the moderator's choice (sending the widget change; its
own rerun included) to the end of the follower's rerun showing the same heading and area. CPU = the server
process's CPU time per wall second (1.0 = one core busy).

Run: .venv/bin/python -m benchmarks.bench_session [followers] [changes]
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

from benchmarks.bench_load import ProcWatch, pct
from benchmarks.cluster import ROOT, free_port
from benchmarks.protocol import Browser
from keck_data import auth, conference
from keck_data.demo import init_demo
from keck_data.policy import User
from keck_data.warehouse import Warehouse

CHANGES = [("Indikator", "Anteil Alleinerziehender"), ("Jahr", "2019"),
           ("Gebiet auswählen (oder in der Karte anklicken)", "0203 Lindenhof"),
           ("Indikator", "SGB-II-Quote der unter 15-Jährigen"), ("Jahr", "2024"),
           ("Gebiet auswählen (oder in der Karte anklicken)", "0101 Marktplatz")]


class Participant(Browser):
    """A signed-in browser that remembers what it shows: the page's heading and the selected area."""

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__(base_url)
        self.cookies[auth.COOKIE_NAME] = token
        self.heading = ""

    def _element(self, element) -> list[str]:
        if element.WhichOneof("type") == "markdown" and element.markdown.body.startswith("# "):
            self.heading = element.markdown.body[2:].strip()
        return super()._element(element)

    @property
    def shows(self) -> tuple[str, str]:
        return self.heading, dict(parse_qsl(self.query)).get("sel", "")


async def follower(p: Participant, seen: list[tuple[tuple, float]], until: list[float], poll_s: float) -> None:
    """Tick like the browser's interval timer; note when the moderator's heading arrived."""
    shown = p.shows
    while time.perf_counter() < until[0]:
        started = time.perf_counter()
        await p.tick(next(iter(p.timers)))
        if p.shows != shown:
            seen.append((p.shows, time.perf_counter()))
        shown = p.shows
        await asyncio.sleep(max(0.0, poll_s - (time.perf_counter() - started)))


async def conference_run(url: str, tokens: dict[str, str], sid: int, followers: int, changes: int,
                         watch: ProcWatch) -> None:
    from keck_data.ui.follow import POLL_SECONDS

    moderator = Participant(url, tokens["keck_admin"])
    await moderator.open("karte", f"sitzung={sid}&lvl=sozialraum&sel=0101")
    crowd = [Participant(url, tokens["keck_nutzer"]) for _ in range(followers)]
    t = time.perf_counter()
    for p in crowd:
        await p.open("karte", f"sitzung={sid}")
        if not p.timers:
            raise RuntimeError("a follower has no follow fragment: is it signed in and in the session?")
    print(f"{followers} followers signed in and following in {time.perf_counter() - t:.1f} s "
          f"(heading: {crowd[0].heading})")
    clicked: dict[tuple, float] = {}  # view → when the moderator chose it
    own: list[float] = []  # the moderator's own reruns [s]
    seen: list[tuple[tuple, float]] = []  # (view, when a follower showed it)
    until = [float("inf")]  # followers go on until 6 s after the last change
    watch.start()
    tasks = [asyncio.create_task(follower(p, seen, until, POLL_SECONDS)) for p in crowd]
    for label, option in (CHANGES * (changes // len(CHANGES) + 1))[:changes]:
        await asyncio.sleep(4.0)
        click = time.perf_counter()
        run = await moderator.change(label, option)
        if run.errors:
            raise RuntimeError(f"the moderator's page failed: {run.errors}")
        clicked[moderator.shows] = click
        own.append(run.ms / 1000)
    until[0] = time.perf_counter() + 6
    await asyncio.gather(*tasks)
    cores = watch.cores()
    same = sum(p.shows == moderator.shows for p in crowd)
    lat = sorted(t - clicked[shows] for shows, t in seen if shows in clicked)
    print(f"moderator changes: {changes}, follower updates measured: {len(lat)} (expected "
          f"{changes * followers})")
    if lat:
        print(f"follow latency: p50 {statistics.median(lat):.2f} s, p95 {pct(lat, 95):.2f} s, max {lat[-1]:.2f} s "
              f"(poll every {POLL_SECONDS} s); the moderator's own rerun: p50 {statistics.median(own):.2f} s, "
              f"max {max(own):.2f} s")
    for shows, click in clicked.items():
        times = sorted(t - click for v, t in seen if v == shows)
        if times:
            print(f"  {shows[0][:30]:30} {shows[1]}: first follower {times[0]:.2f} s, last {times[-1]:.2f} s")
    print(f"server CPU: {cores:.2f} cores (machine has {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}); RSS {watch.rss_mb():.0f} MB")
    print(f"followers showing the moderator's view at the end: {same}/{followers} ({moderator.shows})")
    for p in [moderator, *crowd]:
        await p.close()


def main(followers: int = 40, changes: int = 6) -> None:
    base = Path(tempfile.mkdtemp())
    path = base / "keck.duckdb"
    init_demo(path)
    with Warehouse(path) as wh:
        accounts = {role: name for name, role, _ in auth.init_auth(wh, base / "auth")}
        sid = conference.start_session(wh, User(accounts["keck_admin"], "", "keck_admin"), "Benchmark",
                                       date.today(), "sozialraum", ["0101", "0203"])
    key = auth.cookie_key(base / "auth")
    tokens = {role: auth.issue_token(name, key) for role, name in accounts.items()}
    port = free_port()
    env = {**os.environ, "KECK_MODE": "internal", "KECK_WAREHOUSE": str(path), "KECK_AUTH_DIR": str(base / "auth")}
    with open(base / "server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "keck_data.ui.serve", "--server.headless", "true",
                                   "--server.port", str(port), "--server.address", "127.0.0.1",
                                   "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            asyncio.run(conference_run(url, tokens, sid, followers, changes, ProcWatch([server.pid])))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
