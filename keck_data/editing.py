"""Permission-checked, validated, transactional and audited edits (DESIGN.md rule 6)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import markdown
import nh3
import pandas as pd
import shapely

from . import aggregation, store
from .analysis import derived
from .analysis.target_edits import reevaluate
from .analysis.targets import parse_rule
from .errors import ConflictError, NotFoundError, ValidationError
from .importing.files import parse_values
from .importing.metadata import LABELS, REQUIRED
from .policy import Resource, User, can, require
from .publish import publish
from .warehouse import Tx, Warehouse, read_df

POI_FIELDS = ["name", "category", "address", "lon", "lat", "opening_hours", "target_group", "capacity", "website",
              "contact", "description", "public"]
URL = re.compile(r"^https?://[^\s<>\"']+$")


# -- POIs ---------------------------------------------------------------------------------------------------

POI_SELECT = ("SELECT name, category, address, ST_X(geom), ST_Y(geom), opening_hours, target_group, capacity, "
              "website, contact, description, public, version, updated_by, CAST(updated_at AS VARCHAR) "
              "FROM poi WHERE id = ?")


def _poi_row(cur, poi_id: int) -> dict | None:
    row = cur.execute(POI_SELECT, [poi_id]).fetchone()
    return None if row is None else dict(zip(POI_FIELDS + ["version", "updated_by", "updated_at"], row), id=poi_id)


def get_poi(wh: Warehouse, poi_id: int) -> dict:
    """One POI with its version (for optimistic locking)."""
    poi = _poi_row(wh.cursor(), poi_id)
    if poi is None:
        raise NotFoundError(f"Die Einrichtung Nr. {poi_id} gibt es nicht (mehr).")
    return poi


def _current_poi(tx: Tx, poi_id: int) -> dict:
    """The POI as the transaction sees it; gone meanwhile = conflict."""
    poi = _poi_row(tx.cur, poi_id)
    if poi is None:
        raise ConflictError(f"Die Einrichtung Nr. {poi_id} wurde inzwischen gelöscht.")
    return poi


def validate_poi(wh: Warehouse, data: dict) -> dict:
    """Required fields, known category, coordinates in the municipality, URL and capacity formats."""
    clean = {k: data.get(k) for k in POI_FIELDS}
    for k in ("name", "address", "opening_hours", "target_group", "website", "contact", "description"):
        clean[k] = (str(clean[k]).strip() or None) if clean[k] is not None else None
    problems = []
    if not clean["name"]:
        problems.append("Name fehlt")
    cats = set(read_df(wh, "SELECT key FROM poi_category")["key"])
    if clean["category"] not in cats:
        problems.append(f"Kategorie „{clean['category']}“ unbekannt")
    try:
        lon, lat = float(str(clean["lon"]).replace(",", ".")), float(str(clean["lat"]).replace(",", "."))
        clean["lon"], clean["lat"] = lon, lat
        town = wh.cursor().execute("SELECT ST_AsWKB(ST_Union_Agg(geom)) FROM area WHERE level = "
                                   "(SELECT key FROM spatial_level ORDER BY ordering LIMIT 1)").fetchone()[0]
        if town and not shapely.from_wkb(bytes(town)).buffer(0.01).contains(shapely.Point(lon, lat)):
            problems.append("Koordinaten liegen außerhalb der Kommune")
    except (TypeError, ValueError):
        problems.append("Koordinaten fehlen oder sind keine Zahlen")
    if clean["website"] and not URL.match(clean["website"]):
        problems.append("Webadresse muss mit http:// oder https:// beginnen")
    if clean["capacity"] not in (None, ""):
        try:
            clean["capacity"] = int(clean["capacity"])
            if clean["capacity"] < 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("Kapazität muss eine ganze Zahl ≥ 0 sein")
    else:
        clean["capacity"] = None
    clean["public"] = bool(clean["public"]) if clean["public"] is not None else True
    if problems:
        raise ValidationError("Die Einrichtung wurde nicht gespeichert: " + "; ".join(problems) + ".")
    return clean


def create_poi(wh: Warehouse, user: User, data: dict) -> int:
    clean = validate_poi(wh, data)

    def write(tx: Tx) -> int:
        new_id = tx.cur.execute(
            "INSERT INTO poi (name, category, address, geom, opening_hours, target_group, capacity, website, contact, "
            "description, public, updated_by, updated_at) VALUES (?, ?, ?, ST_Point(?, ?), ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id", [clean["name"], clean["category"], clean["address"], clean["lon"], clean["lat"],
                             clean["opening_hours"], clean["target_group"], clean["capacity"], clean["website"],
                             clean["contact"], clean["description"], clean["public"], user.username,
                             datetime.now()]).fetchone()[0]
        tx.audit("poi", str(new_id), None, {**clean, "version": 1})
        derived.mark_poi_stale(tx, [clean["category"]])
        return new_id
    return wh.write(user, "create-poi", [Resource("poi")], write)


def update_poi(wh: Warehouse, user: User, poi_id: int, data: dict, expected_version: int) -> None:
    """Save unless someone else saved meanwhile: then ConflictError shows both versions, nothing is overwritten."""
    clean = validate_poi(wh, data)

    def write(tx: Tx) -> None:
        current = _current_poi(tx, poi_id)
        if current["version"] != expected_version:
            raise ConflictError(
                f"„{current['name']}“ wurde inzwischen von {current['updated_by']} ({current['updated_at']}) "
                "geändert. Nichts wurde überschrieben. Gespeicherte Fassung: "
                + _describe(current) + " – Ihre Fassung: " + _describe(clean)
                + ". Bitte die Seite neu laden und die Änderung erneut eintragen.")
        tx.cur.execute(
            "UPDATE poi SET name = ?, category = ?, address = ?, geom = ST_Point(?, ?), opening_hours = ?, "
            "target_group = ?, capacity = ?, website = ?, contact = ?, description = ?, public = ?, "
            "version = version + 1, updated_by = ?, updated_at = ? WHERE id = ?",
            [clean["name"], clean["category"], clean["address"], clean["lon"], clean["lat"], clean["opening_hours"],
             clean["target_group"], clean["capacity"], clean["website"], clean["contact"], clean["description"],
             clean["public"], user.username, datetime.now(), poi_id])
        tx.audit("poi", str(poi_id), {k: current[k] for k in POI_FIELDS}, {**clean, "version": expected_version + 1})
        derived.mark_poi_stale(tx, [current["category"], clean["category"]])
    wh.write(user, "update-poi", [Resource("poi", str(poi_id))], write)


def delete_poi(wh: Warehouse, user: User, poi_id: int, expected_version: int) -> None:
    def write(tx: Tx) -> None:
        current = _current_poi(tx, poi_id)
        if current["version"] != expected_version:
            raise ConflictError(f"„{current['name']}“ wurde inzwischen geändert und deshalb nicht gelöscht.")
        tx.cur.execute("DELETE FROM poi WHERE id = ?", [poi_id])
        tx.audit("poi", str(poi_id), {k: current[k] for k in POI_FIELDS}, None)
        derived.mark_poi_stale(tx, [current["category"]])
    wh.write(user, "delete-poi", [Resource("poi", str(poi_id))], write)


def _describe(p: dict) -> str:
    return ", ".join(f"{k}: {p[k]}" for k in ("name", "address", "opening_hours", "capacity", "website") if p.get(k))


# -- indicators and values --------------------------------------------------------------------------------

def save_indicator(wh: Warehouse, user: User, meta: dict) -> None:
    """Create or change indicator metadata; the mandatory fields must be filled."""
    missing = [LABELS[f] for f in REQUIRED if not str(meta.get(f) or "").strip()]
    if missing:
        raise ValidationError("Pflichtfelder fehlen: " + ", ".join(missing) + ".")
    old = read_df(wh, "SELECT * FROM indicator WHERE key = ?", [meta["key"]])
    merged = {**(old.iloc[0].to_dict() if not old.empty else {}), **meta}
    merged.setdefault("aggregation",
                      {"count": "sum", "rate": "ratio", "mean": "weighted_mean"}.get(meta["kind"], "none"))
    merged.setdefault("polarity", "neutral")
    if parse_rule(merged.get("ampel_rule")) and merged["polarity"] == "neutral":  # understood before it is stored
        raise ValidationError("Eine Ampel-Regel braucht die Angabe, ob ein hoher Wert günstig oder ungünstig ist.")
    if merged["aggregation"] == "ratio" and not (merged.get("numerator") and merged.get("denominator")):
        raise ValidationError("Eine Quote braucht Zähler- und Nenner-Indikator.")
    parts = [p for p in (merged.get("numerator"), merged.get("denominator")) if p]
    unknown = sorted(set(parts) - set(read_df(wh, "SELECT key FROM indicator")["key"]))
    if unknown:
        raise ValidationError(f"„{meta['key']}“: Zähler/Nenner " + ", ".join(f"„{k}“" for k in unknown)
                              + " gibt es nicht – bitte zuerst als Indikator anlegen.")
    resources = [Resource("indicator", meta["key"], merged.get("topic"))] + store.indicator_resources(wh.cursor(),
                                                                                                       parts)
    if not old.empty:  # moving an indicator out of a Themenfeld needs the rights there too
        resources.append(Resource("indicator", meta["key"], old["topic"][0]))

    def write(tx: Tx) -> None:
        store.upsert_indicators(tx, [merged])
        tx.audit("indicator", meta["key"], None if old.empty else _plain(old.iloc[0].to_dict()), _plain(merged))
    wh.write(user, "save-indicator", resources, write)


def set_released(wh: Warehouse, user: User, key: str, released: bool) -> None:
    """Freigabe: only released indicators go into the public snapshot."""
    topic = read_df(wh, "SELECT topic, released FROM indicator WHERE key = ?", [key])
    if topic.empty:
        raise NotFoundError(f"Den Indikator „{key}“ gibt es nicht.")

    problem = released and derived.release_problem(wh.cursor(), key)
    if problem:
        raise ValidationError(problem)

    def write(tx: Tx) -> None:
        tx.cur.execute("UPDATE indicator SET released = ? WHERE key = ?", [released, key])
        tx.audit("indicator.released", key, bool(topic["released"][0]), released)
        if not released:
            derived.withdraw_dependants(tx, key)
    wh.write(user, "release" if released else "withdraw", store.indicator_resources(wh.cursor(), [key]), write)


def save_values(wh: Warehouse, user: User, indicator: str, level: str, year: int, cells: dict[str, str]) -> int:
    """Edited values of one indicator/level/year (area key → text as typed, German formats allowed)."""
    topic = read_df(wh, "SELECT topic FROM indicator WHERE key = ?", [indicator])
    if topic.empty:
        raise NotFoundError(f"Den Indikator „{indicator}“ gibt es nicht.")
    keys = set(read_df(wh, "SELECT key FROM area WHERE level = ?", [level])["key"])
    unknown = sorted(set(cells) - keys)
    if unknown:
        raise ValidationError(f"Unbekannte Gebiete: {', '.join(unknown)}.")
    texts = pd.Series(list(cells.values()), index=list(cells))
    values, status, bad = parse_values(texts, decimal=",")
    if bad.any():
        raise ValidationError("Keine Zahl: " + ", ".join(f"{k}: „{t}“" for k, t in texts[bad].items()) + ".")
    frame = pd.DataFrame({"indicator": indicator, "level": level, "area_key": list(cells), "year": year,
                          "value": values, "status": status})
    before = read_df(wh, "SELECT area_key, value, status FROM indicator_value WHERE indicator = ? AND level = ? "
                         "AND year = ? AND list_contains(?, area_key) AND origin = 'source'",
                     [indicator, level, year, list(cells)])

    def write(tx: Tx) -> None:
        store.upsert_values(tx, frame)
        aggregation.refresh_aggregates(tx)
        tx.audit("indicator_value", f"{indicator}/{level}/{year}", _records(before),
                 _records(frame[["area_key", "value", "status"]]))
    wh.write(user, "edit-values", [Resource("indicator", indicator, topic["topic"][0])], write)
    reevaluate(wh, user, [indicator])
    return len(frame)


def publish_snapshot(wh: Warehouse, user: User, target: str | Path) -> dict:
    return publish(wh, target, user)


# -- bookmarks --------------------------------------------------------------------------------------------

def render_markdown(text: str | None) -> str:
    """Interpretation text: Markdown → HTML with a strict allow-list (scripts, handlers, iframes removed)."""
    return nh3.clean(markdown.markdown(text or ""), tags={"p", "b", "strong", "i", "em", "ul", "ol", "li", "a",
                                                           "br", "h3", "h4", "blockquote", "code"},
                     attributes={"a": {"href"}}, url_schemes={"http", "https"})


def save_bookmark(wh: Warehouse, user: User, title: str, interpretation: str, view_state: dict,
                  public: bool = False) -> int:
    if not title.strip():
        raise ValidationError("Das Lesezeichen braucht einen Titel.")
    if len(interpretation or "") > 20_000:
        raise ValidationError("Der Interpretationstext ist zu lang (höchstens 20.000 Zeichen).")

    def write(tx: Tx) -> int:
        new_id = tx.cur.execute("INSERT INTO bookmark (title, interpretation, view_state, public, owner, created_at) "
                                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                [title.strip()[:200], interpretation, json.dumps(view_state, ensure_ascii=False),
                                 public, user.username, datetime.now()]).fetchone()[0]
        tx.audit("bookmark", str(new_id), None, {"title": title, "public": public})
        return new_id
    mark = Resource("bookmark", owner=getattr(user, "username", None), public=public)
    return wh.write(user, "save-bookmark", [mark], write)


def bookmarks(wh: Warehouse, user: User | None, public_only: bool = False) -> pd.DataFrame:
    """Public bookmarks plus the user's own (internal); only public ones in the public instance."""
    return read_df(wh, "SELECT id, title, interpretation, view_state, public, owner, CAST(created_at AS VARCHAR) "
                       "AS created_at FROM bookmark WHERE public OR (NOT ? AND (owner = ? OR ?)) ORDER BY created_at "
                       "DESC", [public_only, user.username if user else "", can(user, "delete-bookmark",
                                                                                Resource("bookmark", owner=""))])


