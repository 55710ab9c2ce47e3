"""The map's first view as the zoom buttons change it (keck_data/ui/maps.SerializedDeck): the areas are
serialised once; a zoomed copy differs only in its first view."""
import json

from keck_data.mapdeck import CompactDeck, view_state
from keck_data.ui.maps import SerializedDeck


def test_a_zoomed_map_changes_only_its_first_view():
    deck = CompactDeck(layers=[], initial_view_state=view_state((7.0, 51.0, 7.2, 51.1)), map_provider=None,
                       tooltip={"html": "<b>{n}</b>"})
    full = json.loads(deck.to_json())
    shown = SerializedDeck(deck)
    assert json.loads(shown.to_json()) == full and json.loads(deck.to_json()) == full  # the deck is left as it was
    closer = json.loads(shown.zoomed(2, (7.05, 51.02)).to_json())
    assert closer["initialViewState"] == {"longitude": 7.05, "latitude": 51.02,
                                          "zoom": full["initialViewState"]["zoom"] + 2}
    assert {k: v for k, v in closer.items() if k != "initialViewState"} == {
        k: v for k, v in full.items() if k != "initialViewState"}
    farther = json.loads(shown.zoomed(2).zoomed(-1).to_json())["initialViewState"]
    assert farther == {**full["initialViewState"], "zoom": full["initialViewState"]["zoom"] - 1}  # no centre: kept
