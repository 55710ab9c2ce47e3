"""Issue 18: Geheimhaltung per indicator (items 3), the kind "Anteil (geliefert)" (item 5) and schema
migration 9 on a warehouse built by the code before it."""
import io

import openpyxl
import pytest

from keck_data import editing, privacy_audit, schema, store, warehouse
from keck_data.demo import init_demo
from keck_data.errors import ValidationError
from keck_data.export_table import to_xlsx
from keck_data.importing import import_values
from keck_data.policy import system
from keck_data.privacy import PrivacyRule
from keck_data.publish import publish
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df

TESTER = system("test")
RULE = PrivacyRule(threshold=3)
META = ("Schlüssel;Name;Themenfeld;Einheit;Art;Definition;Berechnung;Quelle;Stichtag;Geheimhaltung\n"
        "{key};{name};Wohnen;{unit};{kind};{name};laut Quelle;Amt;31.12.;{privacy}\n")


def _sozialwohnungen(wh, tmp_path, year=2030):
    """Officially published dwelling counts with small numbers (114, 8, 2, 0) for every Sozialraum."""
    keys = read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"].tolist()
    small = {keys[0]: 2, keys[1]: 0, keys[2]: 8}
    path = tmp_path / "wohnungen.csv"
    path.write_text("Schlüssel;sozialwohnungen\n" + "".join(f"{k};{small.get(k, 114)}\n" for k in keys),
                    encoding="utf-8")
    import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=year, dry_run=False,
                  user=TESTER)
    return keys


def _status(wh, key, year=2030):
    vals = Atlas(wh, rule=RULE).values(["sozialwohnungen"], [year])
    return dict(zip(vals.loc[vals["level"] == "sozialraum", "area_key"], vals.loc[vals["level"] == "sozialraum",
                                                                                   "status"]))[key]


def _set_privacy(wh, value):
    meta = read_df(wh, "SELECT * FROM indicator WHERE key = 'sozialwohnungen'").iloc[0].to_dict()
    editing.save_indicator(wh, TESTER, meta | {"privacy": value})


def test_geheimhaltung_keine_shows_small_counts_and_hides_nothing_for_them(wh, tmp_path):
    keys = _sozialwohnungen(wh, tmp_path)
    assert _status(wh, keys[0]) == "suppressed" and _status(wh, keys[1]) == "suppressed"  # the threshold applies
    editing.set_released(wh, TESTER, "sozialwohnungen", True)
    before = publish(wh, tmp_path / "vorher.duckdb", TESTER, RULE)
    _set_privacy(wh, "none")
    vals = Atlas(wh, rule=RULE).values(["sozialwohnungen"], [2030])
    assert (vals["status"] != "suppressed").all()
    assert vals.set_index(["level", "area_key"]).loc[("sozialraum", keys[0]), "value"] == 2
    after = publish(wh, tmp_path / "nachher.duckdb", TESTER, RULE)
    assert after["suppressed"] < before["suppressed"]
    with Warehouse(tmp_path / "nachher.duckdb", read_only=True) as snap:
        published = read_df(snap, "SELECT status, value FROM indicator_value WHERE indicator = 'sozialwohnungen' "
                                  "AND level = 'sozialraum' AND year = 2030 AND area_key = ?", [keys[0]])
        assert list(published.iloc[0]) == ["ok", 2.0]
        assert privacy_audit.audit_snapshot(snap, wh, RULE).ok
    audit = read_df(wh, "SELECT after FROM audit_log WHERE entity = 'indicator' AND entity_key = 'sozialwohnungen' "
                        "ORDER BY id DESC LIMIT 1")["after"][0]
    assert '"privacy": "none"' in audit


def test_geheimhaltung_from_the_metadata_file_and_shown_in_export_and_catalogue(wh, tmp_path, app):
    meta = tmp_path / "meta.csv"
    meta.write_text(META.format(key="aerzte", name="Kinderärzte", unit="Praxen", kind="Anzahl", privacy="keine"),
                    encoding="utf-8")
    path = tmp_path / "aerzte.csv"
    path.write_text("Schlüssel;aerzte\n0101;1\n0102;0\n", encoding="utf-8")
    import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2030, metadata=meta,
                  dry_run=False, user=TESTER)
    assert read_df(wh, "SELECT privacy FROM indicator WHERE key = 'aerzte'")["privacy"][0] == "none"
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(Atlas(wh, rule=RULE), ["aerzte", "ew_gesamt"], "sozialraum",
                                                      2030)))["Metadaten"]
    rows = list(sheet.values)
    col = rows[0].index("Geheimhaltung")
    assert rows[1][col].startswith("keine") and rows[2][col].startswith("Schwelle")
    bad = tmp_path / "falsch.csv"
    bad.write_text(META.format(key="aerzte2", name="Ärzte", unit="Praxen", kind="Anzahl", privacy="geheim"),
                   encoding="utf-8")
    path.write_text("Schlüssel;aerzte2\n0101;1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="Geheimhaltung „geheim“ unbekannt"):
        import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2030, metadata=bad)
    at = app()
    at.switch_page("pages/atlas/indikatoren.py").run()
    text = "\n".join(m.value for m in at.markdown)
    assert "**Geheimhaltung:** Schwelle (kleine Fallzahlen werden „k. A.“)" in text


