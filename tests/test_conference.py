"""Sozialraumkonferenz domain: sessions, the live view, notes with permissions and audit, protocol, measures."""
from __future__ import annotations

import subprocess
from datetime import date

import pytest

from keck_data import conference
from keck_data.errors import NotFoundError, PermissionDenied, ValidationError
from keck_data.export_protocol import protocol_markdown, protocol_pdf
from keck_data.policy import User
from keck_data.queries import Atlas
from keck_data.warehouse import read_df

MODERATOR = User("mod", "Moderatorin", "keck_admin")
OTHER_ADMIN = User("other", "Andere", "kommunen_admin")
READER = User("leser", "Leserin", "keck_nutzer")
LIMITED = User("bildung", "Nur Bildung", "keck_admin", ("bildung",))


def audit(wh, entity: str):
    return read_df(wh, "SELECT actor, action, entity_key, before, after FROM audit_log WHERE entity = ? ORDER BY id",
                   [entity])


def suppressed_area(wh) -> tuple[str, str]:
    """(key, name) of a Sozialraum whose SGB-II-Quote 2024 is hidden ("k. A.")."""
    values = Atlas(wh).level_values("sgb2_quote_u15", "sozialraum", 2024)
    row = values[(values["status"] == "suppressed") & (values["key"] != "0101")].iloc[0]
    return row["key"], row["name"]


@pytest.fixture()
def started(wh):
    hidden, _ = suppressed_area(wh)
    sid = conference.start_session(wh, MODERATOR, "Sozialraumkonferenz Nord", date(2026, 11, 27), "sozialraum",
                                   ["0101", hidden])
    return sid, hidden


def test_start_session_validates_and_audits(wh):
    with pytest.raises(ValidationError, match="Titel"):
        conference.start_session(wh, MODERATOR, "  ", date(2026, 1, 1), "sozialraum", ["0101"])
    with pytest.raises(ValidationError, match="9999"):
        conference.start_session(wh, MODERATOR, "X", date(2026, 1, 1), "sozialraum", ["0101", "9999"])
    with pytest.raises(ValidationError, match="Raumebene"):
        conference.start_session(wh, MODERATOR, "X", date(2026, 1, 1), "gibt_es_nicht", ["0101"])
    with pytest.raises(PermissionDenied):
        conference.start_session(wh, READER, "X", date(2026, 1, 1), "sozialraum", ["0101"])
    version = wh.version()
    sid = conference.start_session(wh, LIMITED, "Bildungskonferenz", date(2026, 1, 1), "sozialraum", ["0101"])
    s = conference.session(wh, sid)
    assert (s.title, s.agenda, s.moderator, s.closed) == ("Bildungskonferenz", ("0101",), "bildung", False)
    assert conference.live(wh, sid) == (0, {"lvl": "sozialraum"})
    assert wh.version() == version  # followers' caches stay warm
    assert audit(wh, "session")["action"].tolist() == ["verweigert", "start-session"]  # the reader was refused
    assert conference.sessions(wh)["title"].tolist() == ["Bildungskonferenz"]
    with pytest.raises(NotFoundError, match="Nr. 999"):
        conference.session(wh, 999)


def test_only_the_moderator_drives_and_every_view_is_kept(wh, started):
    sid, _ = started
    seq = conference.drive(wh, MODERATOR, sid, {"page": "karte", "ind": "sgb2_quote_u15", "yr": "2024",
                                                 "present": "1", "sitzung": str(sid), "poi": []})
    assert conference.live(wh, sid) == (seq, {"page": "karte", "ind": "sgb2_quote_u15", "yr": "2024"})
    for user in (OTHER_ADMIN, READER):
        with pytest.raises(PermissionDenied):
            conference.drive(wh, user, sid, {"page": "tabelle"})
    assert conference.live(wh, sid)[0] == seq  # refused: nothing changed
    conference.drive(wh, MODERATOR, sid, {"page": "tabelle"})
    assert list(conference.shown_views(wh, sid)["seq"]) == [1, 2]
    refused = audit(wh, "session")
    assert (refused["action"] == "verweigert").sum() == 2 and set(refused["actor"]) == {"mod", "other", "leser"}


