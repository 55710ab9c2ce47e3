"""The choropleth map as a pydeck Deck: classified areas, proportional circles, POIs.

Kept small on the wire: display geometry is coverage-simplified at import, coordinates are rounded to
5 decimals (about 1 m) and the JSON is written without indentation.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from urllib.parse import quote

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from . import classify, fmt
from .analysis import targets
from .config import settings
from .queries import Atlas

# Visitors' browsers make no third-party requests: area outlines on a plain background, or a municipality's
# own tile server (KECK_TILE_URL). Leaving pydeck's default style sentinel with no provider keeps Streamlit
# from substituting its CARTO base map (it does so for map_style=None).
_NO_BASEMAP = {"map_provider": None}


def basemaps() -> dict[str, str]:
    """Background choices of this deployment (the own tile server only where one is configured)."""
    own = {"tiles": "Stadtplan (eigener Kartenserver)"} if settings().tile_url else {}
    return {"none": "Ohne Hintergrundkarte", **own}


def _basemap(name: str) -> dict:
    url = settings().tile_url
    if name != "tiles" or not url:
        return _NO_BASEMAP
    style = {"version": 8, "sources": {"tiles": {"type": "raster", "tiles": [url], "tileSize": 256}},
             "layers": [{"id": "tiles", "type": "raster", "source": "tiles"}]}
    return {"map_provider": None, "map_style": "data:application/json," + quote(json.dumps(style))}
CIRCLE_COLOR = [33, 37, 41, 150]
CIRCLE_MAX_PX = 30  # radius of the largest circle; circles are sized in screen pixels so the key always fits
CIRCLE_KA_PX = 9  # "k. A." circles: outline only, a fixed size that is not read as a value
OUTLINE_COLOR = [0, 0, 0, 255]
NOTE_MARKER_PX = 9
# Streamlit escapes the {fields} itself: the data holds plain text, only this template is HTML
TOOLTIP = {"html": "<b>{n}</b><br/>{t}<br/>{t2}",  # long names and notes wrap instead of leaving the map
           "style": {"fontSize": "16px", "maxWidth": "22em", "whiteSpace": "normal", "overflowWrap": "anywhere"}}


# The mouse wheel scrolls the page, not the map (a map as wide as the page caught every scroll, issue 22);
# the Karte page has zoom buttons (keck_data/ui/maps.zoom_by); a double click beside the areas and two fingers
# zoom too; north stays up.
MAP_VIEW = pdk.View(type="MapView", controller={"scrollZoom": False, "dragRotate": False, "touchRotate": False,
                                                "doubleClickZoom": True, "keyboard": True, "touchZoom": True})


class CompactDeck(pdk.Deck):
    """A Deck that serialises without indentation (a third of the bytes of pydeck's default), with MAP_VIEW."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("views", [MAP_VIEW])
        super().__init__(*args, **kwargs)

    def to_json(self) -> str:
        return json.dumps(self, default=default_serialize, separators=(",", ":"), ensure_ascii=False)


@dataclass
class MapSettings:
    """Everything that determines what the map shows (also the bookmarkable view)."""

    indicator: str
    level: str
    year: int
    method: str = "quantile"
    k: int = 5
    palette: str = "orange_rot"
    indicator2: str | None = None
    poi_categories: tuple[str, ...] = ()
    basemap: str = "none"
    manual_breaks: tuple[float, ...] = ()
    selected: tuple[str, ...] = ()  # areas outlined on the map (the clicked one first, then the comparison)
    noted: tuple[str, ...] = ()  # areas with notes of the live session (a marker at their centre)
    ampel: bool = False  # colour by the Ampel of the Wirkungsziele (or the indicator's threshold rule)


@dataclass
class SizeKey:
    """One reference circle of the second indicator's size key."""
    label: str
    radius_px: float
    ring: bool = False  # drawn as an empty ring ("k. A.")


@dataclass
class MapResult:
    """What the map shows: the deck and the keys beside it (choropleth classes, circle sizes, POI colours)."""
    deck: CompactDeck
    classification: classify.Classification
    values: pd.DataFrame
    circle_title: str = ""
    circle_key: list[SizeKey] = field(default_factory=list)
    poi_key: list[tuple[str, str]] = field(default_factory=list)  # (category name, hex colour)
    noted: bool = False  # markers of session notes are shown


def _rgba(hex_color: str, alpha: int = 215) -> list[int]:
    h = hex_color.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def coordinate_decimals(bounds: tuple[float, float, float, float]) -> int:
    """Decimals of the map's area outlines: a step no larger than the smallest simplification tolerance of the
    display geometry (1/4000 of the extent, store.display_geometry), so rounding moves no vertex visibly.

    5 for a small town, 4 for a city like Berlin, 3 for all of Germany: the coordinates are most of a map's
    bytes (bench_load: 11,000 Gemeinden 631 → 480 kB on the wire).
    """
    minx, miny, maxx, maxy = bounds
    return max(0, min(5, math.ceil(-math.log10(max(maxx - minx, maxy - miny, 1e-9) / 4000))))


def _round(ring: list, digits: int) -> list:
    return [[round(x, digits), round(y, digits)] for x, y in ring]


def view_state(bounds: tuple[float, float, float, float]) -> pdk.ViewState:
    """A view that fits the municipality (Web-Mercator zoom from the bounding box)."""
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, (maxy - miny) * 1.6, 1e-6)
    zoom = max(1.0, min(16.0, math.log2(360 / span) + 0.1))
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=(miny + maxy) / 2, zoom=zoom)


