"""Writing Wirkungsziele: create/change (every version kept), Freigabe, links to Maßnahmen, CSV import and the
re-evaluation after new data. Every write is policy-checked (a target is topic data of its indicator's
Themenfeld), one transaction, audited."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .. import fmt
from ..errors import ConflictError, NotFoundError, ValidationError
from ..policy import Resource, User
from ..queries import Atlas
from ..warehouse import Tx, Warehouse, read_df
from . import targets as rule

FIELDS = ("title", "indicator", "level", "area_key", "base_year", "target_year", "target_value", "direction",
          "tolerance", "criterion", "responsible", "status")
STATUSES = {"entwurf": "Entwurf", "beschlossen": "beschlossen", "erreicht": "erreicht", "aufgegeben": "aufgegeben"}
CSV_COLUMNS = ("titel", "indikator", "ebene", "gebiet", "basisjahr", "zieljahr", "zielwert", "richtung", "toleranz")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _resource(target_id, topic: str) -> Resource:
    return Resource("target", None if target_id is None else str(target_id), topic)


def _number(text, what: str) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    cleaned = str(text or "").strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValidationError(f"{what}: „{text}“ ist keine Zahl.") from None


def _year(text, what: str) -> int:
    value = _number(text, what)
    if value != int(value) or not 1900 <= value <= 2200:
        raise ValidationError(f"{what}: „{text}“ ist keine Jahreszahl.")
    return int(value)


def clean(atlas: Atlas, data: dict) -> dict:
    """Check a target and resolve indicator, level and area by key or name; German message on the first problem.

    An empty area means the whole town (the coarsest level's area). The baseline must have a value in the
    warehouse, and the direction must fit the baseline and the target value.
    """
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationError("Titel fehlt.")
    inds = atlas.indicators()
    ind_text = str(data.get("indicator") or "").strip()
    hit = inds[(inds["key"] == ind_text) | (inds["name"].str.casefold() == ind_text.casefold())]
    if hit.empty:
        raise ValidationError(f"Indikator „{ind_text}“ unbekannt (Schlüssel oder Name eines Indikators angeben).")
    ind = hit.iloc[0]
    levels = atlas.levels()
    area_text = str(data.get("area_key") or "").strip()
    level_text = str(data.get("level") or "").strip()
    if not area_text:
        level = levels.iloc[0]["key"]
        area = atlas.areas(level).iloc[0]
    else:
        lv = levels[(levels["key"] == level_text) | (levels["name"].str.casefold() == level_text.casefold())]
        if lv.empty:
            raise ValidationError(f"Ebene „{level_text}“ unbekannt (möglich: {', '.join(levels['name'])}).")
        level = lv.iloc[0]["key"]
        areas = atlas.areas(level)
        found = areas[(areas["key"] == area_text) | (areas["name"].str.casefold() == area_text.casefold())]
        if found.empty:
            raise ValidationError(f"Gebiet „{area_text}“ gibt es auf der Ebene {lv.iloc[0]['name']} nicht.")
        area = found.iloc[0]
    base_year = _year(data.get("base_year"), "Basisjahr")
    target_year = _year(data.get("target_year"), "Zieljahr")
    if target_year <= base_year:
        raise ValidationError(f"Das Zieljahr {target_year} muss nach dem Basisjahr {base_year} liegen.")
    target_value = _number(data.get("target_value"), "Zielwert")
    tolerance = _number(data.get("tolerance") if str(data.get("tolerance") or "").strip() else 0, "Toleranz")
    if tolerance < 0:
        raise ValidationError("Die Toleranz darf nicht negativ sein.")
    direction = str(data.get("direction") or "").strip().lower().replace("erhoehen", "erhöhen")
    if direction not in rule.DIRECTIONS:
        raise ValidationError(f"Richtung „{data.get('direction')}“ unbekannt (möglich: senken, erhöhen, halten).")
    status = str(data.get("status") or "entwurf").strip().lower()
    if status not in STATUSES:
        raise ValidationError(f"Status „{status}“ unbekannt (möglich: {', '.join(STATUSES.values())}).")
    base = atlas.values([ind["key"]], [base_year])
    base = base[(base["level"] == level) & (base["area_key"] == area["key"])]
    unit, decimals = ind["unit"], int(ind["decimals"])
    where = f"{ind['name']}, {area['name']}, {base_year}"
    if base.empty or base["status"].iloc[0] == "missing":
        raise ValidationError(f"Kein Basiswert im Warehouse ({where}) – bitte ein Basisjahr mit Wert wählen.")
    if base["status"].iloc[0] != "ok":
        raise ValidationError(f"Der Basiswert ({where}) ist „k. A.“ (Datenschutz) – bitte eine gröbere Ebene "
                              "oder ein anderes Basisjahr wählen.")
    basis = round(float(base["value"].iloc[0]), decimals)
    sign = rule.DIRECTIONS[direction]
    if sign and sign * (target_value - basis) <= 0:
        side = "unter" if sign < 0 else "über"
        raise ValidationError(f"Richtung „{direction}“: Der Zielwert {fmt.with_unit(target_value, decimals, unit)} "
                              f"muss {side} dem Basiswert {fmt.with_unit(basis, decimals, unit)} ({base_year}) liegen.")
    return {"title": title, "indicator": ind["key"], "level": level, "area_key": area["key"], "base_year": base_year,
            "target_year": target_year, "target_value": target_value, "direction": direction,
            "tolerance": tolerance, "criterion": str(data.get("criterion") or "").strip() or None,
            "responsible": str(data.get("responsible") or "").strip() or None, "status": status,
            "topic": ind["topic"]}


def _evaluated(atlas: Atlas, rows: list[dict]) -> pd.DataFrame:
    """Cleaned targets with their Ampel (stored with them, so a re-evaluation can report what changed)."""
    frame = pd.DataFrame(rows).merge(atlas.indicators()[["key", "unit", "decimals"]], left_on="indicator",
                                     right_on="key", how="left")
    done = rule.evaluate(atlas, frame)
    return done.assign(ampel=done["state"], evaluation=[rule.evaluation_json(r) for r in done.itertuples()])


def _write_version(tx: Tx, target_id: int, row: dict, old: dict | None, measures: list[int] | None) -> None:
    values = [row[f] for f in FIELDS]
    version = (old["version"] + 1) if old else 1
    if old:
        tx.cur.execute("UPDATE target SET " + ", ".join(f"{f} = ?" for f in FIELDS) + ", ampel = ?, version = ?, "
                       "evaluation = ?, updated_by = ?, updated_at = ? WHERE id = ?",
                       [*values, row["ampel"], version, row["evaluation"], tx.actor, _now(), target_id])
    else:
        tx.cur.execute("INSERT INTO target (id, " + ", ".join(FIELDS) + ", ampel, evaluation, version, updated_by, "
                       "updated_at) VALUES (?, " + ", ".join("?" for _ in FIELDS) + ", ?, ?, 1, ?, ?)",
                       [target_id, *values, row["ampel"], row["evaluation"], tx.actor, _now()])
    if measures is not None:
        tx.cur.execute("DELETE FROM target_measure WHERE target_id = ?", [target_id])
        if measures:  # DuckDB refuses executemany with no rows
            tx.cur.executemany("INSERT INTO target_measure VALUES (?, ?)", [[target_id, m] for m in measures])
    after = {f: row[f] for f in FIELDS} | {"version": version}
    if measures is not None:
        after["measures"] = sorted(measures)
    tx.cur.execute("INSERT INTO target_history VALUES (?, ?, ?, ?, ?)",
                   [target_id, version, _now(), tx.actor, json.dumps(after, ensure_ascii=False, default=str)])
    tx.audit("target", str(target_id), None if old is None else {f: old[f] for f in FIELDS} | {
        "version": old["version"]}, after)


def _old(wh: Warehouse, target_id: int) -> dict:
    old = read_df(wh, "SELECT t.*, i.topic FROM target t JOIN indicator i ON i.key = t.indicator WHERE t.id = ?",
                  [target_id])
    if old.empty:
        raise NotFoundError(f"Das Ziel Nr. {target_id} gibt es nicht.")
    return old.iloc[0].to_dict()


def save_target(wh: Warehouse, user: User | None, data: dict, target_id: int | None = None,
                expected_version: int | None = None, measures: list[int] | None = None,
                atlas: Atlas | None = None) -> int:
    """Create (``target_id`` None) or change a target; ``measures``: ids of the Maßnahmen it serves (None: keep).

    A change needs the version the editor started from (someone else's change meanwhile is a ConflictError)."""
    atlas = atlas or Atlas(wh)
    row = clean(atlas, data)
    row |= _evaluated(atlas, [row]).iloc[0][["ampel", "evaluation"]].to_dict()
    old = None if target_id is None else _old(wh, target_id)
    if measures is not None:
        _check_measures(wh, measures)
    resources = [_resource(target_id, row["topic"])] + ([_resource(target_id, old["topic"])] if old else [])

    def write(tx: Tx) -> int:
        if old is not None:
            current = tx.cur.execute("SELECT version FROM target WHERE id = ?", [target_id]).fetchone()
            if current is None or current[0] != expected_version:
                raise ConflictError(f"Das Ziel „{old['title']}“ wurde inzwischen geändert (Fassung "
                                    f"{current[0] if current else '–'}). Bitte neu laden und erneut speichern.")
        new_id = target_id or tx.cur.execute("SELECT nextval('target_id_seq')").fetchone()[0]
        _write_version(tx, new_id, row, old, measures)
        return int(new_id)
    new_id = wh.write(user, "save-target", resources, write)
    reevaluate(wh, user, [row["indicator"]], atlas)
    return new_id


def _check_measures(wh: Warehouse, measures: list[int]) -> None:
    known = set(read_df(wh, "SELECT id FROM conf_note WHERE kind = 'measure'")["id"])
    unknown = sorted(set(measures) - known)
    if unknown:
        raise ValidationError("Keine Maßnahme: Notiz " + ", ".join(f"Nr. {m}" for m in unknown) + ".")


def set_target_released(wh: Warehouse, user: User | None, target_id: int, released: bool) -> None:
    """Freigabe of a target: only released targets of released indicators go into the public snapshot."""
    old = _old(wh, target_id)

    def write(tx: Tx) -> None:
        tx.cur.execute("UPDATE target SET released = ? WHERE id = ?", [released, target_id])
        tx.audit("target.released", str(target_id), bool(old["released"]), released)
    wh.write(user, "release-target" if released else "withdraw-target", [_resource(target_id, old["topic"])], write)


def reevaluate(wh: Warehouse, user: User | None, indicators: list[str], atlas: Atlas | None = None) -> list[str]:
    """After new values of ``indicators``: evaluate the targets again, store the evaluations of the targets of
    these indicators (and of the rates of their Themenfeld built from them) and audit every changed state
    ("target.ampel"). Returns
    one German line per change for the import report: 'Ziel „Kinderarmut in Nordstadt senken“: gelb → grün'.

    The stored evaluations serve ``ziele status`` while the data stays as evaluated; if a target of another
    indicator changed too (secondary suppression), they are left to be computed on request."""
    if not read_df(wh, "SELECT count(*) AS n FROM target")["n"][0]:
        return []
    atlas = atlas or Atlas(wh)
    related = set(read_df(  # rates of the same Themenfeld count too (those of others: evaluated on request)
        wh, "SELECT r.key FROM indicator r WHERE list_contains(?, r.key) OR ((list_contains(?, r.numerator) OR "
            "list_contains(?, r.denominator)) AND r.topic IN "
            "(SELECT topic FROM indicator WHERE list_contains(?, key)))",
        [indicators] * 4)["key"])
    done = rule.evaluate(atlas, rule.targets(atlas))
    done["new_evaluation"] = [rule.evaluation_json(r) for r in done.itertuples()]
    mine = done[done["indicator"].isin(related)]
    others_current = (done.loc[~done.index.isin(mine.index), "new_evaluation"]
                      == done.loc[~done.index.isin(mine.index), "evaluation"]).all()
    if mine.empty:
        return []
    changed = mine[mine["state"] != mine["ampel"].fillna("")]
    lines = [f"Ziel „{t}“: {old or '–'} → {new}" for t, old, new in zip(changed["title"], changed["ampel"],
                                                                          changed["state"])]
    version = atlas.data_version()

    def write(tx: Tx) -> None:
        tx.cur.executemany("UPDATE target SET ampel = ?, evaluation = ? WHERE id = ?",
                           [[r.state, r.new_evaluation, r.id] for r in mine.itertuples()])
        for r in changed.itertuples():
            tx.audit("target.ampel", str(r.id), {"titel": r.title, "ampel": r.ampel},
                     {"titel": r.title, "ampel": r.state, "begruendung": r.reason})
        tx.audit("target.evaluation", None, None, {"bewertet": len(mine), "geändert": len(changed)})
        tx.cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [rule.EVALUATED, version if others_current
                                                                     else "veraltet"])
    wh.write(user, "evaluate-targets", [_resource(i, t) for i, t in zip(mine["id"], mine["topic"])], write)
    return lines


# -- CSV import (``python -m keck_data ziele import FILE.csv``) ------------------------------------------------------

def read_csv(path: str | Path) -> list[dict]:
    """The rows of a targets file (``;`` or ``,``, UTF-8, German headers of :data:`CSV_COLUMNS`)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"Die Datei {path} gibt es nicht.") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name}: keine UTF-8-Datei (Byte {exc.start}). Bitte als UTF-8 speichern.") from None
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows = [r for r in reader]
    if not rows:
        raise ValidationError(f"{path.name} ist leer.")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"{path.name}: Spalten fehlen: {', '.join(missing)} (erwartet: {', '.join(CSV_COLUMNS)}).")
    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            out.append({"_row": number, "_error": f"{len(cells)} statt {len(header)} Felder"})
            continue
        out.append({"_row": number, **dict(zip(header, (c.strip() for c in cells)))})
    return out


def import_targets(wh: Warehouse, user: User | None, path: str | Path, atlas: Atlas | None = None) -> dict:
    """Import targets from a CSV file, all or nothing: every faulty row is named in one German message and
    nothing is written. A row whose title is an existing target's changes that target (new version)."""
    atlas = atlas or Atlas(wh)
    rows = read_csv(path)
    errors, cleaned, titles = [], [], set()
    for r in rows:
        if "_error" in r:
            errors.append(f"Zeile {r['_row']}: {r['_error']}")
            continue
        try:
            row = clean(atlas, {"title": r["titel"], "indicator": r["indikator"], "level": r["ebene"],
                                "area_key": r["gebiet"], "base_year": r["basisjahr"], "target_year": r["zieljahr"],
                                "target_value": r["zielwert"], "direction": r["richtung"],
                                "tolerance": r["toleranz"], "status": r.get("status") or "entwurf",
                                "criterion": r.get("messkriterium"), "responsible": r.get("zustaendig")})
        except ValidationError as exc:
            errors.append(f"Zeile {r['_row']}: {exc}")
            continue
        if row["title"] in titles:
            errors.append(f"Zeile {r['_row']}: Titel „{row['title']}“ kommt doppelt vor.")
            continue
        titles.add(row["title"])
        cleaned.append(row)
    if errors:
        raise ValidationError(f"{Path(path).name}: nichts importiert. " + " ".join(errors))
    if not cleaned:
        raise ValidationError(f"{Path(path).name}: keine Zielzeilen – nichts importiert.")
    done = _evaluated(atlas, cleaned)
    states = done["state"]
    existing = read_df(wh, "SELECT t.*, i.topic FROM target t JOIN indicator i ON i.key = t.indicator")
    by_title = {r["title"]: r for r in existing.to_dict("records")}
    resources = [_resource(None, r["topic"]) for r in cleaned] + [
        _resource(by_title[r["title"]]["id"], by_title[r["title"]]["topic"]) for r in cleaned if r["title"] in by_title]

    def write(tx: Tx) -> dict:
        counts = {"neu": 0, "geändert": 0}
        for row, state, evaluation in zip(cleaned, states, done["evaluation"]):
            old = by_title.get(row["title"])
            target_id = old["id"] if old else tx.cur.execute("SELECT nextval('target_id_seq')").fetchone()[0]
            _write_version(tx, int(target_id), row | {"ampel": state, "evaluation": evaluation}, old, None)
            counts["geändert" if old else "neu"] += 1
        return counts
    counts = wh.write(user, "import-targets", resources, write)
    reevaluate(wh, user, sorted({r["indicator"] for r in cleaned}), atlas)  # stores the evaluation for status
    return {"datei": Path(path).name, **counts, "ampel": {s: int((states == s).sum()) for s in rule.STATES}}


# -- reading for the pages --------------------------------------------------------------------------------------

def history(wh: Warehouse, target_id: int) -> pd.DataFrame:
    """Every version of a target, newest first: version, changed_at, actor, data (JSON text)."""
    return read_df(wh, "SELECT version, changed_at, actor, CAST(data AS VARCHAR) AS data FROM target_history "
                       "WHERE target_id = ? ORDER BY version DESC", [target_id])


def linked_measures(wh: Warehouse, target_id: int) -> list[int]:
    """Ids of the Maßnahmen a target serves."""
    return [int(i) for i in read_df(wh, "SELECT note_id FROM target_measure WHERE target_id = ? ORDER BY note_id",
                                    [target_id])["note_id"]]


def measure_context(wh: Warehouse, note_id: int) -> dict:
    """What "Ziel anlegen" from the Maßnahmenliste fills in: the Maßnahme's area and level, the indicator the
    moderator showed for that area when the Maßnahme was noted (else the session's last indicator), its text as
    the Messkriterium's starting point and who is responsible."""
    note = read_df(wh, "SELECT n.session_id, n.area_key, n.text, n.responsible, n.created_at, s.level "
                       "FROM conf_note n JOIN conf_session s ON s.id = n.session_id "
                       "WHERE n.id = ? AND n.kind = 'measure'", [note_id])
    if note.empty:
        raise NotFoundError(f"Die Maßnahme Nr. {note_id} gibt es nicht.")
    n = note.iloc[0]
    views = read_df(wh, "SELECT CAST(view AS VARCHAR) AS view, shown_at FROM conf_shown WHERE session_id = ? "
                        "ORDER BY seq DESC", [int(n["session_id"])])
    shown = [(json.loads(v), t) for v, t in zip(views["view"], views["shown_at"])]
    indicator = next((v.get("ind") for v, t in shown if v.get("sel") == n["area_key"] and v.get("ind")
                      and t <= n["created_at"]), None) or next((v.get("ind") for v, _ in shown if v.get("ind")), None)
    return {"indicator": indicator, "level": n["level"], "area_key": n["area_key"], "title": n["text"],
            "criterion": n["text"], "responsible": n["responsible"], "measures": [int(note_id)]}
