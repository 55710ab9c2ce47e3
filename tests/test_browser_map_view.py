"""The map and the page's scrolling in Chromium (issue 22, item 14): the mouse wheel over the map scrolls the
page and leaves the map as it was; "Vergrößern" zooms and stays zoomed when an area is selected; "Gesamtansicht"
(the whole town) brings back the first view."""
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image, ImageChops

from tests.browser_support import choose, wait_idle

pytestmark = pytest.mark.browser
SCROLLED = """() => Math.max(window.scrollY, ...[...document.querySelectorAll('*')].map(e => e.scrollTop))"""


def param(page, name: str) -> str | None:
    return parse_qs(urlsplit(page.url).query).get(name, [None])[0]


def _map(page) -> Image.Image:
    """The map's middle band (the page header may cover its top edge after scrolling)."""
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + box["height"] / 2)  # beside the town: no tooltip, no highlight
    page.wait_for_timeout(800)  # deck.gl draws on the next animation frames
    shot = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    return shot.crop((0, 80, shot.width, shot.height - 80))


def _changed(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ."""
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 24 else 0)
    return diff.histogram()[255] / (a.width * a.height)


def test_wheel_scrolls_the_page_double_click_zooms_and_reset_returns(servers, page):
    page.goto(servers["public"] + "/karte?lvl=sozialraum")
    wait_idle(page, timeout=120_000)
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(timeout=60_000)
    canvas.scroll_into_view_if_needed()
    first = _map(page)
    box = canvas.bounding_box()
    before = page.evaluate(SCROLLED)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(800)
    assert page.evaluate(SCROLLED) > before  # the page moved
    canvas.scroll_into_view_if_needed()
    assert _changed(first, _map(page)) < 0.01  # the map did not zoom

    page.get_by_role("button", name="Vergrößern").click()
    wait_idle(page)
    zoomed = _map(page)
    assert _changed(first, zoomed) > 0.05, "the zoom button did not zoom"
    page.get_by_role("button", name="Vergrößern").click()
    wait_idle(page)
    closer = _map(page)
    assert _changed(zoomed, closer) > 0.05, "a second step did not zoom further"
    choose(page, "Gebiet auswählen (oder in der Karte anklicken)", "0203 Lindenhof")
    assert param(page, "sel") == "0203"
    assert _changed(first, _map(page)) > 0.05  # still zoomed in (on the selected area), not the whole town

    page.get_by_role("button", name="Gesamtansicht").click()
    wait_idle(page)
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    assert _changed(first, _map(page)) < 0.01  # the first view again
