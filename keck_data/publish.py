"""Veröffentlichen: write the public snapshot (released indicators, privacy applied, public POIs/bookmarks).

The snapshot is built in a temporary file next to the target and renamed atomically, so a running public
instance either sees the old or the new file, never half of one.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from . import privacy
from .queries import Atlas
from .warehouse import Tx, Warehouse

COPIED_TABLES = ["meta", "spatial_level", "area", "topic", "poi_category"]


def publish(wh: Warehouse, target: str | Path, actor: str = "system", rule: privacy.PrivacyRule | None = None) -> dict:
    """Write the public snapshot of ``wh`` to ``target``; returns counts."""
    started = time.perf_counter()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    Warehouse(tmp).close()  # creates the schema through the normal migrations
    atlas = Atlas(wh, public=True, rule=rule or privacy.PrivacyRule.from_settings())
    released = list(atlas.indicators()["key"])
    values = atlas.values(released) if released else None
    cur = wh.cursor()
    literal = str(tmp).replace("'", "''")
    cur.execute(f"ATTACH '{literal}' AS pub")
    try:
        cur.execute("BEGIN")
        for table in COPIED_TABLES:
            cur.execute(f"DELETE FROM pub.{table}")
            cur.execute(f"INSERT INTO pub.{table} SELECT * FROM main.{table}")
        cur.execute("INSERT INTO pub.indicator SELECT * FROM main.indicator WHERE released")
        if values is not None:
            cur.register("safe_values", values.assign(origin="published"))
            cur.execute("INSERT INTO pub.indicator_value SELECT indicator, level, area_key, year, value, status, "
                        "'source', note FROM safe_values")
            cur.unregister("safe_values")
        cur.execute("INSERT INTO pub.poi SELECT * FROM main.poi WHERE public")
        cur.execute("INSERT INTO pub.bookmark SELECT * FROM main.bookmark WHERE public")
        cur.execute("INSERT OR REPLACE INTO pub.meta VALUES ('published_at', CAST(now() AS VARCHAR))")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        cur.execute("DETACH pub")
        tmp.unlink(missing_ok=True)
        raise
    cur.execute("DETACH pub")
    os.replace(tmp, target)
    counts = {"indicators": len(released), "values": 0 if values is None else len(values),
              "suppressed": 0 if values is None else int((values["status"] == "suppressed").sum()),
              "path": str(target), "bytes": target.stat().st_size}

    def record(tx: Tx) -> None:
        tx.audit("public_snapshot", str(target), None, counts)

    wh.write(actor, "publish", record)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts
