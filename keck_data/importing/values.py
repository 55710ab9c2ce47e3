"""Indicator values from CSV/XLSX, long (area, indicator, year, value) or wide (one column per indicator)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import aggregation, store
from ..errors import ValidationError
from ..policy import User
from ..warehouse import Tx, Warehouse, read_df
from . import metadata as md
from .files import check_file, parse_values, read_excel, read_table
from .report import ImportReport, Progress, no_progress

MAX_LISTED = 15


def _column(frame: pd.DataFrame, name: str | None, what: str, source: str) -> str | None:
    """The actual header for ``name`` (case- and space-insensitive); None when name is None."""
    if name is None:
        return None
    wanted = name.strip().lower()
    for col in frame.columns:
        if col.strip().lower() == wanted:
            return col
    raise ValidationError(f"{source}: Spalte „{name}“ ({what}) nicht gefunden. Vorhanden: "
                          + ", ".join(f"„{c}“" for c in frame.columns[:30]) + ".")


def _read(path: Path, sheet: str | None) -> tuple[list[tuple[int | None, pd.DataFrame]], dict]:
    """(year from the sheet name or None, frame) pairs; sheet="*" reads every sheet named like a year."""
    if sheet == "*" and path.suffix.lower() in (".xlsx", ".xlsm", ".ods"):
        sheets = read_excel(path, "*")
        pairs = [(int(n), f) for n, f in sheets.items() if re.fullmatch(r"(19|20)\d\d", n.strip())]
        if not pairs:
            raise ValidationError(f"{path.name}: kein Tabellenblatt heißt wie ein Jahr (z. B. „2023“).")
        return pairs, {"decimal": ".", "sep": None}
    frame, dialect = read_table(path, sheet)
    return [(None, frame)], dialect


def _years(cells: pd.Series, rows: np.ndarray, source: str) -> np.ndarray:
    years = pd.to_numeric(cells.astype(str).str.strip().str[:4], errors="coerce")
    bad = years.isna() | (years < 1900) | (years > 2100)
    if bad.any():
        listed = ", ".join(f"Zeile {r}: „{c}“" for r, c in zip(rows[bad.to_numpy()][:MAX_LISTED], cells[bad]))
        raise ValidationError(f"{source}: ungültige Jahresangaben ({listed}).")
    return years.to_numpy(dtype=int)


def read_values(path: Path, layout: str, key_col: str, name_col: str | None, indicator_col: str, year_col: str,
                value_col: str, year: int | None, sheet: str | None, columns: dict[str, str] | None,
                decimal: str, dash: str, key_width: int | None, known: dict[str, str]
                ) -> tuple[pd.DataFrame, list[str]]:
    """Long frame: row, key, name, indicator (raw), year, value, status; plus warnings."""
    warnings: list[str] = []
    parts = []
    pairs, dialect = _read(path, sheet)
    if decimal == "auto":
        decimal = dialect["decimal"]
    for sheet_year, frame in pairs:
        src = path.name if sheet_year is None else f"{path.name}, Blatt {sheet_year}"
        rows = np.arange(len(frame)) + 2  # line/row number as the user sees it (header is line 1)
        kc = _column(frame, key_col, "Gebietsschlüssel", src)
        nc = _column(frame, name_col, "Gebietsname", src)
        if layout == "long":
            ic = _column(frame, indicator_col, "Indikator", src)
            vc = _column(frame, value_col, "Wert", src)
            yc = _column(frame, year_col, "Jahr", src) if year is None and sheet_year is None else None
            long = pd.DataFrame({"row": rows, "key": frame[kc], "indicator": frame[ic].astype(str).str.strip(),
                                 "cell": frame[vc], "column": vc})
            long["year"] = _years(frame[yc], rows, src) if yc else (year or sheet_year)
        elif layout == "wide":
            yc = None
            if year is None and sheet_year is None:
                yc = _column(frame, year_col, "Jahr", src)
            mapping = {}
            for col in frame.columns:
                if col in (kc, nc, yc):
                    continue
                target = (columns or {}).get(col) or known.get(col) or known.get(col.strip().lower())
                if target:
                    mapping[col] = target
                elif columns:
                    continue  # with an explicit mapping, other columns are simply not wanted
                else:
                    warnings.append(f"{src}: Spalte „{col}“ ist kein bekannter Indikator und wurde übersprungen.")
            for col, target in (columns or {}).items():
                if col not in frame.columns:
                    raise ValidationError(f"{src}: Spalte „{col}“ aus der Zuordnung fehlt in der Datei.")
            if not mapping:
                raise ValidationError(f"{src}: keine Spalte passt zu einem Indikator. Bitte Spalten zuordnen "
                                      "(Spaltenname=Indikatorschlüssel) oder Metadaten für neue Indikatoren angeben.")
            years = _years(frame[yc], rows, src) if yc else np.full(len(frame), year or sheet_year)
            long = pd.concat([pd.DataFrame({"row": rows, "key": frame[kc], "indicator": target, "cell": frame[col],
                                            "column": col, "year": years}) for col, target in mapping.items()],
                             ignore_index=True)
        else:
            raise ValidationError(f"Unbekanntes Layout „{layout}“ (long oder wide).")
        long["name"] = frame[nc].to_numpy()[long["row"].to_numpy() - 2] if nc else None
        parts.append(long)
    data = pd.concat(parts, ignore_index=True)
    data["key"] = data["key"].astype(str).str.strip()
    if key_width:
        data["key"] = data["key"].str.zfill(key_width)
    values, status, bad = parse_values(data["cell"], decimal, dash)
    if bad.any():
        sample = data[bad].head(MAX_LISTED)
        listed = "; ".join(f"Zeile {r}, Spalte „{c}“: „{v}“" for r, c, v in zip(sample["row"], sample["column"],
                                                                           sample["cell"]))
        raise ValidationError(f"{path.name}: {int(bad.sum())} Zellen sind keine Zahl ({listed}). "
                              "Erlaubt sind Zahlen (auch „1.234,5“) und die Zeichen „k. A.“, „.“, „*“, „-“ "
                              "oder leere Zellen.")
    data["value"], data["status"] = values, status
    return data.drop(columns=["cell"]), warnings


def import_values(wh: Warehouse, path: str | Path, *, level: str, layout: str = "long", key_col: str = "key",
                  name_col: str | None = None, indicator_col: str = "indicator", year_col: str = "year",
                  value_col: str = "value", year: int | None = None, sheet: str | None = None,
                  columns: dict[str, str] | None = None, metadata: str | Path | None = None,
                  decimal: str = "auto", dash: str = "missing", key_width: int | None = None,
                  dry_run: bool = True, user: User | None = None, progress: Progress = no_progress) -> ImportReport:
    """Check (and with ``dry_run=False`` write) indicator values for the areas of one level."""
    path = check_file(path)
    report = ImportReport("Indikatorwerte", path.name)
    areas = read_df(wh, "SELECT key, name FROM area WHERE level = ?", [level])
    if areas.empty:
        raise ValidationError(f"Die Raumebene „{level}“ hat keine Gebiete. Bitte zuerst die Gebiete importieren.")
    inds = read_df(wh, "SELECT key, name FROM indicator")
    known = {k: k for k in inds["key"]} | {n.lower(): k for k, n in zip(inds["key"], inds["name"])}
    meta_frame = md.read_metadata(metadata) if metadata else None
    if meta_frame is not None:
        known |= {str(k).strip(): str(k).strip() for k in meta_frame.get("key", [])}
    progress(0.05, "Datei wird gelesen …")
    data, report.warnings = read_values(path, layout, key_col, name_col, indicator_col, year_col, value_col, year,
                                        sheet, columns, decimal, dash, key_width, known)
    report.rows_read = int(data["row"].nunique()) if layout == "wide" else len(data)
    progress(0.4, "Gebiete werden zugeordnet …")
    resolve = {i: known.get(i, known.get(str(i).lower(), i)) for i in data["indicator"].unique()}
    data["indicator"] = data["indicator"].map(resolve)
    new_keys = sorted(set(data["indicator"]) - set(inds["key"]))
    new_inds = []
    if new_keys:
        if meta_frame is None:
            raise ValidationError("Unbekannte Indikatoren: " + ", ".join(f"„{k}“" for k in new_keys[:MAX_LISTED])
                                  + ". Bitte zuerst anlegen oder eine Metadaten-Datei mitgeben (Pflichtfelder: "
                                  + ", ".join(md.LABELS.values()) + ").")
        topics = dict(read_df(wh, "SELECT key, name FROM topic").itertuples(index=False))
        new_inds = md.validate(meta_frame, new_keys, topics)
    _match_areas(data, areas, report)
    matched = data[data["area_key"].notna()].copy()
    dup = matched.duplicated(["indicator", "area_key", "year"], keep=False)
    if dup.any():
        sample = matched[dup].head(MAX_LISTED)
        raise ValidationError(f"{path.name}: Werte sind doppelt vorhanden ("
                              + "; ".join(f"Zeile {r}: {k}, {i}, {y}" for r, k, i, y in zip(
                                  sample["row"], sample["area_key"], sample["indicator"], sample["year"])) + ").")
    report.matched = len(matched)
    report.details["status_counts"] = matched["status"].value_counts().to_dict()
    report.details["indicators"] = sorted(set(matched["indicator"]))
    report.details["years"] = sorted(int(y) for y in set(matched["year"]))
    progress(0.6, "Änderungen werden ermittelt …")
    frame = matched.assign(level=level)[["indicator", "level", "area_key", "year", "value", "status"]]
    _diff(wh, frame, report)
    if dry_run:
        progress(1.0, "Probelauf fertig")
        return report

    def write(tx: Tx) -> None:
        if new_inds:
            for key, name in sorted({(i["topic"], i["topic_name"]) for i in new_inds}):
                last = tx.cur.execute("SELECT coalesce(max(ordering), 0) FROM topic").fetchone()[0]
                tx.cur.execute("INSERT OR IGNORE INTO topic VALUES (?, ?, ?)", [key, name, last + 1])
            store.upsert_indicators(tx, [{k: v for k, v in i.items() if k != "topic_name"} for i in new_inds])
        tx.cur.register("new_frame", frame)
        before = tx.cur.execute(
            "SELECT v.indicator, v.area_key, v.year, v.value, v.status FROM indicator_value v JOIN new_frame n "
            "USING (indicator, level, area_key, year) WHERE v.origin = 'source' AND "
            "(v.status <> n.status OR v.value IS DISTINCT FROM n.value) LIMIT 500").fetchall()
        progress(0.75, "Werte werden gespeichert …")
        store.upsert_values(tx, frame)
        tx.cur.unregister("new_frame")
        progress(0.9, "Gröbere Ebenen werden neu berechnet …")
        aggregation.refresh_aggregates(tx)
        tx.audit("indicator_value", path.name, {"changed_sample": [list(r) for r in before]}, report.as_dict())

    touched = store.indicator_resources(wh.cursor(), report.details["indicators"],
                                        {i["key"]: i["topic"] for i in new_inds})
    wh.write(user, "import-values", touched, write)
    report.committed = True
    progress(1.0, "Import abgeschlossen")
    return report


def _match_areas(data: pd.DataFrame, areas: pd.DataFrame, report: ImportReport) -> None:
    """Keys exactly (as strings); names as a fallback where a name is unique on the level."""
    keys = set(areas["key"])
    data["area_key"] = data["key"].where(data["key"].isin(keys))
    if data["name"].notna().any():
        counts = areas["name"].str.strip().str.lower().value_counts()
        unique = {n.strip().lower(): k for k, n in zip(areas["key"], areas["name"]) if counts[n.strip().lower()] == 1}
        todo = data["area_key"].isna() & data["name"].notna()
        by_name = data.loc[todo, "name"].astype(str).str.strip().str.lower().map(unique)
        data.loc[todo, "area_key"] = by_name
        if by_name.notna().any():
            report.warnings.append(f"{int(by_name.notna().sum())} Werte wurden über den Gebietsnamen zugeordnet, "
                                   "weil der Schlüssel nicht passte.")
        ambiguous = data["area_key"].isna() & data["name"].astype(str).str.strip().str.lower().isin(
            set(counts[counts > 1].index))
    else:
        ambiguous = pd.Series(False, index=data.index)
    missing = data[data["area_key"].isna()].drop_duplicates(["row", "year"])
    for row, key, amb in zip(missing["row"], missing["key"], ambiguous[missing.index]):
        reason = (f"Schlüssel „{key}“ unbekannt, Name mehrdeutig" if amb else f"Schlüssel „{key}“ unbekannt")
        report.unmatched.append({"row": int(row), "key": key, "reason": reason})


def _diff(wh: Warehouse, frame: pd.DataFrame, report: ImportReport) -> None:
    cur = wh.cursor()
    cur.register("incoming", frame)
    new, changed, same = cur.execute(
        "SELECT count(*) FILTER (WHERE v.indicator IS NULL), "
        "count(*) FILTER (WHERE v.indicator IS NOT NULL AND (v.status <> i.status OR v.value IS DISTINCT FROM "
        "i.value)), count(*) FILTER (WHERE v.indicator IS NOT NULL AND v.status = i.status AND "
        "v.value IS NOT DISTINCT FROM i.value) FROM incoming i LEFT JOIN indicator_value v "
        "ON v.indicator = i.indicator AND v.level = i.level AND v.area_key = i.area_key AND v.year = i.year "
        "AND v.origin = 'source'").fetchone()
    cur.unregister("incoming")
    report.new, report.changed, report.unchanged = int(new), int(changed), int(same)
