"""Analysis layer timings (issue 19 targets): Sozialindex with 1,000 rank-stability draws, similar areas, profile.

Targets: index over 448 areas × 20 indicators with 1,000 draws ≤ 1 s; similar areas ≤ 100 ms;
11,000 areas × 20 indicators ≤ 5 s. Measured through the Atlas (shown values, privacy applied; its one-off
protection of a new warehouse version is reported apart as "warm-up") and on bare arrays.

Run: .venv/bin/python -m benchmarks.bench_analysis
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import germany_like, timed
from keck_data import store
from keck_data.analysis import profile, similar, sozialindex, standardise
from keck_data.analysis.sozialindex import Spec
from keck_data.policy import Resource, system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse

N_INDICATORS = 20
YEAR = 2024


def build(path: Path, n_areas: int) -> Path:
    """One level of ``n_areas`` Voronoi areas with 20 shares (two years) and the town above."""
    areas = germany_like(n_areas).assign(parent_key="0")
    rng = np.random.default_rng(7)
    inds = [{"key": f"q{i}", "name": f"Quote {i}", "topic": "soziale_lage", "unit": "%", "kind": "mean",
             "aggregation": "none", "polarity": "high_good" if i % 4 == 0 else "high_bad", "decimals": 1,
             "definition": "d", "calculation": "c", "source": "s", "reference_date": "r", "released": True}
            for i in range(N_INDICATORS)]
    values = pd.concat([pd.DataFrame({"indicator": f"q{i}", "level": "gebiet", "area_key": areas["key"], "year": y,
                                      "value": rng.gamma(2.0, 5.0 + i, len(areas)), "status": "ok"})
                        for i in range(N_INDICATORS) for y in (YEAR - 4, YEAR)])
    whole = areas.dissolve().assign(key="0", name="Land", parent_key=None)[["key", "name", "parent_key", "geometry"]]

    def populate(tx):
        store.replace_levels(tx, [{"key": "gesamt", "name": "Gesamt", "ordering": 0},
                                  {"key": "gebiet", "name": "Gebiet", "parent_level": "gesamt", "ordering": 1}])
        store.upsert_areas(tx, "gesamt", whole)
        store.upsert_areas(tx, "gebiet", areas)
        store.upsert_indicators(tx, inds)
        store.upsert_values(tx, values)

    with Warehouse(path) as wh:
        wh.write(system("bench"), "init-demo", [Resource("level", "gebiet")], populate)
    return path


def arrays(n_areas: int) -> dict:
    """The computation alone: standardise, score, rank, classes and 1,000 draws on an n × 20 matrix."""
    rng = np.random.default_rng(1)
    x = rng.gamma(2.0, 5.0, (n_areas, N_INDICATORS))
    x[rng.random(x.shape) < 0.02] = np.nan
    weights = rng.uniform(0.5, 2.0, N_INDICATORS)
    spec = Spec("gebiet", YEAR, {f"q{i}": w for i, w in enumerate(weights)}, missing="renormalise")

    def run():
        z = standardise.standardise(x, "zscore")
        score = sozialindex.scores(z, weights, "renormalise")
        rank = sozialindex.ranks(score)
        return sozialindex.stability(z, weights, spec, sozialindex.classify(score, rank, spec.classes))
    ms, _ = timed(run, repeat=5)
    return {"areas": n_areas, "indicators": N_INDICATORS, "draws": 1000, "arrays_ms": round(ms, 1)}


def through_atlas(path: Path, n_areas: int) -> dict:
    with Warehouse(path, read_only=True) as wh:
        atlas = Atlas(wh)
        keys = [f"q{i}" for i in range(N_INDICATORS)]
        t = time.perf_counter()
        atlas.values(keys[:1])  # privacy decided once per warehouse version (kept for every session)
        warm = (time.perf_counter() - t) * 1000
        spec = Spec("gebiet", YEAR, {k: 1.0 + (i % 3) for i, k in enumerate(keys)}, missing="renormalise")
        index_ms, result = timed(lambda: sozialindex.build(atlas, spec), repeat=3)
        dynamics_ms, _ = timed(lambda: sozialindex.build(atlas, replace(spec, dynamics_years=4)), repeat=3)
        area = result.table["key"].iloc[len(result.table) // 2]
        similar_ms, _ = timed(lambda: similar.similar(atlas, area, "gebiet", YEAR, keys, 5))
        profile_ms, _ = timed(lambda: profile.profile(atlas, area, "gebiet", YEAR), repeat=3)
    return {"areas": n_areas, "warm_up_ms": round(warm), "index_with_1000_draws_ms": round(index_ms, 1),
            "index_with_dynamics_ms": round(dynamics_ms, 1),
            "similar_ms": round(similar_ms, 1), "profile_ms": round(profile_ms, 1)}


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    print(json.dumps({"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}), flush=True)
    for n in (448, 11_000):
        print(json.dumps(arrays(n)), flush=True)
        started = time.perf_counter()
        path = build(tmp / f"w{n}.duckdb", n)
        print(json.dumps({"areas": n, "build_s": round(time.perf_counter() - started, 1)}), flush=True)
        print(json.dumps(through_atlas(path, n)), flush=True)
    print(json.dumps({"load_average_1min": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
