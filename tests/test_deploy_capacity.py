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


def test_kept_results_are_bounded_dropped_with_the_version_and_computed_once(monkeypatch):
    """The loaders' shared results (resources.kept): at most max_entries per kind, the oldest first; a write
    (new warehouse version) drops the older results; concurrent sessions asking for one result compute it once."""
    import threading
    import time
    from types import SimpleNamespace

    from keck_data.ui import resources

    wh = SimpleNamespace(v=1)
    wh.version = lambda: wh.v
    shared = SimpleNamespace(wh=wh, shared={})
    monkeypatch.setattr(resources, "atlas", lambda: shared)
    for i in range(5):
        assert resources.kept(("x", i), lambda a, i=i: i * 10, max_entries=3) == i * 10
    assert list(shared.shared["x"]) == [(1, 2), (1, 3), (1, 4)]
    assert resources.kept(("x", 4), lambda a: 1 / 0, max_entries=3) == 40  # kept, not computed again
    wh.v = 2
    assert resources.kept(("x", 9), lambda a: 90) == 90
    assert list(shared.shared["x"]) == [(2, 9)]
    calls, results = [], []

    def slow(a):
        calls.append(1)
        time.sleep(0.2)
        return "map"
    threads = [threading.Thread(target=lambda: results.append(resources.kept(("map", "v"), slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and results == ["map"] * 8
