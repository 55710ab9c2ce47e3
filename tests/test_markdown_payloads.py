"""Reflected and stored Markdown (issue 23, item 2): a search term from the URL, indicator metadata, area and
topic names, a conference note, a bookmark title and a POI name carrying links, remote images, HTML and
Streamlit's own syntax are shown as text on every page, for every role and the public instance."""
import re
import shutil
from datetime import date

import pytest

from keck_data import conference
from keck_data.policy import User, system
from keck_data.publish import publish
from keck_data.safe_text import html_text, safe
from keck_data.warehouse import Warehouse
from keck_data.ui import registry
from tests.test_pages_registry import CASES, open_address

PAYLOAD = ("xyz ![q](http://198.51.100.12/q.png) [Hier neu anmelden](https://evil.example/login) "
           "<img src=http://198.51.100.12/h.png> www.evil.example :red[rot] **fett**")
FOREIGN = ("198.51.100.12", "evil.example")
IMAGES = "Bild: ![q](http://198.51.100.12/q.png) <img src=http://198.51.100.12/h.png>"  # bookmarks keep links


@pytest.fixture(scope="module")
def internal_file(demo_file, tmp_path_factory):
    """The demo with the payload in everything a supplier or user can write and a page shows."""
    path = tmp_path_factory.mktemp("payloads") / "keck.duckdb"
    shutil.copy(demo_file, path)
    with Warehouse(path) as wh:
        cur = wh.cursor()
        cur.execute("UPDATE indicator SET definition = ?, source = ?, interpretation = ?, name = name || ' ' || ? "
                    "WHERE key = 'ew_gesamt'", [PAYLOAD] * 4)
        cur.execute("UPDATE area SET name = name || ' ' || ? WHERE key IN ('0101', '01')", [PAYLOAD])
        cur.execute("UPDATE topic SET name = name || ' ' || ? WHERE key = 'demografie'", [PAYLOAD])
        cur.execute("UPDATE poi SET name = ? WHERE id = (SELECT min(id) FROM poi WHERE public)", [PAYLOAD])
        cur.execute("INSERT INTO bookmark (title, interpretation, view_state, public, owner, created_at) "
                    "VALUES (?, ?, '{\"page\": \"karte\"}', TRUE, 'statistik', now())", [PAYLOAD, IMAGES])
        moderator = User("moderation", "Moderation " + PAYLOAD, "keck_admin")
        sid = conference.start_session(wh, moderator, "Sitzung " + PAYLOAD, date(2026, 12, 4), "sozialraum",
                                       ["0101", "0102"])
        conference.save_note(wh, moderator, sid, "0101", "measure", "Notiz " + PAYLOAD, responsible=PAYLOAD)
    return path


@pytest.fixture(scope="module")
def public_file(internal_file):
    target = internal_file.parent / "public.duckdb"
    with Warehouse(internal_file) as wh:
        publish(wh, target, system())
    return target


def _shown_texts(at):
    """(text, allows HTML) of every element Streamlit renders as Markdown, main area and sidebar."""
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader", "title", "header"):
        for element in getattr(at, kind):
            yield element.value, bool(getattr(element.proto, "allow_html", False))
    for element in at.expander:
        yield element.label, False


def _unescaped(text: str, pattern: str) -> list[str]:
    """Matches of ``pattern`` whose first character is not backslash-escaped (CommonMark)."""
    return [m.group(0) for m in re.finditer(pattern, text)
            if (m.start() - len(text[:m.start()].rstrip("\\"))) % 2 == 0]


def _leaks(text: str, allows_html: bool) -> list[str]:
    """What would become a link or image to a foreign host once rendered: in Markdown an unescaped ``[`` (link,
    image), ``<`` (HTML, autolink), a bare address (GitHub-flavoured autolink) or Streamlit's colour syntax; in an
    HTML block (not parsed as Markdown) an ``<a>``/``<img>`` tag."""
    if not any(host in text for host in FOREIGN):
        return []
    if allows_html:
        return [tag for tag in re.findall(r"<(?:a|img)\b[^>]*>", text) if any(h in tag for h in FOREIGN)]
    return _unescaped(text, r"\[|<|:red|://|(?i:www)\.")


def test_the_escaping_keeps_every_character_readable():
    assert safe(PAYLOAD).replace("\\", "") == PAYLOAD
    assert _leaks(PAYLOAD, False) and not _leaks(safe(PAYLOAD), False)
    assert _unescaped(safe("\\[x](https://evil.example)"), r"\[|://") == []
    assert safe("Zeile 1\n# Zeile 2") == "Zeile 1  \n\\# Zeile 2"
    assert safe("SGB-II-Quote (Anteil, %): ew_gesamt") == "SGB-II-Quote (Anteil, %): ew_gesamt"  # prose unchanged
    assert html_text("<b>a</b>\n\nb") == "&lt;b&gt;a&lt;/b&gt; b"


@pytest.mark.parametrize("mode,role", CASES, ids=[role or mode for mode, role in CASES])
def test_payloads_are_text_on_every_page(app, mode, role):
    at = app(mode, role, q=PAYLOAD, sel="0101", areas="0101,0102", lvl="sozialraum", ind="ew_gesamt")
    if mode == "internal":
        at.query_params["sitzung"] = "1"  # the session's notes in the sidebar
    seen = 0
    for spec in registry.PAGES:
        open_address(at, spec.url_path)
        assert not at.exception, (spec.url_path, [e.value for e in at.exception])
        for text, allows_html in _shown_texts(at):
            assert not _leaks(text, allows_html), (spec.url_path, text)
            seen += "xyz" in text
    assert seen >= 5  # the payloads were shown (as text), not just absent
