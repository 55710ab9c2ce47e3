"""Browser test of the import wizard: a publication-style XLSX (title block, merged group header, description
row, footnotes) with a column that is no indicator yet → map it, create the indicator inline → dry run →
commit → the new indicator is on the map. Real server, Playwright, Debian's Chromium."""
import openpyxl

import pytest

from keck_data.warehouse import Warehouse, read_df
from tests.browser_support import ARTIFACTS, atlas_server, choose, private_copy, wait_idle
from tests.delivery_files import publication

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "import"  # gitignored; looked at by people
TWINS = {"01": "Mühlenweg", "02": "Lindenhof"}


@pytest.fixture(scope="module")
def wizard_server(demo_file, tmp_path_factory):
    """An internal instance on a private copy of the demo warehouse, with a keck_admin login."""
    base = tmp_path_factory.mktemp("browser_import")
    env, account = private_copy(demo_file, base)
    with Warehouse(env["KECK_WAREHOUSE"]) as wh:
        for key, name in TWINS.items():  # Stadtbezirke named like a Sozialraum (as in Köln or Hamburg)
            wh.cursor().execute("UPDATE area SET name = ? WHERE level = 'stadtbezirk' AND key = ?", [name, key])
        areas = read_df(wh, "SELECT key, name FROM area WHERE level = 'sozialraum' ORDER BY key")
    env["KECK_MODE"] = "internal"
    with atlas_server(env, base / "internal.log") as url:
        yield {"url": url, "account": account, "areas": list(areas.itertuples(index=False)), "base": base}


def _upload(browser, server, path):
    """A signed-in wizard page with ``path`` uploaded and its columns shown."""
    page = browser.new_context(viewport={"width": 1600, "height": 1200}).new_page()
    page.goto(server["url"] + "/import")
    wait_idle(page)
    page.get_by_label("Benutzername").fill(server["account"][0])
    page.get_by_label("Passwort", exact=True).fill(server["account"][1])
    page.get_by_role("button", name="Anmelden").click()
    wait_idle(page)
    page.get_by_role("heading", name="Daten importieren").wait_for(timeout=30_000)
    page.locator('input[type="file"]').first.set_input_files(str(path))
    page.get_by_text("Spalten zuordnen").first.wait_for(timeout=30_000)
    wait_idle(page)
    return page


def test_wizard_creates_a_new_indicator_and_it_shows_on_the_map(browser, wizard_server, tmp_path):
    areas = wizard_server["areas"]
    xlsx = publication(tmp_path / "kita_2024.xlsx", 2024, [
        ("Kinder in Kitas", "Betreute Kinder in Kindertageseinrichtungen am Wohnort",
         [40 + 3 * i for i in range(len(areas))])], areas, total=[sum(40 + 3 * i for i in range(len(areas)))],
        group="Kindertagesbetreuung am 01.03.2024")
    page = _upload(browser, wizard_server, xlsx)
    page.get_by_text("Gruppenkopf: Zeile 4").first.wait_for(timeout=10_000)  # the recognised layout is shown
    choose(page, "Zuordnung für Spalte 1", "+ neuer Indikator")
    row = page.locator(".st-key-map_0")
    row.get_by_label("Schlüssel").fill("kita_kinder")
    row.get_by_label("Schlüssel").press("Enter")
    wait_idle(page)
    row.get_by_label("Name").fill("Kinder in Kitas")
    row.get_by_label("Name").press("Enter")
    wait_idle(page)
    assert row.get_by_label("Definition").input_value() == "Betreute Kinder in Kindertageseinrichtungen am Wohnort"
    assert row.get_by_label("Stichtag").input_value() == "01.03.2024"
    choose(page, "Themenfeld", "Bildung")
    page.get_by_role("button", name="Probelauf (nichts wird gespeichert)").click()
    page.get_by_text("Bericht des Probelaufs").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=SHOTS / "import_probelauf.png", full_page=True)
    assert page.get_by_text("Bitte Spalten zuordnen").count() == 0
    page.get_by_role("button", name="Jetzt importieren").click()
    page.get_by_text("Import abgeschlossen").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=SHOTS / "import_fertig.png", full_page=True)
    assert not list((wizard_server["base"] / "tmp").glob("keck_upload_*"))  # the upload was deleted
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any("zugeordnet" in m and str(len(areas) + 1) in m for m in metrics)  # areas + the town total row
    href = page.get_by_role("link", name="„Kinder in Kitas“ 2024 auf der Karte ansehen").get_attribute("href")
    assert "ind=kita_kinder" in href and "lvl=sozialraum" in href and "yr=2024" in href
    page.goto(wizard_server["url"] + "/" + href.lstrip("./") + "&base=none")  # the link opens a new tab
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('div.keck-legend') && "
                           "document.querySelector('div.keck-legend').innerText.includes('Kinder in Kitas')",
                           timeout=60_000)
    page.screenshot(path=SHOTS / "import_karte.png", full_page=True)


def _block_sheet(path, areas) -> tuple:
    """A profile sheet by names: the Sozialräume (without the two named like a Bezirk), then a block of two
    Bezirk rows whose names are also Sozialraum names, then the town. Returns the rows of the Bezirk block."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Bevölkerung nach Gebieten"])
    ws.append([])
    ws.append(["Gebiet", "ew_gesamt (2030)"])
    for _, name in areas:
        if name not in TWINS.values():
            ws.append([name, 100])
    first = ws.max_row + 1
    ws.append([TWINS["01"], 91234])
    ws.append([TWINS["02"], 95678])
    ws.append(["Musterstadt insgesamt", 200000])
    wb.save(path)
    return first, first + 1


def test_wizard_row_range_override_puts_a_bezirk_block_on_the_bezirk_level(browser, wizard_server, tmp_path):
    first, last = _block_sheet(tmp_path / "profil.xlsx", wizard_server["areas"])
    page = _upload(browser, wizard_server, tmp_path / "profil.xlsx")
    field = page.get_by_role("textbox", name="Ebene für Zeilenbereich")
    field.fill(f"{first}-{last}=Stadtbezirk")
    field.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Probelauf (nichts wird gespeichert)").click()
    page.get_by_text("Bericht des Probelaufs").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_text(f"Zeilen {first}–{last}: Stadtbezirk").first.wait_for(timeout=10_000)
    page.screenshot(path=SHOTS / "import_ebenenblock.png", full_page=True)
    page.get_by_role("button", name="Jetzt importieren").click()
    page.get_by_text("Import abgeschlossen").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.goto(wizard_server["url"] + "/?ind=ew_gesamt&lvl=stadtbezirk&yr=2030&base=none")
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('div.keck-legend') && "
                           "document.querySelector('div.keck-legend').innerText.includes('95.678')", timeout=60_000)
    page.screenshot(path=SHOTS / "import_ebenenblock_karte.png", full_page=True)
