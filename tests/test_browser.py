"""Browser tests: the real server, Playwright, Debian's Chromium (never a downloaded browser)."""
import openpyxl
import pytest

from keck_data.policy import Resource, system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.browser_support import choose, holds, signed_in, wait_idle

pytestmark = pytest.mark.browser
UNRELEASED = ["Sozialindex", "Inobhutnahmen"]


def _legend(page) -> str:
    return page.locator("div.keck-legend").inner_text()


def test_map_legend_follows_indicator_and_year(servers, accounts, page, tmp_path):
    signed_in(page, servers["internal"] + "/?base=none", accounts["keck_nutzer"])
    page.wait_for_selector("div.keck-legend")
    first = _legend(page)
    assert "SGB-II-Quote" in first and "%" in first
    page.screenshot(path=tmp_path / "karte.png", full_page=True)
    choose(page, "Indikator", "Anteil Alleinerziehender")
    page.wait_for_function("() => document.querySelector('div.keck-legend').innerText.includes('Alleinerziehender')")
    second = _legend(page)
    choose(page, "Jahr", "2015")
    page.wait_for_function(f"() => document.querySelector('div.keck-legend').innerText !== {second!r}")
    holds(page, lambda: "ind=anteil_alleinerziehend" in page.url and "yr=2015" in page.url)
    page.get_by_role("heading", name="Anteil Alleinerziehender 2015").wait_for(timeout=20_000)


def test_url_with_state_opens_the_same_view(servers, page, tmp_path):
    url = servers["public"] + "/?ind=betreuungsquote_u3&lvl=stadtbezirk&yr=2019&cls=equal_interval&k=4&base=none"
    page.goto(url)
    wait_idle(page)
    page.get_by_role("heading", name="Betreuungsquote unter 3 Jahren 2019").wait_for(timeout=20_000)
    legend = _legend(page)
    assert legend.count("bis") == 4
    page.goto(url + "&present=1")
    wait_idle(page)
    page.get_by_role("button", name="Präsentationsmodus beenden").wait_for(timeout=20_000)
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    page.screenshot(path=tmp_path / "praesentation.png", full_page=True)


def test_compare_three_areas_and_refuse_a_fourth(servers, page, tmp_path):
    page.goto(servers["public"] + "/gebietsvergleich?areas=0101,0203,0305")
    wait_idle(page)
    for name in ("0101 Marktplatz", "0203 Lindenhof", "0305 Neue Heimat"):
        page.get_by_text(name).first.wait_for(timeout=20_000)
    page.screenshot(path=tmp_path / "gebietsvergleich.png", full_page=True)
    page.goto(servers["public"] + "/gebietsvergleich?areas=0101,0203,0305,0401")
    wait_idle(page)
    page.get_by_text("höchstens 3 Gebiete").first.wait_for(timeout=20_000)


def test_table_excel_download(servers, accounts, page, tmp_path):
    signed_in(page, servers["internal"] + "/tabelle?inds=sgb2_quote_u15,ew_u18", accounts["keck_admin"])
    page.screenshot(path=tmp_path / "tabelle.png", full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="Als Excel herunterladen").click()
    path = tmp_path / "tabelle.xlsx"
    info.value.save_as(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tabelle", "Metadaten"]
    assert "Musterstadt" in wb["Tabelle"]["A1"].value


@pytest.mark.parametrize("path", ["/", "/tabelle", "/diagramme", "/zeitreihe?areas=01,02&lvl=stadtbezirk",
                                  "/gebietsvergleich?areas=0101", "/indikatoren"])
def test_public_pages_never_show_unreleased_indicators(servers, page, tmp_path, path):
    page.goto(servers["public"] + path)
    wait_idle(page)
    page.screenshot(path=tmp_path / f"public{path.split('?')[0].replace('/', '_') or '_karte'}.png", full_page=True)
    html = page.content()
    assert "Öffentliche Instanz" in html
    for name in UNRELEASED:
        assert name not in html


def test_public_instance_picks_up_a_new_snapshot_without_restart(servers, files, page):
    page.goto(servers["public"] + "/indikatoren?q=Sozialindex")
    wait_idle(page)
    page.get_by_text("Kein Indikator passt").first.wait_for(timeout=20_000)
    with Warehouse(files["source"]) as wh:
        wh.write(system(), "release", [Resource("indicator", "sozialindex")], lambda tx: (
            tx.cur.execute("UPDATE indicator SET released = TRUE WHERE key = 'sozialindex'"),
            tx.audit("indicator", "sozialindex", False, True)))
        publish(wh, files["public"], system())
    page.reload()
    wait_idle(page)
    page.get_by_text("Sozialindex (Indexpunkte)").first.wait_for(timeout=20_000)
    page.goto(servers["internal"] + "/")  # the internal instance kept running side by side
    wait_idle(page)
    page.get_by_role("heading", name="Anmeldung").wait_for(timeout=20_000)


def test_nutzer_saves_a_private_bookmark_and_the_cookie_keeps_the_login(servers, accounts, page, tmp_path):
    signed_in(page, servers["internal"] + "/lesezeichen?ind=anteil_alleinerziehend", accounts["keck_nutzer"])
    page.get_by_text("Aktuelle Ansicht speichern").click()
    page.get_by_label("Titel").fill("Meine Ansicht Alleinerziehende")
    page.get_by_label("Interpretation (Markdown)").fill("**Wichtig** <script>window.hacked=1</script>")
    page.get_by_role("button", name="Speichern").click()
    wait_idle(page)
    page.get_by_text("Lesezeichen „Meine Ansicht Alleinerziehende“ gespeichert.").first.wait_for(timeout=20_000)
    assert page.evaluate("() => window.hacked") is None
    page.screenshot(path=tmp_path / "lesezeichen.png", full_page=True)
    page.reload()  # a new session: the signed cookie logs the user in again
    wait_idle(page)
    page.wait_for_selector("text=Abmelden", timeout=15_000)


def test_keck_admin_edits_a_poi(servers, accounts, page, files, tmp_path):
    signed_in(page, servers["internal"] + "/einrichtungen", accounts["keck_admin"])
    page.get_by_label("Kapazität (Plätze bzw. m²)").fill("123")
    page.get_by_role("button", name="Speichern").click()
    wait_idle(page)
    page.get_by_text("Gespeichert: „").first.wait_for(timeout=20_000)
    page.screenshot(path=tmp_path / "einrichtungen.png", full_page=True)


def test_kommunen_admin_creates_a_user(servers, accounts, page, tmp_path):
    signed_in(page, servers["internal"] + "/benutzer", accounts["kommunen_admin"])
    page.get_by_label("Benutzername").fill("neue.kollegin")
    page.get_by_label("Name", exact=True).fill("Neue Kollegin")
    page.get_by_label("Neues Passwort (leer = unverändert; beendet alle Sitzungen)").fill("ein-sicheres-passwort")
    page.get_by_role("button", name="Speichern").click()
    wait_idle(page)
    page.get_by_text("Benutzer „neue.kollegin“ gespeichert.").first.wait_for(timeout=20_000)
    page.screenshot(path=tmp_path / "benutzer.png", full_page=True)
