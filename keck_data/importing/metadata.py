"""Indicator metadata for imports: German or English headers, inline definitions from the wizard, guessed
defaults for a new indicator, the downloadable template, and the check of the mandatory fields."""
from __future__ import annotations

import difflib
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd

from ..errors import ValidationError
from .files import check_file, read_excel, read_table

REQUIRED = ["key", "name", "topic", "unit", "definition", "calculation", "source", "reference_date", "kind"]
OPTIONAL = ["numerator", "denominator", "weight", "interpretation", "data_owner", "update_cycle", "polarity",
            "decimals", "aggregation", "privacy"]
LABELS = {"key": "Schlüssel", "name": "Name", "topic": "Themenfeld", "unit": "Einheit", "definition": "Definition",
          "calculation": "Berechnung", "source": "Quelle", "reference_date": "Stichtag", "kind": "Art",
          "numerator": "Zähler", "denominator": "Nenner", "weight": "Gewicht", "interpretation": "Interpretation",
          "data_owner": "Datenhalter", "update_cycle": "Aktualisierung", "polarity": "Polarität",
          "decimals": "Nachkommastellen", "aggregation": "Aggregation", "privacy": "Geheimhaltung"}
HEADERS = {v.lower(): k for k, v in LABELS.items()} | {k: k for k in LABELS} | {
    "indikator": "key", "kennung": "key", "bezeichnung": "name", "thema": "topic", "art des indikators": "kind",
    "formel": "calculation", "berechnungsweise": "calculation", "datenquelle": "source", "hinweise": "interpretation",
    "interpretationshinweise": "interpretation", "aktualisierungszyklus": "update_cycle", "dezimalstellen": "decimals"}
KINDS = {"count": "sum", "rate": "ratio", "mean": "weighted_mean", "index": "none", "share": "none"}
KIND_NAMES = {"count": "Anzahl", "rate": "Quote", "mean": "Mittelwert", "index": "Index",
              "share": "Anteil (geliefert)"}
KIND_WORDS = {v.lower(): k for k, v in KIND_NAMES.items()} | {k: k for k in KINDS} | {
    "anteil": "rate", "durchschnitt": "mean", "summe": "count", "anteil geliefert": "share",
    "geliefert": "share", "delivered share": "share"}
# Geheimhaltung: "threshold" = the town's threshold applies (default), "none" = no personal data (dwellings,
# doctors, schools) or already anonymised by the supplier – such cells are public for the disclosure control
PRIVACY_NAMES = {"threshold": "Schwelle", "none": "keine"}
PRIVACY_HELP = {"threshold": "Schwelle (kleine Fallzahlen werden „k. A.“)",
                "none": "keine (keine Personendaten oder schon anonymisiert geliefert)"}
_PRIVACY_WORDS = {v.lower(): k for k, v in PRIVACY_NAMES.items()} | {k: k for k in PRIVACY_NAMES} | {"": "threshold"}
CALCULATIONS = {"count": "Anzahl", "rate": "Zähler / Nenner × 100", "mean": "Durchschnitt",
                "index": "Index laut Quelle", "share": "Anteil laut Quelle"}
