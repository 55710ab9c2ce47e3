"""Distances in metres and the two-step floating catchment area (2SFCA), with a spatial index.

Distances are straight lines in ETRS89 / UTM of the town's zone (EPSG:258zz, zone from the mean longitude):
within a town the scale error of UTM is below 0.1 %. Pairs within the radius come from a shapely STRtree
(``dwithin``, d ≤ D inclusive) — never all pairs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer


def utm_epsg(lon: np.ndarray) -> int:
    """EPSG code of ETRS89 / UTM for the zone of the mean longitude (Germany: 25832 or 25833)."""
    zone = int((float(np.nanmean(lon)) + 180) // 6) + 1
    return 25800 + zone


def to_metres(lon: np.ndarray, lat: np.ndarray, epsg: int) -> np.ndarray:
    """Points as shapely geometries in metres (EPSG:``epsg``) from WGS84 longitude/latitude."""
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(np.asarray(lon, float),
                                                                        np.asarray(lat, float))
    return shapely.points(x, y)


@dataclass(frozen=True)
class Catchment:
    """Per demand point: reached (a POI within D) and A (2SFCA places per demand unit); per POI: R."""

    reached: np.ndarray
    access: np.ndarray
    ratio: np.ndarray


def two_step_fca(demand_pts: np.ndarray, demand: np.ndarray, poi_pts: np.ndarray, supply: np.ndarray,
                 radius: float) -> Catchment:
    """R_j = S_j / Σ_{k: d_kj ≤ D} P_k for every POI j; A_i = Σ_{j: d_ij ≤ D} R_j for every demand point i.

    ``supply`` NaN (a POI without capacity) counts for ``reached`` but not for R and A. ``demand`` NaN (a
    suppressed value) makes R of every POI in reach of it NaN, and so A of every point reaching that POI:
    a result derived from a hidden value is hidden. A POI with no demand in reach has R = S / 0 = inf but is
    reached by no point, so no A uses it.
    """
    tree = shapely.STRtree(poi_pts)
    i, j = tree.query(demand_pts, predicate="dwithin", distance=radius)
    reached = np.bincount(i, minlength=len(demand_pts)) > 0
    with_capacity = ~np.isnan(supply[j])
    i, j = i[with_capacity], j[with_capacity]
    in_reach = np.bincount(j, weights=demand[i], minlength=len(poi_pts))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.isnan(supply), np.nan, supply / in_reach)
    access = np.bincount(i, weights=ratio[j], minlength=len(demand_pts))
    return Catchment(reached=reached, access=access, ratio=ratio)