def classification(atlas: Atlas, s: MapSettings, values: pd.DataFrame,
                   ampel: tuple[pd.DataFrame, str] | None = None) -> classify.Classification:
    """The classes of the view: value classes, or the Ampel states (``ampel``: cached map_states)."""
    if s.ampel:
        states, _ = ampel or targets.map_states(atlas, s.indicator, s.level, s.year)
        return targets.ampel_classification(states, values["key"])
    ind = atlas.indicator(s.indicator)
    return classify.classify(values["value"], values["status"], s.method, s.k, s.palette, ind["polarity"],
                             int(ind["decimals"]), ind["unit"], list(s.manual_breaks) or None)


def value_extent(drawn: pd.DataFrame, values: pd.DataFrame) -> tuple[float, float, float, float] | None:
    """The bounding box of the areas that carry a value (a far-away uninhabited island with no value does not
    shrink the map); None when no area has one."""
    carrying = set(values.loc[values["status"].ne("missing"), "key"])
    points = [p for key, rings in zip(drawn["key"], drawn["rings"]) if key in carrying for ring in rings for p in ring]
    if not points:
        return None
    xy = np.asarray(points, dtype=float)
    return xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()


def build(atlas: Atlas, s: MapSettings, shapes: pd.DataFrame | None = None,
          values: pd.DataFrame | None = None, values2: pd.DataFrame | None = None,
          pois: pd.DataFrame | None = None, bounds=None, ampel: tuple[pd.DataFrame, str] | None = None) -> MapResult:
    """Build the deck; callers may pass cached shapes/values/POIs/Ampel states (the UI does)."""
    ind = atlas.indicator(s.indicator)
    bounds = bounds or atlas.bounds()
    shapes = atlas.display_shapes(s.level) if shapes is None else shapes
    values = atlas.level_values(s.indicator, s.level, s.year) if values is None else values
    if s.ampel:
        ampel = ampel or targets.map_states(atlas, s.indicator, s.level, s.year)
    cls = classification(atlas, s, values, ampel)
    color = {k: cls.color_of(int(c), st) for k, c, st in zip(values["key"], cls.classes, values["status"])}
    text = _texts(values, ind["name"])
    text2: dict[str, str] = {}
    if s.ampel and not s.indicator2:
        text2 = {k: f"Ampel: {st or 'kein Ziel'} – {r}" for k, st, r in zip(ampel[0]["key"], ampel[0]["state"],
                                                                          ampel[0]["reason"])}
    layers, extra = [], {}
    if s.indicator2:
        ind2 = atlas.indicator(s.indicator2)
        v2 = atlas.level_values(s.indicator2, s.level, s.year) if values2 is None else values2
        v2 = v2.merge(shapes[["key", "cx", "cy"]], on="key")
        text2 = {k: f"{ind2['name']}: {t}" for k, t in zip(v2["key"], v2["text"])}
        circle_layers, extra["circle_key"] = _circles(v2, text, text2, ind2)
        layers += circle_layers
        extra["circle_title"] = f"{ind2['name']} ({ind2['unit']})"
    drawn = shapes[shapes["key"].isin(values["key"])]  # an area group with a value replaces its members
    layers.insert(0, area_layer(drawn, color, text, bounds, f"{ind['name']}: keine Daten", text2))
    hidden = tuple(values.loc[values["status"] == "suppressed", "key"])
    if hidden:  # "k. A." hatched, not told by its grey alone (WCAG 1.4.1), as in the exported map
        layers.insert(1, _hatch(drawn, hidden, bounds))
    if s.selected:
        layers.insert(1 + bool(hidden), _outline(shapes, s.selected))
    if s.noted:
        layers.append(_note_markers(shapes, s.noted))
        extra["noted"] = True
    if s.poi_categories:
        pois = atlas.pois(list(s.poi_categories)) if pois is None else pois
        points = [{"pos": [round(x, 5), round(y, 5)], "c": _rgba(c, 255), "n": str(n), "t": _poi_details(r), "t2": ""}
                  for x, y, c, n, r in zip(pois["lon"], pois["lat"], pois["color"], pois["name"],
                                           pois.to_dict("records"))]
        layers.append(pdk.Layer("ScatterplotLayer", points, id="pois", get_position="pos", get_fill_color="c",
                                get_radius=40, radius_min_pixels=5, radius_max_pixels=12, stroked=True,
                                get_line_color=[255, 255, 255], line_width_min_pixels=1, pickable=True))
        shown = pois.drop_duplicates("category_name")
        extra["poi_key"] = list(zip(shown["category_name"], shown["color"]))
    deck = CompactDeck(
        layers=layers, initial_view_state=view_state(value_extent(drawn, values) or bounds),
        **_basemap(s.basemap),
        tooltip=TOOLTIP,
    )
    return MapResult(deck=deck, classification=cls, values=values, **extra)


