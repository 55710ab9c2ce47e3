"""Browser test of the analysis layer: build a Sozialindex in the Arbeitsbereich, see its rank stability, save,
release and publish it, find it on the public map with its method in the metadata popover, and read
"Was fällt auf?"."""
import pytest

from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.browser_support import choose, signed_in, wait_idle

pytestmark = pytest.mark.browser
NAME = "Bedarfsindex Browsertest"  # not "Sozialindex": other browser tests look for that name in public pages


def test_index_built_saved_released_published_and_shown_publicly(servers, files, accounts, page, tmp_path):
    try:
        signed_in(page, servers["internal"] + "/sozialindex", accounts["keck_admin"])
        page.get_by_role("heading", name="Sozialindex").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Rangstabilität").click()
        chart = page.locator(".js-plotly-plot").first
        chart.wait_for(timeout=30_000)
        assert chart.locator("g.errorbar").count() > 10  # one whisker per area
        page.screenshot(path=tmp_path / "sozialindex.png", full_page=True)
        page.get_by_label("Schlüssel", exact=True).fill("bedarf_browser")
        page.get_by_label("Name", exact=True).fill(NAME)
        page.get_by_role("button", name="Speichern").click()
        wait_idle(page)
        page.get_by_text(f"„{NAME}“ gespeichert").first.wait_for(timeout=30_000)

        page.goto(servers["internal"] + "/pflege")
        wait_idle(page)
        choose(page, "Indikator", NAME)
        page.get_by_text("Freigegeben (erscheint nach dem Veröffentlichen öffentlich)").click()
        wait_idle(page)
        page.get_by_role("button", name="Veröffentlichen").click()
        wait_idle(page, timeout=180_000)
        page.get_by_text("Veröffentlicht:").first.wait_for(timeout=180_000)

        page.goto(servers["public"] + "/?ind=bedarf_browser&sel=0203&yr=2024")
        wait_idle(page, timeout=120_000)
        page.get_by_role("heading", name=f"{NAME} 2024").wait_for(timeout=60_000)
        page.get_by_text("ℹ️ Metadaten").click()
        page.get_by_text("Gewichtetes Mittel der standardisierten Indikatoren").first.wait_for(timeout=20_000)
        page.keyboard.press("Escape")
        panel = page.locator(".st-key-was_faellt_auf")
        panel.wait_for(timeout=30_000)
        sentences = panel.locator("li")
        assert sentences.count() == 3
        assert all("Lindenhof liegt mit" in s and "Rang" in s for s in sentences.all_inner_texts())
        page.screenshot(path=tmp_path / "public_index.png", full_page=True)
    finally:  # the other browser tests expect the snapshot of the "source" warehouse
        with Warehouse(files["source"]) as wh:
            publish(wh, files["public"], system())
