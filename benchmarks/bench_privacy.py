"""Disclosure control at publish: protection (primary + LP-driven secondary suppression) and the attacker's audit.

Two scales: the demo (48 Sozialräume, 7 Stadtbezirke, its whole catalogue, 10 years) and a large town of
448 Sozialräume in 16 Stadtbezirke with the demo catalogue and three extra small counts (≥ 60 indicators) over
10 years, values drawn like the demo's. Target: protection + audit ≤ 60 s for the large town. Times are printed
as wall clock and as CPU time of this process (on a shared machine the CPU time is the steadier figure).

Run: .venv/bin/python -m benchmarks.bench_privacy
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from keck_data import aggregation, area_groups, catalogue, demo, policy, privacy
from keck_data.demo import init_demo
from keck_data.privacy_audit import audit
from keck_data.publish import publish
from keck_data.warehouse import Warehouse, read_df

EXTRA = ["faelle_a", "faelle_b", "faelle_c"]  # three more small counts: 60 indicators in all


def large_town(n_areas: int = 448, n_districts: int = 16) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(raw values of all levels, indicator metadata, area tree) for a synthetic town."""
    rng = np.random.default_rng(7)
    district = np.sort(rng.integers(0, n_districts, n_areas))
    keys = [f"{d + 1:02d}{i:03d}" for i, d in enumerate(district)]
    soz = gpd.GeoDataFrame({"key": keys, "parent_key": [f"{d + 1:02d}" for d in district]},
                           geometry=shapely.points(rng.uniform(0, 1, n_areas), rng.uniform(0, 1, n_areas)))
    leaf = demo.build_values(soz, rng)
    ew_u18 = leaf[leaf["indicator"] == "ew_u18"]
    for k, p in zip(EXTRA, (0.003, 0.006, 0.012)):
        leaf = pd.concat([leaf, ew_u18.assign(indicator=k, value=rng.binomial(ew_u18["value"].astype(int), p))])
    inds = catalogue.INDICATORS + [{"key": k, "kind": "count", "aggregation": "sum"} for k in EXTRA]
    meta = pd.DataFrame(inds).set_index("key")
    parents = pd.Series(soz["parent_key"].to_numpy(), index=soz["key"])
    bez = aggregation.aggregate(leaf, parents, meta).assign(level="stadtbezirk")
    city = aggregation.aggregate(bez, pd.Series("0", index=bez["area_key"].unique()), meta).assign(level="gesamtstadt")
    values = pd.concat([leaf.assign(note=None), bez, city], ignore_index=True)
    tree = pd.concat([
        pd.DataFrame({"level": ["gesamtstadt"], "key": ["0"], "parent_level": [None], "parent_key": [None]}),
        pd.DataFrame({"level": "stadtbezirk", "key": parents.unique(), "parent_level": "gesamtstadt",
                      "parent_key": "0"}),
        pd.DataFrame({"level": "sozialraum", "key": keys, "parent_level": "stadtbezirk",
                      "parent_key": soz["parent_key"]})], ignore_index=True)
    return values, meta, tree


def protect_and_audit(values, meta, tree, rule) -> None:
    """Print protection and audit times: wall clock and CPU time of this process (the machine may be shared)."""
    started, cpu = time.perf_counter(), time.process_time()
    safe = privacy.apply(values, meta, tree, rule)
    protected, cpu_protected = time.perf_counter(), time.process_time()
    released = safe[safe["indicator"].isin(meta.index[meta["released"].fillna(True).astype(bool)])]
    result = audit(privacy.round_declared(released, meta)[["indicator", "level", "area_key", "year", "value",
                                                           "status"]], meta, tree, rule)
    done, cpu_done = time.perf_counter(), time.process_time()
    reasons = safe["reason"].fillna("")
    print(f"  {len(values):,} values, {values['area_key'].nunique()} areas, {values['indicator'].nunique()} "
          f"indicators, {values['year'].nunique()} years")
    print(f"  primary {reasons.str.startswith('primär').sum():,}, secondary {reasons.str.startswith('sekundär').sum():,}"
          f", rates following {reasons.str.startswith('Zähler').sum():,}")
    print(f"  protection {protected - started:.1f} s + audit {done - protected:.1f} s = {done - started:.1f} s wall "
          f"({cpu_protected - cpu:.1f} + {cpu_done - cpu_protected:.1f} = {cpu_done - cpu:.1f} s CPU)")
    print(f"  audit: {result.summary()}")


def main() -> None:
    rule = privacy.PrivacyRule()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "demo.duckdb"
    init_demo(path)
    with Warehouse(path) as wh:
        print("Demo (Musterstadt):")
        values = read_df(wh, "SELECT * FROM indicator_value")
        meta = read_df(wh, "SELECT * FROM indicator").set_index("key")
        tree = area_groups.tree(wh.cursor())
        protect_and_audit(values, meta, tree, rule)
        started = time.perf_counter()
        result = publish(wh, tmp / "public.duckdb", policy.system("bench"), rule)
        print(f"  publish (protection, audit, snapshot): {time.perf_counter() - started:.1f} s, "
              f"{result['suppressed']:,} of {result['values']:,} released values „k. A.“")
    print("Large town (448 Sozialräume, the demo catalogue + 3 small counts, 10 years):")
    protect_and_audit(*large_town(), rule)


if __name__ == "__main__":
    main()
