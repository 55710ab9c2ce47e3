"""Public sessions: the moderator's views mirrored read-only to the public instance — released indicators only,
never notes — and followed there like internally."""
from __future__ import annotations

import json
from datetime import date

import pytest

from keck_data import conference, editing, session_mirror
from keck_data.policy import User
from tests.app_harness import markdown, ok

MODERATOR = User("mod", "Moderatorin", "keck_admin")


@pytest.fixture()
def public_path(tmp_path, monkeypatch):
    path = tmp_path / "public" / "public.duckdb"
    monkeypatch.setenv("KECK_PUBLIC_WAREHOUSE", str(path))
    return path


def test_public_session_mirrors_released_views_only_and_never_notes(wh, public_path):
    editing.set_released(wh, MODERATOR, "sozialindex", False)
    sid = conference.start_session(wh, MODERATOR, "Offene Bürgerkonferenz", date(2026, 11, 28), "sozialraum",
                                   ["0101"], public=True)
    assert conference.session(wh, sid).public
    assert session_mirror.read(public_path, sid) == {"id": sid, "title": "Offene Bürgerkonferenz", "closed": False,
                                                     "paused": False, "seq": 0, "view": {"lvl": "sozialraum"}}
    seq = conference.drive(wh, MODERATOR, sid, {"page": "karte", "ind": "sgb2_quote_u15", "yr": "2024", "sel": "0101"})
    assert session_mirror.read(public_path, sid)["view"]["ind"] == "sgb2_quote_u15"
    assert session_mirror.read(public_path, sid)["seq"] == seq
    # an unreleased indicator on the wall: the public mirror pauses on the last public view
    conference.drive(wh, MODERATOR, sid, {"page": "karte", "ind": "sgb2_quote_u15", "ind2": "sozialindex"})
    paused = session_mirror.read(public_path, sid)
    assert paused["paused"] and paused["seq"] == seq and "ind2" not in paused["view"]
    conference.save_note(wh, MODERATOR, sid, "0101", "measure", "Geheime Maßnahme", "Jugendamt", None)
    conference.close_session(wh, MODERATOR, sid, "Bürgerinnen und Bürger")
    closed = session_mirror.read(public_path, sid)
    assert closed["closed"]
    assert "Geheime Maßnahme" not in json.dumps(closed) and "Bürgerinnen" not in json.dumps(closed)
    assert [p.name for p in public_path.parent.joinpath("sitzungen").iterdir()] == [f"{sid}.json"]  # no temp left


def test_tabelle_views_are_mirrored_with_their_indicator_list(wh, public_path):
    """Issue 23, item 7: the Tabelle's indicators are a list in the view; they were read as one string, so a
    table was never mirrored. An unreleased one among them still pauses the mirror."""
    editing.set_released(wh, MODERATOR, "sozialindex", False)
    sid = conference.start_session(wh, MODERATOR, "Offene Konferenz", date(2026, 11, 28), "sozialraum", ["0101"],
                                   public=True)
    table = {"page": "tabelle", "inds": ["sgb2_quote_u15", "ew_u18"], "lvl": "sozialraum", "yr": "2024"}
    seq = conference.drive(wh, MODERATOR, sid, table)
    assert session_mirror.read(public_path, sid) == {"id": sid, "title": "Offene Konferenz", "closed": False,
                                                     "paused": False, "seq": seq, "view": table}
    conference.drive(wh, MODERATOR, sid, table | {"inds": ["sgb2_quote_u15", "sozialindex"]})
    paused = session_mirror.read(public_path, sid)
    assert paused["paused"] and paused["view"] == table
    assert session_mirror.indicators_of({"inds": "a,b", "ind": "c"}) == {"a", "b", "c"}  # the URL's form too


def test_internal_sessions_leave_nothing_for_the_public(wh, public_path):
    sid = conference.start_session(wh, MODERATOR, "Interne Konferenz", date(2026, 11, 28), "sozialraum", ["0101"])
    conference.drive(wh, MODERATOR, sid, {"page": "karte", "ind": "sgb2_quote_u15"})
    assert session_mirror.read(public_path, sid) is None
    assert not public_path.parent.exists()


