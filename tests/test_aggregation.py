"""Aggregation rules: sums, rates from Σ numerator / Σ denominator, weighted means, not aggregable."""
import numpy as np
import pandas as pd
import pytest

from keck_data.aggregation import NOT_AGGREGABLE, aggregate
from keck_data.warehouse import read_df


def _v(wh, ind, level):
    return read_df(wh, "SELECT area_key, year, value, status, note FROM indicator_value WHERE indicator = ? "
                       "AND level = ?", [ind, level])


def test_rate_at_district_level_is_ratio_of_sums(ro_wh):
    parent = read_df(ro_wh, "SELECT key, parent_key FROM area WHERE level = 'sozialraum'")
    num = _v(ro_wh, "sgb2_u15", "sozialraum").merge(parent, left_on="area_key", right_on="key")
    den = _v(ro_wh, "ew_u15", "sozialraum").merge(parent, left_on="area_key", right_on="key")
    expected = (num.groupby(["parent_key", "year"])["value"].sum() / den.groupby(["parent_key", "year"])["value"].sum()
                * 100)
    rates = _v(ro_wh, "sgb2_quote_u15", "stadtbezirk").set_index(["area_key", "year"])["value"]
    assert np.allclose(rates.sort_index().to_numpy(), expected.sort_index().to_numpy())
    naive_mean = _v(ro_wh, "sgb2_quote_u15", "sozialraum").merge(parent, left_on="area_key", right_on="key") \
        .groupby(["parent_key", "year"])["value"].mean()
    assert not np.allclose(rates.sort_index().to_numpy(), naive_mean.sort_index().to_numpy())


def test_counts_sum_up_to_the_city(ro_wh):
    soz = _v(ro_wh, "ew_gesamt", "sozialraum").groupby("year")["value"].sum()
    city = _v(ro_wh, "ew_gesamt", "gesamtstadt").set_index("year")["value"]
    assert np.allclose(soz.sort_index(), city.sort_index())


def test_index_is_not_aggregated_and_says_why(ro_wh):
    rows = _v(ro_wh, "sozialindex", "stadtbezirk")
    assert len(rows) > 0 and rows["value"].isna().all() and (rows["status"] == "missing").all()
    assert (rows["note"] == NOT_AGGREGABLE).all()


META = pd.DataFrame([
    {"key": "n", "aggregation": "sum", "numerator": None, "denominator": None, "scale": 100, "weight": None},
    {"key": "d", "aggregation": "sum", "numerator": None, "denominator": None, "scale": 100, "weight": None},
    {"key": "r", "aggregation": "ratio", "numerator": "n", "denominator": "d", "scale": 100, "weight": None},
    {"key": "m", "aggregation": "weighted_mean", "numerator": None, "denominator": None, "scale": 100, "weight": "d"},
]).set_index("key")
PARENT = pd.Series({"a": "P", "b": "P", "c": "Q"})


def _frame(rows):
    return pd.DataFrame(rows, columns=["indicator", "area_key", "year", "value", "status"])


def test_aggregate_unit_rules():
    vals = _frame([("n", "a", 2020, 1, "ok"), ("n", "b", 2020, 3, "ok"), ("d", "a", 2020, 10, "ok"),
                   ("d", "b", 2020, 30, "ok"), ("r", "a", 2020, 10, "ok"), ("r", "b", 2020, 10, "ok"),
                   ("m", "a", 2020, 2.0, "ok"), ("m", "b", 2020, 4.0, "ok")])
    out = aggregate(vals, PARENT, META).set_index(["indicator", "area_key"])
    assert out.loc[("n", "P"), "value"] == 4 and out.loc[("d", "P"), "value"] == 40
    assert out.loc[("r", "P"), "value"] == pytest.approx(10.0)
    assert out.loc[("m", "P"), "value"] == pytest.approx((2 * 10 + 4 * 30) / 40)


def test_incomplete_children_give_missing_not_a_partial_sum():
    vals = _frame([("n", "a", 2020, 1, "ok"), ("n", "b", 2020, None, "missing"), ("n", "c", 2020, 5, "ok")])
    out = aggregate(vals, PARENT, META).set_index(["indicator", "area_key"])
    assert out.loc[("n", "P"), "status"] == "missing" and np.isnan(out.loc[("n", "P"), "value"])
    assert out.loc[("n", "P"), "note"] == "unvollständig: 1 von 2 Gebieten ohne Wert"
    assert out.loc[("n", "Q"), "value"] == 5


def test_rate_with_zero_denominator_is_missing():
    vals = _frame([("n", "c", 2020, 0, "ok"), ("d", "c", 2020, 0, "ok"), ("r", "c", 2020, None, "missing")])
    out = aggregate(vals, PARENT, META).set_index(["indicator", "area_key"])
    assert out.loc[("r", "Q"), "status"] == "missing"


def test_uninhabited_children_do_not_make_the_parent_incomplete():
    vals = _frame([("n", "a", 2020, 1, "ok"), ("n", "c", 2020, 5, "ok")])  # "b" has no value at all
    out = aggregate(vals, PARENT, META).set_index(["indicator", "area_key"])
    assert out.loc[("n", "P"), "note"] == "unvollständig: 1 von 2 Gebieten ohne Wert"
    out = aggregate(vals, PARENT, META, frozenset({"b"})).set_index(["indicator", "area_key"])
    assert out.loc[("n", "P"), "value"] == 1 and out.loc[("n", "P"), "status"] == "ok"
