"""Barrierefreiheit (BITV 2.0 / WCAG 2.1 AA) of the public instance, checked in Chromium.

axe-core runs on every public page and view state (no violation of any impact); the page says lang="de", has a title
per page and view, and no English text of Streamlit's frontend is shown or read out (keck_data/ui/german.py's
list); the map page works with the keyboard alone and shows where the focus is (>= 3:1).

axe-core comes from the npm registry, installed by scripts/test.sh into tests/.axe (never fetched by a test).
"""
from __future__ import annotations

import json
import re

import pytest

from keck_data.ui.german import TEXTS
from keck_data.ui.registry import PAGES
from tests.browser_support import atlas_server, wait_idle
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
AXE = ROOT / "tests" / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SITE = "Sozialraum-Atlas Musterstadt"
AREAS = "areas=0101,0203,0307"
# every public page and view state: (address, the title the browser tab must show)
VIEWS = [
    ("karte", "Karte: SGB-II-Quote der unter 15-Jährigen 2024"),
    ("karte?sel=0101&poi=kita&ind2=ew_u18", "Karte: SGB-II-Quote der unter 15-Jährigen 2024"),
    ("karte?ind=geburten&lvl=sozialraum&sel=0101&present=1", "Karte: Geburten 2024"),
    ("tabelle", "Tabelle Sozialraum 2024"),
    ("diagramme?chart=column", "Diagramme: Säulendiagramm"),
    ("diagramme?chart=bar&" + AREAS, "Diagramme: Balkendiagramm"),
    ("diagramme?chart=scatter", "Diagramme: Streudiagramm"),
    ("zeitreihe?" + AREAS, "Zeitreihe"),
    ("gebietsvergleich?" + AREAS, "Gebietsvergleich 2024"),
    ("indikatoren", "Indikatoren (57)"),
    ("lesezeichen", "Lesezeichen"),
    ("barrierefreiheit", "Barrierefreiheit: Erklärung zur Barrierefreiheit"),
    ("zusammenhaenge", "Zusammenhänge 2024"),
    ("versorgung", "Versorgung"),
]
ENGLISH = [t for t in TEXTS if len(t) > 4 and t not in ("Zoom",)] + [
    "Help for", "Remove ", "You can only select", "available", "selected.", "is focused", "Use Up and Down"]
ENGLISH_RE = re.compile("|".join([rf"(?<![\w-]){re.escape(t)}(?![\w-])" for t in ENGLISH] + [r"\b\d+ more\b"]))
# every text the accessibility tree can take from an element besides its content
LABELS_JS = """() => Array.from(document.querySelectorAll('[aria-label],[title],[placeholder],[data-title],[alt]'))
  .flatMap(e => ['aria-label', 'title', 'placeholder', 'data-title', 'alt'].map(a => e.getAttribute(a)))
  .filter(Boolean)"""


@pytest.fixture(scope="module")
def public(files):
    """The public instance alone (python -m keck_data.ui.serve, KECK_MODE=public) on the published snapshot."""
    env = {"KECK_MODE": "public", "KECK_PUBLIC_WAREHOUSE": str(files["public"]),
           "KECK_WAREHOUSE": str(files["internal"])}
    with atlas_server(env, files["base"] / "a11y-public.log") as url:
        yield url


@pytest.fixture()
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE}: scripts/test.sh installs it with npm "
                    "(npm install --prefix tests/.axe axe-core)")
    return AXE.read_text(encoding="utf-8")


def open_view(page, url: str) -> None:
    page.goto(url)
    wait_idle(page, timeout=120_000)
    page.wait_for_selector("h1")
    page.wait_for_timeout(800)  # the map and charts finish drawing, the German layer has run


def english_texts(page) -> list[str]:
    """English texts shown (body text) or read out (labels, titles, placeholders, the aria snapshot)."""
    texts = [page.inner_text("body"), page.locator("body").aria_snapshot(), *page.evaluate(LABELS_JS)]
    return sorted({m for t in texts for m in ENGLISH_RE.findall(t)})


