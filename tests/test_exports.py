"""Exports as files: map and chart images, Gebietsbericht PDF, open data; privacy and release respected."""
import io
import json
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from PIL import Image

from keck_data import charts
from keck_data.export_chart import chart_bytes
from keck_data.export_map import render_map
from keck_data.export_opendata import open_data_zip
from keck_data.export_report import report_pdf
from keck_data.mapdeck import MapSettings
from keck_data.queries import Atlas

MAP = MapSettings("sgb2_u15", "sozialraum", 2024, indicator2="ew_u18", poi_categories=("kita",))


@pytest.fixture(scope="module")
def atlas(ro_wh):
    return Atlas(ro_wh)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png")), "pdftoppm rendered no page"
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_map_png_and_jpg(atlas):
    for fmt in ("png", "jpg"):
        img = Image.open(io.BytesIO(render_map(atlas, MAP, fmt)))
        assert img.size[0] > 1500 and img.size[0] > img.size[1]
        colors = img.convert("RGB").resize((100, 70)).getcolors(10_000)
        assert len(colors) > 10  # not a blank page


def test_map_svg_has_title_legend_and_hatching(atlas):
    svg = render_map(atlas, MAP, "svg").decode()
    root = ET.fromstring(svg)
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Kinder unter 15 Jahren im SGB-II-Bezug 2024" in texts
    assert "k. A. (Datenschutz) (2)" in texts and "bis " in texts and "Kita (62)" in texts
    assert "Quelle: Statistik der Bundesagentur" in texts and "km" in texts and "N" in texts
    assert "Musterstadt" in texts


def test_map_pdf(atlas, tmp_path):
    text = pdf_text(render_map(atlas, MAP, "pdf"), tmp_path)
    assert "Kinder unter 15 Jahren im SGB-II-Bezug 2024" in text and "k. A. (Datenschutz)" in text


@pytest.mark.parametrize("fmt", ["png", "jpg", "svg", "pdf"])
def test_chart_exports(atlas, fmt, tmp_path):
    values = atlas.level_values("sgb2_quote_u15", "sozialraum", 2024)
    city = atlas.reference_values("sgb2_quote_u15", 2024)
    fig = charts.ranking(values, city, atlas.indicator("sgb2_quote_u15"), ["0203"], False, "Musterstadt", 2024)
    data = chart_bytes(fig, fmt)
    if fmt in ("png", "jpg"):
        assert Image.open(io.BytesIO(data)).size == (1400, 900)
    elif fmt == "svg":
        assert "SGB-II-Quote der unter 15-Jährigen 2024" in data.decode() and ET.fromstring(data) is not None
    else:
        text = pdf_text(data, tmp_path)
        assert "SGB-II-Quote der unter 15-Jährigen 2024" in text and "Quelle:" in text


def test_timeseries_chart_export(atlas):
    ts = atlas.timeseries("quote_sprachfoerderbedarf", "stadtbezirk", ["01"])
    svg = chart_bytes(charts.timeseries(ts, atlas.indicator("quote_sprachfoerderbedarf")), "svg").decode()
    assert "Zeitverlauf" in svg and "Musterstadt" in svg  # long titles wrap into lines


def test_gebietsbericht_pdf(atlas, tmp_path):
    data = report_pdf(atlas, "sozialraum", ["0101", "0203", "0305"], 2024, 2015)
    text = pdf_text(data, tmp_path)
    assert "Gebietsbericht Musterstadt 2024" in text and "0101 Marktplatz" in text and "0305 Neue Heimat" in text
    for topic in ("Demografie", "Soziale Lage", "Bildung", "Beteiligung"):
        assert topic in text
    row = next(line for line in text.splitlines() if "Kinder unter 15 Jahren im SGB-II-" in line)
    assert "k. A." in row  # 0101's small count is suppressed in the report too
    assert len(list(tmp_path.glob("page*.png"))) >= 3


