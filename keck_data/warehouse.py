"""The DuckDB warehouse: offline spatial extension, migrations, cursors, audited transactional writes.

One ``Warehouse`` (one DuckDB connection) per process and file; every call takes its own ``cursor()``.
Writes go through :meth:`Warehouse.write`, which asks the policy for every resource touched, runs one
transaction, retries DuckDB's write conflicts, writes the audit rows inside the same transaction and bumps the
warehouse version that caches key on.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import duckdb

from .errors import ConflictError, KeckError, PermissionDenied, WarehouseError, WarehouseLocked
from .policy import Resource, User, reason
from .schema import LATEST_VERSION, MIGRATIONS

T = TypeVar("T")
_SPATIAL_LOCK = threading.Lock()


def spatial_extension_path() -> Path:
    """The spatial extension file shipped in the ``duckdb-extension-spatial`` wheel."""
    import duckdb_extension_spatial

    base = Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = base / "spatial.duckdb_extension"
    if not path.exists():
        raise WarehouseError(
            f"Die Spatial-Erweiterung für DuckDB {duckdb.__version__} fehlt ({path}). "
            "Bitte „pip install -r requirements.txt“ ausführen (duckdb und duckdb-extension-spatial "
            "müssen dieselbe Version haben)."
        )
    return path


def _load_spatial(con: duckdb.DuckDBPyConnection) -> None:
    """Install (offline, from the wheel) and load the spatial extension."""
    with _SPATIAL_LOCK:
        try:
            con.execute("LOAD spatial")
        except duckdb.Error:
            con.install_extension(spatial_extension_path().as_posix())
            con.load_extension("spatial")


@dataclass
class Tx:
    """What a write function gets: the transaction's cursor and a way to record audit rows."""

    cur: duckdb.DuckDBPyConnection
    user: User | None
    action: str
    audits: list[tuple[str, str | None, Any, Any]] = field(default_factory=list)
    written: set[str] = field(default_factory=set)  # indicators whose metadata or source values were written

    def audit(self, entity: str, key: str | None, before: Any = None, after: Any = None) -> None:
        """Record what changed; written in the same transaction as the change."""
        self.audits.append((entity, key, before, after))

    @property
    def actor(self) -> str:
        return _actor(self.user)


