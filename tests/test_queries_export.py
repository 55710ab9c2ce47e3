"""Read API (privacy applied everywhere) and table exports (XLSX, CSV)."""
import io

import numpy as np
import openpyxl
import pytest

from keck_data import cells, export_table
from keck_data.errors import NotFoundError, ValidationError
from keck_data.mapdeck import MapSettings, build
from keck_data.queries import Atlas


@pytest.fixture(scope="module")
def atlas(ro_wh):
    return Atlas(ro_wh)


def test_level_values_cover_every_area(atlas):
    v = atlas.level_values("sgb2_quote_u15", "sozialraum", 2024)
    assert len(v) == len(atlas.areas("sozialraum"))
    assert set(v["status"]) <= {"ok", "suppressed", "missing"}
    ok = v[v["status"] == "ok"].iloc[0]
    assert ok["text"].endswith(" %") and "," in ok["text"]


def test_compare_refuses_a_fourth_area(atlas):
    keys = list(atlas.areas("sozialraum")["key"][:4])
    table = atlas.compare("sozialraum", keys[:3], 2024)
    assert len(table) == len(atlas.indicators()) and table["topic"].nunique() >= 7
    with pytest.raises(ValidationError, match="höchstens 3 Gebiete"):
        atlas.compare("sozialraum", keys, 2024)
    with pytest.raises(NotFoundError, match="Unbekannte Gebiete"):
        atlas.compare("sozialraum", ["9999"], 2024)


def test_timeseries_keeps_gaps(atlas):
    ts = atlas.timeseries("quote_sprachfoerderbedarf", "stadtbezirk", ["01"])
    city = ts[ts["is_city"]].set_index("year")
    assert np.isnan(city.loc[2020, "value"]) and np.isnan(city.loc[2021, "value"])
    assert (ts["value"].fillna(-1) != 0).all()
    change = atlas.change_since(ts, 2015)
    assert change.loc[change["series"] == "Musterstadt", "last_year"].iloc[0] == 2024


def test_public_atlas_hides_unreleased_indicators(ro_wh):
    public = Atlas(ro_wh, public=True)
    assert "sozialindex" not in set(public.indicators()["key"])
    with pytest.raises(NotFoundError):
        public.values(["sozialindex"])


def test_map_payload_is_compact(atlas):
    result = build(atlas, MapSettings("sgb2_quote_u15", "sozialraum", 2024, indicator2="ew_u18",
                                      poi_categories=("kita", "spielplatz"), basemap="none"))
    payload = result.deck.to_json()
    assert '"mapProvider"' not in payload or '"mapProvider":null' in payload
    assert "\n  " not in payload and "k. A." in payload
    assert {"areas", "circles", "pois"} <= {layer.id for layer in result.deck.layers}


def test_xlsx_export(atlas):
    data = export_table.to_xlsx(atlas, ["sgb2_quote_u15", "inobhutnahmen"], "sozialraum", 2024)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Tabelle", "Metadaten"]
    ws = wb["Tabelle"]
    assert "Musterstadt" in ws["A1"].value and "2024" in ws["A1"].value
    header = [c.value for c in ws[4]]
    assert header[:3] == ["Ebene", "Schlüssel", "Gebiet"]
    cells = [c.value for row in ws.iter_rows(min_row=5) for c in row[3:]]
    assert "k. A." in cells and any(isinstance(c, float) for c in cells)
    assert ws["B5"].value == "0" and ws["A5"].font.bold  # reference row first, key as text
    meta = [[c.value for c in row] for row in wb["Metadaten"].iter_rows()]
    assert meta[0][:2] == ["Schlüssel", "Indikator"] and meta[1][0] == "sgb2_quote_u15"
    assert all(m[4] and m[6] for m in meta[1:])  # definition and source present


def test_csv_export_is_german_excel_ready(atlas):
    data = export_table.to_csv(atlas, ["sgb2_quote_u15"], "sozialraum", 2024)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Ebene;Schlüssel;Gebiet;")
    assert "k. A." in text and any("," in line.split(";")[-1] for line in text.splitlines()[1:])


@pytest.mark.parametrize("text", ["=HYPERLINK(\"x\")", "+1+A1", "-2+3", "@SUM(A1)", "\t=1", "-cmd|' /C calc'!A0"])
def test_formula_injection_is_neutralised(text):
    assert cells.neutralise(text) == "'" + text
    assert cells.neutralise("Marktplatz") == "Marktplatz"
    assert cells.neutralise("-1.234,5") == "-1.234,5" and cells.neutralise(-3) == -3  # numbers stay numbers
