"""Every control of every registered page, changed in Chromium as a user would; the view must follow and stay.

The list of pages comes from the page registry (keck_data/ui/registry.py): a new page without a test here fails.
Screenshots of each page at 1366×768 and 390×844 go to tests/artifacts/ (gitignored).
"""
from __future__ import annotations

import re

import pytest

from keck_data import fmt
from keck_data.ui.registry import PAGES
from tests.browser_support import (ARTIFACTS, TRICKY_NAME, add_option, choose, holds, pick_radio, signed_in,
                                   type_into, wait_idle, widget)
from tests.test_browser_conference import start_session

pytestmark = pytest.mark.browser
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


def heading(page) -> str:
    return page.locator("h1").first.inner_text()


def legend(page) -> str:
    return page.locator("div.keck-legend").inner_text()


def param(page, name: str) -> str | None:
    found = re.search(rf"[?&]{name}=([^&]*)", page.url)
    return found.group(1) if found else None


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=False)


def download(page, button: str, tmp_path) -> bytes:
    """Click a download button; the file must arrive and not be empty."""
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=button).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    data = path.read_bytes()
    assert len(data) > 100, button
    return data


def check_karte(page, tmp_path) -> None:
    page.wait_for_selector("div.keck-legend")
    choose(page, "Themenfeld", "Bildung")  # the blocker: the Themenfeld jumped back
    holds(page, lambda: param(page, "topic") == "bildung" and heading(page).startswith("Schulanfänger"))
    # the tooltip shows names as text (Streamlit escapes the fields; the atlas must not escape them again)
    box = page.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator(".deck-tooltip").filter(has_text=f"0307 {TRICKY_NAME}").first.wait_for(timeout=10_000)
    # a click on the map selects an area; afterwards the selectbox must still work (it used to snap back)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    page.wait_for_function("() => /[?&]sel=/.test(location.search)", timeout=20_000)
    choose(page, "Gebiet auswählen (oder in der Karte anklicken)", "0101 Marktplatz")
    holds(page, lambda: param(page, "sel") == "0101" and page.get_by_text("Profil: 0101 Marktplatz").count() > 0)
    page.get_by_role("button", name="Zum Gebietsvergleich hinzufügen").click()
    wait_idle(page)
    holds(page, lambda: param(page, "areas") == "0101")
    choose(page, "Indikator", "Anteil Schulanfänger mit Sprachförderbedarf")
    holds(page, lambda: param(page, "ind") == "quote_sprachfoerderbedarf")
    choose(page, "Raumebene", "Stadtbezirk")
    holds(page, lambda: param(page, "lvl") == "stadtbezirk")
    choose(page, "Jahr", "2019")
    holds(page, lambda: heading(page).endswith("2019") and param(page, "yr") == "2019")
    choose(page, "Klassifizierung", "Gleiche Intervalle")
    holds(page, lambda: param(page, "cls") == "equal_interval")
    slider = widget(page, "stSlider", "Klassen").get_by_role("slider")
    slider.focus()
    slider.press("ArrowLeft")
    slider.press("ArrowLeft")
    wait_idle(page)
    holds(page, lambda: param(page, "k") == "3" and legend(page).count("bis") <= 3)
    choose(page, "Farben", "Blau")
    holds(page, lambda: param(page, "pal") == "blau")
    choose(page, "Zweiter Indikator (Kreise)", "Minderjährige")
    holds(page, lambda: "Kreise: Minderjährige" in legend(page) and param(page, "ind2") == "ew_u18")
    add_option(page, "Einrichtungen", "Kita")
    holds(page, lambda: "Einrichtungen" in legend(page) and param(page, "poi") == "kita")
    choose(page, "Raumebene", "Sozialraum")
    choose(page, "Klassifizierung", "Manuelle Grenzen")
    type_into(page, "Klassengrenzen (mit ; getrennt)", "abc")
    page.get_by_text("„abc“ ist keine Zahl").first.wait_for()
    type_into(page, "Klassengrenzen (mit ; getrennt)", "10; 20,5")
    holds(page, lambda: param(page, "breaks") in ("10%2C20.5", "10,20.5") and "bis 10" in legend(page)
          and "über 10" in legend(page) and "bis 20,5" in legend(page))
    download(page, "Karte als PNG", tmp_path)
    page.get_by_text("Präsentationsmodus", exact=True).click()
    wait_idle(page)
    # toggled from the open sidebar, the sidebar stays open until closed (opened with present=1 it starts closed)
    holds(page, lambda: param(page, "present") == "1" and page.locator('[data-testid="stTopNav"]').is_visible())
    page.get_by_role("button", name="Präsentationsmodus beenden").click()
    wait_idle(page)
    holds(page, lambda: param(page, "present") is None and page.locator('[data-testid="stSidebarNav"]').count() > 0)


