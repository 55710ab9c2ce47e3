"""A live Sozialraumkonferenz with 40 followers on one internal instance: follow latency and server CPU.

One process plays the server: every participant is an AppTest session of app.py (Streamlit runs all sessions of
an instance as threads of one process, sharing the caches and the warehouse connection — as here; AppTest is not
thread-safe, so script runs take turns, as CPU-bound runs under the GIL do on a server anyway). The moderator
changes indicator, year and selected area every few seconds; each follower polls the session row every
``follow.POLL_SECONDS`` (what its st.fragment does) and, when the sequence number moved, reruns the page (what
the fragment's st.rerun does). Latency = from the moderator's write to the end of the follower's rerun showing
the new view. CPU = process CPU time / wall time (1.0 = one core busy).

Run: .venv/bin/python -m benchmarks.bench_session [followers] [changes]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from keck_data import auth, conference
from keck_data.demo import init_demo
from keck_data.policy import User
from keck_data.ui.follow import POLL_SECONDS
from keck_data.warehouse import Warehouse

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CHANGES = [("w_ind", "anteil_alleinerziehend"), ("w_yr", 2019), ("w_sel", "0203"), ("w_ind", "sgb2_quote_u15"),
           ("w_yr", 2024), ("w_sel", "0101")]


def signed_in(account: tuple[str, str], **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.text_input(key="login_user").input(account[0])
    at.text_input(key="login_password").input(account[1])
    next(b for b in at.button if b.label == "Anmelden").click().run()
    return at


def heading(at: AppTest) -> str:
    return next((m.value for m in at.markdown if m.value.startswith("# ")), "")


def main(followers: int = 40, changes: int = 6) -> None:
    base = Path(tempfile.mkdtemp())
    path = base / "keck.duckdb"
    init_demo(path)
    with Warehouse(path) as wh:
        accounts = {role: (u, p) for u, role, p in auth.init_auth(wh, base / "auth")}
    os.environ.update(KECK_WAREHOUSE=str(path), KECK_MODE="internal", KECK_AUTH_DIR=str(base / "auth"))
    moderator = signed_in(accounts["keck_admin"])
    from keck_data.ui.resources import atlas  # the instance's one warehouse connection (after the first run)
    wh = atlas().wh
    sid = conference.start_session(wh, User(accounts["keck_admin"][0], "", "keck_admin"), "Benchmark",
                                   date.today(), "sozialraum", ["0101", "0203"])
    moderator.query_params["sitzung"] = str(sid)
    moderator.session_state["view"] = {**moderator.session_state["view"], "sitzung": str(sid), "sel": "0101"}
    moderator.run()
    t = time.perf_counter()
    crowd = [signed_in(accounts["keck_nutzer"], sitzung=str(sid)) for _ in range(followers)]
    print(f"{followers} followers signed in and following in {time.perf_counter() - t:.1f} s")

    written: dict[int, float] = {}  # sequence number → when the moderator's write committed
    latencies: list[float] = []
    stop = threading.Event()
    lock, running = threading.Lock(), threading.Lock()

    def follow(at: AppTest) -> None:
        seen = conference.live(wh, sid)[0]
        while not stop.is_set():
            time.sleep(POLL_SECONDS)
            seq = conference.live(wh, sid)[0]  # the fragment's one-row read
            if seq != seen:
                with running:
                    at.run()  # the fragment takes over the view and reruns the page
                done = time.perf_counter()
                seen = seq
                with lock:
                    if seq in written:
                        latencies.append(done - written[seq])

    threads = [threading.Thread(target=follow, args=(at,), daemon=True) for at in crowd]
    for th in threads:
        th.start()
    cpu, wall = time.process_time(), time.perf_counter()
    for key, value in (CHANGES * (changes // len(CHANGES) + 1))[:changes]:
        moderator.session_state[key] = value  # as if chosen in the widget
        moderator.session_state["view"] = {**moderator.session_state["view"], key[2:]: str(value)}
        with running:
            moderator.run()  # its rerun writes the view (follow.publish_view)
        with lock:
            written[conference.live(wh, sid)[0]] = time.perf_counter()
        time.sleep(4)
    stop.set()
    for th in threads:
        th.join(timeout=120)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    same = sum(heading(at) == heading(moderator) for at in crowd)
    lat = sorted(latencies)
    print(f"moderator changes: {changes}, follower updates measured: {len(lat)} (expected {changes * followers})")
    print(f"follow latency: p50 {statistics.median(lat):.2f} s, p95 {lat[int(0.95 * (len(lat) - 1))]:.2f} s, "
          f"max {lat[-1]:.2f} s (poll every {POLL_SECONDS} s)")
    print(f"server CPU: {cpu / wall:.2f} cores over {wall:.0f} s (process time {cpu:.0f} s; machine has "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    print(f"followers showing the moderator's heading at the end: {same}/{followers} ({heading(moderator)})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