def test_notes_create_edit_delete_with_permissions_and_audit(wh, started):
    sid, _ = started
    with pytest.raises(PermissionDenied):
        conference.save_note(wh, READER, sid, "0101", "observation", "Viele Familien ziehen zu.")
    nid = conference.save_note(wh, OTHER_ADMIN, sid, "0101", "observation", "Viele Familien ziehen zu.")
    mid = conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Elterncafé an der Grundschule",
                               "Jugendamt, Frau K.", date(2027, 3, 31))
    seq_before = conference.live(wh, sid)[0]
    conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Elterncafé an zwei Grundschulen",
                         "Jugendamt, Frau K.", date(2027, 3, 31), "progress", note_id=mid, expected_version=1)
    assert conference.live(wh, sid)[0] > seq_before  # followers re-read: the marker and the list are new
    with pytest.raises(ValidationError, match="inzwischen"):
        conference.save_note(wh, MODERATOR, sid, "0101", "measure", "alt", "x", note_id=mid, expected_version=1)
    conference.delete_note(wh, MODERATOR, sid, nid)
    with pytest.raises(NotFoundError):
        conference.delete_note(wh, MODERATOR, sid, nid)
    notes = conference.notes(wh, sid)
    assert notes[["kind", "text", "status", "author"]].values.tolist() == [
        ["measure", "Elterncafé an zwei Grundschulen", "progress", "mod"]]
    log = audit(wh, "note")
    assert log["action"].tolist() == ["verweigert", "save-note", "save-note", "save-note", "delete-note"]
    assert "Elterncafé an der Grundschule" in log["before"].iloc[3] and "zwei" in log["after"].iloc[3]


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "measure", "text": "Ohne Zuständigkeit"}, "Zuständigkeit"),
    ({"kind": "observation", "text": "   "}, "leer"),
    ({"kind": "gerücht", "text": "x"}, "Unbekannte Art"),
    ({"kind": "observation", "text": "x" * 5000}, "zu lang"),
    ({"kind": "observation", "text": "x", "area_key": "9999"}, "9999"),
])
def test_bad_notes_are_refused_in_german_and_change_nothing(wh, started, kwargs, message):
    sid, _ = started
    conference.save_note(wh, MODERATOR, sid, "0101", "observation", "bleibt")
    with pytest.raises(ValidationError, match=message):
        conference.save_note(wh, MODERATOR, sid, kwargs.pop("area_key", "0101"), **kwargs)
    assert conference.notes(wh, sid)["text"].tolist() == ["bleibt"]


def test_closed_session_shows_no_new_views(wh, started):
    sid, _ = started
    with pytest.raises(PermissionDenied):
        conference.close_session(wh, OTHER_ADMIN, sid, "x")
    conference.close_session(wh, MODERATOR, sid, "Jugendamt; Schule am Park; Quartiersmanagement")
    with pytest.raises(ValidationError, match="beendet"):
        conference.drive(wh, MODERATOR, sid, {"page": "karte"})


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "protokoll.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png")), "pdftoppm rendered no page"
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_protocol_pdf_and_markdown_with_views_notes_and_measures(wh, started, tmp_path):
    sid, hidden = started
    names = Atlas(wh).area_label("sozialraum")
    for area in ("0101", hidden):
        conference.drive(wh, MODERATOR, sid, {"page": "karte", "ind": "sgb2_quote_u15", "yr": "2024",
                                              "lvl": "sozialraum", "sel": area})
    conference.save_note(wh, MODERATOR, sid, "0101", "observation", "Spielplatz fehlt im Norden")
    conference.save_note(wh, MODERATOR, sid, hidden, "measure", "Sprachkurs für Eltern", "VHS", date(2027, 2, 1))
    conference.save_note(wh, MODERATOR, sid, hidden, "question", "Warum sinkt die Kita-Quote?")
    conference.close_session(wh, MODERATOR, sid, "Jugendamt; Schule am Park")
    text = " ".join(pdf_text(protocol_pdf(Atlas(wh), sid), tmp_path).split())
    for expected in ("Protokoll: Sozialraumkonferenz Nord", "27.11.2026", "Jugendamt; Schule am Park",
                     names["0101"], names[hidden], "Spielplatz fehlt im Norden", "Sprachkurs für Eltern", "VHS",
                     "01.02.2027", "Warum sinkt die Kita-Quote?", "SGB-II-Quote der unter 15-Jährigen 2024"):
        assert expected in text, expected
    assert f"{names[hidden]} k. A." in text  # the hidden value stays hidden
    raw = wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = 'sgb2_quote_u15' AND "
                              "level = 'sozialraum' AND area_key = ? AND year = 2024", [hidden]).fetchone()[0]
    markdown = protocol_markdown(Atlas(wh), sid)
    hidden_line = next(line for line in markdown.splitlines() if line.startswith("- Gezeigt") and "k. A." in line)
    assert f"{raw:.1f}".replace(".", ",") not in hidden_line
    assert "**Maßnahme**" in markdown and "- Sprachkurs für Eltern – zuständig: VHS, bis 01.02.2027, offen" in markdown