def _texts(values: pd.DataFrame, name: str) -> dict[str, str]:
    """Tooltip value line per key; an area group's says "gemeinsamer Wert für A und B"."""
    joint = values["members"].notna() if "members" in values else pd.Series(False, index=values.index)
    return {k: f"{name}: {t}" + (f" ({n})" if j else "")
            for k, t, n, j in zip(values["key"], values["text"], values["note"], joint)}


def _outline(shapes: pd.DataFrame, keys: tuple[str, ...]) -> pdk.Layer:
    """A strong black outline around the selected areas (the fill colours stay those of the legend)."""
    chosen = shapes[shapes["key"].isin(keys)]
    paths = [{"p": ring} for rings in chosen["rings"] for ring in rings]
    return pdk.Layer("PolygonLayer", paths, id="selected", get_polygon="p", filled=False, stroked=True,
                     get_line_color=OUTLINE_COLOR, line_width_min_pixels=4, pickable=False)


HATCH_STEPS = 140  # hatch lines across the municipality's extent (about 6 px apart on a 900 px wide map)


def _hatch(shapes: pd.DataFrame, keys: tuple[str, ...], bounds) -> pdk.Layer:
    """Diagonal dark lines over the "k. A." areas (the legend's swatch shows the same hatch)."""
    minx, miny, maxx, maxy = bounds
    step = max(maxx - minx, maxy - miny, 1e-9) / HATCH_STEPS
    digits = coordinate_decimals(bounds)
    paths = []
    for rings in shapes.loc[shapes["key"].isin(keys), "rings"]:
        area = shapely.union_all([shapely.Polygon(r) for r in rings if len(r) >= 3]).buffer(0)
        x0, y0, x1, y1 = area.bounds
        lines = shapely.MultiLineString([[(x0 + c, y0), (x0 + c + (y1 - y0), y1)]
                                         for c in np.arange(-(y1 - y0), x1 - x0, step)])
        cut = area.intersection(lines)
        parts = getattr(cut, "geoms", [cut])
        paths.extend({"p": _round(list(line.coords), digits)} for line in parts
                     if line.geom_type == "LineString" and not line.is_empty)
    return pdk.Layer("PathLayer", paths, id="hatch", get_path="p", get_color=[33, 33, 33, 230],
                     width_min_pixels=1, width_max_pixels=1, pickable=False)


