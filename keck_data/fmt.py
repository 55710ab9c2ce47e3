"""German number formatting for labels, tables and legends."""
from __future__ import annotations

import math
import re

from .privacy import LABEL_MISSING, LABEL_SUPPRESSED

UNIT_GLUED = {"%", "‰"}
INCOMPLETE = "unvollständig"  # how aggregation starts the note of a parent with gaps


def number(value: float | None, decimals: int = 1) -> str:
    """``1234.5`` → ``"1.234,5"``; None/NaN → ``"–"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def count(n: int, one: str, many: str) -> str:
    """``1, "Zeile", "Zeilen"`` → ``"1 Zeile"``; ``1234`` → ``"1.234 Zeilen"``."""
    return f"{number(n, 0)} {one if n == 1 else many}"


def with_unit(value: float | None, decimals: int, unit: str | None) -> str:
    """``12.5, 1, "%"`` → ``"12,5 %"``; counts of people keep the bare number."""
    text = number(value, decimals)
    if not unit or unit in ("Personen",) or text == "–":
        return text
    return f"{text} {unit}"


def difference(value: float | None, decimals: int, unit: str | None) -> str:
    """A signed difference; differences of percentages are percentage points ("+1,2 Pp."), "" when unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    unit = "Pp." if unit == "%" else unit
    return ("+" if value > 0 else "") + with_unit(value, decimals, unit)


def value_text(value: float | None, status: str, decimals: int, unit: str | None, note: str | None = None) -> str:
    """A value as shown anywhere: number with unit, "k. A." or "keine Daten" (with the reason when an
    aggregate is incomplete: "keine Daten (unvollständig: 2 von 48 Gebieten fehlen)")."""
    if status == "suppressed":
        return LABEL_SUPPRESSED
    if status != "ok" or value is None or (isinstance(value, float) and math.isnan(value)):
        why = incomplete(note)
        return f"{LABEL_MISSING} ({why})" if why else LABEL_MISSING
    return with_unit(value, decimals, unit)


def incomplete(note: object) -> str | None:
    """The reason of an incomplete aggregate as shown ("unvollständig: 2 von 48 Gebieten fehlen"), else None."""
    if not isinstance(note, str) or not note.startswith(INCOMPLETE):
        return None
    return re.sub(r"(\d+) von (\d+) Gebieten ohne .*$", r"\1 von \2 Gebieten fehlen", note)
