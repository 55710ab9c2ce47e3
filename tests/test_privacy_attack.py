"""Disclosure control against an LP attacker (issue 13): one regression test per audit finding, the published
demo attacked end to end (also through the CLI), and a property test over random hierarchies."""
from __future__ import annotations

import io
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keck_data import area_groups, disclosure, policy, privacy, relations
from keck_data.errors import ValidationError
from keck_data.export_opendata import open_data_zip
from keck_data.privacy import PrivacyRule
from keck_data.privacy_audit import attack, audit, audit_snapshot
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import ROOT

RULE = PrivacyRule()
COLUMNS = ["indicator", "level", "area_key", "year", "value", "status"]


# -- small synthetic tables -----------------------------------------------------------------------------------
def _meta(rows: list[dict]) -> pd.DataFrame:
    base = {"kind": "count", "aggregation": "sum", "numerator": None, "denominator": None, "parts": None,
            "share": False, "scale": 100.0, "decimals": 0, "released": True}
    return pd.DataFrame([base | r for r in rows]).set_index("key")


def _rate(numerator: str, denominator: str, **extra) -> dict:
    """Metadata of the rate "q" (one decimal)."""
    return {"key": "q", "kind": "rate", "aggregation": "ratio", "numerator": numerator,
            "denominator": denominator, "decimals": 1} | extra


def _tree(shape: list) -> pd.DataFrame:
    """``shape``: children per node, nested (``[3]``: a city with 3 areas; ``[[2, 3]]``: 2 districts …)."""
    rows = [("l0", "0", None, None)]

    def grow(key: str, depth: int, spec) -> None:
        counts = spec if isinstance(spec, list) else [None] * spec
        for i, sub in enumerate(counts):
            child = f"{key}{i}"
            rows.append((f"l{depth + 1}", child, f"l{depth}", key))
            if sub is not None:
                grow(child, depth + 1, sub)

    grow("0", 0, shape[0])
    return pd.DataFrame(rows, columns=["level", "key", "parent_level", "parent_key"])


def _table(tree: pd.DataFrame, meta: pd.DataFrame, leaves: dict[str, dict[str, int]], year: int = 2020):
    """Values of every level: leaf counts given, totals summed up, identities and rates computed."""
    kids = tree.dropna(subset=["parent_key"]).groupby("parent_key")["key"].apply(list).to_dict()
    value: dict[tuple[str, str], float] = {}

    def total(ind: str, key: str) -> float:
        if (ind, key) not in value:
            value[(ind, key)] = (float(leaves[ind][key]) if key not in kids
                                 else sum(total(ind, k) for k in kids[key]))
        return value[(ind, key)]

    rows = []
    for _, area in tree.iterrows():
        for ind, m in meta.iterrows():
            if m["kind"] == "rate":
                num, den = total(m["numerator"], area["key"]), total(m["denominator"], area["key"])
                v = num / den * m["scale"] if den else np.nan
            else:
                v = total(ind, area["key"])
            rows.append((ind, area["level"], area["key"], year, v, "ok" if not np.isnan(v) else "missing"))
    return pd.DataFrame(rows, columns=COLUMNS)


def _protect_and_attack(values, meta, tree, rule=RULE):
    safe = privacy.apply(values, meta, tree, rule)
    return safe, audit(safe[COLUMNS], meta, tree, rule)


def _status(frame, indicator, key):
    return frame.loc[(frame["indicator"] == indicator) & (frame["area_key"] == key), "status"].iloc[0]


# -- the seven findings, on small tables (each failed with the per-indicator rule before) ----------------------
def test_several_small_siblings_protect_their_sum():
    """Finding 1: Stadtbezirk 123 = 10 + 113 shown left 0 + 0 + 0 for the three hidden areas."""
    tree, meta = _tree([5]), _meta([{"key": "c"}])
    values = _table(tree, meta, {"c": {"00": 0, "01": 0, "02": 10, "03": 0, "04": 113}})
    safe, result = _protect_and_attack(values, meta, tree)
    assert result.ok, result.details()
    assert {_status(safe, "c", k) for k in ("00", "01", "03")} == {"suppressed"}
    assert _status(safe, "c", "02") == "suppressed"  # the cheapest cell that gives the hidden sum room
    assert _status(safe, "c", "04") == "ok" and _status(safe, "c", "0") == "ok"