def delete_bookmark(wh: Warehouse, user: User, bookmark_id: int) -> None:
    row = read_df(wh, "SELECT owner, title, public FROM bookmark WHERE id = ?", [bookmark_id])
    if row.empty:
        raise NotFoundError("Das Lesezeichen gibt es nicht mehr.")
    mark = Resource("bookmark", str(bookmark_id), owner=row["owner"][0], public=bool(row["public"][0]))

    def write(tx: Tx) -> None:
        tx.cur.execute("DELETE FROM bookmark WHERE id = ?", [bookmark_id])
        tx.audit("bookmark", str(bookmark_id), {"title": row["title"][0]}, None)
    wh.write(user, "delete-bookmark", [mark], write)


# -- audit log and undo -----------------------------------------------------------------------------------

MAX_SHOWN = 2_000  # characters of one before/after value in the protocol (the log keeps them whole)


def audit_entries(wh: Warehouse, actor: str | None = None, entity: str | None = None, limit: int = 500,
                  offset: int = 0) -> pd.DataFrame:
    """One page of the audit log, newest first; long values shortened to MAX_SHOWN characters (…).

    Columns: id, changed_at, actor, action, entity, entity_key, before, after.
    """
    return read_df(wh, "SELECT id, CAST(changed_at AS VARCHAR) AS changed_at, left(actor, 100) AS actor, action, "
                       "entity, left(entity_key, 200) AS entity_key, "
                       "CASE WHEN length(before) > ? THEN left(CAST(before AS VARCHAR), ?) || '…' "
                       "ELSE CAST(before AS VARCHAR) END AS before, "
                       "CASE WHEN length(after) > ? THEN left(CAST(after AS VARCHAR), ?) || '…' "
                       "ELSE CAST(after AS VARCHAR) END AS after "
                       "FROM audit_log WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR entity = ?) "
                       "ORDER BY id DESC LIMIT ? OFFSET ?",
                   [MAX_SHOWN, MAX_SHOWN, MAX_SHOWN, MAX_SHOWN, actor, actor, entity, entity, limit, offset])


