"""One permission question for every write: found by introspection, exercised as every role.

Every public function of the domain that reaches ``Warehouse.write`` is listed in ``CASES`` (a new write
function without a case fails ``test_every_write_function_has_a_case``). Each case is run as every role, as a
topic-limited KECK-Administration against an indicator of another Themenfeld, and without a user: a refusal
raises PermissionDenied, leaves every table, the warehouse version and the files untouched and writes one
audit row "verweigert" (for a signed-in user).
"""
import ast
import inspect
import pkgutil
import re
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import keck_data
from keck_data import auth, conference, editing, policy
from keck_data.analysis import derived, scenario, sozialindex, supply, target_edits
from keck_data.errors import PermissionDenied
from keck_data.importing import import_areas, import_pois, import_values, set_uninhabited
from keck_data.policy import Resource, User
from keck_data.publish import publish
from keck_data.queries import Atlas
from tests.conftest import ROOT
from tests.import_helpers import demo_areas

ADMIN = User("verwaltung", "Admin", "kommunen_admin")
EDITOR = User("statistik", "Editor", "keck_admin")
BILDUNG = User("schule", "Bildung", "keck_admin", ("bildung",))
READER = User("planung", "Leserin", "keck_nutzer")
SUPPLY = supply.Question("kita", "ew_3_6", "sozialraum", 2023)
USERS = {"kommunen_admin": ADMIN, "keck_admin": EDITOR, "topic_limited": BILDUNG, "keck_nutzer": READER, "none": None}
POI = {"name": "Kita Sonnenschein", "category": "kita", "address": "Am Markt 2", "lon": 8.46, "lat": 51.52,
       "public": True}
# a rate filed under "Bildung" that is built from counts of other Themenfelder
CROSS_RATE = {"key": "quote_sgb2_bildung", "name": "SGB II je Schulanfänger", "topic": "bildung", "unit": "%",
              "definition": "d", "calculation": "c", "source": "s", "reference_date": "31.12.", "kind": "rate",
              "numerator": "sgb2_u15", "denominator": "ew_u15", "aggregation": "ratio"}
# self-acting writes: nobody is signed in yet (login), or whoever runs them owns the files anyway (first start,
# demo, command line)
SELF_ACTING = {"keck_data.auth.authenticate", "keck_data.auth.init_auth", "keck_data.demo.init_demo",
               "keck_data.cli.run_job", "keck_data.data_commands.run", "keck_data.target_commands.run",
               "keck_data.analysis_commands.run"}
INDEX = sozialindex.Spec("sozialraum", 2024, {"sgb2_quote_u15": 1.0}, draws=10)  # a Soziale-Lage index


def _values_file(tmp: Path) -> Path:
    path = tmp / "werte.csv"
    path.write_text("key;indicator;year;value\n0101;sgb2_u15;2024;999\n", encoding="utf-8")
    return path


def _release_audit(wh) -> int:
    editing.set_released(wh, ADMIN, "sozialindex", True)
    return int(editing.audit_entries(wh, entity="indicator.released").iloc[0]["id"])


def _derived(wh) -> str:
    """A Sozialindex saved by the Kommunen-Administration."""
    sozialindex.save(wh, ADMIN, Atlas(wh), INDEX, "si_policy", "Index")
    return "si_policy"


def _others_bookmark(wh) -> int:
    return editing.save_bookmark(wh, User("jemand", "Jemand", "keck_nutzer"), "Privat", "", {"page": "karte"})


