"""The "Erklärung zur Barrierefreiheit" (BITV 2.0, § 12b BGG): its text with this deployment's contact."""
from __future__ import annotations

import re
from pathlib import Path

from .config import Settings

STATEMENT = Path(__file__).parent / "texts" / "erklaerung_barrierefreiheit.md"
REVIEWED = "04.12.2026"  # date of the last self-assessment (README: "Erklärung zur Barrierefreiheit")
FEDERAL_BODY = ("Schlichtungsstelle nach dem Behindertengleichstellungsgesetz (BGG) beim Beauftragten der "
                "Bundesregierung für die Belange von Menschen mit Behinderungen, Mauerstraße 53, 10117 Berlin, "
                "www.schlichtungsstelle-bgg.de – für Einrichtungen der Länder und Kommunen ist die "
                "Durchsetzungsstelle des jeweiligen Landes zuständig.")
MISSING_CONTACT = ("Die Kontaktadresse ist noch nicht eingetragen. Bitte wenden Sie sich bis dahin an die "
                   "allgemeine Kontaktadresse der Verwaltung {municipality}.")


def statement(municipality: str, s: Settings) -> tuple[str, bool]:
    """(the statement as Markdown, whether the feedback contact is configured: KECK_A11Y_CONTACT)."""
    contact = s.accessibility_contact or MISSING_CONTACT.format(municipality=municipality)
    text = STATEMENT.read_text(encoding="utf-8").format(
        municipality=municipality, reviewed=REVIEWED, contact=_linked(contact),
        enforcement=s.accessibility_enforcement or FEDERAL_BODY)
    return text, s.accessibility_contact is not None


def _linked(contact: str) -> str:
    """E-mail addresses in the contact become mailto links."""
    return re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", lambda m: f"[{m[0]}](mailto:{m[0]})", contact)
