"""Analysis on the pages (AppTest from app.py): "Was fällt auf?" on the map, the Sozialindex builder, the
Gebietsbericht section."""
from keck_data.analysis import profile
from keck_data.export_report import report_pdf
from keck_data.queries import Atlas
from keck_data.warehouse import Warehouse
from tests.app_harness import markdown, ok
from tests.test_exports import pdf_text


def test_map_shows_what_stands_out_for_the_selected_area(app):
    at = app(sel="0203", yr="2023")
    ok(at)
    text = markdown(at)
    assert "## Was fällt auf?" in text
    panel = text.split("## Was fällt auf?")[1]
    bullets = [line for line in panel.splitlines() if line.startswith("- ")]
    assert len(bullets) == 3 and all("Lindenhof liegt mit" in b and "Rang " in b for b in bullets)


def test_sozialindex_page_builds_saves_and_lists(app):
    at = app()
    at.switch_page("pages/arbeitsbereich/sozialindex.py").run()
    ok(at)
    assert "# Sozialindex" in markdown(at)
    ranking = at.dataframe[0].value
    assert list(ranking["Rang"][:3]) == ["1", "2", "3"]
    assert ranking["Klasse"].iloc[0] in ("Status sehr niedrig", "Status niedrig")
    assert at.get("plotly_chart"), "rank stability chart missing"
    at.number_input(key="si_w_sgb2_quote_u15").set_value(3.0).run()
    at.text_input(key="si_key").input("si_seite")
    at.text_input(key="si_name").input("Sozialindex Seite")
    next(b for b in at.button if b.label == "Speichern").click().run()
    ok(at)
    assert any("„Sozialindex Seite“ gespeichert" in s.value for s in at.success)
    assert "si_seite" in list(at.dataframe[-1].value["Schlüssel"])
    at = app(ind="si_seite", lvl="sozialraum")  # the saved index is an indicator like any other
    ok(at)
    assert "# Sozialindex Seite 2024" in markdown(at)


def test_sozialindex_view_is_reproducible_from_its_url(app):
    at = app(si_ind="sgb2_quote_u15,arbeitslosenanteil", si_gew="sgb2_quote_u15:3,arbeitslosenanteil:99",
             si_pol="arbeitslosenanteil:neutral", si_kl="quantile:4", si_dyn="2", lvl="sozialraum")
    at.switch_page("pages/arbeitsbereich/sozialindex.py").run()
    ok(at)
    assert at.multiselect(key="w_si_ind").value == ["sgb2_quote_u15", "arbeitslosenanteil"]
    assert at.number_input(key="si_w_sgb2_quote_u15").value == 3.0
    assert at.number_input(key="si_w_arbeitslosenanteil").value == 1.0  # 99 is out of range: the default
    assert at.selectbox(key="si_p_arbeitslosenanteil").value == "neutral"
    assert at.selectbox(key="w_si_kl").value == "quantile:4"
    assert set(at.dataframe[0].value["Klasse"]) - {""} == {f"{n}. Quartil" for n in range(1, 5)}
    at.number_input(key="si_w_arbeitslosenanteil").set_value(2.5).run()
    at.selectbox(key="w_si_std").set_value("rank").run()
    ok(at)
    url = {k: at.query_params[k] for k in at.query_params}
    assert url["si_gew"] in (["sgb2_quote_u15:3,arbeitslosenanteil:2.5"], "sgb2_quote_u15:3,arbeitslosenanteil:2.5")
    assert url["si_std"] in (["rank"], "rank") and url["si_dyn"] in (["2"], "2")


def test_gebietsbericht_has_what_stands_out(demo_file, tmp_path):
    with Warehouse(demo_file, read_only=True) as wh:
        atlas = Atlas(wh)
        text = pdf_text(report_pdf(atlas, "sozialraum", ["0203", "0101"], 2023), tmp_path)
        expected = profile.profile(atlas, "0203", "sozialraum", 2023).sentences()[0]
    assert "Was fällt auf?" in text and "(1) 0203 Lindenhof" in text
    assert expected.split(":")[0] in " ".join(text.split())


def test_correlation_page_heatmap_and_scatter(app):
    at = app()
    at.switch_page("pages/atlas/zusammenhaenge.py").run()
    ok(at)
    assert "# Zusammenhänge 2024" in markdown(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # heatmap and the scatter plot of the strongest pair
    pair = at.selectbox(key="corr_pair_0")
    assert " × " in pair.format_func(pair.value) and "n = " in pair.format_func(pair.value)


def test_correlation_page_in_public_mode(app):
    at = app(mode="public")
    at.switch_page("pages/atlas/zusammenhaenge.py").run()
    ok(at)
    assert "# Zusammenhänge" in markdown(at)


def test_map_highlights_similar_areas(app):
    at = app(sel="0203", yr="2023", sim="1")
    ok(at)
    assert "#### Vergleichbare Gebiete zu Lindenhof" in markdown(at), [i.value for i in at.info]
    table = next(d.value for d in at.dataframe if "Abstand" in d.value.columns)
    assert len(table) == 5 and "0203" not in set(table["Schlüssel"])
