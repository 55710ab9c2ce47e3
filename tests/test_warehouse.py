"""Schema, offline spatial extension, migrations, read-only mode, audited transactional writes."""
import threading

import duckdb
import pytest

from keck_data.errors import ConflictError, KeckError, WarehouseError
from keck_data.policy import Resource, system
from keck_data.schema import LATEST_VERSION, MIGRATIONS
from keck_data.warehouse import Warehouse, spatial_extension_path

ANNA = system("anna")
TOPIC = [Resource("topic", "bildung")]


def test_schema_created_with_all_tables(tmp_path):
    with Warehouse(tmp_path / "w.duckdb") as wh:
        tables = {r[0] for r in wh.cursor().execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"spatial_level", "area", "topic", "indicator", "indicator_value", "poi_category", "poi",
                "bookmark", "audit_log", "user_role", "schema_version", "meta"} <= tables
        assert wh.schema_version() == LATEST_VERSION
        assert wh.version() == 0
        assert wh.cursor().execute("SELECT count(*) FROM poi_category").fetchone()[0] == 6  # seeded defaults


def test_spatial_extension_comes_from_the_wheel(tmp_path):
    path = spatial_extension_path()
    assert path.name == "spatial.duckdb_extension" and f"v{duckdb.__version__}" in str(path)
    with Warehouse(tmp_path / "w.duckdb") as wh:
        loaded = wh.cursor().execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'spatial'").fetchone()[0]
        assert loaded
        area = wh.cursor().execute(
            "SELECT ST_Area(ST_GeomFromText('POLYGON((0 0, 2 0, 2 3, 0 3, 0 0))'))").fetchone()[0]
        assert area == 6.0


def test_migrate_is_idempotent_and_keeps_data(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.write(system("t"), "save-indicator", TOPIC, lambda tx: (tx.cur.execute("INSERT INTO topic VALUES ('x', 'X', 1)"),
                                         tx.audit("topic", "x", None, "X")))
    with Warehouse(path) as wh:
        assert ("X",) in wh.cursor().execute("SELECT name FROM topic").fetchall()
        assert wh.cursor().execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.cursor().execute("INSERT INTO schema_version VALUES (999, now())")
    with pytest.raises(WarehouseError, match="neueren Programmversion"):
        Warehouse(path)


def test_read_only_open_refuses_writes(demo_file):
    with Warehouse(demo_file, read_only=True) as wh:
        with pytest.raises(WarehouseError, match="schreibgeschützt"):
            wh.write(system("t"), "save-indicator", TOPIC, lambda tx: None)
        with pytest.raises(duckdb.Error):
            wh.cursor().execute("DELETE FROM topic")


def test_missing_public_file_has_german_message(tmp_path):
    with pytest.raises(WarehouseError, match="publish"):
        Warehouse(tmp_path / "nope.duckdb", read_only=True)


def test_write_bumps_version_and_writes_audit_in_same_transaction(wh):
    before = wh.version()

    def rename(tx):
        old = tx.cur.execute("SELECT name FROM topic WHERE key = 'bildung'").fetchone()[0]
        tx.cur.execute("UPDATE topic SET name = 'Bildung und Schule' WHERE key = 'bildung'")
        tx.audit("topic", "bildung", old, "Bildung und Schule")

    wh.write(ANNA, "save-indicator", TOPIC, rename)
    assert wh.version() == before + 1
    row = wh.cursor().execute("SELECT actor, action, entity, entity_key, before, after FROM audit_log "
                              "ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("anna", "save-indicator", "topic", "bildung", '"Bildung"', '"Bildung und Schule"')


def test_failed_write_rolls_back_change_audit_and_version(wh):
    before, audits = wh.version(), wh.cursor().execute("SELECT count(*) FROM audit_log").fetchone()[0]

    def broken(tx):
        tx.cur.execute("UPDATE topic SET name = 'kaputt' WHERE key = 'bildung'")
        tx.audit("topic", "bildung", "Bildung", "kaputt")
        raise KeckError("Absichtlicher Fehler")

    with pytest.raises(KeckError):
        wh.write(ANNA, "save-indicator", TOPIC, broken)
    assert wh.cursor().execute("SELECT name FROM topic WHERE key = 'bildung'").fetchone()[0] == "Bildung"
    assert wh.cursor().execute("SELECT count(*) FROM audit_log").fetchone()[0] == audits
    assert wh.version() == before


def test_write_without_audit_is_refused(wh):
    with pytest.raises(KeckError, match="Protokolleintrag"):
        wh.write(ANNA, "save-indicator", TOPIC, lambda tx: tx.cur.execute("UPDATE topic SET name = 'x' WHERE key = 'bildung'"))
    assert wh.cursor().execute("SELECT name FROM topic WHERE key = 'bildung'").fetchone()[0] == "Bildung"


def test_write_conflict_is_retried(wh):
    """A concurrent commit to the same row makes the first attempt conflict; the retry succeeds."""
    attempts = []

    def update(tx):
        attempts.append(1)
        tx.cur.execute("SELECT name FROM topic WHERE key = 'wohnen'").fetchone()
        if len(attempts) == 1:  # another session commits a change to the same row meanwhile
            def other():
                cur = wh.cursor()
                cur.execute("UPDATE topic SET name = 'Wohnen (andere Sitzung)' WHERE key = 'wohnen'")
            t = threading.Thread(target=other)
            t.start()
            t.join()
        tx.cur.execute("UPDATE topic SET name = 'Wohnen und Wohnumfeld' WHERE key = 'wohnen'")
        tx.audit("topic", "wohnen", None, "Wohnen und Wohnumfeld")

    wh.write(ANNA, "save-indicator", TOPIC, update)
    assert len(attempts) == 2
    assert wh.cursor().execute("SELECT name FROM topic WHERE key = 'wohnen'").fetchone()[0] == "Wohnen und Wohnumfeld"


def test_persistent_conflict_gives_german_error(wh):
    def always_conflicts(tx):
        tx.cur.execute("SELECT 1").fetchone()
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update")

    with pytest.raises(ConflictError, match="erneut versuchen"):
        wh.write(ANNA, "save-indicator", TOPIC, always_conflicts, retries=3)