class Warehouse:
    """One DuckDB file with the atlas schema."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self.closed = False
        if read_only and not self.path.exists():
            raise WarehouseError(
                f"Die Datei {self.path} gibt es nicht. Für die öffentliche Instanz zuerst "
                "„python -m keck_data publish“ ausführen."
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "Could not set lock" in str(exc):
                pid = re.search(r"PID (\d+)", str(exc))
                raise WarehouseLocked(f"Die Warehouse-Datei {self.path} ist von einem anderen Prozess"
                                      + (f" (PID {pid[1]})" if pid else "") + " geöffnet.",
                                      int(pid[1]) if pid else None) from exc
            raise WarehouseError(
                f"Die Warehouse-Datei {self.path} lässt sich nicht öffnen: Sie ist beschädigt oder von einem "
                f"anderen Prozess zum Schreiben geöffnet ({exc})."
            ) from exc
        _load_spatial(self.con)
        if read_only:
            self._check_version()
        else:
            self.migrate()
        self._version = int(self.meta("version", "0"))
        self._memo: dict[Any, tuple[int, Any]] = {}
        self._generation = 0  # +1 after every committed write: memo entries of an older one are stale

    def memo(self, key: Any, load: Callable[[], T]) -> T:
        """``load()``, remembered until the next committed write of this process (which is the only writer).

        For the small rows that every rerun of every session reads (a live session's state, the signed-in
        user's validity): with 40 followers these queries were a third of the server's time. A value read
        while a write commits is not kept, so no stale value outlives a write."""
        generation = self._generation
        hit = self._memo.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = load()
        if self._generation == generation:
            self._memo[key] = (generation, value)
        return value

    # -- connection handling -------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor for one call or thread (a connection is not thread-safe)."""
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()
        self.closed = True

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]

    def _check_version(self) -> None:
        version = self.schema_version()
        if version != LATEST_VERSION:
            raise WarehouseError(
                f"Die Datei {self.path} hat Schema-Version {version}, erwartet wird {LATEST_VERSION}. "
                "Bitte den Schnappschuss mit dieser Programmversion neu veröffentlichen."
            )

    def migrate(self) -> None:
        """Apply every migration newer than the file's schema version, each in its own transaction."""
        cur = self.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise WarehouseError(
                f"Die Datei {self.path} stammt von einer neueren Programmversion (Schema {current})."
            )
        for version, sql in MIGRATIONS:
            if version <= current:
                continue
            cur.execute("BEGIN")
            try:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_version VALUES (?, ?)", [version, _now()])
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('version', '0')")
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise

    # -- meta ----------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def version(self) -> int:
        """The warehouse version: every committed write increases it (caches key on it).

        Kept in memory: DuckDB lets only this process write the file, and every write goes through write().
        """
        return self._version

    # -- writes --------------------------------------------------------------
    def write(self, user: User | None, action: str, resources: Sequence[Resource], fn: Callable[[Tx], T], *,
              retries: int = 8, bump: bool = True) -> T:
        """Run ``fn`` in one transaction with its audit rows and a version bump; retry write conflicts.

        First the policy is asked whether ``user`` may do ``action`` to each of ``resources``; a refusal writes
        nothing but an audit row "verweigert" (for a signed-in user) and raises PermissionDenied. Inside the
        transaction, before the commit, it asks again for every indicator the write actually changed
        (``Tx.written``, with its Themenfeld as stored now): the caller's list cannot hide a write.
        ``bump=False`` for writes no cached loader reads (a live session's state and notes): every follower's
        caches stay warm while the presenter moves on.
        """
        if self.read_only:
            raise WarehouseError("Diese Instanz ist schreibgeschützt (öffentliche Instanz).")
        if not resources:
            raise KeckError(f"Interner Fehler: Änderung „{action}“ ohne betroffene Objekte abgelehnt.")
        for resource in resources:
            why = reason(user, action, resource)
            if why:
                self._refused(user, action, resource, why)
                raise PermissionDenied(why)
        delay = 0.01
        for attempt in range(retries):
            cur = self.cursor()
            tx = Tx(cur=cur, user=user, action=action)
            cur.execute("BEGIN TRANSACTION")
            try:
                result = fn(tx)
                refused = _unpermitted(tx)
                if refused:  # the write touched an indicator the caller did not declare, or in another topic
                    _rollback(cur)
                    self._refused(user, action, *refused)
                    raise PermissionDenied(refused[1])
                if not tx.audits:
                    raise KeckError(f"Interner Fehler: Änderung „{action}“ ohne Protokolleintrag abgelehnt.")
                _insert_audits(cur, tx.actor, action, tx.audits)
                if bump:
                    cur.execute("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'version'")
                cur.execute("COMMIT")
                self._generation += 1
                self._version = int(self.meta("version", "0"))
                return result
            except duckdb.TransactionException as exc:
                _rollback(cur)
                if "conflict" not in str(exc).lower() or attempt == retries - 1:
                    raise ConflictError(
                        "Die Änderung kollidierte wiederholt mit einer gleichzeitigen Änderung und wurde nicht "
                        "gespeichert. Bitte erneut versuchen."
                    ) from exc
                time.sleep(delay)
                delay *= 2
            except BaseException:
                _rollback(cur)
                raise
        raise AssertionError("unreachable")

    def _refused(self, user: User | None, action: str, resource: Resource, why: str) -> None:
        """Record a refused write of a signed-in user (the data and the warehouse version stay as they are)."""
        if user is None:
            return
        cur = self.cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            _insert_audits(cur, user.username, "verweigert",
                           [(resource.kind, resource.key, None, {"aktion": action, "grund": why})])
            cur.execute("COMMIT")
        except duckdb.Error:  # a refusal is reported to the user even if its log row could not be written
            _rollback(cur)


def _insert_audits(cur: duckdb.DuckDBPyConnection, actor: str, action: str, audits: list) -> None:
    now = _now()
    cur.executemany(
        "INSERT INTO audit_log (changed_at, actor, action, entity, entity_key, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [[now, actor, action, e, k, _json(b), _json(a)] for e, k, b, a in audits],
    )


def _actor(user: User | None) -> str:
    return user.username if user else "anonym"


def _unpermitted(tx: Tx) -> tuple[Resource, str] | None:
    """The first indicator the transaction wrote that its user may not change (topic as stored now)."""
    if not tx.written:
        return None
    topics = dict(tx.cur.execute("SELECT key, topic FROM indicator WHERE list_contains(?, key)",
                                 [sorted(tx.written)]).fetchall())
    for key in sorted(tx.written):
        resource = Resource("indicator", key, topics.get(key))
        why = reason(tx.user, tx.action, resource)
        if why:
            return resource, why
    return None


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def read_df(wh: Warehouse, sql: str, params: list | None = None):
    """Run a parameterised query on a fresh cursor and return a pandas DataFrame."""
    return wh.cursor().execute(sql, params or []).df()
