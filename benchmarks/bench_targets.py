"""``ziele status`` for 500 targets over 448 areas (target: ≤ 1 s).

A one-level town of 448 areas (13 indicators, 2 years), 500 targets imported with ``ziele import`` (which stores
their evaluation). Printed: the status as the CLI computes it (stored evaluations, data unchanged) in process and
as a whole ``python -m keck_data ziele status --json`` (with the interpreter's start, compared with ``info``),
the evaluation of all targets on a warm Atlas, and the cold path (privacy computed first) for comparison.

Run: .venv/bin/python -m benchmarks.bench_targets
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, build_warehouse, germany_like, timed
from keck_data.analysis import target_edits, targets
from keck_data.policy import system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse

N_TARGETS = 500


def targets_csv(wh: Warehouse, path: Path) -> Path:
    """500 targets "senken" on the six rates, spread over the areas, baseline 2023, target 2030."""
    vals = Atlas(wh).values([f"r{i}" for i in range(6)], [2023])
    vals = vals[(vals["level"] == "gebiet") & vals["status"].eq("ok")].sort_values(["area_key", "indicator"])
    rows = ["titel;indikator;ebene;gebiet;basisjahr;zieljahr;zielwert;richtung;toleranz"]
    for n, r in enumerate(vals.head(N_TARGETS).itertuples(index=False)):
        rows.append(f"Ziel {n};{r.indicator};gebiet;{r.area_key};2023;2030;{round(r.value * 0.8, 1)};senken;0,2")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def cli_seconds(env: dict, *args: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one command in its own interpreter."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "keck_data", *args], cwd=ROOT, env={**os.environ, **env}, check=True,
                   capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - started, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = build_warehouse(Path(tmp) / "gross.duckdb", germany_like(448), "Großstadt")
        with Warehouse(path) as wh:
            started = time.perf_counter()
            result = target_edits.import_targets(wh, system("bench"), targets_csv(wh, Path(tmp) / "ziele.csv"))
            print(f"ziele import: {result['neu']} Ziele in {time.perf_counter() - started:.1f} s "
                  f"(Ampel {result['ampel']})")
            warm = Atlas(wh)
            targets.evaluate(warm)
            ms, done = timed(lambda: targets.evaluate(warm), repeat=5)
            print(f"evaluate, warm Atlas (privacy already applied): {ms:.0f} ms for {len(done)} targets")
            ms, rows = timed(lambda: targets.status_rows(targets.current(Atlas(wh))), repeat=5)
            print(f"ziele status in process (new Atlas, stored evaluations): {ms:.0f} ms for {len(rows)} targets")
            started = time.perf_counter()
            targets.evaluate(Atlas(wh))
            print(f"cold evaluation (new Atlas, privacy computed first): {time.perf_counter() - started:.1f} s")
        env = {"KECK_WAREHOUSE": str(path)}
        info = min(cli_seconds(env, "info") for _ in range(3))
        status = min(cli_seconds(env, "ziele", "status", "--json") for _ in range(3))
        print(f"python -m keck_data ziele status --json: {status[0]:.2f} s wall, {status[1]:.2f} s CPU "
              f"(python -m keck_data info, i.e. starting the interpreter and opening the file: {info[0]:.2f} s wall, "
              f"{info[1]:.2f} s CPU)")


if __name__ == "__main__":
    main()
