"""Privacy: primary and secondary suppression, rates, and a property test that nothing can be recomputed."""
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from keck_data import privacy
from keck_data.privacy import PrivacyRule
from keck_data.queries import Atlas

META = pd.DataFrame([
    {"key": "c", "kind": "count", "aggregation": "sum", "numerator": None, "denominator": None},
    {"key": "pop", "kind": "count", "aggregation": "sum", "numerator": None, "denominator": None},
    {"key": "rate", "kind": "rate", "aggregation": "ratio", "numerator": "c", "denominator": "pop"},
    {"key": "mean", "kind": "mean", "aggregation": "weighted_mean", "numerator": None, "denominator": None},
]).set_index("key")


def _tree(children_per_district: list[int]):
    """Areas of a city → districts → leaves; returns (areas frame, leaves by district)."""
    rows = [("city", "0", None, None)]
    leaves = {}
    for d, n in enumerate(children_per_district):
        dk = f"{d:02d}"
        rows.append(("district", dk, "city", "0"))
        leaves[dk] = [f"{dk}{i:02d}" for i in range(n)]
        rows += [("leaf", k, "district", dk) for k in leaves[dk]]
    return pd.DataFrame(rows, columns=["level", "key", "parent_level", "parent_key"]), leaves


def _values(areas, leaves, leaf_values: dict, indicator="c"):
    rows = [(indicator, "leaf", k, 2020, float(v), "ok") for k, v in leaf_values.items()]
    for dk, ks in leaves.items():
        rows.append((indicator, "district", dk, 2020, float(sum(leaf_values[k] for k in ks)), "ok"))
    rows.append((indicator, "city", "0", 2020, float(sum(leaf_values.values())), "ok"))
    return pd.DataFrame(rows, columns=["indicator", "level", "area_key", "year", "value", "status"])


def _status(out, level, key, indicator="c"):
    row = out[(out["indicator"] == indicator) & (out["level"] == level) & (out["area_key"] == key)]
    return row["status"].iloc[0]


def test_primary_suppression_and_real_zero():
    areas, leaves = _tree([3])
    vals = _values(areas, leaves, {"0000": 0, "0001": 40, "0002": 50})
    out = privacy.apply(vals, META, areas, PrivacyRule(threshold=3, suppress_zeros=False))
    assert _status(out, "leaf", "0000") == "ok" and out.loc[out["area_key"] == "0000", "value"].iloc[0] == 0
    out = privacy.apply(vals, META, areas, PrivacyRule(threshold=3, suppress_zeros=True))
    assert _status(out, "leaf", "0000") == "suppressed"
    assert out.loc[(out["area_key"] == "0000"), "value"].isna().all()
    vals = _values(areas, leaves, {"0000": 3, "0001": 4, "0002": 50})
    out = privacy.apply(vals, META, areas, PrivacyRule(threshold=3))
    assert [_status(out, "leaf", k) for k in ("0000", "0001", "0002")] == ["suppressed", "suppressed", "ok"]


def test_single_suppressed_child_pulls_next_smallest_sibling():
    areas, leaves = _tree([4])
    vals = _values(areas, leaves, {"0000": 2, "0001": 40, "0002": 9, "0003": 70})
    out = privacy.apply(vals, META, areas, PrivacyRule())
    assert _status(out, "leaf", "0000") == "suppressed"
    assert _status(out, "leaf", "0002") == "suppressed"  # next-smallest, not 40 or 70
    assert _status(out, "leaf", "0001") == "ok" and _status(out, "leaf", "0003") == "ok"
    assert _status(out, "district", "00") == "ok"


def test_suppressed_district_hides_one_of_its_children():
    areas, leaves = _tree([2, 2])
    vals = _values(areas, leaves, {"0000": 1, "0001": 1, "0100": 30, "0101": 30})
    out = privacy.apply(vals, META, areas, PrivacyRule())
    assert _status(out, "district", "00") == "suppressed"  # total 2
    # city shown and only one district hidden → the other district is hidden too, then one child of it
    assert _status(out, "district", "01") == "suppressed"
    assert {_status(out, "leaf", "0100"), _status(out, "leaf", "0101")} == {"ok", "suppressed"}


def test_rates_follow_their_numerator_and_denominator():
    areas, leaves = _tree([3])
    counts = {"0000": 2, "0001": 20, "0002": 30}
    pops = {"0000": 100, "0001": 200, "0002": 300}
    vals = pd.concat([_values(areas, leaves, counts), _values(areas, leaves, pops, "pop")])
    rate_rows = vals[vals["indicator"] == "c"].copy()
    rate_rows["indicator"] = "rate"
    rate_rows["value"] = [10.0] * len(rate_rows)
    out = privacy.apply(pd.concat([vals, rate_rows], ignore_index=True), META, areas, PrivacyRule())
    hidden_counts = set(out[(out["indicator"] == "c") & (out["status"] == "suppressed")]["area_key"])
    hidden_rates = set(out[(out["indicator"] == "rate") & (out["status"] == "suppressed")]["area_key"])
    assert hidden_counts == {"0000", "0001"} and hidden_rates == hidden_counts


def test_suppressed_missing_and_zero_stay_distinct_in_the_atlas(ro_wh):
    atlas = Atlas(ro_wh, rule=PrivacyRule(threshold=3, suppress_zeros=False))
    vals = atlas.values(["inobhutnahmen", "sprachfoerderbedarf"])
    statuses = set(vals["status"])
    assert statuses == {"ok", "suppressed", "missing"}
    assert ((vals["status"] == "ok") & (vals["value"] == 0)).any()
    assert vals.loc[vals["status"] != "ok", "value"].isna().all()
    labels = atlas.level_values("inobhutnahmen", "sozialraum", 2024)["text"]
    assert "k. A." in set(labels)


def _derivable(out: pd.DataFrame, areas: pd.DataFrame) -> list[str]:
    """Suppressed cells that a reader could compute from the shown totals (linear algebra)."""
    cells = {(lv, k): (v, s) for lv, k, v, s in zip(out["level"], out["area_key"], out["value"], out["status"])}
    unknown = [c for c, (_, s) in cells.items() if s != "ok"]
    if not unknown:
        return []
    col = {c: i for i, c in enumerate(unknown)}
    rows = []
    for (plv, pk), group in areas.dropna(subset=["parent_key"]).groupby(["parent_level", "parent_key"]):
        row = np.zeros(len(unknown))
        if (plv, pk) in col:
            row[col[(plv, pk)]] += 1
        for lv, k in zip(group["level"], group["key"]):
            if (lv, k) in col:
                row[col[(lv, k)]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    derivable = []
    for c, i in col.items():
        e = np.zeros(len(unknown))
        e[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank and cells[c][1] == "suppressed":
            derivable.append(c)
    return derivable


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=5),
       st.data(), st.integers(1, 5), st.booleans())
def test_no_suppressed_value_can_be_derived(children, data, threshold, zeros):
    areas, leaves = _tree(children)
    keys = [k for ks in leaves.values() for k in ks]
    values = {k: data.draw(st.one_of(st.integers(0, 6), st.integers(7, 500)), label=k) for k in keys}
    out = privacy.apply(_values(areas, leaves, values), META, areas, PrivacyRule(threshold, zeros))
    for k, v in values.items():
        if (v > 0 or zeros) and v <= threshold:
            assert _status(out, "leaf", k) == "suppressed"
    assert out.loc[out["status"] == "suppressed", "value"].isna().all()
    assert _derivable(out, areas) == []