def audit_count(wh: Warehouse, actor: str | None = None, entity: str | None = None) -> int:
    return wh.cursor().execute("SELECT count(*) FROM audit_log WHERE (? IS NULL OR actor = ?) AND "
                               "(? IS NULL OR entity = ?)", [actor, actor, entity, entity]).fetchone()[0]


def audit_filter_options(wh: Warehouse) -> tuple[list[str], list[str]]:
    """Who and what appear in the audit log (for the filters)."""
    rows = read_df(wh, "SELECT DISTINCT actor, entity FROM audit_log")
    return sorted(rows["actor"].unique()), sorted(rows["entity"].unique())


UNDOABLE = {"update-poi", "delete-poi", "create-poi", "release", "withdraw"}


def undo(wh: Warehouse, user: User, audit_id: int) -> None:
    """Undo one change if nobody changed the object since; otherwise ConflictError showing both versions.

    POI edits carry the version they produced, so the restoring write itself checks it (optimistic lock).
    """
    row = read_df(wh, "SELECT action, entity, entity_key, before, after FROM audit_log WHERE id = ?", [audit_id])
    if row.empty or row["action"][0] not in UNDOABLE or row["entity"][0] not in ("poi", "indicator.released"):
        raise ValidationError("Diese Änderung kann nicht automatisch rückgängig gemacht werden.")
    action, entity, key = row["action"][0], row["entity"][0], row["entity_key"][0]
    before = json.loads(row["before"][0]) if row["before"][0] else None
    after = json.loads(row["after"][0]) if row["after"][0] else None
    later = read_df(wh, "SELECT actor, CAST(changed_at AS VARCHAR) AS changed_at FROM audit_log WHERE entity = ? "
                        "AND entity_key = ? AND id > ? AND action <> 'verweigert' ORDER BY id DESC LIMIT 1",
                    [entity, key, audit_id])
    if not later.empty:
        by = f"{later['actor'][0]} ({later['changed_at'][0][:16]})"
        if entity == "indicator.released":
            raise ConflictError(f"Die Freigabe von „{key}“ wurde inzwischen von {by} erneut entschieden; "
                                "nichts wurde geändert.")
        current = _poi_row(wh.cursor(), int(key))
        raise ConflictError(f"Die Einrichtung Nr. {key} wurde inzwischen von {by} geändert; nichts wurde "
                            "geändert. Gespeicherte Fassung: " + (_describe(current) if current else "gelöscht")
                            + f" – Fassung vor Änderung Nr. {audit_id}: " + (_describe(before) if before else
                                                                            "nicht vorhanden") + ".")
    if action in ("release", "withdraw"):
        set_released(wh, user, key, bool(before))
    elif action == "create-poi":
        delete_poi(wh, user, int(key), after.get("version", 1))
    elif action == "update-poi":
        update_poi(wh, user, int(key), before, after.get("version") or get_poi(wh, int(key))["version"])
    else:  # delete-poi: restore as a new POI
        create_poi(wh, user, before)


def _plain(d: dict) -> dict:
    return {k: (None if (isinstance(v, float) and v != v) else v) for k, v in d.items()}


def _records(df: pd.DataFrame) -> list:
    return [[a, None if pd.isna(v) else float(v), s] for a, v, s in df.itertuples(index=False)]


def raw_values(wh: Warehouse, user: User, indicator: str, level: str, year: int) -> pd.DataFrame:
    """Unsuppressed source values for the value editor (editors only: they maintain the raw data)."""
    topic = read_df(wh, "SELECT topic FROM indicator WHERE key = ?", [indicator])
    require(user, "edit-values", Resource("indicator", indicator, topic["topic"][0] if not topic.empty else None))
    df = read_df(wh, "SELECT a.key, a.name, v.value, v.status FROM area a LEFT JOIN indicator_value v ON "
                     "v.area_key = a.key AND v.level = a.level AND v.indicator = ? AND v.year = ? AND "
                     "v.origin = 'source' WHERE a.level = ? ORDER BY a.key", [indicator, year, level])
    df["text"] = [("k. A." if s == "suppressed" else "") if pd.isna(v) else f"{v:g}".replace(".", ",")
                  for v, s in zip(df["value"], df["status"])]
    return df[["key", "name", "text"]]