def test_anteil_geliefert_is_shown_never_aggregated_nor_suppressed(wh, tmp_path):
    meta = tmp_path / "meta.csv"
    meta.write_text(META.format(key="geburtenziffer", name="Geburtenziffer", unit="‰", kind="Anteil (geliefert)",
                                privacy=""), encoding="utf-8")
    keys = read_df(wh, "SELECT key FROM area WHERE level = 'sozialraum' ORDER BY key")["key"].tolist()
    path = tmp_path / "geburten.csv"
    rates = ["2"] + ["9,5"] * (len(keys) - 1)
    path.write_text("Schlüssel;geburtenziffer\n" + "".join(f"{k};{r}\n" for k, r in zip(keys, rates)) + "01;8,1\n",
                    encoding="utf-8")
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", year=2030,
                           metadata=meta, dry_run=False, user=TESTER)
    assert report.unmatched == []
    ind = read_df(wh, "SELECT kind, aggregation, privacy FROM indicator WHERE key = 'geburtenziffer'").iloc[0]
    assert list(ind) == ["share", "none", "threshold"]
    vals = Atlas(wh, rule=RULE).values(["geburtenziffer"], [2030]).set_index(["level", "area_key"])
    assert vals.loc[("sozialraum", keys[0]), "status"] == "ok"  # 2 ‰ is no count: never "k. A."
    assert vals.loc[("stadtbezirk", "01"), "value"] == 8.1  # the delivered value of the parent
    other = vals.loc[("stadtbezirk", "02")]
    assert other["status"] == "missing" and "nicht" in other["note"] and "aggregierbar" in other["note"]
    text = Atlas(wh, rule=RULE).level_values("geburtenziffer", "sozialraum", 2030).set_index("key")["text"]
    assert "‰" in text[keys[1]]


LATER_COLUMNS = ("privacy", "ampel_rule")  # indicator columns added by migrations 9 and 12


def test_migration_9_rebuilds_the_indicator_table_of_a_warehouse_built_before(tmp_path, monkeypatch):
    old = tmp_path / "alt.duckdb"
    with monkeypatch.context() as m:  # the code as it was: migrations up to 8, no privacy column
        m.setattr(warehouse, "MIGRATIONS", [x for x in schema.MIGRATIONS if x[0] <= 8])
        m.setattr(warehouse, "LATEST_VERSION", 8)
        m.setattr(store, "INDICATOR_COLUMNS", [c for c in store.INDICATOR_COLUMNS if c not in LATER_COLUMNS])
        for hook in ("mark_stale", "mark_level_stale", "mark_poi_stale"):  # derived indicators came with 11
            m.setattr(store.derived, hook, lambda *args: None)
        init_demo(old)
        with Warehouse(old) as wh:
            assert wh.schema_version() == 8
            before = read_df(wh, "SELECT * FROM indicator ORDER BY key")
            n_values = wh.cursor().execute("SELECT count(*) FROM indicator_value").fetchone()[0]
    with Warehouse(old) as wh:
        assert wh.schema_version() == schema.LATEST_VERSION  # 9 and the later migrations
        after = read_df(wh, "SELECT * FROM indicator ORDER BY key")
        assert after.drop(columns=list(LATER_COLUMNS)).equals(before) and set(after["privacy"]) == {"threshold"}
        assert wh.cursor().execute("SELECT count(*) FROM indicator_value").fetchone()[0] == n_values
        cur = wh.cursor()
        cur.execute("UPDATE indicator SET kind = 'share', aggregation = 'none' WHERE key = 'geburtenrate'")
        with pytest.raises(Exception, match="CHECK"):
            cur.execute("UPDATE indicator SET privacy = 'geheim' WHERE key = 'geburten'")
        with pytest.raises(Exception, match="PRIMARY KEY|Duplicate key|constraint"):
            cur.execute("INSERT INTO indicator SELECT * FROM indicator WHERE key = 'geburten'")