def violations(page, axe: str) -> list[str]:
    """axe-core's findings of every impact (critical to minor: heading order is moderate, issue 22 item 4)."""
    page.evaluate(axe)
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations
        .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.failureSummary)
        .join(' | '))""")
    return result


def test_every_public_view_passes_axe_in_german(public, browser, axe_source):
    assert {v.split("?")[0] for v, _ in VIEWS} == {p.url_path for p in PAGES if p.section == "Atlas"}
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    problems = {}
    try:
        for view, title in VIEWS:
            open_view(page, f"{public}/{view}")
            found = {"lang": page.evaluate("document.documentElement.lang"), "title": page.title(),
                     "english": english_texts(page), "axe": violations(page, axe_source)}
            expected = {"lang": "de", "title": f"{title} – {SITE}", "english": [], "axe": []}
            if found != expected:
                problems[view] = {k: v for k, v in found.items() if v != expected[k]}
    finally:
        context.close()
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_opened_controls_speak_german(public, browser):
    """Streamlit's texts that only appear while a list is open: "No results", the limit of a multiselect."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        open_view(page, f"{public}/gebietsvergleich?{AREAS}")
        wait_idle(page)
        page.wait_for_timeout(1500)  # the comparison's first run draws its tables: a rerun would close the list
        page.locator('[data-testid="stMultiSelect"] input').first.click()
        page.keyboard.press("ArrowDown")  # opens the list also where the click only focused the input
        page.wait_for_timeout(1000)
        page.get_by_text("Höchstens 3 auswählbar").filter(visible=True).first.wait_for(timeout=10_000)
        page.keyboard.press("Escape")
        page.locator('[data-testid="stSelectbox"] input').first.click()
        page.keyboard.type("xyzxyz")
        page.get_by_text("Keine Treffer").filter(visible=True).first.wait_for(timeout=10_000)
        page.wait_for_timeout(500)
        assert english_texts(page) == []
    finally:
        context.close()


def contrast(a: tuple, b: tuple) -> float:
    def lum(c):
        ch = [x / 255 for x in c[:3]]
        ch = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]
    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


FOCUS_JS = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  let bg = null;
  for (let n = e.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0)) { bg = c; break; }
  }
  return {tag: e.tagName, label: e.getAttribute('aria-label') || '', text: (e.innerText || '').slice(0, 60),
          outline: rgb(s.outlineColor), width: parseFloat(s.outlineWidth), style: s.outlineStyle,
          bg: bg || [255, 255, 255]};
}"""


def tab_to(page, wanted, limit: int = 80) -> dict:
    """Press Tab until the focused element matches ``wanted(focus)``; every stop must show a visible focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_JS)
        if focus["tag"] != "BODY":
            assert focus["style"] != "none" and focus["width"] >= 2, focus
            assert contrast(focus["outline"], focus["bg"]) >= 3, focus
        if wanted(focus):
            return focus
    raise AssertionError("not reachable with the keyboard")


def test_map_page_with_the_keyboard_alone(public, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        open_view(page, f"{public}/karte")
        for label, typed, param in [("Themenfeld", "Bildung", "topic=bildung"),
                                    ("Indikator", "Anteil Schulanfänger mit Sprach", "ind=quote_sprachfoerderbedarf"),
                                    ("Jahr", "2019", "yr=2019"), ("Gebiet auswählen", "Marktplatz", "sel=0101")]:
            tab_to(page, lambda f, label=label: f["label"].startswith(label))
            page.keyboard.type(typed)
            page.wait_for_timeout(300)  # the filtered list re-renders
            page.keyboard.press("Enter")
            wait_idle(page)
            page.wait_for_function(f"() => location.search.includes('{param}')", timeout=15_000)
        page.get_by_text("Profil: 0101 Marktplatz").wait_for()
        page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
        tab_to(page, lambda f: "Als Tabelle anzeigen" in f["text"])
        summary = page.locator(".keck-summary").inner_text()
        assert summary.startswith("Höchste Werte:") and "niedrigste:" in summary
        page.keyboard.press("Enter")
        page.locator('[data-testid="stTable"]').first.wait_for()
        name = page.locator(".st-key-karte_map").get_attribute("aria-label")
        assert name.startswith("Karte: Anteil Schulanfänger mit Sprachförderbedarf 2019")
    finally:
        context.close()


WALL = {"width": 1280, "height": 720}
# own text of visible elements in the main area and the top bar: size, and whether the QR corner covers it
WALL_TEXTS_JS = """() => {
  const share = document.querySelector('.keck-share').getBoundingClientRect();
  const roots = [document.querySelector('[data-testid="stMain"]')];
  const out = [];
  for (const root of roots) for (const e of [root, ...root.querySelectorAll('*')]) {
    if (e.closest('.keck-share, [data-testid="stIconMaterial"], .modebar, [data-testid="stHtml"]')) continue;
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    if (!r.width || !r.height || s.visibility === 'hidden' || r.bottom < 0 || r.top > innerHeight) continue;
    const covered = r.right > share.left && r.left < share.right && r.bottom > share.top && r.top < share.bottom;
    out.push({text: e.textContent.trim().slice(0, 40), px: parseFloat(s.fontSize), covered});
  }
  return out;
}"""


@pytest.mark.parametrize("view", [v for v, _ in VIEWS if v.split("?")[0] not in ("lesezeichen",)])
def test_projector_every_page_with_an_area(public, browser, view):
    """1280×720, presentation mode, an area selected: on the map page the map and the area's name on the
    screen; on every page nothing under the QR corner and no text under 20 px."""
    context = browser.new_context(viewport=WALL)
    page = context.new_page()
    try:
        join = "&" if "?" in view else "?"
        open_view(page, f"{public}/{view}{join}present=1&sel=0101&areas=0101")
        texts = page.evaluate(WALL_TEXTS_JS)
        small = [t for t in texts if t["px"] < 20]
        covered = [t for t in texts if t["covered"]]
        assert not small and not covered, {"small": small, "covered": covered}
        if view.startswith("karte"):
            canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.bounding_box()
            assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= WALL["height"] + 1, canvas
            chosen = page.locator(".keck-selected").bounding_box()
            assert chosen["y"] + chosen["height"] <= WALL["height"] and "0101 Marktplatz" in page.locator(
                ".keck-selected").inner_text()
    finally:
        context.close()


def test_follow_bar_is_not_under_the_page_header(public, files, browser):
    """Issue 22, item 8: at 1366×768 the live session's follow bar sat half under Streamlit's header."""
    from keck_data import session_mirror

    session_mirror.write(files["public"], 41, "Offene Konferenz Mitte", 1,
                         {"page": "karte", "ind": "anteil_alleinerziehend", "yr": "2019", "lvl": "sozialraum"},
                         {"anteil_alleinerziehend"})
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        open_view(page, f"{public}/?sitzung=41")
        bar = page.get_by_text("Sie folgen der Sitzung „Offene Konferenz Mitte“").first.bounding_box()
        header = page.locator('[data-testid="stHeader"]').bounding_box()
        assert bar["y"] >= header["y"] + header["height"], (bar, header)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}], ids=["1366"])
