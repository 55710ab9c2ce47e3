"""Fixes from the bench_load profile of a loaded public replica (benchmarks/bench_load.py)."""
import json

from streamlit.testing.v1 import AppTest

from keck_data.ui import maps
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
