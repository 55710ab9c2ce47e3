"""Versorgungsanalyse: 2SFCA (and the whole supply table) at the issue's two scales.

Targets (issue 21): 2,880 POIs × 448 demand points ≤ 1 s; 20,000 POIs × 11,000 demand points ≤ 10 s. Points
are drawn over a Berlin-sized box (38 × 24 km around 13.4° E, 52.5° N) with 448 Voronoi areas; with the real
Berlin data present, the first scale uses the 2,880 Kitas and the 448 Planungsräume. Radii 500 m and 1,000 m.
"two_step_fca" is the catchment alone (projection to UTM + STRtree + sums); "compute" is the whole table
(POIs into areas, catchment, sums per area and parent).

Run: .venv/bin/python -m benchmarks.bench_versorgung
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from benchmarks.common import BERLIN_PLR, timed
from keck_data.analysis import supply
from keck_data.analysis.catchment import to_metres, two_step_fca

BOX = (13.1, 52.35, 13.75, 52.65)
KITAS = BERLIN_PLR.parent.parent / "poi" / "kindertagesstaetten.geojson"


def synthetic(n_pois: int, n_points: int, n_areas: int = 448, seed: int = 7) -> supply.Inputs:
    """Inputs with uniform POIs (capacity 10–150, 2 % without), demand points (0–300) and Voronoi areas."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = BOX

    def lonlat(n):
        return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    seeds = shapely.points(*lonlat(n_areas))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=shapely.box(*BOX)))
    cells = shapely.intersection(cells, shapely.box(*BOX))
    geometry = pd.DataFrame({"key": [f"{i:08d}" for i in range(len(cells))], "geom": cells})
    lon, lat = lonlat(n_pois)
    cap = rng.integers(10, 150, n_pois).astype(float)
    cap[rng.random(n_pois) < 0.02] = np.nan
    pois = pd.DataFrame({"id": np.arange(n_pois), "name": [f"Kita {i}" for i in range(n_pois)], "capacity": cap,
                         "lon": lon, "lat": lat})
    plon, plat = lonlat(n_points)
    tree = shapely.STRtree(cells)
    idx = tree.query(shapely.points(plon, plat), predicate="within")
    home = np.full(n_points, None, dtype=object)
    home[idx[0]] = geometry["key"].to_numpy()[idx[1]]
    points = pd.DataFrame({"area_key": home, "lon": plon, "lat": plat,
                           "demand": rng.integers(0, 300, n_points).astype(float)})
    return _inputs(pois, geometry, points)


def berlin() -> supply.Inputs | None:
    """The 2,880 real Kitas and the 448 Planungsräume (representative points), if ../shared/data is there."""
    if not (BERLIN_PLR.exists() and KITAS.exists()):
        return None
    plr = gpd.read_file(BERLIN_PLR).to_crs(4326)
    kitas = gpd.read_file(KITAS).to_crs(4326)
    geometry = pd.DataFrame({"key": plr["id"].astype(str), "geom": plr.geometry.to_numpy()})
    rep = shapely.point_on_surface(plr.geometry.to_numpy())
    points = pd.DataFrame({"area_key": geometry["key"], "lon": shapely.get_x(rep), "lat": shapely.get_y(rep),
                           "demand": np.random.default_rng(3).integers(0, 600, len(plr)).astype(float)})
    pois = pd.DataFrame({"id": np.arange(len(kitas)), "name": kitas["e_name"].astype(str),
                         "capacity": pd.to_numeric(kitas["e_platz"], errors="coerce"),
                         "lon": kitas.geometry.x, "lat": kitas.geometry.y})
    return _inputs(pois, geometry, points)


def _inputs(pois, geometry, points) -> supply.Inputs:
    keys = geometry["key"]
    areas = pd.concat([pd.DataFrame({"level": "raum", "key": keys, "name": keys, "parent_key": "0"}),
                       pd.DataFrame([{"level": "stadt", "key": "0", "name": "Stadt", "parent_key": None}])])
    sums = points.groupby("area_key")["demand"].sum()
    demand = pd.concat([pd.DataFrame({"level": "raum", "area_key": keys, "value": keys.map(sums).fillna(0),
                                      "status": "ok"}),
                        pd.DataFrame([{"level": "stadt", "area_key": "0", "value": sums.sum(), "status": "ok"}])])
    q = supply.Question("kita", "kinder", "raum", 2024)
    return supply.Inputs(q, pois, areas, geometry, demand, points, "raum", ["raum", "stadt"], 25833)


def run(label: str, inputs: supply.Inputs, target_s: float) -> None:
    for radius in (500.0, 1000.0):
        pts, pois = inputs.points, inputs.pois

        def catchment():
            return two_step_fca(to_metres(pts["lon"], pts["lat"], 25833), pts["demand"].to_numpy(float),
                                to_metres(pois["lon"], pois["lat"], 25833), pois["capacity"].to_numpy(float),
                                radius)
        ms_fca, catch = timed(catchment, repeat=5)
        inputs.question = supply.Question("kita", "kinder", "raum", 2024, radius_m=radius)
        ms_all, result = timed(lambda: supply.compute(inputs), repeat=3)
        verdict = "ok" if ms_all / 1000 <= target_s else "ZU LANGSAM"
        print(f"{label:44} D={radius:>5.0f} m  two_step_fca {ms_fca:8.1f} ms  compute {ms_all:8.1f} ms  "
              f"(Ziel ≤ {target_s:.0f} s: {verdict}; erreicht {catch.reached.mean():.0%} der Punkte, "
              f"{len(result.rows)} Zeilen)")


def main() -> None:
    real = berlin()
    if real is not None:
        run(f"Berlin: {len(real.pois)} Kitas × {len(real.points)} Planungsräume", real, 1)
    run("synthetisch: 2.880 POIs × 448 Nachfragepunkte", synthetic(2_880, 448), 1)
    run("synthetisch: 20.000 POIs × 11.000 Nachfragepunkte", synthetic(20_000, 11_000), 10)


if __name__ == "__main__":
    main()
