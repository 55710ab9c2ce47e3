"""Metadata as statistics offices deliver it: a table-meta file (table, German title, source, footnote) and a
column-meta file (table, column, German label, unit). Columns of a database export with English names become
new indicators keyed by the column, named and described in German; what is still missing for a complete
indicator (Themenfeld, Art, the Stichtag where no date is known) is reported once, in one table."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ValidationError
from . import metadata as md
from .files import check_file, read_table
from .table import column_date

TABLE_HEADERS = {"table": ("tabelle", "table", "table_name", "tabellenname"),
                 "title": ("titel", "title", "bezeichnung", "tabellentitel"),
                 "source": ("quelle", "source", "datenquelle"),
                 "footnote": ("fußnote", "fussnote", "footnote", "anmerkung", "note", "hinweis")}
COLUMN_HEADERS = {"table": ("tabelle", "table", "table_name", "tabellenname"),
                  "column": ("spalte", "column", "column_name", "spaltenname", "feld", "field"),
                  "label": ("bezeichnung", "label", "titel", "title", "beschreibung", "description"),
                  "unit": ("einheit", "unit")}
ASKED = ["topic", "kind", "reference_date", "calculation"]  # what the pair cannot say, asked in this order


def _read(path: str | Path, headers: dict[str, tuple[str, ...]], what: str) -> pd.DataFrame:
    frame, _ = read_table(check_file(path))
    lower = {str(c).strip().lower(): c for c in frame.columns}
    found = {field: next((lower[n] for n in names if n in lower), None) for field, names in headers.items()}
    missing = [f"{names[0].capitalize()} ({field})" for field, names in headers.items()
               if found[field] is None and field in ("table", "column", "label")]
    if missing:
        raise ValidationError(f"{Path(path).name}: der {what} fehlen die Spalten " + ", ".join(missing)
                              + ". Vorhanden: " + ", ".join(f"„{c}“" for c in frame.columns) + ".")
    return pd.DataFrame({field: frame[col].astype(str).str.strip() if col is not None else ""
                         for field, col in found.items()})


def read(tables: str | Path, columns: str | Path, source_name: str) -> pd.DataFrame:
    """Metadata rows (key, name, unit, source, definition, reference_date) for every column the column-meta file
    describes; where two tables describe a column of the same name, the table named like the delivered file
    ``source_name`` wins."""
    tab = _read(tables, TABLE_HEADERS, "Tabellen-Metadaten").drop_duplicates("table").set_index("table")
    col = _read(columns, COLUMN_HEADERS, "Spalten-Metadaten")
    col = col.assign(own=col["table"].str.lower().ne(Path(source_name).stem.lower())).sort_values("own", kind="stable")
    rows = []
    for table, column, label, unit in col[["table", "column", "label", "unit"]].itertuples(index=False):
        info = tab.loc[table] if table in tab.index else pd.Series({"title": "", "source": "", "footnote": ""})
        date = column_date(label)[2] or column_date(column)[2] or column_date(info["title"])[2]
        rows.append({"key": md.slug(column)[:60], "name": column_date(label)[0], "unit": unit,
                     "source": info["source"] or info["title"],
                     "definition": label + (f" ({info['footnote']})" if info["footnote"] else ""),
                     "reference_date": date})
    frame = pd.DataFrame(rows, columns=["key", "name", "unit", "source", "definition", "reference_date"])
    return frame.drop_duplicates("key")


def combine(given: pd.DataFrame | None, delivered: pd.DataFrame) -> pd.DataFrame:
    """Delivered metadata completed (and overridden, field by field) by the clerk's metadata rows."""
    frames = [f for f in (given, delivered) if f is not None]
    both = pd.concat(frames, ignore_index=True).replace("", pd.NA)
    both["key"] = both["key"].astype(str).str.strip()
    out = both.groupby("key", sort=False).first().reset_index()
    if "kind" in out:  # the calculation follows from the kind unless given
        kinds = out["kind"].map(lambda k: md.KIND_WORDS.get(str(k).strip().lower()) if pd.notna(k) else None)
        calculation = out["calculation"] if "calculation" in out else pd.Series(pd.NA, index=out.index)
        out["calculation"] = calculation.fillna(kinds.map(md.CALCULATIONS))
    return out


def missing(meta: pd.DataFrame, keys: list[str]) -> list[dict]:
    """Per new indicator the mandatory fields still empty: [{key, name, missing: ["Themenfeld", "Art"]}]."""
    rows = md.normalise(meta).set_index("key")
    out = []
    for key in keys:
        row = rows.loc[key] if key in rows.index else pd.Series(dtype=object)
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        fields = dict.fromkeys(ASKED + [f for f in md.REQUIRED if f != "key"])
        empty = [md.LABELS[f] for f in fields if not md.cell_text(row.get(f))]
        if empty:
            out.append({"key": key, "name": md.cell_text(row.get("name")) or key, "missing": empty})
    return out


def missing_table(rows: list[dict]) -> str:
    """The fields still missing as one CSV block to fill in and pass as --metadata."""
    fields = list(dict.fromkeys(f for r in rows for f in r["missing"]))
    lines = [";".join(["Schlüssel", *fields])] + [";".join([r["key"], *("" for _ in fields)]) for r in rows]
    return "\n".join(lines)