def test_public_visitor_follows_the_mirror(app, public_file):
    session_mirror.write(public_file, 7, "Offene Konferenz Süd", 3,
                         {"page": "karte", "ind": "anteil_alleinerziehend", "yr": "2019", "lvl": "sozialraum",
                          "sel": "0203"}, {"anteil_alleinerziehend"})
    at = app("public", sitzung="7")
    ok(at)
    assert "Sie folgen der Sitzung „Offene Konferenz Süd“" in markdown(at)
    assert (at.query_params["ind"], at.query_params["yr"], at.query_params["sel"]) == ("anteil_alleinerziehend",
                                                                                    "2019", "0203")
    assert "Anteil Alleinerziehender 2019" in markdown(at)  # the heading of the moderator's view
    at.run()  # still following (the map's notes lookup once dropped the session: notes are never public)
    assert at.query_params["sitzung"] == "7" and "Sie folgen der Sitzung" in markdown(at)
    at.selectbox(key="w_yr").set_value(2024).run()  # the follower's own change (issue 22, item 8)
    ok(at)
    assert "Eigene Ansicht** in der Sitzung „Offene Konferenz Süd“" in markdown(at)
    assert "Sie folgen" not in markdown(at) and at.query_params["sitzung"] == "7"
    session_mirror.write(public_file, 7, "Offene Konferenz Süd", 4,
                         {"page": "karte", "ind": "anteil_alleinerziehend", "yr": "2021", "lvl": "sozialraum"},
                         {"anteil_alleinerziehend"})
    at.run()  # the moderator's next change takes the follower back
    assert at.query_params["yr"] == "2021" and "Sie folgen der Sitzung" in markdown(at)
    at.selectbox(key="w_yr").set_value(2019).run()
    next(b for b in at.button if b.label == "Zur Live-Ansicht").click().run()
    assert at.query_params["yr"] == "2021" and "Sie folgen der Sitzung" in markdown(at)
    unknown = app("public", sitzung="8")
    assert [w.value for w in unknown.warning] == ["Die Sitzung Nr. 8 ist nicht öffentlich."]


def test_an_ended_session_is_neither_driven_nor_followed(app):
    """The moderator who ended a session was shown as a live follower of it."""
    from keck_data.ui.resources import atlas

    at = app("internal", "keck_admin")
    wh = atlas().wh
    moderator = User(at.session_state["username"], "Moderatorin", "keck_admin")
    sid = conference.start_session(wh, moderator, "Beendete Konferenz", date(2026, 11, 28), "sozialraum", ["0101"])
    conference.close_session(wh, moderator, sid, "")
    at.session_state["view"] = {**at.session_state["view"], "sitzung": str(sid)}
    at.run()
    ok(at)
    assert "Sie folgen der Sitzung" not in markdown(at)
    assert any("Die Sitzung „Beendete Konferenz“ ist beendet" in c.value for c in at.caption)


def test_uploads_of_another_type_get_a_german_message(monkeypatch):
    from types import SimpleNamespace

    from keck_data.ui import upload
    shown = []
    monkeypatch.setattr(upload.st, "error", shown.append)
    assert upload.has_type(SimpleNamespace(name="Lieferung.XLSX"), ["csv", "xlsx"])
    assert not upload.has_type(SimpleNamespace(name="notes.html"), ["csv", "xlsx"])
    assert not upload.has_type(None, ["csv"])
    assert shown == ["notes.html: Dateityp „html“ wird hier nicht angenommen – bitte eine Datei vom Typ CSV, XLSX "
                     "wählen."]


def test_moderator_in_a_fresh_tab_continues_the_live_view(app):
    """Issue 22, item 8: the moderator opening ?sitzung=N in a new tab sent every follower the default map."""
    from keck_data.ui.resources import atlas

    at = app("internal", "keck_admin")
    wh = atlas().wh
    moderator = User(at.session_state["username"], "Moderatorin", "keck_admin")
    sid = conference.start_session(wh, moderator, "Konferenz Ost", date(2026, 11, 28), "sozialraum", ["0101"])
    shown = {"page": "karte", "ind": "anteil_alleinerziehend", "yr": "2019", "lvl": "sozialraum", "sel": "0101"}
    conference.drive(wh, moderator, sid, shown)
    fresh = app("internal", "keck_admin", sitzung=str(sid))  # a new browser session, only the session link
    ok(fresh)
    assert "Anteil Alleinerziehender 2019" in markdown(fresh)
    live_view = conference.live(wh, sid)[1]  # the fresh tab's first run may add its defaults (cls, k …)
    assert {k: live_view.get(k) for k in shown} == shown  # nobody thrown back to the default map
