"""Veröffentlichen: write the public snapshot (released indicators, privacy applied, public POIs/bookmarks).

Values go out rounded to their declared decimals; before the snapshot replaces the old one, the LP attacker
(:mod:`keck_data.privacy_audit`) must find no "k. A." cell it can recompute or narrow — otherwise nothing is
published.

The snapshot is built in a temporary file next to the target and renamed atomically, so a running public
instance either sees the old or the new file, never half of one.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from . import privacy, privacy_audit
from .errors import ValidationError
from .policy import Resource, User
from .queries import Atlas
from .warehouse import Tx, Warehouse

# (read from the internal warehouse, write into the snapshot); geometry travels as WKB
SNAPSHOT_COPIES = [
    ("SELECT * FROM meta", "INSERT OR REPLACE INTO meta BY NAME SELECT * FROM copied"),
    ("SELECT * FROM spatial_level", "INSERT INTO spatial_level BY NAME SELECT * FROM copied"),
    ("SELECT * REPLACE (ST_AsWKB(geom) AS geom, ST_AsWKB(geom_display) AS geom_display) FROM area",
     "INSERT INTO area BY NAME SELECT * REPLACE (ST_GeomFromWKB(geom) AS geom, "
     "ST_GeomFromWKB(geom_display) AS geom_display) FROM copied"),
    ("SELECT * FROM area_group", "INSERT INTO area_group BY NAME SELECT * FROM copied"),
    ("SELECT * FROM area_group_member", "INSERT INTO area_group_member BY NAME SELECT * FROM copied"),
    ("SELECT * FROM uninhabited_area", "INSERT INTO uninhabited_area BY NAME SELECT * FROM copied"),
    ("SELECT * FROM topic", "INSERT OR REPLACE INTO topic BY NAME SELECT * FROM copied"),
    ("SELECT * FROM poi_category", "INSERT OR REPLACE INTO poi_category BY NAME SELECT * FROM copied"),
    ("SELECT * FROM indicator WHERE released", "INSERT INTO indicator BY NAME SELECT * FROM copied"),
    # login names stay internal: no last editor, no bookmark owner in the public snapshot
    ("SELECT * REPLACE (ST_AsWKB(geom) AS geom, NULL AS updated_by) FROM poi WHERE public",
     "INSERT INTO poi BY NAME SELECT * REPLACE (ST_GeomFromWKB(geom) AS geom) FROM copied"),
    ("SELECT * REPLACE ('' AS owner) FROM bookmark WHERE public",
     "INSERT INTO bookmark BY NAME SELECT * FROM copied"),
    # released targets of released indicators; their Ampel is computed from the published values, so the
    # internal state, the editor and the links to (never published) Maßnahmen stay behind
    ("SELECT t.* REPLACE (NULL AS ampel, NULL AS evaluation, NULL AS updated_by) FROM target t JOIN indicator i ON i.key = t.indicator "
     "WHERE t.released AND i.released", "INSERT INTO target BY NAME SELECT * FROM copied"),
]


def publish(wh: Warehouse, target: str | Path, user: User | None, rule: privacy.PrivacyRule | None = None) -> dict:
    """Write the public snapshot of ``wh`` to ``target`` as ``user`` (an audited write); returns counts."""
    started = time.perf_counter()
    target = Path(target)

    def record(tx: Tx) -> dict:
        counts = _write_snapshot(wh, target, rule)
        tx.audit("public_snapshot", str(target), None, counts)
        return counts

    counts = wh.write(user, "publish", [Resource("snapshot", str(target))], record)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


def _write_snapshot(wh: Warehouse, target: Path, rule: privacy.PrivacyRule | None) -> dict:
    """Build the snapshot in a temporary file, attack it, and rename it over ``target`` only if it holds."""
    rule = rule or privacy.PrivacyRule.from_settings()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    atlas = Atlas(wh, rule=rule)  # internal view: privacy decided on every count, reasons kept for the counts
    inds = atlas.indicators().set_index("key")
    released = list(inds.index[inds["released"]])
    values = privacy.round_declared(atlas.values(released), inds) if released else None
    source = wh.cursor()
    try:
        with Warehouse(tmp) as snapshot:  # the schema comes from the normal migrations
            cur = snapshot.cursor()
            cur.execute("BEGIN")
            for read, write in SNAPSHOT_COPIES:
                cur.register("copied", source.execute(read).df())
                cur.execute(write)
                cur.unregister("copied")
            if values is not None:
                cur.register("safe_values", values)
                cur.execute("INSERT INTO indicator_value SELECT indicator, level, area_key, year, value, status, "
                            "'source', note FROM safe_values")
                cur.unregister("safe_values")
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('published_at', CAST(now() AS VARCHAR)), "
                        "('privacy_protected', ?)", [f"Schwelle {rule.threshold}, Schutzbreite {rule.protection}"])
            cur.execute("COMMIT")
            cur.execute("CHECKPOINT")
            result = privacy_audit.audit_snapshot(snapshot, wh, rule)
        if not result.ok:
            raise ValidationError(
                f"Veröffentlichung abgebrochen: Der Angriffstest findet {result.summary()}. "
                + " ".join(result.details(5)) + " Der bisherige Schnappschuss bleibt unverändert.")
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    reasons = values["reason"].fillna("") if values is not None else pd.Series(dtype=str)
    return {"indicators": len(released), "values": 0 if values is None else len(values),
            "suppressed": 0 if values is None else int((values["status"] == "suppressed").sum()),
            "secondary": int(reasons.str.startswith("sekundär").sum()), "audit": result.summary(),
            "path": str(target), "bytes": target.stat().st_size}
