"""Wirkungsziele in the app: the Ziele page (create from a Maßnahme, Freigabe), the Zielbericht PDF looked at
with pdftoppm, and the threshold rule of indicators without targets."""
import json
import shutil
import subprocess
from datetime import date

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from keck_data import conference, editing
from keck_data.analysis import target_edits, targets
from keck_data.analysis.target_report import target_report_pdf
from keck_data.errors import ValidationError
from keck_data.policy import User
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse, read_df
from tests.app_harness import ok

ADMIN = User("verwaltung", "Admin", "kommunen_admin")
KINDERARMUT = {"title": "Kinderarmut in Rosenau senken", "indicator": "sgb2_quote_u15", "level": "sozialraum",
               "area_key": "0102", "base_year": 2020, "target_year": 2026, "target_value": 3.0,
               "direction": "senken", "tolerance": 0.1}


def test_ziele_page_creates_a_target_from_a_measure(app, internal_file):
    with Warehouse(internal_file) as wh:
        sid = conference.start_session(wh, ADMIN, "Konferenz Nord", date(2026, 11, 27), "sozialraum", ["0102"])
        wh.cursor().execute("INSERT INTO conf_shown VALUES (?, 1, ?, now() - INTERVAL 1 MINUTE)",
                            [sid, '{"page": "karte", "ind": "sgb2_quote_u15", "lvl": "sozialraum", "sel": "0102"}'])
        note = conference.save_note(wh, ADMIN, sid, "0102", "measure", "Kinderarmut in Rosenau senken",
                                    responsible="Jugendamt")
    at = app(massnahme=str(note))
    at.switch_page("pages/arbeitsbereich/ziele.py").run()
    ok(at)
    assert any("Aus der Maßnahme „Kinderarmut in Rosenau senken“" in i.value for i in at.info)
    assert at.selectbox(key="t_ind_neu").value == "sgb2_quote_u15"
    assert at.selectbox(key="t_area_neu").value == "0102"
    assert at.multiselect(key="t_meas_neu").value == [note]
    at.text_input(key="t_tv_neu").input("3,0")
    at.text_input(key="t_tol_neu").input("0,1")
    at.selectbox(key="t_by_neu").select(2020)
    at.number_input(key="t_ty_neu").set_value(2026)
    at.button(key="t_save_neu").click().run()
    ok(at)
    assert any("Ziel gespeichert (Ampel: gelb)" in s.value for s in at.success)
    assert "Kinderarmut in Rosenau senken" in list(at.dataframe[0].value["Ziel"])  # the table shows it at once
    with Warehouse(internal_file) as wh:
        tid = int(read_df(wh, "SELECT id FROM target")["id"][0])
        assert target_edits.linked_measures(wh, tid) == [note]