def _note_markers(shapes: pd.DataFrame, keys: tuple[str, ...]) -> pdk.Layer:
    """A white dot with a thick black ring at the centre of every area with session notes."""
    chosen = shapes[shapes["key"].isin(keys)]
    points = [{"pos": [round(x, 5), round(y, 5)]} for x, y in zip(chosen["cx"], chosen["cy"])]
    return pdk.Layer("ScatterplotLayer", points, id="notes", get_position="pos", get_radius=NOTE_MARKER_PX,
                     radius_units="'pixels'", get_fill_color=[255, 255, 255, 255], stroked=True,
                     get_line_color=OUTLINE_COLOR, line_width_min_pixels=4, pickable=False)


def nice_steps(top: float) -> list[float]:
    """Three round reference values for a size key: the largest round value ≤ top, about half, about a tenth."""
    if not top or top <= 0 or not math.isfinite(top):
        return []
    def round_down(v: float) -> float:
        magnitude = 10 ** math.floor(math.log10(v))
        return max(m for m in (1, 2, 2.5, 5, 10) if m * magnitude <= v * (1 + 1e-9)) * magnitude
    return sorted({round_down(top), round_down(top / 2), round_down(top / 10)}, reverse=True)


def _circles(v2: pd.DataFrame, text: dict, text2: dict, ind2: pd.Series) -> tuple[list[pdk.Layer], list[SizeKey]]:
    """Proportional circles (area ∝ value, sized in pixels) at the area centroids; "k. A." as empty rings."""
    ok = v2["status"] == "ok"
    top = float(v2.loc[ok, "value"].abs().max()) if ok.any() else 0.0

    def radius(v: float) -> float:
        return CIRCLE_MAX_PX * math.sqrt(abs(v) / top) if top > 0 else 0.0

    def rows(frame: pd.DataFrame) -> list[dict]:
        return [{"k": k, "pos": [round(x, 5), round(y, 5)], "n": f"{k} {n}", "t": text.get(k, ""),
                 "t2": text2.get(k, ""), "r": radius(v) if st == "ok" else CIRCLE_KA_PX}
                for k, n, x, y, v, st in zip(frame["key"], frame["name"], frame["cx"], frame["cy"], frame["value"],
                                             frame["status"])]
    layers = [pdk.Layer("ScatterplotLayer", rows(v2[ok]), id="circles", get_position="pos", get_radius="r",
                        radius_units="'pixels'", get_fill_color=CIRCLE_COLOR, stroked=True,
                        get_line_color=[255, 255, 255], line_width_min_pixels=1, pickable=True)]
    suppressed = v2[v2["status"] == "suppressed"]
    if len(suppressed):
        layers.append(pdk.Layer("ScatterplotLayer", rows(suppressed), id="circles_ka", get_position="pos",
                                get_radius="r", radius_units="'pixels'", filled=False, stroked=True,
                                get_line_color=[33, 37, 41, 255], line_width_min_pixels=2, pickable=True))
    decimals = int(ind2["decimals"])
    key = [SizeKey(fmt.with_unit(v, decimals, ind2["unit"]), radius(v)) for v in nice_steps(top)]
    if len(suppressed):
        key.append(SizeKey("k. A. (Datenschutz)", CIRCLE_KA_PX, ring=True))
    return layers, key


