"""Public sessions: the moderator's view mirrored read-only to the public instance (views only, never notes).

The internal instance cannot reach into the public snapshot (a read-only file, replaced on every publish), so a
public session writes one small JSON file per session next to it: ``<public folder>/sitzungen/<id>.json``
(written to a temporary file and renamed, like a snapshot). Public followers poll that file. A view with an
indicator that is not released is never mirrored: the file then says ``paused`` and keeps the last public view.
Replicas on other machines need this folder too (copied or shared with the snapshot, see README "Betrieb").
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import WarehouseError

FOLDER = "sitzungen"
INDICATOR_PARAMS = ("ind", "ind2", "x", "y")  # URL parameters naming one indicator; "inds" names several


def indicators_of(view: dict) -> set[str]:
    """The indicators a view shows ("inds": a list in the session's view, comma-separated in a URL)."""
    several = view.get("inds") or []
    keys = {view.get(k) for k in INDICATOR_PARAMS} | set(several.split(",") if isinstance(several, str) else several)
    return {k for k in keys if isinstance(k, str) and k}


def path_of(public_warehouse: Path, session_id: int) -> Path:
    return Path(public_warehouse).parent / FOLDER / f"{int(session_id)}.json"


def read(public_warehouse: Path, session_id: int) -> dict | None:
    """The mirrored state of a public session: id, title, seq, view, paused, closed — None if not public."""
    try:
        return json.loads(path_of(public_warehouse, session_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write(public_warehouse: Path, session_id: int, title: str, seq: int, view: dict, released: set[str],
          closed: bool = False) -> bool:
    """Mirror the moderator's view if every indicator it shows is released; returns whether it was mirrored
    (otherwise the last public view stays, marked ``paused``)."""
    target = path_of(public_warehouse, session_id)
    old = read(public_warehouse, session_id) or {"seq": 0, "view": {}}
    public = indicators_of(view) <= released
    state = {"id": int(session_id), "title": title, "closed": bool(closed), "paused": not public,
             "seq": seq if public else old["seq"], "view": view if public else old["view"]}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise WarehouseError(f"Die öffentliche Sitzung lässt sich nicht nach {target.parent} spiegeln ({exc}). "
                             "Bitte den Ordner der öffentlichen Instanz prüfen (KECK_PUBLIC_WAREHOUSE).") from exc
    return public