def check_tabelle(page, tmp_path) -> None:
    choose(page, "Raumebene", "Stadtbezirk")
    holds(page, lambda: param(page, "lvl") == "stadtbezirk" and "Stadtbezirk" in heading(page))
    choose(page, "Jahr", "2018")
    holds(page, lambda: heading(page).endswith("2018"))
    add_option(page, "Indikatoren", "Betreuungsquote unter 3 Jahren")
    holds(page, lambda: "betreuungsquote_u3" in (param(page, "inds") or ""))
    assert download(page, "Als Excel herunterladen", tmp_path)[:2] == b"PK"
    assert "Betreuungsquote unter 3" in download(page, "Als CSV herunterladen", tmp_path).decode("utf-8-sig")


def check_diagramme(page, tmp_path) -> None:
    pick_radio(page, "Diagrammart", "Balkendiagramm")
    holds(page, lambda: param(page, "chart") == "bar")
    choose(page, "Raumebene", "Stadtbezirk")
    choose(page, "Jahr", "2017")
    choose(page, "Themenfeld", "Wohnen")
    holds(page, lambda: param(page, "topic") == "wohnen" and param(page, "yr") == "2017")
    choose(page, "Indikator", "Anteil geförderter Wohnungen")
    page.locator(".gtitle").filter(has_text="Anteil geförderter Wohnungen 2017").first.wait_for()
    pick_radio(page, "Diagrammart", "Streudiagramm")
    page.locator(".gtitle").filter(has_text="r = ").first.wait_for()
    choose(page, "Indikator (y-Achse)", "Arbeitslosenanteil")
    holds(page, lambda: param(page, "y") == "arbeitslosenanteil")
    download(page, "Diagramm als SVG", tmp_path)


def check_zusammenhaenge(page, tmp_path) -> None:
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()  # the heatmap
    pick_radio(page, "Koeffizient", "Spearman (Rang)")
    holds(page, lambda: param(page, "coef") == "spearman")
    page.locator(".gtitle").filter(has_text="Korrelationen (Spearman (Rang))").first.wait_for()
    choose(page, "Raumebene", "Stadtbezirk")
    holds(page, lambda: param(page, "lvl") == "stadtbezirk")
    page.locator(".gtitle").filter(has_text="r = ").first.wait_for()  # the scatter plot of the first pair


def check_sozialindex(page, tmp_path) -> None:
    """The builder's controls change the ranking; saving and publishing: tests/test_browser_analysis.py."""
    page.get_by_role("heading", name="Sozialindex").first.wait_for()
    page.get_by_role("tab", name="Rangstabilität").click()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    holds(page, lambda: chart.locator("g.errorbar").count() > 10)  # one whisker per area


def check_zeitreihe(page, tmp_path) -> None:
    choose(page, "Themenfeld", "Kinderbetreuung und Infrastruktur")
    holds(page, lambda: param(page, "topic") == "kinderbetreuung")
    choose(page, "Indikator", "Betreuungsquote unter 3 Jahren")
    choose(page, "Raumebene", "Stadtbezirk")
    add_option(page, "Gebiete", "02 Nordviertel")
    holds(page, lambda: param(page, "areas") == "02" and param(page, "lvl") == "stadtbezirk")
    choose(page, "Basisjahr für die Veränderung", "2018")
    holds(page, lambda: page.get_by_text("Veränderung seit 2018").count() > 0)


