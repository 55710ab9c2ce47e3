"""Sozialraumkonferenz: live sessions, the presenter's view that followers follow, notes and measures per area.

A session has a title, a date, a level and the areas on its agenda. The moderator's view lives in one small row
(``conf_live``: a sequence number and the view as JSON) that followers poll; every view the moderator shows is
also kept (``conf_shown``) for the protocol. Notes (Beobachtung, Maßnahme, offene Frage) belong to a session and
an area. Every write goes through :meth:`Warehouse.write` (policy check, one transaction, audit row) without
bumping the warehouse version: no cached loader reads these tables, so followers' caches stay warm. A public
session also mirrors its views (released indicators only) to the public instance (:mod:`session_mirror`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from . import session_mirror
from .config import settings
from .errors import NotFoundError, ValidationError
from .policy import Resource, User
from .warehouse import Tx, Warehouse, read_df

KINDS = {"observation": "Beobachtung", "measure": "Maßnahme", "question": "Offene Frage"}
STATUSES = {"open": "offen", "progress": "in Arbeit", "done": "erledigt"}
MAX_TEXT = 4_000
MAX_AGENDA = 30
VIEW_KEYS_DROPPED = ("present", "sitzung")  # the wall's own flags: followers keep their own


@dataclass(frozen=True)
class Session:
    """One conference session (``agenda``: area keys of ``level``)."""

    id: int
    title: str
    held_on: date
    level: str
    agenda: tuple[str, ...]
    moderator: str
    participants: str
    closed: bool
    public: bool = False  # views mirrored to the public instance


def _session_resource(s: Session | None = None) -> Resource:
    return Resource("session", str(s.id) if s else None, owner=s.moderator if s else None)


def start_session(wh: Warehouse, user: User, title: str, held_on: date, level: str, agenda: list[str],
                  public: bool = False) -> int:
    """A new session with its agenda; returns its id. The moderator is ``user``; ``public``: its views are
    mirrored to the public instance (an open citizens' conference)."""
    title = (title or "").strip()
    if not title:
        raise ValidationError("Die Sitzung braucht einen Titel (z. B. „Sozialraumkonferenz Nord, Frühjahr“).")
    if not isinstance(held_on, date):
        raise ValidationError(f"Das Datum der Sitzung „{held_on}“ ist kein Datum.")
    known = set(read_df(wh, "SELECT key FROM area WHERE level = ?", [level])["key"])
    if not known:
        raise ValidationError(f"Die Raumebene „{level}“ gibt es nicht.")
    unknown = [a for a in agenda if a not in known]
    if unknown:
        raise ValidationError(f"Tagesordnung: Gebiet(e) {', '.join(unknown)} gibt es auf dieser Ebene nicht.")
    if not agenda or len(agenda) > MAX_AGENDA:
        raise ValidationError(f"Bitte 1 bis {MAX_AGENDA} Gebiete für die Tagesordnung wählen.")

    def write(tx: Tx) -> int:
        new_id = tx.cur.execute(
            "INSERT INTO conf_session (title, held_on, level, agenda, moderator, created_at, public) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [title[:200], held_on, level, list(dict.fromkeys(agenda)), user.username, datetime.now(),
             bool(public)]).fetchone()[0]
        tx.cur.execute("INSERT INTO conf_live VALUES (?, 0, ?)", [new_id, json.dumps({"lvl": level})])
        tx.audit("session", str(new_id), None, {"title": title, "date": held_on.isoformat(), "agenda": agenda,
                                                "public": bool(public)})
        return new_id
    new_id = wh.write(user, "start-session", [_session_resource()], write, bump=False)
    _mirror(wh, session(wh, new_id), 0, {"lvl": level})
    return new_id


def session(wh: Warehouse, session_id: int) -> Session:
    """The session, or NotFoundError."""
    row = wh.memo(("conf_session", session_id), lambda: wh.cursor().execute(
        "SELECT id, title, held_on, level, agenda, moderator, coalesce(participants, ''), closed, "
        "coalesce(public, FALSE) FROM conf_session WHERE id = ?", [session_id]).fetchone())
    if row is None:
        raise NotFoundError(f"Die Sitzung Nr. {session_id} gibt es nicht.")
    return Session(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6], row[7], row[8])


def sessions(wh: Warehouse) -> pd.DataFrame:
    """All sessions, newest first.

    Returns
    -------
    DataFrame with columns id, title, held_on, level, agenda, moderator, closed, notes (number of notes)
    """
    return read_df(wh, "SELECT s.id, s.title, s.held_on, s.level, s.agenda, s.moderator, s.closed, "
                       "(SELECT count(*) FROM conf_note n WHERE n.session_id = s.id) AS notes "
                       "FROM conf_session s ORDER BY s.held_on DESC, s.id DESC")


def live(wh: Warehouse, session_id: int) -> tuple[int, dict] | None:
    """The presenter's view: (sequence number, view) — the one small row followers read; None if unknown."""
    row = wh.memo(("conf_live", session_id), lambda: wh.cursor().execute(
        "SELECT seq, view FROM conf_live WHERE session_id = ?", [session_id]).fetchone())
    return (row[0], json.loads(row[1])) if row else None


