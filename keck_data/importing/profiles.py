"""Import profiles ("Importvorlagen"): the settings and column mapping of a delivery, saved by name and
reused for the next year's file. Column names may drift between years; they are matched without their
reference date, then by similarity, and every similar match is reported for confirmation."""
from __future__ import annotations

import difflib
import json

from .. import store
from ..errors import ValidationError
from ..policy import Resource
from ..warehouse import Tx, Warehouse, read_df
from .matching import norm_name
from .table import column_date

PREFIX = "import_profile:"
SETTINGS = ("level", "layout", "key_col", "name_col", "year_col", "header_row", "skip_rows", "empty", "decimal",
            "dash", "key_width", "sheet")
SIMILAR = 0.75


def names(wh: Warehouse) -> list[str]:
    """Saved profile names, sorted."""
    keys = read_df(wh, "SELECT key FROM meta WHERE starts_with(key, ?) ORDER BY key", [PREFIX])["key"]
    return [k[len(PREFIX):] for k in keys]


def load(wh: Warehouse, name: str) -> dict:
    """The saved profile ``name``: settings plus "columns" (column name without date → indicator or None)."""
    raw = wh.meta(PREFIX + name)
    if raw is None:
        have = names(wh)
        raise ValidationError(f"Importvorlage „{name}“ gibt es nicht"
                              + (f" (vorhanden: {', '.join(have)})." if have else " – noch keine gespeichert."))
    return json.loads(raw)


def resources(wh: Warehouse, name: str) -> list[Resource]:
    """What saving profile ``name`` touches: the profile (with the owner of the stored one) and the indicators
    the stored one maps to, each with its Themenfeld (a profile sends the next delivery's columns there)."""
    raw = wh.meta(PREFIX + name.strip())
    old = json.loads(raw) if raw else {}
    targets = [k for k in dict.fromkeys(old.get("columns", {}).values()) if k]
    return [Resource("import_profile", name.strip(), owner=old.get("owner"))] + store.indicator_resources(
        wh.cursor(), targets)


def save(tx: Tx, name: str, settings: dict, columns: dict[str, str | None]) -> None:
    """Store (or replace) a profile inside the caller's transaction, with an audit row; the profile records
    its owner (who saved it first) and the Themenfelder of its target indicators."""
    if not name.strip():
        raise ValidationError("Bitte einen Namen für die Importvorlage angeben.")
    key = PREFIX + name.strip()
    before = tx.cur.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    targets = sorted({k for k in columns.values() if k})
    topics = [t for (t,) in tx.cur.execute("SELECT DISTINCT topic FROM indicator WHERE list_contains(?, key) "
                                           "ORDER BY topic", [targets]).fetchall()]
    owner = json.loads(before[0]).get("owner") if before else None
    profile = {k: settings.get(k) for k in SETTINGS} | {
        "columns": {column_date(col)[0]: key for col, key in columns.items()},
        "owner": owner or (tx.user.username if tx.user else None), "topics": topics}
    tx.cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, json.dumps(profile, ensure_ascii=False)])
    tx.audit("import_profile", name.strip(), json.loads(before[0]) if before else None, profile)


def match_columns(saved: dict[str, str | None], labels: list[str]) -> dict[str, tuple[str | None, str, str]]:
    """Map the file's column labels with a profile's columns: label → (indicator or None, how, saved label).

    ``how`` is "gleich" (same name without date) or "ähnlich" (similar name, to be confirmed); labels that
    match nothing are left out.
    """
    by_norm = {norm_name(k): k for k in saved}
    out, taken = {}, set()
    for label in labels:
        norm = norm_name(column_date(label)[0])
        if norm in by_norm:
            out[label] = (saved[by_norm[norm]], "gleich", by_norm[norm])
            taken.add(norm)
    for label in labels:
        if label in out:
            continue
        norm = norm_name(column_date(label)[0])
        close = difflib.get_close_matches(norm, [n for n in by_norm if n not in taken], n=1, cutoff=SIMILAR)
        if close:
            out[label] = (saved[by_norm[close[0]]], "ähnlich", by_norm[close[0]])
            taken.add(close[0])
    return out