def test_measures_across_sessions_open_first(wh, started):
    sid, _ = started
    second = conference.start_session(wh, OTHER_ADMIN, "Folgekonferenz", date(2027, 5, 1), "sozialraum", ["0102"])
    done = conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Erledigt", "A", date(2026, 12, 1))
    conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Erledigt", "A", date(2026, 12, 1), "done",
                         note_id=done)
    conference.save_note(wh, OTHER_ADMIN, second, "0102", "measure", "Später", "B", date(2027, 9, 1))
    conference.save_note(wh, OTHER_ADMIN, second, "0102", "measure", "Bald", "C", date(2027, 6, 1))
    conference.save_note(wh, OTHER_ADMIN, second, "0102", "observation", "keine Maßnahme")
    listed = conference.measures(wh)
    assert listed["text"].tolist() == ["Bald", "Später", "Erledigt"]
    assert listed["session"].tolist() == ["Folgekonferenz", "Folgekonferenz", "Sozialraumkonferenz Nord"]



def test_closing_moves_the_live_sequence_so_followers_read_it(wh, started):
    """Issue 22, item 8: followers poll the sequence number; an end without a new one left them "following"."""
    sid, _ = started
    before = conference.live(wh, sid)[0]
    conference.close_session(wh, MODERATOR, sid, "Jugendamt")
    assert conference.live(wh, sid)[0] > before and conference.session(wh, sid).closed


def test_measure_due_before_the_session_is_refused_and_overdue_ones_are_marked(wh, started):
    """Issue 22, item 14: a due date before the session date was accepted silently; overdue ones unmarked."""
    sid, _ = started  # held on 27.11.2026
    with pytest.raises(ValidationError, match="fällig – das liegt vor der Sitzung am 27.11.2026"):
        conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Elterncafé", "Jugendamt", date(2026, 11, 1))
    conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Elterncafé", "Jugendamt", date(2026, 11, 27))
    conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Spielplatz", "Grünflächenamt", date(2099, 1, 1))
    todo = conference.measures(wh).set_index("text")
    assert bool(todo.loc["Elterncafé", "overdue"]) == (date.today() > date(2026, 11, 27))
    assert not todo.loc["Spielplatz", "overdue"]


def test_only_the_author_or_the_moderator_changes_a_note_and_closed_sessions_keep_theirs(wh, started):
    """Issue 23: any conference user (also topic-limited) edited or deleted others' notes, and notes could be
    saved on a closed session."""
    sid, _ = started
    nid = conference.save_note(wh, OTHER_ADMIN, sid, "0101", "observation", "Von der Protokollantin")
    mine = conference.save_note(wh, LIMITED, sid, "0101", "question", "Eigene Frage")
    with pytest.raises(PermissionDenied, match="Nur wer die Notiz geschrieben hat \\(other\\)"):
        conference.save_note(wh, LIMITED, sid, "0101", "observation", "überschrieben", note_id=nid)
    with pytest.raises(PermissionDenied, match="other"):
        conference.delete_note(wh, LIMITED, sid, nid)
    conference.save_note(wh, LIMITED, sid, "0101", "question", "Eigene Frage, genauer", note_id=mine)
    conference.save_note(wh, MODERATOR, sid, "0101", "observation", "vom Moderator ergänzt", note_id=nid)
    conference.close_session(wh, MODERATOR, sid, "Alle")
    for change in (lambda: conference.save_note(wh, MODERATOR, sid, "0101", "observation", "danach"),
                   lambda: conference.save_note(wh, MODERATOR, sid, "0101", "observation", "x", note_id=nid),
                   lambda: conference.delete_note(wh, MODERATOR, sid, mine)):
        with pytest.raises(ValidationError, match="ist beendet"):
            change()
    assert sorted(conference.notes(wh, sid)["text"]) == ["Eigene Frage, genauer", "vom Moderator ergänzt"]