POLARITIES = {"hoch ist gut": "high_good", "hoch ist schlecht": "high_bad", "neutral": "neutral"}
HELP = ("Metadaten-Datei (CSV oder XLSX, Blatt „Metadaten“), eine Zeile je neuem Indikator, Kopfzeile deutsch "
        "oder englisch. Pflicht: Schlüssel (key), Name (name), Themenfeld (topic), Einheit (unit), "
        "Art (kind: Anzahl/Quote/Mittelwert/Index/Anteil (geliefert)), Definition, Berechnung (calculation), "
        "Quelle (source), "
        "Stichtag (reference_date). Für Quoten zusätzlich Zähler (numerator) und Nenner (denominator) – "
        "Schlüssel vorhandener oder ebenfalls neuer Indikatoren. Optional: Gewicht (weight, für Mittelwerte), "
        "Interpretation, Datenhalter, Aktualisierung, Polarität (hoch ist gut / hoch ist schlecht / neutral), "
        "Nachkommastellen, Geheimhaltung (Schwelle = Standard / keine = keine Personendaten oder schon "
        "anonymisiert geliefert).")


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names mapped to the English field names (German headers such as "Themenfeld" accepted;
    unknown headers keep their text)."""
    return frame.rename(columns=lambda c: HEADERS.get(str(c).strip().lower(), str(c).strip()))


def unknown_headers(frame: pd.DataFrame) -> list[str]:
    """A German warning for every header of a metadata file that is no field, with the nearest known one:
    "Spalte „Themnfeld“ der Metadaten ist unbekannt und wird ignoriert – gemeint „Themenfeld“?"."""
    out = []
    for col in frame.columns:
        if col in LABELS:
            continue
        near = difflib.get_close_matches(str(col).lower(), list(HEADERS), n=1, cutoff=0.6)
        guess = f" – gemeint „{LABELS[HEADERS[near[0]]]}“?" if near else (
            " (bekannt: " + ", ".join(LABELS[c] for c in REQUIRED + OPTIONAL) + ")")
        out.append(f"Spalte „{col}“ der Metadaten ist unbekannt und wird ignoriert{guess}")
    return out


def read_metadata(path: str | Path) -> pd.DataFrame:
    """A metadata CSV, or the sheet "Metadaten" of a workbook (else its first sheet)."""
    path = check_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = read_excel(path, "*")
        frame = sheets.get("Metadaten", next(iter(sheets.values())))
    else:
        frame, _ = read_table(path)
    return normalise(frame)


def validate(meta: pd.DataFrame, keys: list[str], topics: dict[str, str], existing: set[str] = frozenset()
             ) -> list[dict]:
    """Indicator dicts for ``keys``; a ValidationError names every missing indicator or field.

    ``existing``: indicator keys already in the warehouse (a rate's numerator and denominator must be
    among them or among ``keys``).
    """
    meta = normalise(meta)
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
        empty = [LABELS[c] for c in REQUIRED if not cell_text(row.get(c))]
        if empty:
            problems.append(f"„{key}“: Pflichtfelder fehlen: {', '.join(empty)}")
            continue
        kind = KIND_WORDS.get(cell_text(row["kind"]).lower())
        if kind is None:
            problems.append(f"„{key}“: Art „{row['kind']}“ unbekannt (Anzahl, Quote, Mittelwert, Index oder "
                            "Anteil (geliefert))")
            continue
        privacy = _PRIVACY_WORDS.get(cell_text(row.get("privacy")).lower())
        if privacy is None:
            problems.append(f"„{key}“: Geheimhaltung „{row['privacy']}“ unbekannt (Schwelle oder keine)")
            continue
        ind = {c: cell_text(row[c]) for c in REQUIRED} | {"kind": kind}
        topic = ind["topic"]
        ind["topic"] = topic if topic in topics else next((k for k, n in topics.items() if n == topic), slug(topic))
        ind |= {opt: cell_text(row[opt]) for opt in OPTIONAL if opt in row.index and cell_text(row[opt])}
        ind.setdefault("aggregation", KINDS[kind])
        ind["privacy"] = privacy
        if kind == "share":  # a delivered percentage is never aggregated nor split into counts
            ind["aggregation"] = "none"
        ind["polarity"] = POLARITIES.get(ind.get("polarity", "neutral").lower(), ind.get("polarity", "neutral"))
        ind["decimals"] = int(float(str(ind.get("decimals", 0 if kind == "count" else 1)).replace(",", ".")))
        if ind["aggregation"] == "ratio":
            parts = [ind.get("numerator"), ind.get("denominator")]
            if not all(parts):
                problems.append(f"„{key}“: eine Quote braucht Zähler (numerator) und Nenner (denominator)")
                continue
            unknown = [p for p in parts if p not in existing and p not in keys]
            if unknown:
                problems.append(f"„{key}“: Zähler/Nenner {', '.join(f'„{p}“' for p in unknown)} gibt es nicht – "
                                "bitte zuerst als Indikator anlegen oder mit importieren")
                continue
        if ind["aggregation"] == "weighted_mean" and not ind.get("weight"):
            ind["aggregation"] = "none"
        ind["topic_name"] = topic
        out.append(ind)
    if problems:
        raise ValidationError("Neue Indikatoren brauchen vollständige Metadaten: " + "; ".join(problems) + ".")
    return out


def cell_text(value) -> str:
    """A metadata cell as text ("" for empty, NaN or NA)."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def guess(label: str, description: str = "", source: str = "", date: str = "") -> dict:
    """Defaults for a new indicator from its column: name, key, unit and kind from the column name, the
    definition from the description row, the source from the footnotes, the reference date from the header."""
    low = label.lower()
    if re.search(r"%|anteil|quote|rate\b", low):
        kind, unit = "rate", "%"
    elif re.search(r"durchschnitt|mittel|median|je einw|pro kopf", low):
        kind, unit = "mean", ""
    elif "index" in low:
        kind, unit = "index", "Indexpunkte"
    else:
        kind, unit = "count", "Personen" if re.search(r"einwohner|kinder|personen|jugendliche|bevölk", low) else ""
    name = re.sub(r"\s*\((%|in %|anzahl)\)\s*", " ", label).strip()
    calculation = CALCULATIONS[kind]
    quelle = next((re.sub(r"^quelle\s*:\s*", "", s, flags=re.IGNORECASE) for s in source.split("\n")
                   if s.lower().startswith("quelle")), source.split("\n")[0] if source else "")
    return {"key": slug(name)[:60], "name": name, "topic": "", "unit": unit, "kind": kind,
            "definition": description or name, "calculation": calculation, "source": quelle,
            "reference_date": date, "numerator": "", "denominator": ""}


def template() -> bytes:
    """The metadata template as XLSX: German headers, one example row, an explanation sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Metadaten"
    ws.append([LABELS[c] for c in REQUIRED + OPTIONAL])
    ws.append(["kinder_u6", "Kinder unter 6 Jahren", "Demografie", "Personen",
               "Einwohnerinnen und Einwohner unter 6 Jahren mit Hauptwohnsitz", "Anzahl", "Einwohnerregister", "31.12.", "Anzahl", "", "", "", "",
               "Statistikstelle", "jährlich", "neutral", 0, "", "Schwelle"])
    for cell in ws[1]:
        cell.font = openpyxl.styles.Font(bold=True)
    help_sheet = wb.create_sheet("Erläuterung")
    for line in HELP.split(". "):
        help_sheet.append([line.strip().rstrip(".") + "."])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
                  .replace("ß", "ss")).strip("_") or "thema"