def drive(wh: Warehouse, user: User, session_id: int, view: dict) -> int:
    """Show ``view`` to the followers (only the session's moderator may); returns the new sequence number."""
    s = session(wh, session_id)
    if s.closed:
        raise ValidationError(f"Die Sitzung „{s.title}“ ist beendet; sie zeigt keine neuen Ansichten mehr.")
    shown = {k: v for k, v in view.items() if k not in VIEW_KEYS_DROPPED and v not in (None, "", [])}

    def write(tx: Tx) -> int:
        seq = tx.cur.execute("UPDATE conf_live SET seq = seq + 1, view = ? WHERE session_id = ? RETURNING seq",
                             [json.dumps(shown, ensure_ascii=False), session_id]).fetchone()[0]
        tx.cur.execute("INSERT INTO conf_shown VALUES (?, ?, ?, ?)",
                       [session_id, seq, json.dumps(shown, ensure_ascii=False), datetime.now()])
        tx.audit("session", str(session_id), None, {"ansicht": seq, **shown})
        return seq
    seq = wh.write(user, "drive-session", [_session_resource(s)], write, bump=False)
    _mirror(wh, s, seq, shown)
    return seq


def close_session(wh: Warehouse, user: User, session_id: int, participants: str) -> None:
    """End the session (the moderator), with the participants typed in for the protocol."""
    s = session(wh, session_id)
    if len(participants or "") > MAX_TEXT:
        raise ValidationError(f"Die Teilnehmendenliste ist zu lang (höchstens {MAX_TEXT} Zeichen).")

    def write(tx: Tx) -> None:
        tx.cur.execute("UPDATE conf_session SET participants = ?, closed = TRUE WHERE id = ?",
                       [participants.strip(), session_id])
        # a new sequence number: every follower's poll reruns and reads that the session ended (issue 22)
        tx.cur.execute("UPDATE conf_live SET seq = seq + 1 WHERE session_id = ?", [session_id])
        tx.audit("session", str(session_id), {"closed": s.closed}, {"closed": True, "participants": participants})
    wh.write(user, "close-session", [_session_resource(s)], write, bump=False)
    seq, view = live(wh, session_id)
    _mirror(wh, session(wh, session_id), seq, view)


def _mirror(wh: Warehouse, s: Session, seq: int, view: dict) -> None:
    """A public session's view (or its end) to the public instance; views with unreleased indicators pause it."""
    if s.public:
        released = set(read_df(wh, "SELECT key FROM indicator WHERE released")["key"])
        session_mirror.write(settings().public_warehouse_path, s.id, s.title, seq, view, released, s.closed)


def shown_views(wh: Warehouse, session_id: int) -> pd.DataFrame:
    """Every view the moderator showed, in order.

    Returns
    -------
    DataFrame with columns seq, view (dict), shown_at
    """
    df = read_df(wh, "SELECT seq, view, shown_at FROM conf_shown WHERE session_id = ? ORDER BY seq", [session_id])
    df["view"] = [json.loads(v) for v in df["view"]]
    return df


# -- notes ----------------------------------------------------------------------------------------------------

def _clean_note(wh: Warehouse, s: Session, area_key: str, kind: str, text: str, responsible: str | None,
                due: date | None, status: str) -> tuple:
    """Checked values of a note; notes may also be taken for an area of the session's level off the agenda."""
    if area_key not in s.agenda and not wh.cursor().execute(
            "SELECT 1 FROM area WHERE level = ? AND key = ?", [s.level, area_key]).fetchone():
        raise ValidationError(f"Das Gebiet „{area_key}“ gibt es auf der Ebene der Sitzung nicht.")
    if kind not in KINDS:
        raise ValidationError(f"Unbekannte Art der Notiz „{kind}“ (erlaubt: {', '.join(KINDS.values())}).")
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"Die {KINDS[kind]} ist leer: bitte einen Text eingeben.")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"Der Text ist zu lang ({len(text)} Zeichen, höchstens {MAX_TEXT}).")
    if status not in STATUSES:
        raise ValidationError(f"Unbekannter Status „{status}“ (erlaubt: {', '.join(STATUSES.values())}).")
    responsible = (responsible or "").strip() or None
    if kind == "measure" and not responsible:
        raise ValidationError("Eine Maßnahme braucht eine Zuständigkeit (wer kümmert sich?).")
    if kind != "measure":
        responsible, due, status = None, None, "open"
    if due is not None and due < s.held_on:
        raise ValidationError(f"Die Maßnahme ist bis {due:%d.%m.%Y} fällig – das liegt vor der Sitzung am "
                              f"{s.held_on:%d.%m.%Y}. Bitte ein Datum ab dem Sitzungstag wählen.")
    return area_key, kind, text, responsible, due, status