def test_gebietsbericht_html_is_the_accessible_equivalent(atlas, tmp_path):
    """Issue 22, item 5: the PDF is untagged; the HTML version has the same content, structured."""
    from html.parser import HTMLParser

    from keck_data.export_report import report_content, report_html
    page = report_html(atlas, "sozialraum", ["0101", "0203", "0305"], 2024, 2015).decode()
    assert page.startswith('<!DOCTYPE html><html lang="de">') and "<title>Gebietsbericht 0101 Marktplatz" in page
    content = report_content(atlas, "sozialraum", ["0101", "0203", "0305"], 2024, 2015)
    for topic, rows in content.sections:  # every table of the PDF, with header cells and a caption
        assert f"<h2>{topic}</h2><table><caption>{topic}</caption>" in page
        assert all(f'<th scope="row">{row[0]}</th>' in page.replace("&amp;", "&") for row in rows)
    assert 'alt="Lagekarte: Sozialraum: (1) 0101 Marktplatz' in page and "k. A." in page
    HTMLParser().feed(page)  # well-formed enough to parse


def test_report_refuses_four_areas(atlas):
    from keck_data.errors import ValidationError
    with pytest.raises(ValidationError, match="höchstens 3"):
        report_pdf(atlas, "sozialraum", ["0101", "0102", "0103", "0104"], 2024)


def test_public_exports_contain_released_indicators_only(ro_wh, tmp_path):
    public = Atlas(ro_wh, public=True)
    text = pdf_text(report_pdf(public, "sozialraum", ["0203"], 2024), tmp_path)
    assert "Sozialindex" not in text and "Inobhutnahmen" not in text
    z = zipfile.ZipFile(io.BytesIO(open_data_zip(public)))
    values = pd.read_csv(io.BytesIO(z.read("werte.csv")), sep=";", decimal=",", dtype={"area_key": str},
                         encoding="utf-8-sig")
    meta = pd.read_csv(io.BytesIO(z.read("metadaten.csv")), sep=";", encoding="utf-8-sig")
    assert not {"sozialindex", "inobhutnahmen"} & set(values["indicator"]) and len(meta) == 57
    counts = set(meta.loc[meta["kind"] == "count", "key"])
    shown = values[values["indicator"].isin(counts) & (values["status"] == "ok")]
    assert (shown["value"] > 3).all()  # no small count left in open data
    assert values.loc[values["status"] == "suppressed", "value"].isna().all()
    geo = json.loads(z.read("sozialraum_2024.geojson"))
    props = {f["properties"]["key"]: f["properties"] for f in geo["features"]}
    assert props["0101"]["sgb2_u15"] is None and props["0203"]["sgb2_u15"] > 3
    gpkg = tmp_path / "g.gpkg"
    gpkg.write_bytes(z.read("gebiete.gpkg"))
    assert len(gpd.read_file(gpkg, layer="sozialraum")) == 48


def test_exported_map_outlines_the_selected_area(atlas):
    """Issue 22, item 14: the exported map did not show the area selected on the screen."""
    svg = render_map(atlas, MapSettings("sgb2_u15", "sozialraum", 2024, selected=("0101",)), "svg").decode()
    assert 'id="selected' in svg and "Ausgewählt: Marktplatz" in svg
    plain = render_map(atlas, MapSettings("sgb2_u15", "sozialraum", 2024), "svg").decode()
    assert 'id="selected' not in plain


def test_html_in_names_is_drawn_literally_in_charts(atlas):
    """An area or indicator name with markup (a delivery's "<b>…</b>", "A & B") is text in the chart, never a
    tag plotly would draw bold or as a link; the chart's data table and accessible name read it back as given."""
    values = atlas.level_values("sgb2_quote_u15", "sozialraum", 2024)
    values = values[values["status"] == "ok"].head(6)  # few bars: plotly draws every tick label
    first = values.index[0]
    values.loc[first, "name"] = '<b>Nord</b> & <a href="https://x.invalid">Süd</a>'
    ind = atlas.indicator("sgb2_quote_u15").copy()
    ind["name"] = "Quote <i>kursiv</i>"
    fig = charts.ranking(values, atlas.reference_values("sgb2_quote_u15", 2024), ind, [], True, "Musterstadt", 2024)
    svg = chart_bytes(fig, "svg").decode()
    root = ET.fromstring(svg)
    drawn = " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("text"))
    assert '<b>Nord</b> & <a href="https://x.invalid">Süd</a>' in drawn and "Quote <i>kursiv</i>" in drawn
    assert "bold" not in svg and "italic" not in svg
    assert not [e for e in root.iter() if e.tag.endswith("}a")]  # no link element
    table = charts.table_of(fig)
    assert f"{values.loc[first, 'key']} {values.loc[first, 'name']}" in list(table["Gebiet"])
    assert charts.plain(fig.layout.title.text) == "Quote <i>kursiv</i> 2024"