def _pages(pdf: bytes, tmp_path) -> list[Image.Image]:
    (tmp_path / "bericht.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(tmp_path / "bericht.pdf"), str(tmp_path / "seite")],
                   check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob("seite*.png"))]


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) is not installed")
def test_zielbericht_has_one_section_per_target(wh, tmp_path):
    atlas = Atlas(wh)
    target_edits.save_target(wh, ADMIN, KINDERARMUT, atlas=atlas)
    target_edits.save_target(wh, ADMIN, KINDERARMUT | {"title": "Kinderarmut in der Stadt senken", "level": "",
                                                       "area_key": "", "target_value": 0.5}, atlas=atlas)
    target_edits.save_target(wh, ADMIN, KINDERARMUT | {"title": "Betreuung U3 erhöhen",
                                                       "indicator": "betreuungsquote_u3", "direction": "erhöhen",
                                                       "target_value": 90}, atlas=atlas)
    pdf = target_report_pdf(atlas)
    (tmp_path / "b.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    sections = [line.strip() for line in text.splitlines() if line.strip()[:3] in ("1. ", "2. ", "3. ", "4. ")]
    assert sections == ["1. Kinderarmut in Rosenau senken", "2. Kinderarmut in der Stadt senken",
                        "3. Betreuung U3 erhöhen"]
    assert text.count("Ampel: ") == 3 and "Begründung: In Zielrichtung" in text and "Ampel-Regel" in text
    pages = _pages(pdf, tmp_path)
    assert 1 <= len(pages) <= 2
    pixels = np.concatenate([np.asarray(p).reshape(-1, 3) for p in pages])
    for state in set(targets.evaluate(atlas)["state"]):  # each state's colour is drawn (the Ampel boxes)
        rgb = np.array([int(targets.COLORS[state][i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(pixels - rgb).sum(axis=1) < 30).sum() > 50, state


def test_threshold_rule_without_targets(wh):
    meta = read_df(wh, "SELECT * FROM indicator WHERE key = 'sgb2_quote_u15'").iloc[0].to_dict()
    with pytest.raises(ValidationError, match="Ampel-Regel „sd:viel“ nicht verstanden"):
        editing.save_indicator(wh, ADMIN, meta | {"ampel_rule": "sd:viel"})
    with pytest.raises(ValidationError, match="ob ein hoher Wert günstig oder ungünstig ist"):
        editing.save_indicator(wh, ADMIN, meta | {"ampel_rule": "sd:1", "polarity": "neutral"})
    editing.save_indicator(wh, ADMIN, meta | {"ampel_rule": "sd:1"})
    atlas = Atlas(wh)
    states, heading = targets.map_states(atlas, "sgb2_quote_u15", "sozialraum", 2024)
    assert heading == targets.RULE_LABEL and set(states["state"]) <= {"grün", "gelb", "rot", "grau"}
    vals = atlas.level_values("sgb2_quote_u15", "sozialraum", 2024).set_index("key")
    city = atlas.reference_values("sgb2_quote_u15", 2024)["value"].iloc[0]
    sd = vals.loc[vals["status"] == "ok", "value"].std(ddof=0)
    for key, state in zip(states["key"], states["state"]):
        v, s = vals.loc[key, "value"], vals.loc[key, "status"]
        expected = "grau" if s != "ok" else "rot" if v - city > sd else "gelb" if v > city else "grün"
        assert state == expected, key
    assert "rot = mehr als 1,0 Standardabweichung über dem städtischen Wert" in states["reason"].iloc[0]
    fixed = targets.rule_states(pd.Series([1.0, 10.0, 15.0, 25.0, np.nan]), pd.Series(["ok"] * 4 + ["suppressed"]),
                                None, "cut:10;20", "high_bad")
    assert fixed == ["grün", "grün", "gelb", "rot", "grau"]
    assert targets.rule_states(pd.Series([5.0, 15.0, 25.0]), pd.Series(["ok"] * 3), None, "cut:10;20",
                               "high_good") == ["rot", "gelb", "grün"]
    target_edits.save_target(wh, ADMIN, KINDERARMUT, atlas=atlas)  # a target replaces the rule on its level
    states, heading = targets.map_states(Atlas(wh), "sgb2_quote_u15", "sozialraum", 2024)
    assert heading == "Ampel der Wirkungsziele"
    assert states.set_index("key").loc["0102", "state"] == "gelb"
    assert states["state"].isna().sum() == len(states) - 1


def _with_target(internal_file) -> None:
    with Warehouse(internal_file) as wh:
        if not read_df(wh, "SELECT count(*) AS n FROM target WHERE area_key = '0102'")["n"][0]:
            target_edits.save_target(wh, ADMIN, KINDERARMUT)


def test_ampel_map_table_column_and_timeseries(app, internal_file):
    _with_target(internal_file)
    at = app(ind="sgb2_quote_u15", lvl="sozialraum", ampel="1")
    ok(at)
    legend = next(m.value for m in at.markdown if "<div class=\"keck-legend\">" in m.value)
    assert "Ampel der Wirkungsziele" in legend and "gelb – in Zielrichtung, hinter dem Pfad <small>(1)</small>" in legend
    assert "kein Ziel <small>(47)</small>" in legend
    assert any(targets.RULE_TEXT in c.value for c in at.caption)
    at.switch_page("pages/atlas/tabelle.py").run()
    ok(at)
    table = at.dataframe[1].value
    column = "Ampel: SGB-II-Quote der unter 15-Jährigen"
    assert table.set_index("Schlüssel").loc["0102", column] == "🟡 gelb"
    assert (table[column] == "–").sum() == len(table) - 1
    at.switch_page("pages/atlas/zeitreihe.py").run()
    ok(at)
    assert not any(n.startswith("Ziel") for n in _traces(at))  # 0102 is not among the chosen areas
    at = app(ind="sgb2_quote_u15", lvl="sozialraum", areas="0102")
    at.switch_page("pages/atlas/zeitreihe.py").run()
    path = _traces(at)["Ziel „Kinderarmut in Rosenau senken“ (0102 Domviertel, Ampel gelb)"]
    assert path["x"] == [2020, 2026] and path["y"] == [4.5, 3.0]  # baseline → target, the straight path


def _traces(at) -> dict:
    return {t["name"]: t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
