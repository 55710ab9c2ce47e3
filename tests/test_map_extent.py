"""Issue 18 item 10: a far-away area without values (an uninhabited island) does not shrink the map – the
initial view fits the areas that carry values; the island is still drawn."""
from keck_data import mapdeck
from keck_data.privacy import PrivacyRule
from keck_data.queries import Atlas


def _view(wh):
    result = mapdeck.build(Atlas(wh, rule=PrivacyRule()), mapdeck.MapSettings("ew_gesamt", "sozialraum", 2024))
    keys = {row["k"] for row in result.deck.layers[0].data}
    view = result.deck.initial_view_state
    return (round(view.longitude, 4), round(view.latitude, 4), round(view.zoom, 2)), keys


def test_the_initial_view_fits_the_areas_with_values_not_a_far_island(wh):
    before, _ = _view(wh)
    wh.cursor().execute("INSERT INTO area SELECT level, '9999', 'Vogelinsel', parent_key, NULL, "
                        "ST_Translate(geom, 1.5, 0.2), ST_Translate(geom_display, 1.5, 0.2) FROM area "
                        "WHERE level = 'sozialraum' AND key = '0101'")
    assert Atlas(wh).bounds()[2] > 1 + Atlas(wh).bounds()[0]  # the outline now reaches far east
    after, keys = _view(wh)
    assert "9999" in keys  # still drawn (grey, keine Daten)
    assert after == before
