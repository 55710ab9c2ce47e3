"""Undo only what nobody changed since: otherwise a conflict that shows both versions, and nothing is written."""
import pytest

from keck_data import editing
from keck_data.errors import ConflictError
from keck_data.policy import User

A = User("anna", "Anna", "keck_admin")
B = User("bernd", "Bernd", "kommunen_admin")
POI = {"name": "Kita Regenbogen", "category": "kita", "address": "Hauptstraße 1", "lon": 8.46, "lat": 51.52,
       "opening_hours": "Mo–Fr 7–16", "public": True}


def _last(wh, action):
    log = editing.audit_entries(wh, entity="poi")
    return int(log[log["action"] == action].iloc[0]["id"])


def test_undo_after_a_later_change_is_a_conflict_and_keeps_the_later_change(wh):
    poi = editing.create_poi(wh, A, POI)
    editing.update_poi(wh, A, poi, {**POI, "name": "Kita Sonnenschein", "opening_hours": "Mo–Fr 8–15"}, 1)
    rename = _last(wh, "update-poi")
    editing.update_poi(wh, B, poi, {**POI, "name": "Kita Sonnenschein", "opening_hours": "Mo–Fr 8–15",
                                    "public": False}, 2)  # B makes it internal-only
    before = editing.get_poi(wh, poi)
    with pytest.raises(ConflictError) as err:
        editing.undo(wh, A, rename)
    assert "Gespeicherte Fassung" in str(err.value) and "Kita Regenbogen" in str(err.value)
    assert editing.get_poi(wh, poi) == before and before["public"] is False


def test_undo_of_an_unchanged_poi_restores_it(wh):
    poi = editing.create_poi(wh, A, POI)
    editing.update_poi(wh, A, poi, {**POI, "name": "Kita Sonnenschein", "public": False}, 1)
    editing.undo(wh, B, _last(wh, "update-poi"))
    restored = editing.get_poi(wh, poi)
    assert restored["name"] == "Kita Regenbogen" and restored["public"] is True


def test_undo_of_a_creation_after_an_edit_is_a_conflict(wh):
    poi = editing.create_poi(wh, A, POI)
    created = _last(wh, "create-poi")
    editing.update_poi(wh, B, poi, {**POI, "capacity": 60}, 1)
    with pytest.raises(ConflictError):
        editing.undo(wh, A, created)
    assert editing.get_poi(wh, poi)["capacity"] == 60


def test_undo_of_a_release_after_a_later_withdrawal_is_a_conflict(wh):
    editing.set_released(wh, A, "sozialindex", True)
    release = int(editing.audit_entries(wh, entity="indicator.released").iloc[0]["id"])
    editing.set_released(wh, B, "sozialindex", False)
    editing.set_released(wh, B, "sozialindex", True)  # B's own decision: undoing A's release would withdraw it
    with pytest.raises(ConflictError, match="inzwischen"):
        editing.undo(wh, A, release)
    assert editing.audit_entries(wh, entity="indicator.released").iloc[0]["actor"] == "bernd"