def check_gebietsvergleich(page, tmp_path) -> None:
    choose(page, "Raumebene", "Stadtbezirk")
    choose(page, "Jahr", "2020")
    for area in ("01 Altstadt", "02 Nordviertel", "03 Am Hafen"):
        add_option(page, "Gebiete (höchstens 3)", area)
    holds(page, lambda: param(page, "areas") in ("01%2C02%2C03", "01,02,03") and heading(page).endswith("2020"))
    choose(page, "Themenfeld im Diagramm", "Bildung")
    holds(page, lambda: "Gebietsvergleich: Bildung" in page.locator(".gtitle").first.text_content())
    pick_radio(page, "Diagramm zeigt", "Werte")
    holds(page, lambda: param(page, "cview") == "raw")
    # no table hides rows: every table is as tall as its content (no inner scrolling)
    hidden = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
        .filter(s => s.scrollHeight > s.clientHeight + 2).length""")
    assert hidden == 0
    download(page, "Gebietsbericht als PDF", tmp_path)


def check_indikatoren(page, tmp_path) -> None:
    type_into(page, "Suche (Name, Definition, Quelle)", "Kita")
    holds(page, lambda: param(page, "q") == "Kita" and heading(page) != "Indikatoren (0)")
    assert "Art: rate" not in page.inner_text("body")
    type_into(page, "Suche (Name, Definition, Quelle)", "gibt es nicht")
    page.get_by_text("Kein Indikator passt").first.wait_for()
    assert download(page, "Offene Daten herunterladen (ZIP: CSV, GeoPackage, GeoJSON)", tmp_path)[:2] == b"PK"


def check_lesezeichen(page, tmp_path) -> None:
    if "Abmelden" not in page.inner_text("body"):  # public: read-only list
        assert page.get_by_text("Aktuelle Ansicht speichern").count() == 0
        return
    page.get_by_text("Aktuelle Ansicht speichern").click()
    page.get_by_label("Titel").fill("Konferenz Nordviertel")
    page.get_by_label("Interpretation (Markdown)").fill("Hohe Quote **prüfen**")
    page.get_by_role("button", name="Speichern").click()
    wait_idle(page)
    # the saved bookmark in the list (the success note lasts one run only: a later run, e.g. the login
    # cookie's, may already have replaced it)
    page.get_by_role("heading", name="Konferenz Nordviertel").first.wait_for()
    mark = page.locator('[data-testid="stVerticalBlock"]').filter(has_text="Konferenz Nordviertel").last
    mark.get_by_role("button", name="Öffnen").click()
    wait_idle(page)
    page.wait_for_selector("div.keck-legend", timeout=60_000)
    holds(page, lambda: param(page, "ind") is not None)
    page.get_by_role("button", name="Abmelden").click()
    wait_idle(page)
    page.get_by_role("heading", name="Anmeldung").wait_for()


def check_einrichtungen(page, tmp_path) -> None:
    pick_radio(page, "Aktion", "Neu anlegen")
    page.get_by_text("In die Karte klicken, um die Lage zu setzen").first.wait_for()
    pick_radio(page, "Aktion", "Bearbeiten")
    page.get_by_label("Kapazität (Plätze bzw. m²)").fill("77")
    page.get_by_role("button", name="Speichern").click()
    wait_idle(page)
    page.get_by_text("Gespeichert: „").first.wait_for()


def check_pflege(page, tmp_path) -> None:
    choose(page, "Indikator", "Kita-Plätze")
    holds(page, lambda: page.get_by_label("Name *").input_value() == "Kita-Plätze"
          and widget(page, "stSelectbox", "Art *").locator("input").input_value() == "Anzahl")
    choose(page, "Raumebene", "Stadtbezirk")
    page.get_by_text("Werte bearbeiten").first.wait_for()


def check_import(page, tmp_path) -> None:
    page.get_by_role("heading", name="Daten importieren").wait_for()
    page.locator('[data-testid="stFileUploader"]').first.wait_for()
    pick_radio(page, "Was wird importiert?", "Gebiete")
    holds(page, lambda: page.locator('[data-testid="stFileUploader"]').count() >= 1)
    pick_radio(page, "Was wird importiert?", "Einrichtungen")
    holds(page, lambda: page.locator('[data-testid="stFileUploader"]').count() >= 1)
    # the whole wizard (upload, mapping, new indicator, dry run, commit) is driven in tests/test_browser_import.py


def check_gebiete(page, tmp_path) -> None:
    page.get_by_role("heading", name="Gebiete").first.wait_for()
    none_flagged = page.get_by_text("Auf dieser Ebene ist kein Gebiet")
    none_flagged.wait_for()
    for button, message in [("Als ohne Wohnbevölkerung kennzeichnen", "1 Gebiete als ohne Wohnbevölkerung"),
                            ("Kennzeichnung entfernen", "1 Gebiete wieder als bewohnt")]:  # and back as it was
        add_option(page, "Gebiete", "0101 Marktplatz")
        page.get_by_role("button", name=button).click()
        wait_idle(page)
        flagged = button.startswith("Als")
        holds(page, lambda m=message, f=flagged: page.get_by_text(m).count() == 1 and none_flagged.count() == 1 - f)


def check_protokoll(page, tmp_path) -> None:
    page.get_by_role("heading", name="Änderungsprotokoll").wait_for()
    entries = page.get_by_text(re.compile(r"\d+ Einträge · Seite")).first
    before = entries.inner_text()
    what = widget(page, "stSelectbox", "Was").locator("input")
    what.click()
    what.press("ArrowDown")
    what.press("ArrowDown")  # the first kind of change after "alles"
    what.press("Enter")
    wait_idle(page)
    holds(page, lambda: entries.inner_text() != before and what.input_value() != "alles")


def check_benutzer(page, tmp_path) -> None:
    page.get_by_role("heading", name="Benutzer").first.wait_for()
    role = widget(page, "stSelectbox", "Rolle").locator("input").input_value()
    assert role.startswith("KECK-Nutzung")  # the form starts with the least powerful role


def check_sitzung(page, tmp_path) -> None:
    page.get_by_role("heading", name="Sozialraumkonferenz").wait_for()
    sid = start_session(page, "Konferenz Süd", ["0101 Marktplatz"])
    holds(page, lambda: param(page, "sitzung") == sid and heading(page) == "Sitzung: Konferenz Süd")
    page.get_by_role("heading", name="Maßnahmenliste").wait_for()


def check_ziele(page, tmp_path) -> None:
    page.get_by_role("heading", name="Ziele").first.wait_for()
    page.get_by_text("Ampel-Regel:").first.wait_for()
    choose(page, "Ziel bearbeiten", "– neues Ziel –")
    holds(page, lambda: page.get_by_role("button", name="Ziel speichern").count() == 1
          and page.get_by_label("Titel *").input_value() == "")
    # creating, the Ampel map, re-evaluation and the public instance: tests/test_browser_targets.py


def check_versorgung(page, tmp_path) -> None:
    """Internal: a planned Kita with 100 places in the worst-supplied area raises its quote by 100 / demand."""
    page.get_by_role("heading", name=re.compile("^Versorgung")).first.wait_for()
    if page.get_by_text("noch keine Ergebnisse der Versorgungsanalyse freigegeben").count():
        return  # public: only released results, no scenario
    worst = widget(page, "stSelectbox", "Standort im Gebiet").locator("input").input_value().split(" ")[0]
    assert widget(page, "stNumberInput", "Plätze").locator("input").input_value() == "100"
    page.get_by_role("button", name="Einrichtung hinzufügen").click()
    wait_idle(page)
    table = page.locator('[data-testid="stTable"]').first
    table.wait_for()
    header = table.locator("thead th").all_inner_texts()
    row = dict(zip(header, table.locator("tbody tr", has_text=worst).first.locator("td").all_inner_texts()))
    demand = int(row["Nachfrage"].replace(".", ""))
    assert row["Änderung der Quote"] == fmt.difference(100 / demand * 100, 1, None)
    assert int(row["Plätze nachher"].replace(".", "")) - int(row["Plätze vorher"].replace(".", "")) == 100


def check_barrierefreiheit(page, tmp_path) -> None:
    page.get_by_role("heading", name="Erklärung zur Barrierefreiheit").wait_for()
    page.get_by_role("heading", name="Feedback und Kontakt").wait_for()


CHECKS = {"karte": check_karte, "tabelle": check_tabelle, "diagramme": check_diagramme, "zeitreihe": check_zeitreihe,
          "gebietsvergleich": check_gebietsvergleich, "zusammenhaenge": check_zusammenhaenge,
          "sozialindex": check_sozialindex,
          "indikatoren": check_indikatoren,
          "lesezeichen": check_lesezeichen, "barrierefreiheit": check_barrierefreiheit,
          "einrichtungen": check_einrichtungen, "pflege": check_pflege,
          "import": check_import, "gebiete": check_gebiete, "protokoll": check_protokoll, "benutzer": check_benutzer,
          "sitzung": check_sitzung, "ziele": check_ziele,
          "versorgung": check_versorgung}
ROLE_FOR = {"Atlas": "keck_nutzer", "Konferenz": "keck_admin", "Arbeitsbereich": "keck_admin",
            "Verwaltung": "kommunen_admin"}
CASES = [(spec, mode) for spec in PAGES for mode in ("public", "internal") if mode == "internal" or spec.section == "Atlas"]


def test_every_registered_page_has_a_browser_test():
    assert {spec.url_path for spec in PAGES} == set(CHECKS)


@pytest.mark.parametrize("spec,mode", CASES, ids=[f"{s.url_path}-{m}" for s, m in CASES])
def test_every_control_works(spec, mode, servers, accounts, browser, tmp_path):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    try:
        url = f"{servers[mode]}/{spec.url_path}"
        if mode == "internal":
            signed_in(page, url, accounts[ROLE_FOR[spec.section]])
        else:
            page.goto(url)
            wait_idle(page)
        CHECKS[spec.url_path](page, tmp_path)
        shoot(page, f"{spec.url_path}-{mode}-1366")
        page.set_viewport_size(PHONE)
        page.reload()
        wait_idle(page)
        shoot(page, f"{spec.url_path}-{mode}-390")
        assert "Traceback" not in page.inner_text("body")
    finally:
        context.close()


# English texts Streamlit shows unless the app replaces them (case-sensitive, whole words)
ENGLISH = ["Page not found", "View", "more", "Choose options", "Choose an option", "Select", "None", "Upload",
           "per file", "Drag and drop", "Browse files", "No results", "Press Enter", "Deploy", "Running", "Rerun",
           "Skip to main content"]  # the screen-reader skip link: translated by keck_data/ui/german.py
ENGLISH_TEXT = re.compile(r"\b(" + "|".join(map(re.escape, ENGLISH)) + r")\b")
VIEWERS = [("public", None), ("internal", "keck_nutzer"), ("internal", "keck_admin"), ("internal", "kommunen_admin")]


@pytest.mark.parametrize("mode,role", VIEWERS, ids=[role or mode for mode, role in VIEWERS])
def test_no_english_ui_text_on_any_page(mode, role, servers, accounts, browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        if role:
            signed_in(page, servers[mode] + "/", accounts[role])
        for spec in PAGES:  # deep links, also to pages the role may not open
            page.goto(f"{servers[mode]}/{spec.url_path}?areas=0101&ind2=ew_u18")
            wait_idle(page)
            page.wait_for_selector("h1, .gtitle")
            page.wait_for_function("document.documentElement.lang === 'de'")  # the German layer has run
            text = page.inner_text("body")
            found = ENGLISH_TEXT.findall(text)
            assert not found, (spec.url_path, found)
    finally:
        context.close()
