"""Sozialindex against values worked out by hand on the six-area fixture (tests/analysis_fixture.py)."""
import json
import math

import numpy as np
import pytest

from keck_data import cli, editing
from keck_data.analysis import derived, sozialindex
from keck_data.analysis.sozialindex import Classes, Spec
from keck_data.errors import ValidationError
from keck_data.policy import system
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests import analysis_fixture as fx
from tests.analysis_fixture import atlas, six_copy, six_file  # noqa: F401 (fixtures)

W = {"a": 2.0, "b": 1.0, "c": 1.0}
SD = math.sqrt(1.375 / 4)  # population SD of the refuse scores −0.5, −0.25, −0.25, 1.0 (mean 0)


@pytest.fixture()
def six_rw(six_copy):
    with Warehouse(six_copy) as wh:
        yield wh


def _class(result):
    return dict(zip(result.table["key"], result.table["class"]))


def _rows(result):
    return {r.key: r for r in result.table.itertuples()}


def test_zscore_refuse_by_hand(atlas):
    # z (after polarity): 01 (−2, 1, 1), 02 (0, 0, −1), 04 (0, 0, −1), 05 (1, 1, 1); 03 and 06 lack C
    result = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W))
    rows = _rows(result)
    assert rows["01"].score == pytest.approx((2 * -2 + 1 + 1) / 4)  # −0.5
    assert rows["02"].score == pytest.approx(-0.25) and rows["04"].score == pytest.approx(-0.25)
    assert rows["05"].score == pytest.approx(1.0)
    assert np.isnan(rows["03"].score) and np.isnan(rows["06"].score)
    # rank 1 = most need; the tie 02/04 is broken by area key
    assert [(k, rows[k].rank) for k in ("05", "02", "04", "01")] == [("05", 1), ("02", 2), ("04", 3), ("01", 4)]
    assert result.missing == ["03", "06"]
    # classes: SD cut-offs −1 / +1 / +1.5 on the standardised score: 05 = 1.0 / 0.586 = 1.71 SD → 4
    assert 1.0 / SD > 1.5 and abs(-0.5 / SD) < 1
    assert {k: _class(result)[k] for k in ("01", "02", "04", "05")} == {"01": 2, "02": 2, "04": 2, "05": 4}
    assert rows["05"].class_label == "Status sehr niedrig"


def test_renormalise_by_hand_and_notes(atlas):
    result = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, missing="renormalise"))
    rows = _rows(result)
    assert rows["03"].score == pytest.approx((2 * 0 + 0) / 3)  # 0: C missing, weights 2 + 1
    assert rows["06"].score == pytest.approx((2 * 1 - 2) / 3)  # 0: C "k. A."
    assert rows["01"].score == pytest.approx(-0.5)
    order = list(result.table["key"])
    assert order == ["05", "03", "06", "02", "04", "01"]  # ties 03/06 and 02/04 by key
    assert list(result.table["rank"]) == [1, 2, 3, 4, 5, 6]
    assert result.missing == ["03", "06"]
    assert rows["06"].lacking == "Quote C"
    values = result.values().set_index("area_key")
    assert values.loc["06", "note"] == "berechnet ohne: c" and values.loc["06", "status"] == "ok"
    assert values.loc["01", "note"] is None


def test_refuse_values_name_the_suppressed_input(atlas):
    values = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W)).values().set_index("area_key")
    assert values.loc["06", "status"] == "suppressed"  # its C is "k. A."
    assert values.loc["03", "status"] == "missing"  # its C is "keine Daten"
    assert values.loc["05", "status"] == "ok" and values.loc["05", "value"] == pytest.approx(1.0)


def test_polarity_override(atlas):
    rows = _rows(sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, polarity={"b": "high_bad"})))
    assert rows["01"].score == pytest.approx((2 * -2 - 1 + 1) / 4)  # B not flipped: z −1
    assert rows["05"].score == pytest.approx((2 * 1 - 1 + 1) / 4)


def test_rank_and_minmax_standardisation(atlas):
    rank = _rows(sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, {"a": 1.0}, method="rank")))
    # A = 6, 10, 10, 10, 12, 12: average ranks 1, 3, 3, 3, 5.5, 5.5 → (r − 1) / 5
    assert [rank[k].score for k in fx.AREAS] == pytest.approx([0, 0.4, 0.4, 0.4, 0.9, 0.9])
    mm = _rows(sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, {"b": 1.0}, method="minmax")))
    # B = 18, 20, 20, 20, 18, 24 → (x − 18) / 6, high is good → 1 − p
    assert [mm[k].score for k in fx.AREAS] == pytest.approx([1, 2 / 3, 2 / 3, 2 / 3, 1, 0])


def test_quantile_classes(atlas):
    result = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, classes=Classes("quantile", (), 4)))
    assert {k: _class(result)[k] for k in ("05", "02", "04", "01")} == {"05": 4, "02": 3, "04": 2, "01": 1}


def test_rank_stability_is_seeded_and_brackets_the_rank(atlas):
    spec = Spec(fx.LEVEL, fx.YEAR, W, missing="renormalise")
    one, two = sozialindex.build(atlas, spec).table, sozialindex.build(atlas, spec).table
    assert one[["rank_p05", "rank_p95"]].equals(two[["rank_p05", "rank_p95"]])
    assert (one["rank_p05"] <= one["rank"]).all() and (one["rank"] <= one["rank_p95"]).all()
    rows = {r.key: r for r in one.itertuples()}
    assert (rows["05"].rank_p05, rows["05"].rank_p95) == (1, 1)  # 1.0 vs at most 0.33: always first
    # 02 and 04 score −w_C / Σw under every weighting: always tied, 02 always before 04
    assert rows["04"].rank_p05 == rows["02"].rank_p05 + 1
    still = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, spread=0.0)).table
    assert (still["rank_p05"] == still["rank"]).all() and still["class_stable"].all()