def test_identities_across_indicators_are_protected():
    """Finding 2: ew_u3 = ew_u6 − ew_3_6 rebuilt a hidden cell when each indicator was protected alone."""
    tree = _tree([3])
    meta = _meta([{"key": "u3"}, {"key": "a3_6"}, {"key": "u6", "parts": "u3 + a3_6"}])
    values = _table(tree, meta, {"u3": {"00": 2, "01": 50, "02": 60}, "a3_6": {"00": 40, "01": 45, "02": 55},
                                 "u6": {"00": 42, "01": 95, "02": 115}})
    safe, result = _protect_and_attack(values, meta, tree)
    assert result.ok, result.details()
    assert _status(safe, "u3", "00") == "suppressed"
    assert "suppressed" in {_status(safe, "u6", "00"), _status(safe, "a3_6", "00")}


def test_rest_of_a_share_is_protected():
    """Finding 3: 4 of 5 children with a U9 check-up showed that 1 child had none."""
    tree = _tree([3])
    meta = _meta([{"key": "u9"}, {"key": "kids"}, _rate("u9", "kids", share=True)])
    values = _table(tree, meta, {"u9": {"00": 4, "01": 30, "02": 40}, "kids": {"00": 5, "01": 60, "02": 70}})
    safe, result = _protect_and_attack(values, meta, tree)
    assert result.ok, result.details()
    assert "suppressed" in {_status(safe, "u9", "00"), _status(safe, "kids", "00")}
    assert _status(safe, "q", "00") == "suppressed"


def test_rate_over_a_hidden_zero_denominator_reads_k_a_not_keine_daten():
    """Finding 4: "keine Daten" (denominator 0) next to "k. A." told the hidden numerator was 0."""
    tree = _tree([3])
    meta = _meta([{"key": "n"}, {"key": "d"}, _rate("n", "d", share=True)])
    values = _table(tree, meta, {"n": {"00": 0, "01": 30, "02": 40}, "d": {"00": 0, "01": 60, "02": 70}})
    assert _status(values, "q", "00") == "missing"
    safe, result = _protect_and_attack(values, meta, tree)
    assert _status(safe, "q", "00") == "suppressed" and result.ok


def test_privacy_is_decided_on_unreleased_counts():
    """Finding 5: with the count withdrawn, its rate was shown where the count was 0–3."""
    tree = _tree([3])
    meta = _meta([{"key": "n", "released": False}, {"key": "d"}, _rate("n", "d", scale=1000.0)])
    values = _table(tree, meta, {"n": {"00": 2, "01": 30, "02": 40}, "d": {"00": 500, "01": 600, "02": 700}})
    safe = privacy.apply(values, meta, tree, RULE)
    public = safe[safe["indicator"] != "n"]
    assert _status(public, "q", "00") == "suppressed"
    assert audit(privacy.round_declared(public[COLUMNS], meta), meta, tree, RULE).ok


def test_a_mean_is_hidden_where_its_weight_is_hidden():
    """A shown mean next to its parent's mean is one more equation on a hidden weight."""
    tree = _tree([3])
    meta = _meta([{"key": "pop"}, {"key": "age", "kind": "mean", "aggregation": "weighted_mean", "weight": "pop",
                   "decimals": 1}])
    values = _table(tree, meta, {"pop": {"00": 2, "01": 300, "02": 400}, "age": {"00": 0, "01": 0, "02": 0}}).assign(
        value=lambda f: np.where(f["indicator"] == "age", 40.0, f["value"]), status="ok")
    safe = privacy.apply(values, meta, tree, RULE)
    assert _status(safe, "pop", "00") == "suppressed" and _status(safe, "age", "00") == "suppressed"
    assert _status(safe, "age", "0") == ("suppressed" if _status(safe, "pop", "0") == "suppressed" else "ok")


def test_rates_are_published_at_their_declared_decimals():
    """Finding 7: rates went out at full precision ("26,575542")."""
    meta = _meta([{"key": "q", "kind": "rate", "decimals": 1}, {"key": "c"}])
    values = pd.DataFrame([("q", "l0", "0", 2020, 26.575542, "ok"), ("c", "l0", "0", 2020, 3.0, "ok")],
                          columns=COLUMNS)
    assert privacy.round_declared(values, meta)["value"].tolist() == [26.6, 3.0]


