"""Browser check: the public map draws an area group as one unit with its value and the joint tooltip."""
import shutil

import pytest

from keck_data.importing import import_values
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse, read_df
from tests.browser_support import ARTIFACTS, atlas_server, wait_idle

pytestmark = pytest.mark.browser
YEAR = 2031
MEMBERS = {"0306": "Sonnenhang", "0307": "Feldmark"}  # 0307 lies in the middle of the demo map


@pytest.fixture(scope="module")
def grouped_public(demo_file, tmp_path_factory):
    """A public snapshot whose Geburten 2031 were delivered with the row "Sonnenhang und Feldmark"."""
    base = tmp_path_factory.mktemp("groups")
    internal = base / "keck.duckdb"
    shutil.copy(demo_file, internal)
    with Warehouse(internal) as wh:
        areas = read_df(wh, "SELECT key, name FROM area WHERE level = 'sozialraum' ORDER BY key")
        lines = [f"{k};{n};{20 + i}" for i, (k, n) in enumerate(zip(areas["key"], areas["name"])) if k not in MEMBERS]
        delivery = base / "geburten.csv"
        delivery.write_text("\n".join(["Schlüssel;Sozialraum;Geburten", *lines, ";Sonnenhang und Feldmark;95"]) + "\n",
                            encoding="utf-8")
        import_values(wh, delivery, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Sozialraum",
                      columns={"Geburten": "geburten"}, year=YEAR, dry_run=False, user=system("test"))
        publish(wh, base / "public.duckdb", system("test"))
    return base


def test_the_map_draws_the_group_as_one_unit_with_the_joint_tooltip(grouped_public, browser):
    env = {"KECK_MODE": "public", "KECK_PUBLIC_WAREHOUSE": str(grouped_public / "public.duckdb"),
           "KECK_WAREHOUSE": str(grouped_public / "keck.duckdb"), "KECK_AUTH_DIR": str(grouped_public / "auth")}
    with atlas_server(env, grouped_public / "public.log") as url:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{url}/?ind=geburten&lvl=sozialraum&yr={YEAR}&base=none")
            wait_idle(page, timeout=120_000)
            page.get_by_role("heading", name=f"Geburten {YEAR}").wait_for(timeout=30_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.wait_for_timeout(1000)  # the deck draws after the script run
            page.screenshot(path=ARTIFACTS / "karte_gebietsgruppe.png", full_page=True)
            box = page.locator("canvas").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            tooltip = page.locator(".deck-tooltip").filter(has_text="0306+0307 Sonnenhang und Feldmark (gemeinsam)")
            tooltip.first.wait_for(timeout=15_000)
            assert "Geburten: 95 (gemeinsamer Wert für Sonnenhang und Feldmark)" in tooltip.first.inner_text()
            page.screenshot(path=ARTIFACTS / "karte_gebietsgruppe_tooltip.png", full_page=True)
        finally:
            context.close()