def test_class_stability_flags_areas_near_a_cut(atlas):
    # 01 stands at −0.853 SD; with weights A 2.5, B 0.75, C 0.75 the scores are 01 −0.875, 02/04 −0.1875, 05 1.0
    # (mean −0.0625, SD 0.675), so 01 falls to −1.20 SD: class "hoch" instead of "mittel" → flagged.
    # 05 is the maximum of four values (at most √3 = 1.73 SD) and stays above 1.5 SD: stable.
    table = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W)).table.set_index("key")
    assert not table.loc["01", "class_stable"]
    assert table.loc["05", "class_stable"] and table.loc["03", "class_stable"]  # 03 has no index: nothing to flag
    wide = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, classes=Classes("sd", (-1.5, 1.0), 3))).table
    assert wide.set_index("key").loc["01", "class_stable"]  # −1.20 SD stays above −1.5


def test_bad_input_is_refused_in_german(atlas):
    with pytest.raises(ValidationError, match="Gewichte müssen größer als 0"):
        sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, {"a": 0.0}))
    with pytest.raises(ValidationError, match="Unbekannte oder nicht freigegebene Indikatoren: x"):
        sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, {"x": 1.0}))
    with pytest.raises(ValidationError, match="Unbekannte Standardisierung"):
        sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, W, method="median"))
    with pytest.raises(ValidationError, match="Schlüssel:Gewicht"):
        sozialindex.parse_weights("a:zwei")
    assert sozialindex.parse_weights("a:2, b:1,5".replace(",5", "")) == {"a": 2.0, "b": 1.0}


def test_dynamics_and_status_matrix(atlas):
    result = sozialindex.build(atlas, Spec(fx.LEVEL, fx.YEAR, {"a": 1.0}, dynamics_years=4))
    # A rose by 4 everywhere: no spread of the change, every area "stabil"
    assert set(result.table["dynamics_label"]) == {"Dynamik stabil"}
    matrix = sozialindex.status_dynamics_matrix(result)
    assert matrix.shape == (4, 3) and matrix.to_numpy().sum() == 6


def test_save_as_derived_indicator_and_recompute(six_rw):
    atlas = Atlas(six_rw)
    sozialindex.save(six_rw, system("t"), atlas, Spec(fx.LEVEL, fx.YEAR, W, missing="renormalise"), "si", "Index")
    ind = read_df(six_rw, "SELECT * FROM indicator WHERE key = 'si'").iloc[0]
    assert "(2 × Quote A + 1 × Quote B (hoch ist gut: × −1) + 1 × Quote C) / 4" in ind["calculation"]
    assert "z-Wert" in ind["calculation"] and ind["reference_date"] == "2023"
    shown = Atlas(six_rw).level_values("si", fx.LEVEL, fx.YEAR).set_index("key")
    assert shown.loc["06", "status"] == "ok"  # renormalised without the hidden C: no disclosure
    assert shown.loc["05", "value"] == pytest.approx(1.0)
    editing.save_values(six_rw, system("t"), "a", fx.LEVEL, fx.YEAR, {"05": "14"})
    assert list(derived.stale(six_rw)["key"]) == ["si"]
    assert derived.recompute(six_rw, system("t")) == ["si"]
    assert derived.stale(six_rw).empty
    # A now 6, 10, 10, 10, 14, 12: mean 62/6, the ranking keeps 05 first
    after = Atlas(six_rw).level_values("si", fx.LEVEL, fx.YEAR).set_index("key")
    assert after.loc["05", "value"] > after.loc["06", "value"]


def test_cli_json_interface(six_copy, capsys):
    code = cli.main(["sozialindex", "--level", fx.LEVEL, "--year", str(fx.YEAR), "--indicators", "a:2,b:1,c:1",
                     "--missing", "renormalise", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data) >= {"areas", "weights", "method", "missing"}
    assert data["weights"] == {"a": 2.0, "b": 1.0, "c": 1.0} and data["method"] == "zscore"
    assert data["missing"] == ["03", "06"]
    first = data["areas"][0]
    assert set(first) >= {"key", "name", "score", "rank", "class", "rank_p05", "rank_p95"}
    assert (first["key"], first["rank"], first["score"]) == ("05", 1, 1.0)


def test_cli_refuse_lists_areas_without_index_and_german_errors(six_copy, capsys):
    assert cli.main(["sozialindex", "--level", fx.LEVEL, "--year", "2023", "--indicators", "a:2,b,c", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    without = [a for a in data["areas"] if a["rank"] is None]
    assert [a["key"] for a in without] == ["03", "06"] and all(a["score"] is None for a in without)
    assert cli.main(["sozialindex", "--level", fx.LEVEL, "--year", "2023", "--indicators", "a:-1"]) == 2
    assert "Gewichte müssen größer als 0" in capsys.readouterr().err
    assert cli.main(["sozialindex", "--level", "nirgends", "--year", "2023", "--indicators", "a"]) == 2
    assert "Raumebene „nirgends“" in capsys.readouterr().err


def test_cli_save(six_copy, capsys):
    path = six_copy
    assert cli.main(["sozialindex", "--level", fx.LEVEL, "--year", "2023", "--indicators", "a:2,b:1,c:1",
                     "--save", "si_cli", "--name", "Sozialindex 2023"]) == 0
    out = capsys.readouterr().out
    assert "Gespeichert als abgeleiteter Indikator „si_cli“" in out
    with Warehouse(path, read_only=True) as wh:
        assert derived.listing(wh)["key"].tolist() == ["si_cli"]
