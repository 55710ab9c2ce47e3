"""Synthetic, seeded polygons for Musterstadt: Sozialräume tile Stadtbezirke tile the Gesamtstadt."""
from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

CENTER = (8.46, 51.52)  # somewhere in Germany; the town itself is fictional
RADIUS_DEG = 0.085
GRID = 1e-7


def _city_outline(rng: np.random.Generator) -> Polygon:
    """An irregular closed outline: a circle with smooth random bumps."""
    angles = np.linspace(0, 2 * np.pi, 160, endpoint=False)
    radius = np.ones_like(angles)
    for k in range(2, 7):
        radius += rng.uniform(0.03, 0.09) * np.sin(k * angles + rng.uniform(0, 2 * np.pi))
    x = CENTER[0] + RADIUS_DEG * 1.55 * radius * np.cos(angles)  # longitude degrees are shorter at 51° N
    y = CENTER[1] + RADIUS_DEG * radius * np.sin(angles)
    return shapely.set_precision(Polygon(np.column_stack([x, y])), GRID)


def _sites(rng: np.random.Generator, outline: Polygon, n: int, min_dist: float) -> np.ndarray:
    """Random points inside the outline that keep a minimum distance (dart throwing)."""
    minx, miny, maxx, maxy = outline.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not outline.contains(shapely.Point(x, y)):
            continue
        if all((x - px) ** 2 + (y - py) ** 2 >= min_dist**2 for px, py in pts):
            pts.append((x, y))
    return np.array(pts)


def generate(seed: int, n_districts: int, n_sozialraeume: int):
    """Return (city, districts, sozialraeume, assignment) with sozialraeume[i] in districts[assignment[i]].

    All Sozialräume come from one Voronoi diagram clipped to the outline and snapped to a common grid, so
    neighbours share identical borders; Stadtbezirke are unions of Sozialräume grouped around seeded
    centres, so every level tiles its parent exactly.
    """
    rng = np.random.default_rng(seed)
    outline = _city_outline(rng)
    sites = _sites(rng, outline, n_sozialraeume, RADIUS_DEG * 0.16)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(sites), extend_to=outline.buffer(0.1))
    by_site = {}
    for cell in shapely.get_parts(cells):
        for i, site in enumerate(sites):
            if cell.contains(shapely.Point(site)):
                by_site[i] = cell
                break
    sozialraeume = [shapely.set_precision(by_site[i].intersection(outline), GRID) for i in range(len(sites))]
    centres = sites[rng.choice(len(sites), n_districts, replace=False)]
    for _ in range(10):  # a few k-means steps on the sites give compact, contiguous districts
        dist = ((sites[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        assignment = dist.argmin(axis=1)
        centres = np.array([sites[assignment == d].mean(axis=0) for d in range(n_districts)])
    districts = [shapely.set_precision(shapely.union_all([sozialraeume[i] for i in np.flatnonzero(assignment == d)]), GRID)
                 for d in range(n_districts)]
    city = shapely.set_precision(shapely.union_all(districts), GRID)
    return city, districts, sozialraeume, assignment
