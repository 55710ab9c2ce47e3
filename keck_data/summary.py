"""Text alternatives of the map and charts: a German summary sentence and a plain value table.

Read from the values a page already shows (privacy applied): "k. A." stays "k. A.".
"""
from __future__ import annotations

import pandas as pd

from .privacy import LABEL_MISSING, LABEL_SUPPRESSED

SHOWN = 3  # areas named at the top and at the bottom


def sentence(values: pd.DataFrame, polarity: str | None = None) -> str:
    """"Höchste Werte: A (12,5 %), B (11,0 %), C (9,8 %); niedrigste: …; k. A.: 7 Gebiete; keine Daten: 2 Gebiete."

    ``values``: key, name, value, status, text (Atlas.level_values). Ties are broken by area key so the sentence
    is the same on every run; ``polarity`` "high_good"/"high_bad" adds which end is favourable.
    """
    shown = values[values["status"] == "ok"].sort_values(["value", "key"], ascending=[False, True])
    parts = []
    if shown.empty:
        parts.append("Keine Werte")
    else:
        top = shown.head(SHOWN)
        bottom = shown.drop(top.index).sort_values(["value", "key"]).head(SHOWN)
        parts.append("Höchste Werte: " + _names(top) + _judged(polarity, high=True))
        if len(bottom):
            parts.append("niedrigste: " + _names(bottom) + _judged(polarity, high=False))
    for status, label in (("suppressed", LABEL_SUPPRESSED), ("missing", LABEL_MISSING)):
        n = int((values["status"] == status).sum())
        if n:
            parts.append(f"{label}: {n} {'Gebiet' if n == 1 else 'Gebiete'}")
    return "; ".join(parts) + "."


def _names(rows: pd.DataFrame) -> str:
    return ", ".join(f"{name} ({text})" for name, text in zip(rows["name"], rows["text"]))


def _judged(polarity: str | None, high: bool) -> str:
    if polarity not in ("high_good", "high_bad"):
        return ""
    return " (günstig)" if (polarity == "high_good") == high else " (ungünstig)"


def value_table(values: pd.DataFrame, value_title: str) -> pd.DataFrame:
    """Areas and their value texts, highest first, then k. A. and keine Daten (for an HTML table)."""
    order = values.assign(_rank=values["status"].map({"ok": 0, "suppressed": 1}).fillna(2))
    order = order.sort_values(["_rank", "value", "key"], ascending=[True, False, True])
    return pd.DataFrame({"Gebiet": order["name"].to_numpy(), value_title: order["text"].to_numpy()})
