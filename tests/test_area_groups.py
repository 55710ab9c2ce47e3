"""Area groups: combined rows ("A und B", "A/B", "A, B") are stored as a group with its value, counted once in
the parents, protected like every count, and shown as one unit on the map, in the table and in its export."""
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from keck_data import area_groups, mapdeck, privacy
from keck_data.errors import ValidationError
from keck_data.export_map import area_frame, render_map
from keck_data.export_opendata import export_values
from keck_data.export_table import to_xlsx
from keck_data.importing import import_values
from keck_data.policy import system
from keck_data.privacy_audit import audit, audit_snapshot
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import markdown, ok
from tests.import_helpers import fingerprint

TESTER = system("test")
YEAR = 2031  # a year the demo has no values for
SAME_PARENT = {"0101": "Marktplatz", "0102": "Domviertel"}  # both in Stadtbezirk 01 Altstadt
ACROSS = {"0207": "Kastanienallee", "0301": "Ahornpark"}  # 02 Nordviertel and 03 Am Hafen


def delivery(wh, path, totals: bool = True, separator: str = " und ", extra: list | None = None, joint=(40, 50)):
    """An Excel sheet as offices deliver it: title, one row per Sozialraum with Geburten, two combined rows, the
    Stadtbezirk totals and the town's row at the bottom. Returns (path, value per area key)."""
    areas = read_df(wh, "SELECT key, name, parent_key FROM area WHERE level = 'sozialraum' ORDER BY key")
    value = {k: 10 + i for i, k in enumerate(areas["key"])}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([f"Geburten {YEAR} nach Sozialräumen"])
    ws.append([])
    ws.append(["Schlüssel", "Sozialraum", "Geburten"])
    for key, name in zip(areas["key"], areas["name"]):
        if key not in SAME_PARENT and key not in ACROSS:
            ws.append([key, name, value[key]])
    ws.append(["", separator.join(SAME_PARENT.values()), joint[0]])
    ws.append(["", separator.join(ACROSS.values()), joint[1]])
    for row in extra or []:
        ws.append(row)
    if totals:
        by_parent = areas.assign(v=areas["key"].map(value)).groupby("parent_key")["v"].sum()
        ws.append(["01", "Altstadt insgesamt", int(by_parent["01"] - 10 - 11 + 40)])
        ws.append(["", "Musterstadt", int(sum(v for k, v in value.items() if k not in SAME_PARENT | ACROSS) + 90)])
    wb.save(path)
    return path, value


def _import(wh, path, dry_run=False):
    return import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Sozialraum",
                         columns={"Geburten": "geburten"}, year=YEAR, dry_run=dry_run, user=TESTER)


def _value(wh, level, key):
    return wh.cursor().execute("SELECT value, status, note FROM indicator_value WHERE indicator = 'geburten' AND "
                               "level = ? AND area_key = ? AND year = ?", [level, key, YEAR]).fetchone()


def test_combined_rows_totals_and_town_row_import_into_area_groups(wh, tmp_path):
    path, _ = delivery(wh, tmp_path / "geburten.xlsx")
    before = fingerprint(wh)
    report = _import(wh, path, dry_run=True).as_dict()
    assert report["unmatched_rows"] == [] and fingerprint(wh) == before
    rules = {m["name"]: m["rule"] for m in report["matching"]}
    assert rules["Marktplatz und Domviertel"] == "kombinierte Zeile → Gebietsgruppe Marktplatz + Domviertel"
    assert rules["Kastanienallee und Ahornpark"] == "kombinierte Zeile → Gebietsgruppe Kastanienallee + Ahornpark"
    assert rules["Altstadt insgesamt"].startswith("Stadtbezirk:") and rules["Musterstadt"].startswith("Gesamtstadt:")
    assert report["area_groups"] == {"0101+0102": "Marktplatz und Domviertel",
                                     "0207+0301": "Kastanienallee und Ahornpark"}
    assert any(w.startswith("2 kombinierte Zeilen: ") for w in report["warnings"])
    assert any(w.startswith("2 Zeilen sind Summen gröberer Ebenen") for w in report["warnings"])
    assert any("Altstadt, geburten 2031: geliefert" in line and "Differenz 0,0 %" in line
               for line in report["totals_check"])  # the group counts for Altstadt, once

    _import(wh, path)
    groups = area_groups.members(wh.cursor(), "sozialraum")
    assert list(zip(groups["group_key"], groups["area_key"])) == [
        ("0101+0102", "0101"), ("0101+0102", "0102"), ("0207+0301", "0207"), ("0207+0301", "0301")]
    assert _value(wh, "sozialraum", "0101+0102")[:2] == (40.0, "ok")
    assert _value(wh, "sozialraum", "0101") is None and _value(wh, "sozialraum", "0102") is None  # never split
    audited = read_df(wh, "SELECT actor, action, entity, after FROM audit_log WHERE entity = 'area_group'")
    assert set(audited["action"]) == {"import-values"} and set(audited["actor"]) == {"test"} and len(audited) == 2