def test_the_attacker_reads_unreleased_counts_out_of_rates():
    """Finding 5 as the audit sees it: a rate shown over an unreleased numerator of 2 (4.0 ‰ of 500) gives it
    away, at full precision and at the declared decimals alike."""
    tree = _tree([3])
    meta = _meta([{"key": "n", "released": False}, {"key": "d"}, _rate("n", "d", scale=1000.0)])
    values = _table(tree, meta, {"n": {"00": 2, "01": 37, "02": 41}, "d": {"00": 500, "01": 600, "02": 700}})
    public = values[values["indicator"] != "n"]
    for shown in (public, privacy.round_declared(public, meta)):
        result = audit(shown, meta, tree, RULE)
        assert [(f.indicator, f.area_key, f.lo, f.hi) for f in result.findings] == [("n", "00", 2, 2)]


def test_relations_that_do_not_hold_are_reported_and_not_used():
    tree, meta = _tree([2]), _meta([{"key": "c"}])
    values = _table(tree, meta, {"c": {"00": 20, "01": 30}})
    values.loc[values["area_key"] == "0", "value"] = 55.0
    system = relations.build(values, meta, tree)
    assert system.broken == ["Summe stimmt nicht: c 2020: 0 = Summe seiner Teilgebiete (Abweichung +5)"]
    assert system.matrix.shape[0] == 0


# -- the published demo, attacked -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def published(demo_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("published")
    internal, snapshot = folder / "keck.duckdb", folder / "public.duckdb"
    shutil.copy(demo_file, internal)
    with Warehouse(internal) as wh:
        result = publish(wh, snapshot, policy.system("test"))
    return internal, snapshot, result


def _frames(internal, snapshot):
    with Warehouse(internal, read_only=True) as wh, Warehouse(snapshot, read_only=True) as pub:
        raw = read_df(wh, "SELECT indicator, level, area_key, year, value, status FROM indicator_value")
        shown = read_df(pub, "SELECT indicator, level, area_key, year, value, status FROM indicator_value")
        meta = read_df(wh, "SELECT * FROM indicator").set_index("key")
        tree = area_groups.tree(wh.cursor())
    return raw, shown, meta, tree


