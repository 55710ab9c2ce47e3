"""Classification methods, manual breaks, edge cases, palettes by polarity, German legends."""
import numpy as np
import pandas as pd
import pytest

from keck_data import classify
from keck_data.classify import COLOR_MISSING, COLOR_SUPPRESSED, PALETTES
from keck_data.errors import ValidationError

VALUES = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10.5, 20, 35])
OK = pd.Series(["ok"] * len(VALUES))


@pytest.mark.parametrize("method", ["quantile", "equal_interval", "natural_breaks", "std_mean"])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_each_method_assigns_every_value_to_a_class(method, k):
    c = classify.classify(VALUES, OK, method, k, unit="%")
    assert 1 <= len(c.bounds) <= max(k, 5)
    assert c.bounds == sorted(c.bounds) and c.bounds[-1] == 35
    assert (c.classes >= 0).all()
    for value, cls in zip(VALUES, c.classes):
        assert value <= c.bounds[cls] and (cls == 0 or value > c.bounds[cls - 1])
    assert sum(e.count for e in c.legend) == len(VALUES)


def test_quantiles_split_evenly_and_equal_intervals_are_equal():
    q = classify.classify(pd.Series(np.arange(1.0, 101)), pd.Series(["ok"] * 100), "quantile", 4)
    assert [e.count for e in q.legend] == [25, 25, 25, 25]
    e = classify.classify(pd.Series([0.0, 100.0, 50, 25]), pd.Series(["ok"] * 4), "equal_interval", 4)
    assert e.bounds == [25.0, 50.0, 75.0, 100.0]


def test_natural_breaks_find_the_gaps():
    data = pd.Series([1.0, 1.1, 1.2, 10, 10.1, 10.2, 50, 50.5])
    c = classify.classify(data, pd.Series(["ok"] * 8), "natural_breaks", 3)
    assert c.bounds == [1.2, 10.2, 50.5]


def test_manual_breaks_and_german_labels():
    c = classify.classify(VALUES, OK, "manual", 3, unit="%", manual_breaks=[5, 12.5])
    assert c.bounds == [5.0, 12.5, 35.0]
    assert [e.label for e in c.legend] == ["bis 5,0 %", "über 5,0 bis 12,5 %", "über 12,5 bis 35,0 %"]
    with pytest.raises(ValidationError, match="mindestens eine Grenze"):
        classify.classify(VALUES, OK, "manual", 3)


def test_thousands_separator_in_labels():
    c = classify.classify(pd.Series([1000.0, 2500, 12345.6]), pd.Series(["ok"] * 3), "equal_interval", 3, decimals=0)
    assert c.legend[-1].label.endswith("12.346")


def test_all_equal_and_single_value_give_one_class():
    for data in ([4.0, 4.0, 4.0], [7.0]):
        c = classify.classify(pd.Series(data), pd.Series(["ok"] * len(data)), "natural_breaks", 5)
        assert len(c.bounds) == 1 and (c.classes == 0).all() and c.legend[0].count == len(data)


def test_all_suppressed_and_missing_have_their_own_entries():
    c = classify.classify(pd.Series([np.nan, np.nan, np.nan]), pd.Series(["suppressed", "suppressed", "missing"]))
    assert c.bounds == [] and (c.classes == -1).all()
    assert [(e.label, e.color, e.count) for e in c.legend] == [
        ("k. A. (Datenschutz)", COLOR_SUPPRESSED, 2), ("keine Daten", COLOR_MISSING, 1)]
    assert c.color_of(-1, "suppressed") != c.color_of(-1, "missing")


def test_palette_follows_polarity():
    bad = classify.palette("orange_rot", 5, "high_bad")
    good = classify.palette("orange_rot", 5, "high_good")
    assert bad[-1] == PALETTES["orange_rot"][1][-1]  # high value = dark when unfavourable
    assert good == bad[::-1]
    assert len(classify.palette("viridis", 3, "neutral")) == 3


def test_invalid_input_has_german_messages():
    with pytest.raises(ValidationError, match="zwischen 3 und 7"):
        classify.classify(VALUES, OK, "quantile", 9)
    with pytest.raises(ValidationError, match="Klassifizierung"):
        classify.classify(VALUES, OK, "zufall", 5)
    with pytest.raises(ValidationError, match="Farbpalette"):
        classify.palette("regenbogen", 5, "neutral")