@pytest.mark.parametrize("separator", ["/", ", "])
def test_other_spellings_of_a_combined_row(wh, tmp_path, separator):
    path, _ = delivery(wh, tmp_path / "geburten.xlsx", totals=False, separator=separator)
    report = _import(wh, path, dry_run=True)
    assert report.unmatched == [] and set(report.details["area_groups"]) == {"0101+0102", "0207+0301"}


def test_a_group_feeds_its_parent_and_the_town_exactly_once(wh, tmp_path):
    path, value = delivery(wh, tmp_path / "geburten.xlsx", totals=False)
    _import(wh, path)
    altstadt = sum(v for k, v in value.items() if k.startswith("01") and k not in SAME_PARENT) + 40
    assert _value(wh, "stadtbezirk", "01")[:2] == (altstadt, "ok")
    town = sum(v for k, v in value.items() if k not in SAME_PARENT | ACROSS) + 40 + 50
    assert _value(wh, "gesamtstadt", "0")[:2] == (town, "ok")
    # the group across Nordviertel and Am Hafen: both parents honestly incomplete, the town counts it once
    for bezirk in ("02", "03"):
        v, status, note = _value(wh, "stadtbezirk", bezirk)
        assert v is None and status == "missing"
        assert note.startswith("unvollständig: gemeinsamer Wert für Kastanienallee und Ahornpark reicht über")
    assert _value(wh, "stadtbezirk", "04")[:2] == (sum(v for k, v in value.items() if k.startswith("04")), "ok")


def test_an_area_with_its_own_value_and_a_group_value_is_refused(wh, tmp_path):
    path, _ = delivery(wh, tmp_path / "doppelt.xlsx", totals=False, extra=[["0101", "Marktplatz", 7]])
    before = fingerprint(wh)
    with pytest.raises(ValidationError, match=r"doppelt gezählt\): 0101, geburten 2031: Zeilen \d+, \d+"):
        _import(wh, path)
    assert fingerprint(wh) == before


def test_a_later_delivery_with_separate_values_replaces_the_group_value(wh, tmp_path):
    path, _ = delivery(wh, tmp_path / "geburten.xlsx", totals=False)
    _import(wh, path)
    separate = tmp_path / "getrennt.csv"
    separate.write_text("Schlüssel;Sozialraum;Geburten\n0101;Marktplatz;25\n0102;Domviertel;15\n", encoding="utf-8")
    report = _import(wh, separate)
    assert any("1 gespeicherter Wert wird ersetzt" in w and "0101+0102 geburten 2031" in w for w in report.warnings)
    assert _value(wh, "sozialraum", "0101+0102") is None
    assert _value(wh, "sozialraum", "0101")[:2] == (25.0, "ok")
    assert _value(wh, "stadtbezirk", "01")[0] == sum(10 + i for i in range(2, 5)) + 25 + 15