def save_note(wh: Warehouse, user: User, session_id: int, area_key: str, kind: str, text: str,
              responsible: str | None = None, due: date | None = None, status: str = "open",
              note_id: int | None = None, expected_version: int | None = None) -> int:
    """Create a note (``note_id`` None) or change one (optimistic: ``expected_version``); returns its id."""
    s = session(wh, session_id)
    values = _clean_note(wh, s, area_key, kind, text, responsible, due, status)

    def write(tx: Tx) -> int:
        if note_id is None:
            new_id = tx.cur.execute(
                "INSERT INTO conf_note (session_id, area_key, kind, text, responsible, due, status, author, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [session_id, *values, user.username, datetime.now()]).fetchone()[0]
            tx.audit("note", str(new_id), None, _note_dict(values))
            _touch(tx, session_id)
            return new_id
        before = _note_row(tx, note_id, session_id)
        if expected_version is not None and before["version"] != expected_version:
            raise ValidationError("Die Notiz wurde inzwischen von jemand anderem geändert; bitte neu laden.")
        tx.cur.execute("UPDATE conf_note SET area_key = ?, kind = ?, text = ?, responsible = ?, due = ?, status = ?, "
                       "updated_at = ?, version = version + 1 WHERE id = ?", [*values, datetime.now(), note_id])
        tx.audit("note", str(note_id), _note_dict(before), _note_dict(values))
        _touch(tx, session_id)
        return note_id
    return wh.write(user, "save-note", [_note_resource(wh, user, s, note_id)], write, bump=False)


def _note_resource(wh: Warehouse, user: User, s: Session, note_id: int | None) -> Resource:
    """A note of an open session; its owner is its author – except for the session's moderator, who keeps
    the minutes of the whole session (owner None)."""
    if s.closed:
        raise ValidationError(f"Die Sitzung „{s.title}“ ist beendet – ihre Notizen werden nicht mehr geändert.")
    if note_id is None:
        return Resource("note")
    author = wh.cursor().execute("SELECT author FROM conf_note WHERE id = ? AND session_id = ?",
                                 [note_id, s.id]).fetchone()
    if author is None:
        raise NotFoundError(f"Die Notiz Nr. {note_id} gibt es in dieser Sitzung nicht (mehr).")
    return Resource("note", str(note_id), owner=None if user and user.username == s.moderator else author[0])


def delete_note(wh: Warehouse, user: User, session_id: int, note_id: int) -> None:
    resource = _note_resource(wh, user, session(wh, session_id), note_id)

    def write(tx: Tx) -> None:
        before = _note_row(tx, note_id, session_id)
        tx.cur.execute("DELETE FROM conf_note WHERE id = ?", [note_id])
        tx.audit("note", str(note_id), _note_dict(before), None)
        _touch(tx, session_id)
    wh.write(user, "delete-note", [resource], write, bump=False)


def _touch(tx: Tx, session_id: int) -> None:
    """A new sequence number with the same view: followers re-read and see the changed notes and markers."""
    tx.cur.execute("UPDATE conf_live SET seq = seq + 1 WHERE session_id = ?", [session_id])


def _note_row(tx: Tx, note_id: int, session_id: int) -> dict:
    row = tx.cur.execute("SELECT area_key, kind, text, responsible, due, status, version FROM conf_note "
                         "WHERE id = ? AND session_id = ?", [note_id, session_id]).fetchone()
    if row is None:
        raise NotFoundError(f"Die Notiz Nr. {note_id} gibt es in dieser Sitzung nicht (mehr).")
    return dict(zip(["area_key", "kind", "text", "responsible", "due", "status", "version"], row))


def _note_dict(values) -> dict:
    if isinstance(values, dict):
        return {k: v for k, v in values.items() if k != "version"}
    return dict(zip(["area_key", "kind", "text", "responsible", "due", "status"], values))


def notes(wh: Warehouse, session_id: int) -> pd.DataFrame:
    """The session's notes, by area and kind.

    Returns
    -------
    DataFrame with columns id, area_key, area_name, kind, text, responsible, due, status, author, created_at,
    version
    """
    return wh.memo(("conf_notes", session_id), lambda: read_df(
        wh, "SELECT n.id, n.area_key, a.name AS area_name, n.kind, n.text, n.responsible, n.due, "
            "n.status, n.author, n.created_at, n.version FROM conf_note n "
            "JOIN conf_session s ON s.id = n.session_id "
            "LEFT JOIN area a ON a.level = s.level AND a.key = n.area_key "
            "WHERE n.session_id = ? ORDER BY n.area_key, n.id", [session_id])).copy()


def measures(wh: Warehouse) -> pd.DataFrame:
    """The Maßnahmenliste across sessions: open ones first, then by due date.

    Returns
    -------
    DataFrame with columns id, session_id, session, held_on, area_key, area_name, text, responsible, due, status,
    overdue (open or in progress and due before today)
    """
    return read_df(wh, "SELECT n.id, n.session_id, s.title AS session, s.held_on, n.area_key, a.name AS area_name, "
                       "n.text, n.responsible, n.due, n.status, "
                       "coalesce(n.status <> 'done' AND n.due < current_date, FALSE) AS overdue FROM conf_note n "
                       "JOIN conf_session s ON s.id = n.session_id "
                       "LEFT JOIN area a ON a.level = s.level AND a.key = n.area_key "
                       "WHERE n.kind = 'measure' ORDER BY n.status = 'done', n.due NULLS LAST, n.id")
