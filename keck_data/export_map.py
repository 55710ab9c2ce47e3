"""The map as a file (PNG, JPG, SVG, PDF) rendered with geopandas/matplotlib: no browser, works offline.

It shows what the map page shows: level, indicator, year, classes, palette, k. A. hatched, the second
indicator as circles and the POI layers, with title, legend, source, reference date, north arrow and scale bar.
"""
from __future__ import annotations

import io
import math
from datetime import date

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.patches import FancyArrow, Patch, Rectangle  # noqa: E402

from . import classify, fmt  # noqa: E402
from .errors import ValidationError  # noqa: E402
from .mapdeck import MapSettings, classification, nice_steps  # noqa: E402
from .queries import Atlas  # noqa: E402
from .warehouse import read_df  # noqa: E402

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml", "pdf": "application/pdf"}
EQUAL_AREA = 3035
plt.rcParams.update({"svg.fonttype": "none", "pdf.fonttype": 42, "font.family": "DejaVu Sans"})


def area_frame(atlas: Atlas, level: str, groups: bool = False) -> gpd.GeoDataFrame:
    """The exact geometry of a level in an equal-area projection (metres); with ``groups`` then each area
    group's (its members dissolved)."""
    df = read_df(atlas.wh, "SELECT key, name, ST_AsWKB(geom) AS wkb FROM area WHERE level = ? ORDER BY key", [level])
    areas = gpd.GeoDataFrame(df[["key", "name"]], geometry=shapely.from_wkb([bytes(b) for b in df["wkb"]]),
                             crs=4326).to_crs(EQUAL_AREA)
    joint = atlas.groups(level)
    if not groups or joint.empty:
        return areas
    shapes = areas.set_index("key").geometry
    joint = gpd.GeoDataFrame({"key": joint["key"], "name": joint["name"] + " (gemeinsam)"}, crs=EQUAL_AREA,
                             geometry=[shapely.union_all(shapes.loc[ms].values) for ms in joint["members"]])
    return gpd.GeoDataFrame(pd.concat([areas, joint], ignore_index=True), crs=EQUAL_AREA)


def render_map(atlas: Atlas, s: MapSettings, fmt: str = "png", dpi: int = 200) -> bytes:
    """Render the map view ``s`` to ``fmt`` (png, jpg, svg or pdf)."""
    if fmt not in FORMATS:
        raise ValidationError(f"Unbekanntes Format „{fmt}“ (möglich: {', '.join(FORMATS)}).")
    ind = atlas.indicator(s.indicator)
    values = atlas.level_values(s.indicator, s.level, s.year)
    cls = classification(atlas, s, values)
    gdf = area_frame(atlas, s.level, groups=True).merge(values[["key", "status"]], on="key")  # groups, not members
    colors = {k: cls.color_of(int(c), st) for k, c, st in zip(values["key"], cls.classes, values["status"])}
    gdf["color"] = gdf["key"].map(colors).fillna(classify.COLOR_MISSING)

    fig = plt.figure(figsize=(11.69, 8.27))  # A4 landscape
    ax = fig.add_axes([0.02, 0.1, 0.68, 0.78])
    gdf.plot(ax=ax, color=gdf["color"], edgecolor="#444444", linewidth=0.4)
    hidden = gdf[gdf["status"] == "suppressed"]
    if len(hidden):
        hidden.plot(ax=ax, facecolor="none", edgecolor="#333333", hatch="////", linewidth=0.4)
    handles = [Patch(facecolor=e.color, edgecolor="#444444", hatch="////" if e.label.startswith("k. A.") else None,
                     label=f"{e.label} ({e.count})") for e in cls.legend]
    chosen = gdf[gdf["key"].isin(s.selected)]
    if len(chosen):  # outlined as on the screen (a group: its joint outline)
        chosen.plot(ax=ax, facecolor="none", edgecolor="#000000", linewidth=2.5, gid="selected")
        handles.append(Patch(facecolor="none", edgecolor="#000000", linewidth=2.5,
                             label="Ausgewählt: " + ", ".join(chosen["name"])))
    if s.indicator2:
        handles += _circles(ax, atlas, s, gdf)
    if s.poi_categories:
        handles += _pois(ax, atlas, s)
    ax.set_axis_off()
    ax.set_aspect("equal")
    _north_arrow(ax)
    _scale_bar(ax)
    fig.text(0.02, 0.95, f"{ind['name']} {s.year}", fontsize=18, weight="bold")
    fig.text(0.02, 0.915, f"{atlas.municipality()} · {atlas.level_name(s.level)} · "
                          f"{'Ampel der Wirkungsziele' if s.ampel else classify.METHODS[s.method]}", fontsize=11)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.72, 0.88), frameon=False, fontsize=10,
               title=f"{ind['name']}\n({ind['unit']})", title_fontsize=11, alignment="left")
    fig.text(0.02, 0.05, f"Quelle: {ind['source']} · Stichtag: {ind['reference_date']} {s.year}", fontsize=9)
    fig.text(0.02, 0.025, f"Sozialraum-Atlas {atlas.municipality()} · erstellt am {date.today():%d.%m.%Y} · "
                          "„k. A.“ = aus Datenschutzgründen keine Angabe", fontsize=9, color="#555555")
    buf = io.BytesIO()
    fig.savefig(buf, format="jpeg" if fmt == "jpg" else fmt, dpi=dpi, facecolor="white",
                **({"pil_kwargs": {"quality": 90}} if fmt == "jpg" else {}))
    plt.close(fig)
    return buf.getvalue()