def test_audit_privacy_on_the_published_demo_prints_0_0(published):
    internal, snapshot, result = published
    assert result["audit"].startswith("0 Zellen rekonstruierbar, 0 enger als 4") and result["secondary"] > 0
    env = {**os.environ, "KECK_WAREHOUSE": str(internal), "KECK_PUBLIC_WAREHOUSE": str(snapshot)}
    r = subprocess.run([sys.executable, "-m", "keck_data", "audit-privacy", "--snapshot", str(snapshot)], cwd=ROOT,
                       capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("0 Zellen rekonstruierbar, 0 enger als 4 (")


def test_audit_privacy_names_the_cells_it_recovers(published, tmp_path):
    """Showing the secondary cell 0103 (10) again gives 0101, 0102 and 0104 back (123 − 10 − 113 = 0)."""
    internal, snapshot, _ = published
    leaky = tmp_path / "leaky.duckdb"
    shutil.copy(snapshot, leaky)
    with Warehouse(leaky) as wh:
        wh.cursor().execute("UPDATE indicator_value SET status = 'ok', value = 10 WHERE indicator = "
                            "'sozialwohnungen' AND level = 'sozialraum' AND area_key = '0103' AND year = 2015")
    env = {**os.environ, "KECK_WAREHOUSE": str(internal)}
    r = subprocess.run([sys.executable, "-m", "keck_data", "audit-privacy", "--snapshot", str(leaky)], cwd=ROOT,
                       capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("3 Zellen rekonstruierbar, 0 enger als 4")
    assert "sozialwohnungen 0101 2015: = 0 – über sozialwohnungen 2015: 01 = Summe seiner Teilgebiete" in r.stdout


def test_the_issue_cells_of_the_demo_are_safe(published):
    _, shown, meta, tree = _frames(*published[:2])
    a = attack(shown[shown["year"] == 2015], meta, tree, RULE)
    for ind, key in [("sozialwohnungen", "0101"), ("sozialwohnungen", "0102"), ("sozialwohnungen", "0104"),
                     ("ew_u3", "0103")]:
        assert _status(shown[(shown["year"] == 2015) & (shown["level"] == "sozialraum")], ind, key) == "suppressed"
        lo, hi = a.bounds(ind, "sozialraum", key)
        assert hi - lo >= RULE.protection, (ind, key, lo, hi)


def test_no_rest_of_a_share_and_no_zero_denominator_shows_in_the_demo(published):
    _, shown, meta, _ = _frames(*published[:2])
    by = shown.set_index(["indicator", "level", "area_key", "year"])
    for key, rate in relations.shares(meta).iterrows():
        num, den = by.loc[rate["numerator"]], by.loc[rate["denominator"]]
        both = num.join(den, lsuffix="_n", rsuffix="_d", how="inner")
        both = both[(both["status_n"] == "ok") & (both["status_d"] == "ok")]
        assert not (both["value_d"] - both["value_n"]).between(0, RULE.threshold).any(), key
        rates = by.loc[key].join(den, rsuffix="_d", how="inner").join(num, rsuffix="_n", how="inner")
        revealing = (rates["status"] == "missing") & (rates["status_d"] == "suppressed") & (rates["status_n"] != "missing")
        assert not revealing.any(), key


def test_withdrawn_counts_still_decide_what_their_rates_show(demo_copy, tmp_path):
    with Warehouse(demo_copy) as wh:
        wh.cursor().execute("UPDATE indicator SET released = false WHERE key IN ('hze_faelle', 'sgb2_u15')")
        publish(wh, tmp_path / "p.duckdb", policy.system("test"))
    raw, shown, _, _ = _frames(demo_copy, tmp_path / "p.duckdb")
    assert not shown["indicator"].isin(["hze_faelle", "sgb2_u15"]).any()
    for count, rate in (("hze_faelle", "hze_quote"), ("sgb2_u15", "sgb2_quote_u15")):
        small = raw[(raw["indicator"] == count) & raw["value"].between(0, RULE.threshold)]
        assert len(small) > 0
        rates = small[["level", "area_key", "year"]].merge(shown[shown["indicator"] == rate])
        assert len(rates) == len(small) and set(rates["status"]) == {"suppressed"}


def test_open_data_and_timeseries_keep_status_and_decimals(published, tmp_path):
    """Finding 6 (domain side) and 7: GeoJSON/GPKG carry status columns, rates go out at their decimals, the
    time series says which years are "k. A."."""
    _, shown, meta, _ = _frames(*published[:2])
    hidden = shown[(shown["indicator"] == "hze_quote") & (shown["level"] == "sozialraum")
                   & (shown["status"] == "suppressed")].iloc[0]
    with Warehouse(published[1], read_only=True) as pub:
        atlas = Atlas(pub, public=True)
        z = zipfile.ZipFile(io.BytesIO(open_data_zip(atlas, 2020)))
        ts = atlas.timeseries("hze_quote", "sozialraum", [hidden["area_key"]])
    props = pd.DataFrame([f["properties"] for f in json.loads(z.read("sozialraum_2020.geojson"))["features"]])
    assert set(props["status_quote_sprachfoerderbedarf"]) == {"missing"}  # no screening in 2020
    suppressed = props["status_hze_faelle"] == "suppressed"
    assert suppressed.any() and props.loc[suppressed, "hze_faelle"].isna().all()
    assert props.loc[props["status_hze_faelle"] == "ok", "hze_faelle"].notna().all()
    layer = gpd.read_file(z.extract("gebiete.gpkg", path=tmp_path), layer="sozialraum")
    assert {"status_hze_faelle", "status_hze_quote"} <= set(layer.columns)
    werte = pd.read_csv(io.BytesIO(z.read("werte.csv")), sep=";", decimal=",", encoding="utf-8-sig")
    rates = werte.loc[werte["indicator"] == "anteil_alleinerziehend", "value"].dropna()
    assert len(rates) and (np.round(rates, 1) == rates).all()
    snapshot_rates = shown[shown["indicator"].map(meta["kind"]).eq("rate")]["value"].dropna()
    assert (np.round(snapshot_rates, 1) == snapshot_rates).all()
    row = ts[(ts["year"] == hidden["year"]) & ~ts["is_city"]].iloc[0]
    assert row["status"] == "suppressed" and np.isnan(row["value"])


def test_publish_refuses_a_snapshot_the_attacker_breaks(demo_copy, tmp_path, monkeypatch):
    (tmp_path / "public").mkdir()
    target = tmp_path / "public" / "p.duckdb"
    target.write_bytes(b"old snapshot")
    monkeypatch.setattr(privacy.Protection, "run", lambda self: {})  # primary suppression only
    with Warehouse(demo_copy) as wh, pytest.raises(ValidationError, match="Veröffentlichung abgebrochen: .* "
                                                                          "Zellen rekonstruierbar"):
        publish(wh, target, policy.system("test"))
    assert target.read_bytes() == b"old snapshot" and list(target.parent.iterdir()) == [target]


def test_audit_of_a_snapshot_without_internal_declarations(published):
    with Warehouse(published[1], read_only=True) as pub:
        assert audit_snapshot(pub, None, RULE).ok


# -- property test: random hierarchies, identities and small counts -------------------------------------------
META_PROP = _meta([{"key": "a"}, {"key": "b"}, {"key": "t", "parts": "a + b"},
                   _rate("a", "t", share=True)])


@st.composite
def _cases(draw):
    depth = draw(st.integers(2, 3))
    if depth == 2:
        shape = [draw(st.integers(2, 12))]
    else:
        shape = [draw(st.lists(st.integers(2, 5), min_size=2, max_size=4))]
    tree = _tree(shape)
    leaves = tree.loc[~tree["key"].isin(tree["parent_key"].dropna()), "key"].tolist()
    count = st.one_of(st.integers(0, 6), st.integers(7, 60))
    values = {ind: {k: draw(count, label=f"{ind}{k}") for k in leaves} for ind in ("a", "b")}
    values["t"] = {k: values["a"][k] + values["b"][k] for k in leaves}
    threshold = draw(st.integers(1, 4))
    return tree, values, PrivacyRule(threshold=threshold, suppress_zeros=draw(st.booleans()))


def _fewer_cells_suffice(values, tree, rule, total: int) -> bool | None:
    """Brute force: would hiding fewer than ``total`` cells (the primary ones and the fewest extra) pass the
    attacker? None when there are too many subsets to try."""
    out = values.sort_values(privacy.KEY).reset_index(drop=True)
    small = out["indicator"].map(META_PROP["kind"]).eq("count") & rule.is_small(out["value"])
    system = relations.build(out.assign(status=np.where(small, "suppressed", out["status"])), META_PROP, tree)
    status = system.cells["status"].to_numpy()
    primary, rest = status == "suppressed", status == "rest"
    sensitive = rest & np.asarray(rule.is_small(system.cells["value"]), bool)
    candidates = np.flatnonzero(status == "ok")
    sizes = range(max(0, total - int(primary.sum())))
    if sum(math.comb(len(candidates), k) for k in sizes) > 3000:
        return None
    solver = disclosure.Solver(system, system.cells["value"].to_numpy(float))
    for size in sizes:
        for extra in itertools.combinations(candidates, size):
            hidden = primary.copy()
            hidden[list(extra)] = True
            check = hidden | sensitive
            lo, hi = disclosure.intervals(solver, hidden | rest, check, np.inf)
            if (hi[check] - lo[check] >= rule.protection).all():
                return True
    return False


# Found on CI: hiding b 000 (= 1) was made safe by pushing it up only (10 cells) where [0, 2] around it needs 4.
CI_CASE = (_tree([[2, 2]]),
           {"a": {"000": 0, "001": 2, "010": 0, "011": 0}, "b": {"000": 1, "001": 1, "010": 2, "011": 0},
            "t": {"000": 1, "001": 3, "010": 2, "011": 0}},
           PrivacyRule(threshold=1, suppress_zeros=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
@example(CI_CASE)
def test_protection_withstands_the_attacker_on_random_hierarchies(case):
    tree, leaf_values, rule = case
    values = _table(tree, META_PROP, leaf_values)
    safe, result = _protect_and_attack(values, META_PROP, tree, rule)
    assert result.ok, result.details()
    small = values["indicator"].isin(["a", "b", "t"]) & rule.is_small(values["value"])
    assert set(safe.merge(values[small][privacy.KEY])["status"]) <= {"suppressed"}
    assert safe.loc[safe["status"] == "suppressed", "value"].isna().all()
    greedy = int(safe["indicator"].isin(["a", "b", "t"]).mul(safe["status"] == "suppressed").sum())
    assert _fewer_cells_suffice(values, tree, rule, (greedy + 1) // 2) is not True  # at most 2 × the optimum


def test_import_warns_when_a_declared_identity_does_not_add_up(wh, tmp_path):
    """Declared relations are validated on import: ew_u6 ≠ ew_u3 + ew_3_6 is reported, the value is kept."""
    from keck_data.importing.values import import_values

    csv = tmp_path / "u6.csv"
    csv.write_text("key;indicator;year;value\n0101;ew_u6;2024;5000\n", encoding="utf-8")
    report = import_values(wh, csv, level="sozialraum", indicator_col="indicator", year_col="year",
                           value_col="value", dry_run=False, user=policy.system("test"))
    assert report.committed
    assert any(w.startswith("Summe stimmt nicht: ew_u6 = ew_u3 + ew_3_6 (0101, 2024)") for w in report.warnings)
