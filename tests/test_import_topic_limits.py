"""Topic limits through imports (issue 23, item 5): a new rate touches its numerator and denominator, an import
profile has an owner and the Themenfelder of its targets, area groups concern every Themenfeld, and
Warehouse.write checks what a write actually changed, not only what its caller declared."""
import json

import pandas as pd
import pytest

from keck_data import store
from keck_data.errors import PermissionDenied
from keck_data.importing import import_values, profiles
from keck_data.policy import Resource, User
from keck_data.warehouse import read_df
from tests.import_helpers import fingerprint

BILDUNG = User("bildung", "Nur Bildung", "keck_admin", ("bildung",))
JUGENDAMT = User("jugendamt", "Jugendamt", "keck_admin", ("hilfen", "bildung"))
RATE = {"Schlüssel": "quote_neu", "Name": "Neue Quote", "Themenfeld": "Bildung", "Einheit": "%", "Art": "Quote",
        "Definition": "Anteil", "Berechnung": "Zähler / Nenner", "Quelle": "Amt", "Stichtag": "31.12.",
        "Zähler": "inobhutnahmen", "Nenner": "schulanfaenger"}


def _csv(tmp_path, column: str, rows=(("0101", "Marktplatz", 12), ("0102", "Domviertel", 15))):
    path = tmp_path / "lieferung.csv"
    path.write_text(f"key;name;{column}\n" + "".join(f"{k};{n};{v}\n" for k, n, v in rows), encoding="utf-8")
    return path


def _denied(wh, call):
    """The refusal's reason; nothing but the audit row "verweigert" was written."""
    before = fingerprint(wh)
    with pytest.raises(PermissionDenied) as refused:
        call()
    after = fingerprint(wh)
    assert after.pop("audit_log")[0] == before.pop("audit_log")[0] + 1 and after == before
    return str(refused.value)


def test_a_new_rate_touches_its_numerator_and_denominator(wh, tmp_path):
    path = _csv(tmp_path, "Quote")
    why = _denied(wh, lambda: import_values(wh, path, level="sozialraum", layout="wide", key_col="key",
                                            name_col="name", year=2025, columns={"Quote": "quote_neu"},
                                            indicators=[RATE], dry_run=False, user=BILDUNG))
    assert "hilfen" in why and "inobhutnahmen" in why
    assert read_df(wh, "SELECT * FROM indicator WHERE key = 'quote_neu'").empty
    import_values(wh, path, level="sozialraum", layout="wide", key_col="key", name_col="name", year=2025,
                  columns={"Quote": "quote_neu"}, indicators=[RATE], dry_run=False, user=JUGENDAMT)
    assert not read_df(wh, "SELECT * FROM indicator WHERE key = 'quote_neu'").empty


def test_an_import_profile_belongs_to_its_owner_and_the_topics_of_its_targets(wh, tmp_path):
    path = _csv(tmp_path, "Inobhutnahmen")
    import_values(wh, path, level="sozialraum", layout="wide", key_col="key", name_col="name", year=2025,
                  columns={"Inobhutnahmen": "inobhutnahmen"}, save_profile="Jugendamt", dry_run=False,
                  user=JUGENDAMT)
    saved = profiles.load(wh, "Jugendamt")
    assert saved["owner"] == "jugendamt" and saved["topics"] == ["hilfen"]
    why = _denied(wh, lambda: import_values(wh, path, level="sozialraum", layout="wide", key_col="key",
                                            name_col="name", year=2025, columns={"Inobhutnahmen": "schulanfaenger"},
                                            save_profile="Jugendamt", dry_run=False, user=BILDUNG))
    assert "Jugendamt" in why and "gehört jugendamt" in why
    assert profiles.load(wh, "Jugendamt")["columns"] == {"Inobhutnahmen": "inobhutnahmen"}


def test_a_topic_limited_admin_creates_no_area_groups(wh, tmp_path):
    path = _csv(tmp_path, "Schulanfänger", rows=(("", "Marktplatz und Domviertel", 30), ("0103", "Altstadt-Süd", 9)))
    why = _denied(wh, lambda: import_values(wh, path, level="sozialraum", layout="wide", key_col="key",
                                            name_col="name", year=2025, columns={"Schulanfänger": "schulanfaenger"},
                                            dry_run=False, user=BILDUNG))
    assert "alle Themenfelder" in why
    assert read_df(wh, "SELECT * FROM area_group").empty


def test_the_writer_checks_what_a_write_changed_not_what_its_caller_declared(wh):
    frame = pd.DataFrame({"indicator": ["sgb2_u15"], "level": ["sozialraum"], "area_key": ["0101"], "year": [2024],
                          "value": [999.0], "status": ["ok"]})

    def write(tx):
        store.upsert_values(tx, frame)
        tx.audit("indicator_value", "test", None, {"n": 1})

    why = _denied(wh, lambda: wh.write(BILDUNG, "import-values", [Resource("indicator", "schulanfaenger", "bildung")],
                                       write))
    assert "soziale_lage" in why and "sgb2_u15" in why
    refusal = wh.cursor().execute("SELECT entity_key, after FROM audit_log WHERE action = 'verweigert' "
                                  "ORDER BY id DESC LIMIT 1").fetchone()
    assert refusal[0] == "sgb2_u15" and json.loads(refusal[1])["aktion"] == "import-values"