def _circles(ax, atlas: Atlas, s: MapSettings, gdf: gpd.GeoDataFrame) -> list:
    """Proportional circles with a size key of round values (as on screen); "k. A." as empty rings."""
    ind2 = atlas.indicator(s.indicator2)
    v2 = atlas.level_values(s.indicator2, s.level, s.year).merge(gdf[["key", "geometry"]], on="key")
    shown, hidden = v2[v2["status"] == "ok"], v2[v2["status"] == "suppressed"]
    top = float(shown["value"].abs().max()) if len(shown) else 0.0

    def size(value: float) -> float:  # marker area in pt²
        return 600 * abs(value) / top if top > 0 else 0.0

    def points(frame: pd.DataFrame) -> gpd.GeoSeries:
        return gpd.GeoSeries(frame["geometry"]).representative_point()

    handles = []
    if len(shown):
        pts = points(shown)
        ax.scatter(pts.x, pts.y, s=[size(v) for v in shown["value"]], facecolor="#212529", alpha=0.55,
                   edgecolor="white", linewidth=0.6, zorder=3)
        handles += [plt.Line2D([], [], marker="o", linestyle="", markersize=math.sqrt(size(v)),
                               markerfacecolor="#212529", alpha=0.55, markeredgecolor="white",
                               label=f"{ind2['name']}: {fmt.with_unit(v, int(ind2['decimals']), ind2['unit'])}")
                    for v in nice_steps(top)]
    if len(hidden):
        pts = points(hidden)
        ax.scatter(pts.x, pts.y, s=60, facecolor="none", edgecolor="#212529", linewidth=1.2, zorder=3)
        handles.append(plt.Line2D([], [], marker="o", linestyle="", markersize=math.sqrt(60), markerfacecolor="none",
                                  markeredgecolor="#212529", label=f"{ind2['name']}: k. A. (Datenschutz)"))
    return handles


def _pois(ax, atlas: Atlas, s: MapSettings) -> list:
    pois = atlas.pois(list(s.poi_categories))
    handles = []
    for (name, color), group in pois.groupby(["category_name", "color"]):
        pts = gpd.GeoSeries(gpd.points_from_xy(group["lon"], group["lat"]), crs=4326).to_crs(EQUAL_AREA)
        ax.scatter(pts.x, pts.y, s=14, color=color, edgecolor="white", linewidth=0.4, zorder=4)
        handles.append(plt.Line2D([], [], marker="o", linestyle="", color=color, label=f"{name} ({len(group)})"))
    return handles


def _north_arrow(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    ax.add_patch(FancyArrow(x1 - 0.05 * w, y1 - 0.14 * h, 0, 0.08 * h, width=0.012 * w, head_width=0.035 * w,
                            head_length=0.03 * h, color="black", length_includes_head=True))
    ax.text(x1 - 0.05 * w, y1 - 0.045 * h, "N", ha="center", va="bottom", fontsize=13, weight="bold")


def _scale_bar(ax) -> None:
    """A scale bar of a round length (the axes are in metres of an equal-area projection)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    length = 10 ** math.floor(math.log10(target))
    length *= 5 if target / length >= 5 else (2 if target / length >= 2 else 1)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.03 * (y1 - y0)
    ax.add_patch(Rectangle((bx, by), length, 0.008 * (y1 - y0), color="black"))
    label = f"{length / 1000:g} km".replace(".", ",") if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), label, ha="center", fontsize=10)
