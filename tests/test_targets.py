"""Wirkungsziele: the Ampel path rule (every state, "halten", suppressed values), targets in the warehouse
(history, conflicts, Maßnahmen), the fixed CLI, re-evaluation after new data, and the public Ampel."""
import json
import os
import re
import subprocess
import sys
from datetime import date

import pytest

from keck_data import conference, editing
from keck_data.analysis import target_edits, targets
from keck_data.analysis.targets import ampel, expected_value
from keck_data.errors import ConflictError, PermissionDenied, ValidationError
from keck_data.importing import import_values
from keck_data.policy import User, system
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.conftest import ROOT

ADMIN = User("verwaltung", "Admin", "kommunen_admin")
BILDUNG = User("schule", "Bildung", "keck_admin", ("bildung",))
# Kinderarmut in Sozialraum 0102: 4,5 % in 2020 (demo), 4,0 % in 2024
KINDERARMUT = {"title": "Kinderarmut in Rosenau senken", "indicator": "sgb2_quote_u15", "level": "sozialraum",
               "area_key": "0102", "base_year": 2020, "target_year": 2026, "target_value": 3.0,
               "direction": "senken", "tolerance": 0.1, "criterion": "SGB-II-Quote U15 laut BA",
               "responsible": "Jugendamt"}
RULE = dict(base_year=2020, target_year=2030, target_value=10.0, tolerance=0.5, decimals=1, unit="%")


# -- the path rule ---------------------------------------------------------------------------------------------

def test_expected_value_is_the_straight_path():
    assert expected_value(20.0, 10.0, 2020, 2030, 2020) == 20.0
    assert expected_value(20.0, 10.0, 2020, 2030, 2024) == pytest.approx(16.0)
    assert expected_value(20.0, 10.0, 2020, 2030, 2030) == 10.0


@pytest.mark.parametrize("latest, state", [
    (9.5, "grün"),    # target reached (beyond it)
    (10.0, "grün"),   # exactly reached
    (16.0, "grün"),   # exactly on the path (expected 16 in 2024)
    (16.5, "grün"),   # behind by the tolerance
    (15.0, "grün"),   # ahead of the path is never "behind"
    (16.6, "gelb"),   # towards the target, behind the path by more than the tolerance
    (19.9, "gelb"),
    (20.0, "rot"),    # no progress
    (21.0, "rot"),    # the wrong way
])
def test_every_state_when_lowering(latest, state):
    result = ampel({2020: 20.0, 2022: 18.0, 2024: latest}, direction="senken", **RULE)
    assert result.state == state, result.reason
    assert result.current == latest and result.current_year == 2024 and result.expected == pytest.approx(16.0)


@pytest.mark.parametrize("latest, state", [(30.0, "grün"), (13.5, "grün"), (13.6, "grün"), (13.4, "gelb"),
                                           (11.0, "gelb"), (10.0, "rot"), (9.0, "rot")])
def test_raising_mirrors_the_rule(latest, state):
    # 10 → 20 over ten years: expected 14 in 2024, tolerance 0.5 → grün from 13.5
    rule = RULE | {"target_value": 20.0}
    assert ampel({2020: 10.0, 2024: latest}, direction="erhöhen", **rule).state == state


def test_reasons_are_german_and_name_the_numbers():
    assert ampel({2020: 20.0, 2024: 17.0}, direction="senken", **RULE).reason == (
        "In Zielrichtung (Basis 20,0 % → 17,0 % (2024)), aber 1,0 % hinter dem Pfad (laut Pfad erwartet 16,0 %, "
        "Toleranz 0,5 %).")
    assert ampel({2020: 20.0, 2024: 20.0}, direction="senken", **RULE).reason.startswith("Keine Bewegung")
    assert ampel({2020: 20.0, 2024: 21.0}, direction="senken", **RULE).reason.startswith("Falsche Richtung")


def test_grau_without_a_comparable_value():
    assert ampel({2020: 20.0}, direction="senken", **RULE).state == "grau"  # nothing after the baseline
    assert ampel({2019: 20.0, 2024: 15.0}, direction="senken", **RULE).state == "grau"  # no baseline
    no_new = ampel({2018: 25.0, 2020: 20.0}, direction="senken", **RULE)
    assert no_new.state == "grau" and "Noch kein Wert nach dem Basisjahr 2020" in no_new.reason


