"""Auffälligkeiten and Vergleichbare Gebiete against values worked out by hand (tests/analysis_fixture.py)."""
import json
import math

import pytest

from keck_data import cli
from keck_data.analysis import profile, similar
from keck_data.errors import NotFoundError, ValidationError
from tests import analysis_fixture as fx
from tests.analysis_fixture import atlas, six_copy, six_file  # noqa: F401 (fixtures)


def test_profile_rows_by_hand(atlas):
    p = profile.profile(atlas, "01", fx.LEVEL, fx.YEAR, 2019)
    rows = p.rows.set_index("indicator")
    assert list(p.rows["indicator"]) == ["a", "b", "c"]  # |−2| before |−1| and |+1| (ties in catalogue order)
    assert rows.loc["a", "deviation"] == pytest.approx(-2.0)  # (6 − 10) / 2
    assert rows.loc["a", "assessment"] == "günstig" and rows.loc["a", "rank_text"] == "Rang 6 von 6"
    assert rows.loc["a", "change_text"] == "+4,0 Pp." and rows.loc["a", "town_text"] == "10,0 %"
    assert rows.loc["b", "deviation"] == pytest.approx(-1.0)  # high is good: low B is unfavourable
    assert rows.loc["b", "assessment"] == "ungünstig" and rows.loc["b", "rank_text"] == "Rang 1 von 6"
    assert rows.loc["c", "deviation"] == pytest.approx(1.0)  # over the four areas with a value: mean 5, SD 1
    assert rows.loc["c", "rank_text"] == "Rang 1 von 4"
    assert p.sentences() == [
        "Quote A: Altstadt liegt mit 6,0 % deutlich unter dem städtischen Wert (10,0 %) – günstig; Rang 6 von 6; "
        "seit 2019 +4,0 Prozentpunkte.",
        "Quote B: Altstadt liegt mit 18,0 % deutlich unter dem städtischen Wert (20,0 %) – ungünstig; "
        "Rang 1 von 6; seit 2019 unverändert.",
        "Quote C: Altstadt liegt mit 6,0 % deutlich über dem städtischen Wert (5,0 %) – ungünstig; Rang 1 von 4; "
        "seit 2019 unverändert."]


def test_profile_names_suppressed_and_missing_never_ranks_them(atlas):
    hidden = profile.profile(atlas, "06", fx.LEVEL, fx.YEAR).rows.set_index("indicator")
    assert hidden.loc["c", "value_text"] == "k. A." and hidden.loc["c", "rank_text"] == "k. A."
    assert math.isnan(hidden.loc["c", "deviation"]) and math.isnan(hidden.loc["c", "rank"])
    assert list(hidden.index)[-1] == "c"  # not ranked: last
    missing = profile.profile(atlas, "03", fx.LEVEL, fx.YEAR).rows.set_index("indicator")
    assert missing.loc["c", "value_text"] == "keine Daten" and missing.loc["c", "rank_text"] == "keine Daten"
    assert profile.profile(atlas, "03", fx.LEVEL, fx.YEAR).base_year == 2019  # default: earliest of the last 4


def test_profile_bad_input(atlas):
    with pytest.raises(NotFoundError, match="„99“"):
        profile.profile(atlas, "99", fx.LEVEL, fx.YEAR)
    with pytest.raises(ValidationError, match="Für 2000 gibt es keine Werte"):
        profile.profile(atlas, "01", fx.LEVEL, 2000)


def test_similar_by_hand(atlas):
    # z of 02: (0, 0, −1); 04 (0, 0, −1) → 0; 05 (1, −1, 1) → √6; 01 (−2, −1, 1) → 3; 03/06 lack C
    found = similar.similar(atlas, "02", fx.LEVEL, fx.YEAR, ["a", "b", "c"], k=3)
    assert list(found.table["key"]) == ["04", "05", "01"]
    assert list(found.table["distance"]) == pytest.approx([0, math.sqrt(6), 3])
    assert found.table.loc[1, "differs"] == "Quote C (+2,0 SD), Quote A (+1,0 SD)"
    assert found.excluded == ["03", "06"]
    two = similar.similar(atlas, "02", fx.LEVEL, fx.YEAR, ["a", "b"], k=5)
    assert list(two.table["key"]) == ["03", "04", "05", "01", "06"]  # 0, 0, √2, √5, √5: ties by key


def test_similar_different_change_and_errors(atlas):
    found = similar.similar(atlas, "02", fx.LEVEL, fx.YEAR, ["a", "b"], k=2, different_change=4)
    assert "change_distance" in found.table and len(found.table) == 2
    with pytest.raises(ValidationError, match="Brunnenviertel|Castell"):
        similar.similar(atlas, "03", fx.LEVEL, fx.YEAR, ["a", "c"])
    with pytest.raises(NotFoundError):
        similar.similar(atlas, "77", fx.LEVEL, fx.YEAR, ["a"])
    with pytest.raises(ValidationError, match="Unbekannte"):
        similar.similar(atlas, "02", fx.LEVEL, fx.YEAR, ["zz"])


def test_cli_aehnliche_gebiete_json(six_copy, capsys):
    assert cli.main(["aehnliche-gebiete", "02", "--level", fx.LEVEL, "--year", "2023", "--indicators", "a,b,c",
                     "--k", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["area"] == "02"
    assert [(s["key"], s["name"], s["distance"]) for s in data["similar"]] == [
        ("04", "Dorfmitte", 0.0), ("05", "Eichenhain", round(math.sqrt(6), 6))]


def test_cli_auffaelligkeiten(six_copy, capsys):
    assert cli.main(["auffaelligkeiten", "01", "--level", fx.LEVEL, "--year", "2023", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["indicator"] for r in data["rows"]] == ["a", "b", "c"] and len(data["sentences"]) == 3
    assert data["rows"][0]["rank_text"] == "Rang 6 von 6" and data["rows"][0]["deviation"] == -2.0
    assert cli.main(["auffaelligkeiten", "01", "--level", fx.LEVEL, "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Was fällt auf? Altstadt (2023)") and "Rang 6 von 6" in out
    assert cli.main(["auffaelligkeiten", "99", "--level", fx.LEVEL, "--year", "2023"]) == 2


def test_correlation_matrix_by_hand(atlas):
    from keck_data.analysis import correlation
    result = correlation.matrix(atlas, fx.LEVEL, fx.YEAR, ["a", "b", "c"])
    # A, B over all six areas: deviations (−4, 0, 0, 0, 2, 2) and (−2, 0, 0, 0, −2, 4): cov 2, SDs 2 → 0.5
    assert result.pearson.loc["a", "b"] == pytest.approx(0.5) and result.n.loc["a", "b"] == 6
    # A, C only where both are shown (01, 02, 04, 05): Σ products −2 / √(19 · 4)
    assert result.pearson.loc["a", "c"] == pytest.approx(-2 / math.sqrt(76)) and result.n.loc["a", "c"] == 4
    assert result.n.loc["c", "c"] == 4  # "k. A." and "keine Daten" excluded
    assert -1 <= result.spearman.loc["a", "b"] <= 1
    # B, C on 01, 02, 04, 05: (18, 20, 20, 18) against (6, 4, 4, 6): r = −1, the strongest pair first
    assert result.pearson.loc["b", "c"] == pytest.approx(-1.0)
    assert list(result.pairs()["x"] + result.pairs()["y"]) == ["bc", "ab", "ac"]
    with pytest.raises(ValidationError, match="mindestens zwei"):
        correlation.matrix(atlas, fx.LEVEL, fx.YEAR, ["a"])
