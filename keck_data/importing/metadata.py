"""Indicator metadata for imports: read a metadata sheet/CSV and check the mandatory fields."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import ValidationError
from .files import check_file, read_excel, read_table

REQUIRED = ["key", "name", "topic", "unit", "definition", "calculation", "source", "reference_date", "kind"]
LABELS = {"key": "Schlüssel", "name": "Name", "topic": "Themenfeld", "unit": "Einheit", "definition": "Definition",
          "calculation": "Berechnung", "source": "Quelle", "reference_date": "Stichtag", "kind": "Art"}
KINDS = {"count": "sum", "rate": "ratio", "mean": "weighted_mean", "index": "none"}


def read_metadata(path: str | Path) -> pd.DataFrame:
    """A metadata CSV, or the sheet "Metadaten" of a workbook (else its first sheet)."""
    path = check_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = read_excel(path, "*")
        frame = sheets.get("Metadaten", next(iter(sheets.values())))
    else:
        frame, _ = read_table(path)
    frame.columns = [c.strip().lower() for c in frame.columns]
    return frame


def validate(meta: pd.DataFrame, keys: list[str], topics: dict[str, str]) -> list[dict]:
    """Indicator dicts for ``keys``; a ValidationError names every missing indicator or field."""
    missing_cols = [c for c in REQUIRED if c not in meta.columns]
    if missing_cols:
        raise ValidationError("Der Metadaten-Datei fehlen die Spalten: "
                              + ", ".join(f"{LABELS[c]} ({c})" for c in missing_cols) + ".")
    rows = meta.set_index(meta["key"].astype(str).str.strip())
    problems, out = [], []
    for key in keys:
        if key not in rows.index:
            problems.append(f"„{key}“: keine Metadaten-Zeile")
            continue
        row = rows.loc[key]
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        empty = [LABELS[c] for c in REQUIRED if not str(row.get(c, "")).strip()]
        if empty:
            problems.append(f"„{key}“: Pflichtfelder fehlen: {', '.join(empty)}")
            continue
        kind = str(row["kind"]).strip().lower()
        if kind not in KINDS:
            problems.append(f"„{key}“: Art „{row['kind']}“ unbekannt (count, rate, mean oder index)")
            continue
        ind = {c: str(row[c]).strip() for c in REQUIRED}
        ind["kind"] = kind
        topic = ind["topic"]
        ind["topic"] = topic if topic in topics else next((k for k, n in topics.items() if n == topic),
                                                          _slug(topic))
        for opt in ("interpretation", "data_owner", "update_cycle", "numerator", "denominator", "weight",
                    "polarity", "decimals", "aggregation"):
            if opt in row.index and str(row[opt]).strip():
                ind[opt] = str(row[opt]).strip()
        ind.setdefault("aggregation", KINDS[kind])
        ind.setdefault("polarity", "neutral")
        ind["decimals"] = int(float(ind.get("decimals", 0 if kind == "count" else 1)))
        if ind["aggregation"] == "ratio" and not (ind.get("numerator") and ind.get("denominator")):
            problems.append(f"„{key}“: eine Quote braucht Zähler (numerator) und Nenner (denominator)")
            continue
        if ind["aggregation"] == "weighted_mean" and not ind.get("weight"):
            ind["aggregation"] = "none"
        ind["topic_name"] = topic
        out.append(ind)
    if problems:
        raise ValidationError("Neue Indikatoren brauchen vollständige Metadaten: " + "; ".join(problems) + ".")
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
                  .replace("ß", "ss")).strip("_") or "thema"
