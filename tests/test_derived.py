"""Derived indicators: saved with their derivation, marked "veraltet" by the writes that change an input,
released only when current and built on released inputs, and hidden where an input is "k. A."."""
import json

import numpy as np
import pandas as pd
import pytest

from keck_data import editing, privacy
from keck_data.analysis import derived
from keck_data.errors import PermissionDenied, ValidationError
from keck_data.policy import User, system
from keck_data.queries import Atlas
from keck_data.warehouse import read_df

ADMIN = system("test")
LEVEL, YEAR = "sozialraum", 2023


def _values(wh, indicator, scale=1.0, note=None):
    """The input's shown values times ``scale`` (what a one-input method would compute)."""
    v = Atlas(wh).level_values(indicator, LEVEL, YEAR)
    return pd.DataFrame({"level": LEVEL, "area_key": v["key"], "year": YEAR, "value": v["value"] * scale,
                         "status": np.where(v["status"].eq("ok"), "ok", "missing"), "note": note})


def _save(wh, key="si_test", inputs=None, values=None, **meta):
    inputs = inputs or {"sgb2_quote_u15": 1.0}
    d = derived.Derivation("sozialindex", inputs, {"level": LEVEL, "year": YEAR, "method": "zscore"})
    values = values if values is not None else _values(wh, next(iter(inputs)))
    return derived.save(wh, ADMIN, {"key": key, "name": "Testindex", "definition": "Ein Test.", **meta}, d, values)


def test_save_writes_indicator_values_and_derivation(wh):
    _save(wh, calculation="2 × SGB II")
    ind = read_df(wh, "SELECT * FROM indicator WHERE key = 'si_test'").iloc[0]
    assert (ind["kind"], ind["aggregation"], ind["released"], ind["topic"]) == ("index", "none", False,
                                                                              "soziale_lage")
    assert ind["calculation"] == "2 × SGB II"
    assert ind["source"] == "Sozialraum-Atlas, berechnet aus: SGB-II-Quote der unter 15-Jährigen"
    origins = read_df(wh, "SELECT DISTINCT origin, level FROM indicator_value WHERE indicator = 'si_test'")
    assert origins.values.tolist() == [["derived", LEVEL]]
    row = derived.listing(wh).iloc[0]
    assert (row["key"], row["method"], row["inputs"], row["state"]) == ("si_test", "sozialindex",
                                                                         {"sgb2_quote_u15": 1.0}, "aktuell")
    assert row["parameters"]["year"] == YEAR and row["computed_by"] == "test"
    assert row["computed_version"] == wh.version() - 1  # the version the values were computed on
    audit = read_df(wh, "SELECT after FROM audit_log WHERE entity = 'derivation' AND action = 'save-derived'")
    assert json.loads(audit["after"][0])["inputs"] == {"sgb2_quote_u15": 1.0}
    shown = Atlas(wh).level_values("si_test", LEVEL, YEAR)
    ref = Atlas(wh).level_values("sgb2_quote_u15", LEVEL, YEAR)
    assert np.allclose(shown["value"], ref["value"], equal_nan=True)


def test_generated_calculation_names_inputs_and_weights(wh):
    _save(wh, inputs={"sgb2_quote_u15": 2.0, "arbeitslosenanteil": 1.0})
    calc = read_df(wh, "SELECT calculation FROM indicator WHERE key = 'si_test'")["calculation"][0]
    assert "SGB-II-Quote der unter 15-Jährigen (Gewicht 2)" in calc and "Arbeitslosenanteil (Gewicht 1)" in calc


def test_edit_import_metadata_and_areas_mark_stale(wh, tmp_path):
    _save(wh)
    assert derived.stale(wh).empty
    editing.save_values(wh, ADMIN, "sgb2_quote_u15", LEVEL, YEAR, {"0101": "12,5"})
    row = derived.stale(wh).iloc[0]
    assert row["state"] == "veraltet" and row["stale_reason"] == "Werte von „sgb2_quote_u15“ geändert (edit-values)"
    assert read_df(wh, "SELECT count(*) AS n FROM audit_log WHERE entity = 'derivation.stale'")["n"][0] == 1
    _save(wh)  # saving again computes it anew: current
    assert derived.stale(wh).empty
    csv = tmp_path / "werte.csv"
    csv.write_text("key;indicator;year;value\n0101;sgb2_quote_u15;2023;13,5\n", encoding="utf-8")
    from keck_data.importing import import_values
    import_values(wh, csv, level=LEVEL, user=ADMIN, dry_run=False)
    assert "import-values" in derived.stale(wh)["stale_reason"][0]
    _save(wh)
    meta = read_df(wh, "SELECT * FROM indicator WHERE key = 'sgb2_quote_u15'").iloc[0].to_dict()
    editing.save_indicator(wh, ADMIN, {**meta, "polarity": "high_good"})
    assert derived.stale(wh)["stale_reason"][0] == "Metadaten von „sgb2_quote_u15“ geändert (save-indicator)"


def test_unrelated_write_keeps_it_current(wh):
    _save(wh)
    editing.save_values(wh, ADMIN, "wahlbeteiligung", LEVEL, YEAR, {"0101": "50"})
    assert derived.stale(wh).empty