# name → (call(wh, user, tmp), set of USERS keys that are refused); the setup runs as an admin first
CASES = {
    "keck_data.editing.create_poi": (lambda wh, u, tmp: editing.create_poi(wh, u, POI), {"keck_nutzer", "none"}),
    "keck_data.editing.update_poi": (lambda wh, u, tmp: editing.update_poi(wh, u, 1, POI, 1), {"keck_nutzer", "none"}),
    "keck_data.editing.delete_poi": (lambda wh, u, tmp: editing.delete_poi(wh, u, 1, 1), {"keck_nutzer", "none"}),
    "keck_data.editing.save_indicator": (lambda wh, u, tmp: editing.save_indicator(wh, u, CROSS_RATE),
                                         {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.editing.set_released": (lambda wh, u, tmp: editing.set_released(wh, u, "sozialindex", True),
                                       {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.editing.save_values": (
        lambda wh, u, tmp: editing.save_values(wh, u, "sgb2_u15", "sozialraum", 2024, {"0101": "999"}),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.editing.publish_snapshot": (lambda wh, u, tmp: editing.publish_snapshot(wh, u, tmp / "p.duckdb"),
                                           {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.publish.publish": (lambda wh, u, tmp: publish(wh, tmp / "p.duckdb", u),
                                  {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.editing.save_bookmark": (lambda wh, u, tmp: editing.save_bookmark(wh, u, "Öffentlich", "", {}, True),
                                        {"keck_nutzer", "none"}),
    "keck_data.editing.delete_bookmark": (lambda wh, u, tmp: editing.delete_bookmark(wh, u, _others_bookmark(wh)),
                                          {"keck_nutzer", "none"}),
    "keck_data.editing.undo": (lambda wh, u, tmp: editing.undo(wh, u, _release_audit(wh)),
                               {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.auth.save_user": (
        lambda wh, u, tmp: auth.save_user(wh, u, "neu", "Neu", "keck_nutzer", password="0123456789ab",
                                          directory=tmp / "auth"),
        {"keck_admin", "topic_limited", "keck_nutzer", "none"}),
    "keck_data.auth.end_sessions": (  # one's own sessions only: a user object cannot end someone else's
        lambda wh, u, tmp: auth.end_sessions(wh, u or READER), set()),
    "keck_data.importing.values.import_values": (
        lambda wh, u, tmp: import_values(wh, _values_file(tmp), level="sozialraum", dry_run=False, user=u),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.importing.areas.import_areas": (
        lambda wh, u, tmp: import_areas(wh, _areas_file(wh, tmp), level="sozialraum", key_col="key", name_col="name",
                                        dry_run=False, user=u),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.importing.areas.set_uninhabited": (
        lambda wh, u, tmp: set_uninhabited(wh, u, "sozialraum", ["0101"]), {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.importing.pois.import_pois": (
        lambda wh, u, tmp: import_pois(wh, _pois_file(tmp), category="kita", lat_col="lat", lon_col="lon",
                                       dry_run=False, user=u),
        {"keck_nutzer", "none"}),
    "keck_data.conference.start_session": (
        lambda wh, u, tmp: conference.start_session(wh, u, "Konferenz", date(2026, 11, 27), "sozialraum", ["0101"]),
        {"keck_nutzer", "none"}),
    "keck_data.conference.drive": (lambda wh, u, tmp: conference.drive(wh, u, _session(wh), {"page": "karte"}),
                                   {"keck_admin", "topic_limited", "keck_nutzer", "none"}),  # the moderator only
    "keck_data.conference.close_session": (lambda wh, u, tmp: conference.close_session(wh, u, _session(wh), ""),
                                           {"keck_admin", "topic_limited", "keck_nutzer", "none"}),
    "keck_data.conference.save_note": (
        lambda wh, u, tmp: conference.save_note(wh, u, _session(wh), "0101", "observation", "Beobachtung"),
        {"keck_nutzer", "none"}),
    "keck_data.conference.delete_note": (lambda wh, u, tmp: conference.delete_note(wh, u, *_note(wh)),
                                         {"keck_admin", "topic_limited", "keck_nutzer", "none"}),  # author's note
    "keck_data.analysis.target_edits.save_target": (lambda wh, u, tmp: target_edits.save_target(wh, u, TARGET),
                                                    {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.target_edits.set_target_released": (
        lambda wh, u, tmp: target_edits.set_target_released(wh, u, _target(wh), True),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.target_edits.reevaluate": (
        lambda wh, u, tmp: _target(wh) and target_edits.reevaluate(wh, u, ["sgb2_quote_u15"]),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.target_edits.import_targets": (
        lambda wh, u, tmp: target_edits.import_targets(wh, u, _targets_file(tmp)),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.scenario.save": (lambda wh, u, tmp: scenario.save(wh, u, "Neubau", _scenario(wh)),
                                         {"none"}),  # a planning note: every signed-in role
    "keck_data.analysis.supply.save_results": (
        lambda wh, u, tmp: supply.save_results(wh, u, SUPPLY),
        {"keck_nutzer", "topic_limited", "none"}),  # filed under Kinderbetreuung
    "keck_data.analysis.derived.save": (
        lambda wh, u, tmp: derived.save(wh, u, {"key": "abgeleitet", "name": "A", "definition": "d"},
                                        derived.Derivation("sozialindex", {"sgb2_quote_u15": 1.0}),
                                        pd.DataFrame({"level": ["sozialraum"], "area_key": ["0101"], "year": [2024],
                                                      "value": [1.0], "status": ["ok"]})),
        {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.sozialindex.save": (lambda wh, u, tmp: sozialindex.save(wh, u, Atlas(wh), INDEX, "si", "I"),
                                            {"keck_nutzer", "none", "topic_limited"}),
    "keck_data.analysis.derived.recompute": (lambda wh, u, tmp: derived.recompute(wh, u, _derived(wh)),
                                             {"keck_nutzer", "none", "topic_limited"}),
}
WRITES_OWN_FIXTURE = ("undo", "delete_bookmark", "drive", "close_session", "save_note", "delete_note",
                      "set_target_released", "reevaluate", "recompute")
TARGET = {"title": "Kinderarmut senken", "indicator": "sgb2_quote_u15", "level": "sozialraum", "area_key": "0102",
          "base_year": 2020, "target_year": 2026, "target_value": 3.0, "direction": "senken", "tolerance": 0.1}


def _target(wh) -> int:
    """A target of a Soziale-Lage indicator, as a fixture row (not the write under test)."""
    return wh.cursor().execute(
        "INSERT INTO target (title, indicator, level, area_key, base_year, target_year, target_value, direction) "
        "VALUES ('Kinderarmut senken', 'sgb2_quote_u15', 'sozialraum', '0102', 2020, 2026, 3, 'senken') "
        "RETURNING id").fetchone()[0]


def _targets_file(tmp: Path) -> Path:
    path = tmp / "ziele.csv"
    path.write_text("titel;indikator;ebene;gebiet;basisjahr;zieljahr;zielwert;richtung;toleranz\n"
                    "Kinderarmut senken;sgb2_quote_u15;sozialraum;0102;2020;2026;3;senken;0,1\n", encoding="utf-8")
    return path


def _scenario(wh) -> scenario.Comparison:
    inputs = supply.load(Atlas(wh), SUPPLY)
    lon, lat = inputs.points[["lon", "lat"]].iloc[0]
    return scenario.compare(inputs, added=[{"lon": lon, "lat": lat, "capacity": 100}])


def _session(wh) -> int:
    """A session moderated by the Kommunen-Administration."""
    return conference.start_session(wh, ADMIN, "Konferenz", date(2026, 11, 27), "sozialraum", ["0101"])


def _note(wh) -> tuple[int, int]:
    sid = _session(wh)
    return sid, conference.save_note(wh, ADMIN, sid, "0101", "question", "Offene Frage")


def _areas_file(wh, tmp: Path) -> Path:
    path = tmp / "gebiete.geojson"
    demo_areas(wh).to_file(path)
    return path


def _pois_file(tmp: Path) -> Path:
    path = tmp / "kitas.csv"
    path.write_text("name;lat;lon\nKita Neu;51,52;8,46\n", encoding="utf-8")
    return path


def _callees(fn) -> set[str]:
    """The domain functions ``fn`` calls by name or as ``module.function`` (resolved in its globals)."""
    found = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        if not isinstance(node, ast.Call):
            continue
        target = None
        if isinstance(node.func, ast.Name):
            target = fn.__globals__.get(node.func.id)
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            owner = fn.__globals__.get(node.func.value.id)
            target = getattr(owner, node.func.attr, None) if inspect.ismodule(owner) else None
        if inspect.isfunction(target):
            found.add(f"{target.__module__}.{target.__name__}")
    return found


def write_functions() -> set[str]:
    """Public domain functions that call ``<warehouse>.write(`` or, transitively, such a function."""
    functions = {}
    for info in pkgutil.walk_packages(keck_data.__path__, "keck_data."):
        if info.name.startswith("keck_data.ui") or info.name == "keck_data.__main__":
            continue
        module = __import__(info.name, fromlist=["_"])
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == info.name and not name.startswith("_"):
                functions[f"{info.name}.{name}"] = fn
    writers = {n for n, fn in functions.items() if re.search(r"\bwh\.write\(", inspect.getsource(fn))}
    calls = {n: _callees(fn) for n, fn in functions.items()}
    while True:
        more = {n for n in functions if n not in writers and calls[n] & writers}
        if not more:
            return writers
        writers |= more


def test_every_write_function_has_a_case():
    found = write_functions()
    assert "keck_data.editing.create_poi" in found and "keck_data.importing.values.import_values" in found
    assert found - SELF_ACTING == set(CASES), "write functions without a permission case (or stale cases)"


def test_self_acting_writes_act_as_the_system_or_the_login():
    for name in SELF_ACTING:
        module, fn = name.rsplit(".", 1)
        src = inspect.getsource(getattr(__import__(module, fromlist=["_"]), fn))
        assert re.search(r"system\(|wh\.write\(found", src), name


def fingerprint(wh, tmp: Path) -> tuple:
    """Every table except the audit log, the version, and the files a write could create."""
    tables = [t for (t,) in wh.cursor().execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name <> 'audit_log'").fetchall()]
    rows = tuple(wh.cursor().execute(f'SELECT count(*), sum(hash(t)) FROM "{t}" t').fetchone() for t in tables)
    return rows, wh.version(), sorted(p.name for p in tmp.rglob("*") if p.suffix in (".duckdb", ".yaml"))


def _refusals(wh) -> list:
    return wh.cursor().execute("SELECT actor, after FROM audit_log WHERE action = 'verweigert'").fetchall()


@pytest.mark.parametrize("who", list(USERS))
@pytest.mark.parametrize("name", list(CASES))
def test_write_as_each_role(wh, tmp_path, name, who):
    call, refused = CASES[name]
    user = USERS[who]
    (tmp_path / "auth").mkdir()
    if who in refused:
        before, logged = fingerprint(wh, tmp_path), len(_refusals(wh))
        setup = name.endswith(WRITES_OWN_FIXTURE)  # these write their own fixture row first
        with pytest.raises(PermissionDenied):
            call(wh, user, tmp_path)
        if not setup:
            assert fingerprint(wh, tmp_path) == before, "a refused write changed the warehouse"
        refusals = _refusals(wh)
        if user is not None:
            assert len(refusals) == logged + 1 and refusals[-1][0] == user.username
        else:
            assert len(refusals) == logged
    else:
        call(wh, user, tmp_path)


def test_refused_import_of_another_topic_keeps_the_value(wh, tmp_path):
    """The red-team case: a Bildung-only admin imports a Soziale-Lage value."""
    old = wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = 'sgb2_u15' AND area_key = '0101' "
                              "AND year = 2024 AND level = 'sozialraum'").fetchone()
    with pytest.raises(PermissionDenied, match="Themenfeld „soziale_lage“"):
        import_values(wh, _values_file(tmp_path), level="sozialraum", dry_run=False, user=BILDUNG)
    assert wh.cursor().execute("SELECT value FROM indicator_value WHERE indicator = 'sgb2_u15' AND area_key = '0101' "
                               "AND year = 2024 AND level = 'sozialraum'").fetchone() == old
    assert old[0] != 999


def test_topic_limited_admin_edits_its_own_topic(wh, tmp_path):
    editing.save_values(wh, BILDUNG, "schulanfaenger", "sozialraum", 2024, {"0101": "33"})
    editing.set_released(wh, BILDUNG, "quote_sprachfoerderbedarf", False)  # a rate over Bildung counts
    editing.save_indicator(wh, BILDUNG, {**CROSS_RATE, "key": "quote_b", "numerator": "sprachfoerderbedarf",
                                         "denominator": "schulanfaenger"})


def test_unknown_action_is_refused():
    assert not policy.can(ADMIN, "drop-everything", Resource("indicator", "x", "bildung"))
    assert policy.can(ADMIN, "open", "Verwaltung") and not policy.can(EDITOR, "open", "Verwaltung")
    assert policy.can(READER, "open", "Atlas") and not policy.can(READER, "open", "Arbeitsbereich")
    assert not policy.can(None, "open", "Atlas")


def test_role_names_appear_only_in_the_policy():
    """Product code asks the policy; role names live in policy.py (and in the historical migration 1)."""
    roles = set(policy.ROLES)
    files = [*(ROOT / "keck_data").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), ROOT / "app.py"]
    offenders = []
    for path in files:
        if path.name in ("policy.py", "schema.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in roles:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders


def test_topic_limited_admin_cannot_release_a_rate_over_other_topics(wh):
    """The red-team case: a "Bildung" rate built from Soziale-Lage counts (created by an unlimited admin)."""
    editing.save_indicator(wh, EDITOR, CROSS_RATE)
    with pytest.raises(PermissionDenied, match="soziale_lage"):
        editing.set_released(wh, BILDUNG, CROSS_RATE["key"], True)
    assert not wh.cursor().execute("SELECT released FROM indicator WHERE key = ?", [CROSS_RATE["key"]]).fetchone()[0]
