"""Fixes from the bench_load profile of a loaded public replica (benchmarks/bench_load.py)."""
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from benchmarks.common import build_warehouse, germany_like
from keck_data import mapdeck
from keck_data.queries import Atlas
from keck_data.ui import maps
from keck_data.warehouse import Warehouse
from tests.app_harness import ok
from tests.conftest import ROOT


def test_sessions_share_one_built_map_per_view(app, monkeypatch):
    """A second session, or the first one coming back to a view, gets the map built and serialised before."""
    built = []
    real = maps.build
    monkeypatch.setattr(maps, "build", lambda *a, **k: built.append(a[1]) or real(*a, **k))
    first = app("public", karte="", ind="sgb2_quote_u15", yr="2023")
    ok(first)
    assert len(built) == 1
    first.selectbox(key="w_yr").set_value(2022).run()
    first.selectbox(key="w_yr").set_value(2023).run()  # back to the first view
    second = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)  # a second visitor, caches kept
    second.query_params.update({"ind": "sgb2_quote_u15", "yr": "2023"})
    second.run()
    ok(second)
    assert [s.year for s in built] == [2023, 2022]
    decks = [json.loads(at.get("deck_gl_json_chart")[0].proto.json) for at in (first, second)]
    assert decks[0] == decks[1] and decks[0]["layers"][0]["id"] == "areas"


def test_outlines_are_rounded_to_the_precision_of_the_display_geometry(tmp_path):
    """All of Germany: 3 decimals (≈ 100 m, below the display geometry's simplification), no vertex moved more."""
    path = build_warehouse(tmp_path / "de.duckdb", germany_like(300), "Deutschland (generiert)")
    with Warehouse(path, read_only=True) as wh:
        atlas = Atlas(wh)
        rows = mapdeck.build(atlas, mapdeck.MapSettings("r0", "gebiet", 2024)).deck.layers[0].data
        shapes = atlas.display_shapes("gebiet")
        assert mapdeck.coordinate_decimals(atlas.bounds()) == 3
    drawn = [c for r in rows for xy in r["p"] for c in xy]
    assert drawn and all(round(c, 3) == c for c in drawn)
    exact = [ring for key in dict.fromkeys(r["k"] for r in rows)
             for ring in shapes.loc[shapes["key"] == key, "rings"].iloc[0]]  # in the order they were drawn
    assert len(exact) == len(rows)
    for ring, row in zip(exact, rows):
        assert np.abs(np.asarray(ring) - np.asarray(row["p"])).max() <= 0.0005 + 1e-9