def test_latest_year_after_the_baseline_counts_and_as_of_limits_it():
    values = {2020: 20.0, 2021: 21.0, 2023: 15.0}  # 2022 and 2024 without data
    assert ampel(values, direction="senken", **RULE).current_year == 2023
    assert ampel(values, direction="senken", **RULE, as_of=2022).state == "rot"  # 2021 went the wrong way


def test_suppressed_values_give_grau_without_a_hint():
    latest = ampel({2020: 20.0, 2022: 17.0}, {2024}, direction="senken", **RULE)
    assert latest.state == "grau" and latest.current is None and latest.expected is None
    assert "k. A." in latest.reason and "17,0" not in latest.reason and "20,0" not in latest.reason
    base = ampel({2024: 12.0}, {2020}, direction="senken", **RULE)
    assert base.state == "grau" and base.basis is None and "12,0" not in base.reason


def test_direction_halten():
    rule = RULE | {"target_value": 20.0}
    assert ampel({2020: 20.0, 2024: 20.4}, direction="halten", **rule).state == "grün"
    assert ampel({2020: 20.0, 2024: 19.5}, direction="halten", **rule).state == "grün"
    assert ampel({2020: 20.0, 2024: 21.0}, direction="halten", **rule).state == "rot"
    assert ampel({2020: 22.0, 2024: 21.0}, direction="halten", **rule).state == "gelb"  # closer, not there yet
    assert ampel({2020: 20.0}, direction="halten", **rule).state == "grau"


# -- targets in the warehouse ---------------------------------------------------------------------------------

def test_a_target_is_saved_with_history_and_conflicts_are_refused(wh):
    tid = target_edits.save_target(wh, ADMIN, KINDERARMUT)
    row = read_df(wh, "SELECT * FROM target WHERE id = ?", [tid]).iloc[0]
    assert row["ampel"] == "gelb" and row["version"] == 1 and row["status"] == "entwurf"
    target_edits.save_target(wh, ADMIN, KINDERARMUT | {"status": "beschlossen"}, tid, expected_version=1)
    with pytest.raises(ConflictError, match="inzwischen geändert"):
        target_edits.save_target(wh, ADMIN, KINDERARMUT | {"tolerance": 1}, tid, expected_version=1)
    hist = target_edits.history(wh, tid)
    assert list(hist["version"]) == [2, 1] and json.loads(hist["data"][0])["status"] == "beschlossen"
    audit = read_df(wh, "SELECT action, entity FROM audit_log WHERE entity = 'target' ORDER BY id")
    assert list(audit["action"]) == ["save-target", "save-target"]


def test_a_target_without_measures_is_saved_and_its_links_can_be_emptied(wh):
    """The Ziele form passes an empty list when no Maßnahme is chosen (a DuckDB executemany of no rows failed)."""
    tid = target_edits.save_target(wh, ADMIN, KINDERARMUT, measures=[])
    assert target_edits.linked_measures(wh, tid) == []
    target_edits.save_target(wh, ADMIN, KINDERARMUT | {"tolerance": 1}, tid, expected_version=1, measures=[])
    assert read_df(wh, "SELECT version FROM target WHERE id = ?", [tid])["version"][0] == 2


def test_bad_targets_get_german_messages(wh):
    cases = [({"direction": "erhöhen"}, "muss über dem Basiswert 4,5 % (2020) liegen"),
             ({"target_year": 2019}, "Zieljahr 2019 muss nach dem Basisjahr 2020 liegen"),
             ({"indicator": "gibt_es_nicht"}, "Indikator „gibt_es_nicht“ unbekannt"),
             ({"area_key": "9999"}, "Gebiet „9999“ gibt es auf der Ebene Sozialraum nicht"),
             ({"base_year": 2009}, "Kein Basiswert im Warehouse"),
             ({"direction": "runter"}, "Richtung „runter“ unbekannt"),
             ({"target_value": "viel"}, "Zielwert: „viel“ ist keine Zahl")]
    for change, message in cases:
        with pytest.raises(ValidationError, match=re.escape(message)):
            target_edits.save_target(wh, ADMIN, KINDERARMUT | change)
    assert read_df(wh, "SELECT count(*) AS n FROM target")["n"][0] == 0