def test_a_small_group_value_is_k_a_and_the_snapshot_keeps_members_without_values(wh, tmp_path):
    path, _ = delivery(wh, tmp_path / "geburten.xlsx", totals=False, joint=(2, 50))
    _import(wh, path)
    shown = Atlas(wh).level_values("geburten", "sozialraum", YEAR).set_index("key")
    assert shown.loc["0101+0102", "status"] == "suppressed" and shown.loc["0101+0102", "text"] == "k. A."
    target = tmp_path / "public.duckdb"
    publish(wh, target, TESTER)  # refuses a snapshot the LP attacker can read a hidden value from
    with Warehouse(target, read_only=True) as snap:
        rows = read_df(snap, "SELECT area_key, value, status FROM indicator_value WHERE indicator = 'geburten' "
                             "AND year = ? AND level = 'sozialraum'", [YEAR]).set_index("area_key")
        assert not {"0101", "0102", "0207", "0301"} & set(rows.index)
        assert rows.loc["0101+0102", "status"] == "suppressed" and np.isnan(rows.loc["0101+0102", "value"])
        assert audit_snapshot(snap, wh, privacy.PrivacyRule.from_settings()).findings == []
        assert len(area_groups.members(snap.cursor())) == 4


# -- disclosure control: a small town, built by hand -------------------------------------------------------
META = pd.DataFrame({"kind": ["count"], "aggregation": ["sum"], "numerator": [None], "denominator": [None],
                     "parts": [None], "share": [False], "weight": [None], "decimals": [0], "scale": [100.0]},
                    index=pd.Index(["n"], name="key"))
TREE = pd.DataFrame([("t", "T", None, None, None), ("b", "B1", "t", "T", None), ("b", "B2", "t", "T", None),
                     *[("a", k, "b", p, None) for k, p in [("a1", "B1"), ("a2", "B1"), ("a3", "B1"), ("a4", "B2"),
                                                          ("a5", "B2"), ("a6", "B2")]],
                     ("a", "a1+a2", "b", "B1", ["a1", "a2"]), ("a", "a3+a4", "t", "T", ["a3", "a4"])],
                    columns=["level", "key", "parent_level", "parent_key", "members"])


def _cells(rows):
    return pd.DataFrame([("n", lv, k, 2031, float(v), "ok" if not np.isnan(v) else "missing") for lv, k, v in rows],
                        columns=["indicator", "level", "area_key", "year", "value", "status"])


def test_group_values_pass_the_same_disclosure_control():
    """The town minus both groups (one across B1 and B2) and a6 would give away the small a5: protection hides
    more, and the LP attacker recovers nothing from what is shown."""
    values = _cells([("t", "T", 30 + 50 + 2 + 20), ("b", "B1", np.nan), ("b", "B2", np.nan),
                     ("a", "a1+a2", 30), ("a", "a3+a4", 50), ("a", "a5", 2), ("a", "a6", 20)])
    safe = privacy.apply(values, META, TREE, privacy.PrivacyRule(threshold=3))
    hidden = set(safe.loc[safe["status"] == "suppressed", "area_key"])
    assert "a5" in hidden and len(hidden) >= 2
    shown = safe[["indicator", "level", "area_key", "year", "value", "status"]]
    assert audit(shown, META, TREE, privacy.PrivacyRule(threshold=3)).findings == []
    # without the group nodes the attacker model would miss the sums the groups take part in
    flat = TREE[TREE["members"].isna()]
    naive = privacy.apply(values, META, flat, privacy.PrivacyRule(threshold=3))
    naive_shown = naive[["indicator", "level", "area_key", "year", "value", "status"]]
    assert audit(naive_shown, META, TREE, privacy.PrivacyRule(threshold=3)).findings != []


# -- display ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def grouped(wh, tmp_path):
    path, _ = delivery(wh, tmp_path / "geburten.xlsx", totals=False)
    _import(wh, path)
    return Atlas(wh)


def test_level_values_and_map_show_the_group_as_one_unit(grouped):
    values = grouped.level_values("geburten", "sozialraum", YEAR)
    assert "0101" not in set(values["key"]) and "0102" not in set(values["key"])
    row = values.set_index("key").loc["0101+0102"]
    assert row["name"] == "Marktplatz und Domviertel (gemeinsam)" and row["value"] == 40
    result = mapdeck.build(grouped, mapdeck.MapSettings("geburten", "sozialraum", YEAR))
    polygons = result.deck.layers[0].data
    assert not {"0101", "0102"} & {p["k"] for p in polygons}
    [unit] = [p for p in polygons if p["k"] == "0101+0102"]  # one dissolved outline, not two rings
    assert unit["t"] == "Geburten: 40 (gemeinsamer Wert für Marktplatz und Domviertel)"
    assert unit["c"] != list(mapdeck._rgba(mapdeck.classify.COLOR_MISSING))
    # another year without the group: the members are drawn on their own
    other = grouped.level_values("geburten", "sozialraum", 2024)
    assert {"0101", "0102"} <= set(other["key"]) and not other["key"].str.contains(r"\+").any()