def _poi_details(row: dict) -> str:
    parts = [row["category_name"]]
    for label, col in [("Adresse", "address"), ("Öffnungszeiten", "opening_hours"), ("Zielgruppe", "target_group"),
                       ("Kapazität", "capacity"), ("Web", "website")]:
        val = row.get(col)
        if val is not None and not (isinstance(val, float) and math.isnan(val)) and val != "":
            parts.append(f"{label}: {fmt.number(val, 0) if col == 'capacity' else val}")
    return " · ".join(parts)


def area_layer(shapes: pd.DataFrame, color: dict[str, str], text: dict[str, str], bounds, missing: str,
               text2: dict[str, str] | None = None, layer_id: str = "areas") -> pdk.Layer:
    """The pickable choropleth polygons: fill colour and tooltip line per area key."""
    digits = coordinate_decimals(bounds)
    rows = [{"k": key, "n": f"{key} {name}", "t": text.get(key, missing), "t2": (text2 or {}).get(key, ""),
             "c": _rgba(color.get(key, classify.COLOR_MISSING)), "p": _round(ring, digits)}
            for key, name, rings in zip(shapes["key"], shapes["name"], shapes["rings"]) for ring in rings]
    return pdk.Layer("PolygonLayer", rows, id=layer_id, get_polygon="p", get_fill_color="c",
                     get_line_color=[60, 60, 60, 200], line_width_min_pixels=1, pickable=True,
                     auto_highlight=True, stroked=True)


def value_deck(shapes: pd.DataFrame, values: pd.DataFrame, cls: classify.Classification, bounds, name: str,
               markers: list[tuple[float, float]] = ()) -> CompactDeck:
    """A choropleth of computed values (key, text, status; classes in ``cls``) with optional red markers —
    e.g. the Versorgung before/after maps that share one classification."""
    color = {k: cls.color_of(int(c), st) for k, c, st in zip(values["key"], cls.classes, values["status"])}
    text = {k: f"{name}: {t}" for k, t in zip(values["key"], values["text"])}
    layers = [area_layer(shapes, color, text, bounds, f"{name}: keine Daten")]
    if markers:
        layers.append(pdk.Layer("ScatterplotLayer", [{"pos": [x, y], "n": "geplant", "t": "", "t2": ""}
                                                     for x, y in markers], id="planned", get_position="pos",
                                get_radius=60, radius_min_pixels=7, get_fill_color=[215, 48, 31, 255],
                                stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=2))
    return CompactDeck(layers=layers, initial_view_state=view_state(bounds), **_NO_BASEMAP, tooltip=TOOLTIP)


def placement_deck(atlas: Atlas, shapes: pd.DataFrame, marker: tuple[float, float] | None = None,
                   cells: int = 70) -> CompactDeck:
    """A map to place a point by clicking: an invisible pickable grid (~1/70 of the town) over the areas."""
    minx, miny, maxx, maxy = atlas.bounds()
    xs, ys = np.linspace(minx, maxx, cells), np.linspace(miny, maxy, cells)
    grid = [{"pos": [round(x, 5), round(y, 5)]} for x in xs for y in ys]
    cell_m = (maxx - minx) / cells * 111_000 * math.cos(math.radians((miny + maxy) / 2))
    outline = [{"p": ring} for rings in shapes["rings"] for ring in rings]
    layers = [pdk.Layer("PolygonLayer", outline, id="outline", get_polygon="p", get_fill_color=[230, 230, 230, 120],
                        get_line_color=[80, 80, 80, 200], line_width_min_pixels=1, pickable=False),
              pdk.Layer("ScatterplotLayer", grid, id="grid", get_position="pos", get_radius=cell_m * 0.7,
                        get_fill_color=[0, 0, 0, 0], pickable=True, auto_highlight=True,
                        highlight_color=[215, 48, 31, 120])]
    if marker:
        layers.append(pdk.Layer("ScatterplotLayer", [{"pos": list(marker)}], id="marker", get_position="pos",
                                get_radius=cell_m * 0.5, radius_min_pixels=7, get_fill_color=[215, 48, 31, 255]))
    return CompactDeck(layers=layers, initial_view_state=view_state((minx, miny, maxx, maxy)), **_NO_BASEMAP,
                       tooltip={"text": "Hier platzieren"})