def test_whole_town_when_the_area_is_empty_and_names_are_accepted(wh):
    tid = target_edits.save_target(wh, ADMIN, KINDERARMUT | {"indicator": "SGB-II-Quote der unter 15-Jährigen",
                                                             "level": "", "area_key": "", "target_value": 1.0})
    row = read_df(wh, "SELECT level, area_key, indicator FROM target WHERE id = ?", [tid]).iloc[0]
    assert (row["level"], row["area_key"], row["indicator"]) == ("gesamtstadt", "0", "sgb2_quote_u15")


def test_targets_are_topic_data_and_link_measures(wh):
    with pytest.raises(PermissionDenied, match="Themenfeld „soziale_lage“"):
        target_edits.save_target(wh, BILDUNG, KINDERARMUT)
    sid = conference.start_session(wh, ADMIN, "Konferenz", date(2026, 11, 27), "sozialraum", ["0102"])
    note = conference.save_note(wh, ADMIN, sid, "0102", "measure", "Familienbüro öffnen", responsible="Jugendamt")
    tid = target_edits.save_target(wh, ADMIN, KINDERARMUT, measures=[note])
    assert target_edits.linked_measures(wh, tid) == [note]
    with pytest.raises(ValidationError, match="Keine Maßnahme"):
        target_edits.save_target(wh, ADMIN, KINDERARMUT, tid, 1, measures=[note + 100])


# -- CLI, re-evaluation, public ----------------------------------------------------------------------------------

def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "keck_data", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env})


def test_cli_import_is_all_or_nothing_and_status_has_the_fixed_keys(demo_copy, tmp_path):
    env = {"KECK_WAREHOUSE": str(demo_copy)}
    bad = tmp_path / "ziele_fehler.csv"
    bad.write_text("titel;indikator;ebene;gebiet;basisjahr;zieljahr;zielwert;richtung;toleranz\n"
                   "Kinderarmut senken;sgb2_quote_u15;Sozialraum;0102;2020;2026;3,0;senken;0,1\n"
                   "Falsch;sgb2_quote_u15;Sozialraum;0102;2020;2026;9;senken;0\n"
                   "Unbekannt;xyz;Sozialraum;0102;2020;2026;3;senken;0\n", encoding="utf-8")
    r = _cli("ziele", "import", str(bad), env=env)
    assert r.returncode == 2 and "nichts importiert" in r.stderr
    assert "Zeile 3: Richtung „senken“" in r.stderr and "Zeile 4: Indikator „xyz“ unbekannt" in r.stderr
    good = tmp_path / "ziele.csv"
    good.write_text("titel,indikator,ebene,gebiet,basisjahr,zieljahr,zielwert,richtung,toleranz\n"
                    "Kinderarmut senken,sgb2_quote_u15,sozialraum,0102,2020,2026,3.0,senken,0.1\n"
                    "Kinderarmut Stadt,sgb2_quote_u15,,,2020,2026,0.5,senken,0\n", encoding="utf-8-sig")
    r = _cli("ziele", "import", str(good), env=env)
    assert r.returncode == 0 and "2 neu" in r.stdout, r.stderr
    r = _cli("ziele", "status", "--json", env=env)
    rows = json.loads(r.stdout)
    assert [tuple(row) for row in rows] == [targets.STATUS_KEYS] * 2
    first = rows[0]
    assert first | {"begruendung": ""} == {
        "titel": "Kinderarmut senken", "indikator": "sgb2_quote_u15", "ebene": "sozialraum", "gebiet": "0102",
        "basis": 4.5, "aktuell": 4.0, "aktuelles_jahr": 2024, "zielwert": 3.0, "ampel": "gelb", "begruendung": ""}
    assert rows[1]["gebiet"] == "0" and rows[1]["ebene"] == "gesamtstadt"
    text = _cli("ziele", "status", env=env).stdout
    assert "[gelb] Kinderarmut senken" in text and "Ampel-Regel" in text