def test_table_and_xlsx_show_the_group_row_instead_of_two_empty_rows(grouped):
    table = grouped.table(["geburten"], "sozialraum", YEAR)
    own = table[~table["reference"]]
    assert "Marktplatz und Domviertel (gemeinsam)" in set(own["name"])
    assert not {"Marktplatz", "Domviertel"} & set(own["name"])
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(grouped, ["geburten"], "sozialraum", YEAR)))["Tabelle"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert ["Sozialraum", "0101+0102", "Marktplatz und Domviertel (gemeinsam)", 40] in rows
    assert not [r for r in rows if r[2] in ("Marktplatz", "Domviertel")]


def test_tabelle_and_karte_pages_show_the_group(app, internal_file, tmp_path):
    with Warehouse(internal_file) as wh:
        path, _ = delivery(wh, tmp_path / "geburten.xlsx", totals=False)
        _import(wh, path)
    at = app(ind="geburten", lvl="sozialraum", yr=str(YEAR), inds="geburten")
    at.switch_page("pages/atlas/tabelle.py").run()
    ok(at)
    assert f"# Tabelle Sozialraum {YEAR}" in markdown(at)
    shown = at.dataframe[1].value
    assert "Marktplatz und Domviertel (gemeinsam)" in set(shown["Gebiet"])
    assert not {"Marktplatz", "Domviertel"} & set(shown["Gebiet"]) and len(shown) == 48 - 4 + 2
    at = app(ind="geburten", lvl="sozialraum", yr=str(YEAR), sel="0102")  # Karte: the member's profile
    ok(at)
    profile = at.dataframe[0].value
    assert "40 (gemeinsamer Wert für Marktplatz und Domviertel)" in set(profile.iloc[:, 1])


def test_map_image_export_draws_the_group_as_one_unit(grouped):
    frame = area_frame(grouped, "sozialraum", groups=True).set_index("key")
    members = frame.loc[list(SAME_PARENT), "geometry"]
    assert frame.loc["0101+0102", "geometry"].area == pytest.approx(members.area.sum(), rel=1e-6)
    assert frame.loc["0101+0102", "geometry"].geom_type == "Polygon"  # neighbours dissolve into one outline
    svg = render_map(grouped, mapdeck.MapSettings("geburten", "sozialraum", YEAR), "svg").decode()
    assert "Geburten 2031" in svg


def test_comparison_shows_a_members_group_value_labelled_as_such(grouped):
    table = grouped.compare("sozialraum", ["0101", "0103"], YEAR).set_index("indicator")
    assert table.loc["geburten", "0101 Marktplatz"] == "40 (gemeinsamer Wert für Marktplatz und Domviertel)"
    assert table.loc["geburten", "_num_0101"] == 40  # the chart draws the group's bar for the member (issue 18)
    assert table.loc["geburten", "0103 Schlossgarten"] == "12"


def test_export_values_names_the_group(grouped, tmp_path):
    export_values(grouped.wh, tmp_path / "werte.csv")
    text = (tmp_path / "werte.csv").read_text(encoding="utf-8-sig")
    assert "sozialraum;0101+0102;Marktplatz und Domviertel (gemeinsam);geburten;Geburten;Personen;2031;40;ok" in text


def test_time_series_of_a_member_shows_the_group_value_labelled_as_such(grouped):
    """Issue 18 item 8: /zeitreihe?areas=<member> showed "keine Daten" and "– (nan)" for the member."""
    ts = grouped.timeseries("geburten", "sozialraum", ["0101", "0103"])
    member = ts[ts["series"] == "0101 Marktplatz (gemeinsam mit Domviertel)"].set_index("year")
    assert member.loc[YEAR, "value"] == 40 and member.loc[YEAR, "status"] == "ok"
    assert "0103 Schlossgarten" in set(ts["series"])
    change = grouped.change_since(ts, YEAR)
    assert change.set_index("series").loc["0101 Marktplatz (gemeinsam mit Domviertel)", "last"] == 40