def test_derived_of_derived_follows(wh):
    _save(wh)
    _save(wh, key="si_zwei", inputs={"si_test": 1.0})
    editing.save_values(wh, ADMIN, "sgb2_quote_u15", LEVEL, YEAR, {"0101": "12,5"})
    assert sorted(derived.stale(wh)["key"]) == ["si_test", "si_zwei"]


def test_release_needs_current_derivation_and_released_inputs(wh):
    _save(wh, inputs={"inobhutnahmen": 1.0})  # inobhutnahmen is not released
    with pytest.raises(ValidationError, match="nicht freigegebenen Indikatoren berechnet \\(inobhutnahmen\\)"):
        editing.set_released(wh, ADMIN, "si_test", True)
    editing.set_released(wh, ADMIN, "inobhutnahmen", True)
    editing.save_values(wh, ADMIN, "inobhutnahmen", LEVEL, YEAR, {"0101": "9"})
    with pytest.raises(ValidationError, match="veraltet"):
        editing.set_released(wh, ADMIN, "si_test", True)
    _save(wh, inputs={"inobhutnahmen": 1.0})
    editing.set_released(wh, ADMIN, "si_test", True)
    assert read_df(wh, "SELECT released FROM indicator WHERE key = 'si_test'")["released"][0]


def test_withdrawing_an_input_withdraws_the_derived_indicator(wh):
    _save(wh)
    editing.set_released(wh, ADMIN, "si_test", True)
    editing.set_released(wh, ADMIN, "sgb2_quote_u15", False)
    assert not read_df(wh, "SELECT released FROM indicator WHERE key = 'si_test'")["released"][0]
    row = derived.stale(wh).iloc[0]
    assert row["stale_reason"] == "Eingang „sgb2_quote_u15“ zurückgezogen"
    log = read_df(wh, "SELECT entity_key, before, after FROM audit_log WHERE entity = 'indicator.released' "
                      "ORDER BY id DESC LIMIT 2")
    assert set(log["entity_key"]) == {"si_test", "sgb2_quote_u15"}


def test_derived_cell_hidden_where_input_hidden_unless_left_out(wh):
    raw = read_df(wh, "SELECT area_key, value FROM indicator_value WHERE indicator = 'inobhutnahmen' AND level = ? "
                      "AND year = ?", [LEVEL, YEAR])
    hidden = Atlas(wh).level_values("inobhutnahmen", LEVEL, YEAR)
    hidden_keys = set(hidden.loc[hidden["status"].eq("suppressed"), "key"])
    assert hidden_keys  # small counts in the demo
    # a careless method that used the raw counts: the disclosure control still hides those cells
    careless = pd.DataFrame({"level": LEVEL, "area_key": raw["area_key"], "year": YEAR, "value": raw["value"],
                             "status": "ok"})
    _save(wh, inputs={"inobhutnahmen": 1.0}, values=careless)
    shown = Atlas(wh).level_values("si_test", LEVEL, YEAR)
    assert set(shown.loc[shown["status"].eq("suppressed"), "key"]) == hidden_keys
    vals = Atlas(wh).values(["si_test"], [YEAR])
    assert vals.loc[vals["area_key"].isin(hidden_keys), "reason"].eq("Eingang „inobhutnahmen“ ist „k. A.“").all()
    # computed without the hidden input (renormalised): the value stays
    noted = careless.assign(note=np.where(careless["area_key"].isin(hidden_keys),
                                          privacy.DERIVED_WITHOUT + "inobhutnahmen", None))
    _save(wh, inputs={"inobhutnahmen": 1.0, "sgb2_quote_u15": 1.0}, values=noted)
    shown = Atlas(wh).level_values("si_test", LEVEL, YEAR)
    other = Atlas(wh).level_values("sgb2_quote_u15", LEVEL, YEAR)
    other_hidden = set(other.loc[other["status"].eq("suppressed"), "key"])  # not left out: hides
    assert set(shown.loc[shown["status"].eq("suppressed"), "key"]) == other_hidden
    assert hidden_keys - other_hidden <= set(shown.loc[shown["status"].eq("ok"), "key"])


def test_bad_saves_refused_with_german_messages(wh):
    with pytest.raises(ValidationError, match="gelieferter Indikator"):
        _save(wh, key="arbeitslosenanteil")
    with pytest.raises(ValidationError, match="unbekannt: gibt_es_nicht"):
        _save(wh, inputs={"gibt_es_nicht": 1.0}, values=_values(wh, "sgb2_quote_u15"))
    bad = _values(wh, "sgb2_quote_u15").assign(area_key="9999")
    with pytest.raises(ValidationError, match="unbekannte Gebiete: sozialraum/9999"):
        _save(wh, values=bad.head(1))
    with pytest.raises(ValidationError, match="Schlüssel"):
        _save(wh, key="mit leerzeichen")
    assert read_df(wh, "SELECT count(*) AS n FROM derivation")["n"][0] == 0


def test_reader_may_not_save(wh):
    with pytest.raises(PermissionDenied):
        derived.save(wh, User("planung", "P", "keck_nutzer"), {"key": "x", "name": "X", "definition": "d"},
                     derived.Derivation("sozialindex", {"sgb2_quote_u15": 1.0}), _values(wh, "sgb2_quote_u15"))