def test_new_data_re_evaluates_and_the_protocol_shows_it(wh, tmp_path):
    target_edits.save_target(wh, ADMIN, KINDERARMUT)
    csv = tmp_path / "werte_2025.csv"
    csv.write_text("key;indicator;year;value\n0102;sgb2_quote_u15;2025;3,2\n", encoding="utf-8")
    report = import_values(wh, csv, level="sozialraum", dry_run=False, user=system("cli"))
    assert report.details["ziele"] == ["Ziel „Kinderarmut in Rosenau senken“: gelb → grün"]
    assert "Ampel geändert – Ziel „Kinderarmut in Rosenau senken“: gelb → grün" in report.summary()
    entry = editing.audit_entries(wh, entity="target.ampel").iloc[0]
    assert "grün" in str(entry["after"]) and "gelb" in str(entry["before"])
    editing.save_values(wh, ADMIN, "sgb2_quote_u15", "sozialraum", 2025, {"0102": "4,9"})  # an edit: worse
    assert read_df(wh, "SELECT ampel FROM target")["ampel"][0] == "rot"


def test_public_shows_released_targets_from_published_values(wh, tmp_path):
    shown = target_edits.save_target(wh, ADMIN, KINDERARMUT)
    target_edits.save_target(wh, ADMIN, KINDERARMUT | {"title": "Entwurf, nicht freigegeben"})
    hidden = target_edits.save_target(wh, ADMIN, KINDERARMUT | {
        "title": "Inobhutnahmen senken", "indicator": "inobhutnahmen", "level": "gesamtstadt", "area_key": "0",
        "target_value": 1, "direction": "senken"})
    target_edits.set_target_released(wh, ADMIN, shown, True)
    target_edits.set_target_released(wh, ADMIN, hidden, True)  # its indicator is not released
    # 2025: the count behind the rate is tiny → the rate is "k. A." where published
    csv = tmp_path / "werte.csv"
    csv.write_text("key;indicator;year;value\n0102;sgb2_u15;2025;2\n0102;ew_u15;2025;400\n"
                   "0102;sgb2_quote_u15;2025;0,5\n", encoding="utf-8")
    import_values(wh, csv, level="sozialraum", dry_run=False, user=ADMIN)
    internal = targets.evaluate(Atlas(wh)).set_index("title")
    assert internal.loc["Kinderarmut in Rosenau senken", "state"] == "grau"  # privacy applies inside too
    publish(wh, tmp_path / "p.duckdb", ADMIN)
    with Warehouse(tmp_path / "p.duckdb", read_only=True) as snap:
        public = targets.evaluate(Atlas(snap, public=True))
        assert list(public["title"]) == ["Kinderarmut in Rosenau senken"]
        assert public["state"][0] == "grau" and "k. A." in public["reason"][0] and "0,5" not in public["reason"][0]
        assert public["ampel"].isna().all() and public["updated_by"].isna().all()
        assert read_df(snap, "SELECT count(*) AS n FROM target_measure")["n"][0] == 0  # Maßnahmen stay inside


def test_a_withdrawn_indicator_takes_its_targets_off_the_public_instance(wh, tmp_path):
    tid = target_edits.save_target(wh, ADMIN, KINDERARMUT)
    target_edits.set_target_released(wh, ADMIN, tid, True)
    publish(wh, tmp_path / "a.duckdb", ADMIN)
    with Warehouse(tmp_path / "a.duckdb", read_only=True) as snap:
        assert targets.status_rows(targets.evaluate(Atlas(snap, public=True)))[0]["ampel"] == "gelb"
    editing.set_released(wh, ADMIN, "sgb2_quote_u15", False)
    publish(wh, tmp_path / "b.duckdb", ADMIN)
    with Warehouse(tmp_path / "b.duckdb", read_only=True) as snap:
        assert targets.evaluate(Atlas(snap, public=True)).empty
    assert targets.evaluate(Atlas(wh, public=True)).empty  # the public view of the internal file, too
    assert targets.evaluate(Atlas(wh))["state"][0] == "gelb"  # inside, the target is still evaluated
