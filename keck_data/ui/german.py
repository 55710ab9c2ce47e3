"""Streamlit's frontend in German: ``<html lang="de">``, a title per page and view, and its English texts
(visible ones and those only read out: aria-label, title, placeholder, plotly's toolbar) translated.

Streamlit has no setting for any of these. One small script, sent with ``st.html`` on every run (the browser
runs it when its text changes, i.e. on the first run and when the page changes), sets the language, keeps the
document title at "<Seite>: <Überschrift> – Sozialraum-Atlas <Gemeinde>" and translates every English text
of the list below as soon as Streamlit draws it (a MutationObserver). It works however the atlas was started.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json

import streamlit as st

# Streamlit's (and plotly's) English texts as they appear in the page → German. The browser test checks that
# none of these keys is left in the page or its accessibility tree.
TEXTS = {
    "Skip to main content": "Zum Hauptinhalt springen",
    "Main menu": "Hauptmenü",
    "Expand sidebar": "Seitenleiste öffnen",
    "Collapse sidebar": "Seitenleiste schließen",
    "Sidebar": "Seitenleiste",
    "App pages": "Seiten des Atlas",
    "Navigate to home page": "Zur Startseite",
    "Open": "Öffnen",
    "Close": "Schließen",
    "Clear all": "Alle entfernen",
    "Clear value": "Auswahl entfernen",
    "Selected values": "Ausgewählt",
    "All selected options have been cleared.": "Alle Auswahlen entfernt.",
    "Help": "Hilfe",
    "Link to heading": "Link zu dieser Überschrift",
    "Fullscreen": "Vollbild",
    "Close fullscreen": "Vollbild beenden",
    "Exit fullscreen": "Vollbild beenden",
    "Download as CSV": "Als CSV herunterladen",
    "Search": "Suchen",
    "Close Search": "Suche schließen",
    "Previous Result": "Vorheriger Treffer",
    "Next Result": "Nächster Treffer",
    "Show/hide columns": "Spalten ein-/ausblenden",
    "Dataframe column menu": "Spaltenmenü",
    "Copy column name": "Spaltenname kopieren",
    "Choose an option": "Bitte auswählen",
    "Choose options": "Bitte auswählen",
    "Select...": "Auswählen …",
    "No results": "Keine Treffer",
    "Running...": "Wird berechnet …",
    "Stop": "Anhalten",
    "Stop script": "Berechnung anhalten",
    "Rerun": "Neu laden",
    "Deploy": "Veröffentlichen",
    "Notifications": "Hinweise",
    "Increment": "Erhöhen",
    "Decrement": "Verringern",
    "Show password": "Passwort anzeigen",
    "Hide password": "Passwort verbergen",
    "Choose date": "Datum wählen",
    "Clear date": "Datum entfernen",
    "Previous month": "Vorheriger Monat",
    "Next month": "Nächster Monat",
    "dd.mm.yyyy": "TT.MM.JJJJ",
    "DD.MM.YYYY": "TT.MM.JJJJ",
    "Previous page": "Vorherige Seite",
    "Next page": "Nächste Seite",
    "Pagination": "Seiten",
    "Scroll tabs left": "Reiter nach links",
    "Scroll tabs right": "Reiter nach rechts",
    "Add files": "Dateien hinzufügen",
    "Browse files": "Datei auswählen",
    "file upload": "Datei hochladen",
    "Press Enter to apply": "Mit Enter übernehmen",
    "Press Enter to submit form": "Mit Enter absenden",
    "Page not found": "Seite nicht gefunden",
    "The page that you have requested does not seem to exist. Running the app's main page.":
        "Diese Seite gibt es nicht. Die Startseite wird geöffnet.",
    # plotly's chart toolbar
    "Download plot as a PNG": "Diagramm als PNG herunterladen",
    "Download plot as a png": "Diagramm als PNG herunterladen",
    "Download plot": "Diagramm herunterladen",
    "Zoom": "Zoomen",
    "Pan": "Verschieben",
    "Box Select": "Rechteckauswahl",
    "Lasso Select": "Lassoauswahl",
    "Zoom in": "Vergrößern",
    "Zoom out": "Verkleinern",
    "Autoscale": "Automatisch skalieren",
    "Reset axes": "Achsen zurücksetzen",
    "Reset view": "Ansicht zurücksetzen",
    "Toggle Spike Lines": "Hilfslinien ein/aus",
    "Show closest data on hover": "Nächsten Wert anzeigen",
    "Compare data on hover": "Werte vergleichen",
    "Produced with Plotly.js": "Erstellt mit Plotly.js",
    "Double-click to zoom back out": "Doppelklick: zurück zur Gesamtansicht",
    "Click to enter Colorscale title": "",
    "Click to enter Plot title": "",
    # deck.gl / the map widget
    "Enter fullscreen": "Vollbild",
    "Zoom In": "Vergrößern",
    "Zoom Out": "Verkleinern",
    "Reset North": "Nach Norden ausrichten",
}
# texts with a part that varies (regular expressions for JavaScript; $1 … are the parts)
PATTERNS = [
    (r"^Help for (.+)$", "Hilfe zu $1"),
    (r"^Remove (.+)$", "$1 entfernen"),
    (r"^You can only select up to (\d+) options?\. Remove an option first\.$",
     "Höchstens $1 auswählbar. Bitte zuerst eine Auswahl entfernen."),
    (r"^Page (\d+)$", "Seite $1"),
    (r"^(\d+) more$", "Weitere Seiten ($1)"),  # the top navigation's overflow menu
    # the select boxes' announcements to screen readers (an aria-live region)
    (r"^(\d+) (?:results?|options?) available for search term (.+)\.$", "$1 Treffer für „$2“."),
    (r"^(\d+) (?:results?|options?) available\.?$", "$1 Treffer."),
    (r"^Use Up and Down to choose options.*$", "Pfeil hoch und runter wählen eine Option, Enter übernimmt sie, "
                                               "Escape schließt die Liste."),
    (r"^Use left and right to toggle between focused values.*$", "Pfeil links und rechts wechseln zwischen den "
                                                                 "Auswahlen, die Rücktaste entfernt eine."),
    (r"^(.*) is focused ,?(?:type to refine list)?, press Down to open the menu,.*$",
     "$1: tippen filtert, Pfeil runter öffnet die Liste."),
    (r"^options? (.+), selected\.$", "Ausgewählt: $1."),
    (r"^option (.+), deselected\.$", "Entfernt: $1."),
    (r"^option (.+) is disabled\. Select another option\.$", "$1 ist nicht wählbar."),
    (r"^value (.+) focused, (\d+) of (\d+)\.$", "Auswahl $1, $2 von $3."),
    (r"^(.+?)(?: selected)?(?: disabled)?, (\d+) of (\d+)\.$", "$1, $2 von $3."),
    (r"^Upload (.+)$", "$1 hochladen"),
]
ATTRIBUTES = ["aria-label", "title", "placeholder", "data-title", "alt", "aria-placeholder", "aria-roledescription"]

SCRIPT = """<script>
(() => {
  const cfg = %(cfg)s;
  window.__keckGerman = window.__keckGerman || {};
  document.documentElement.lang = "de";
  if (window.__keckGerman.observer) { window.__keckGerman.retitle(); window.__keckGerman.nameAll(); return; }
  const texts = cfg.texts, patterns = cfg.patterns.map(([re, to]) => [new RegExp(re), to]);
  const german = (s) => {
    const t = s.trim();
    if (!t) return null;
    if (Object.prototype.hasOwnProperty.call(texts, t)) return s.replace(t, texts[t]);
    for (const [re, to] of patterns) if (re.test(t)) return s.replace(t, t.replace(re, to));
    return null;
  };
  const attrs = cfg.attributes;
  const fix = (el) => {
    for (const a of attrs) {
      const v = el.getAttribute && el.getAttribute(a);
      if (v) { const g = german(v); if (g !== null && g !== v) el.setAttribute(a, g); }
    }
    if (el.tagName === "INPUT" && el.type === "button" && el.value) {
      const g = german(el.value); if (g !== null) el.value = g;
    }
  };
  const fixText = (node) => {
    const p = node.parentNode;
    if (!p || p.nodeName === "SCRIPT" || p.nodeName === "STYLE") return;
    const g = german(node.nodeValue);
    if (g !== null && g !== node.nodeValue) node.nodeValue = g;
  };
  const walk = (root) => {
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1) return;
    fix(root);
    root.querySelectorAll("*").forEach(fix);
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) fixText(n);
  };
  const nameAll = () => {
    for (const tag of document.querySelectorAll(".keck-name")) {
      const label = tag.dataset.label, el = document.querySelector("." + tag.dataset.key);
      if (el && el.getAttribute("aria-label") !== label) {
        el.setAttribute("role", "figure");
        el.setAttribute("aria-label", label);
      }
    }
  };
  window.__keckGerman.nameAll = nameAll;
  const retitle = () => {
    const tags = document.querySelectorAll(".keck-german"), tag = tags[tags.length - 1];
    if (!tag) return;
    const k = {page: tag.dataset.page, site: tag.dataset.site};
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    const heading = h1 ? h1.textContent.trim() : "";
    const view = !heading || heading === k.page ? k.page
      : heading.startsWith(k.page) ? heading : k.page + ": " + heading;
    const wanted = view + " – " + k.site;
    if (document.title !== wanted) document.title = wanted;
    if (document.documentElement.lang !== "de") document.documentElement.lang = "de";
  };
  window.__keckGerman.retitle = retitle;
  let pending = false;
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "attributes") fix(r.target);
      else if (r.type === "characterData") fixText(r.target);
      else r.addedNodes.forEach(walk);
    }
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; retitle(); nameAll(); }); }
  });
  observer.observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                              attributes: true, attributeFilter: attrs.concat(["lang"])});
  window.__keckGerman.observer = observer;
  walk(document.body);
  retitle();
})();
</script>"""


def install(page_title: str, site: str) -> None:
    """On every run: the browser tab's title for the page (the view's heading is added in the browser) and the
    translation script (run by the browser once per page; it keeps watching while the page changes). The script
    is the same on every page (its hash is in the Content-Security-Policy of ``deploy/nginx.conf``); what varies
    (page title, names of maps and charts) travels in hidden elements it reads."""
    st.set_page_config(page_title=f"{page_title} – {site}")
    st.html(f'<div class="keck-german" data-page="{html.escape(page_title)}" data-site="{html.escape(site)}" '
            'hidden></div>')
    st.html(FIXED_SCRIPT, unsafe_allow_javascript=True)


def name(key: str, label: str) -> None:
    """Give the container ``st.container(key=key)`` the role figure and an accessible name (a map or chart
    is a canvas or SVG without one)."""
    st.html(f'<div class="keck-name" data-key="st-key-{html.escape(key)}" data-label="{html.escape(label)}" '
            'hidden></div>')


# "</" cannot end the script early: json.dumps leaves "/" alone, so escape it
FIXED_SCRIPT = SCRIPT % {"cfg": json.dumps({"texts": TEXTS, "patterns": PATTERNS, "attributes": ATTRIBUTES},
                                           ensure_ascii=False).replace("</", "<\\/")}
SCRIPT_HASH = "sha256-" + base64.b64encode(
    hashlib.sha256(FIXED_SCRIPT.removeprefix("<script>").removesuffix("</script>").encode()).digest()).decode()