def test_comparison_tables_and_chips_are_not_cut(public, browser, viewport):
    """Issue 22, item 11: the Δ columns beyond the right edge, chips cut to "Arbeitslosenan…"."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        open_view(page, f"{public}/gebietsvergleich?areas=0101,0203,0307")
        page.locator('[data-testid="stTable"]').filter(visible=True).first.wait_for()  # not the chart's data table
        edges = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stTable"] table')]
            .map(t => t.getBoundingClientRect().right)""")
        assert edges and max(edges) <= viewport["width"], edges
        open_view(page, f"{public}/tabelle?inds=arbeitslosenanteil,sgb2_quote_u15,anteil_alleinerziehend")
        chips = page.evaluate("""() => [...document.querySelectorAll('[data-tag] > span')]
            .map(s => [s.textContent, s.scrollWidth <= s.clientWidth + 1])""")
        assert len(chips) == 3 and all(whole for _, whole in chips), chips
    finally:
        context.close()


def test_tabelle_on_a_phone_shows_a_value_beside_the_names(public, browser):
    """Issue 22, item 11: at 390 px the key and name columns took the whole width, every value column was off
    the screen. The name is pinned, the key narrow: the first value column starts on the screen."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_view(page, f"{public}/tabelle?inds=sgb2_quote_u15,anteil_alleinerziehend")
        grid = page.locator('[data-testid="stDataFrame"]').nth(1)
        grid.wait_for()
        headers = grid.locator('[role="columnheader"]')  # the grid lists the columns on the screen

        def shown() -> list[str]:
            return [headers.nth(i).inner_text().strip() for i in range(headers.count())]
        assert "Gebiet" in shown() and any(h.startswith("SGB-II-Quote") for h in shown()), shown()
        box = grid.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 60)
        page.mouse.wheel(800, 0)  # the values scroll sideways, the names stay
        page.wait_for_timeout(800)
        assert "Gebiet" in shown() and any(h.startswith("Anteil Alleinerziehender") for h in shown()), shown()
    finally:
        context.close()


def test_an_unknown_address_is_answered_in_german(public, browser):
    """Streamlit's "Page not found" dialog said "The page that you have requested does not seem to exist.
    Running the app's main page." (fresh-eyes walk)."""
    page = browser.new_page()
    try:
        page.goto(f"{public}/anmeldung")
        page.get_by_text("Diese Seite gibt es nicht. Die Startseite wird geöffnet.").first.wait_for(timeout=60_000)
        assert not english_texts(page), english_texts(page)
    finally:
        page.close()
