"""Indicator values from CSV/XLSX as statistics offices deliver them.

Long layout: one line per (area, indicator, year, value). Wide layout: one column per indicator (and year),
found under title rows, group headers and description rows by :mod:`.table`; each value column is mapped
to an existing indicator, a new one (with metadata) or ignored; its year comes from the mapping, a year
column, the date in its header, a fixed year or the sheet name. Rows are matched to areas by
:mod:`.matching`; total rows go to the coarser level they name.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import aggregation, area_groups, fmt, relations, store
from ..errors import ValidationError
from ..policy import Resource, User
from ..warehouse import Tx, Warehouse, read_df
from . import delivered_meta, level_blocks
from . import metadata as md
from . import profiles
from .files import bulk_reading, check_file, column_decimals, parse_values, read_grid
from .matching import RULES, match, norm_name
from .report import ImportReport, Progress, no_progress
from .table import Table, column_date, column_year, detect, map_unique

MAX_LISTED = 15
MAX_REPORTED = 10_000  # rows listed one by one in the report's "matching"
IGNORE = ""  # mapping target meaning "do not import this column"
DEFAULTS = {"layout": "long", "key_col": "key", "name_col": None, "indicator_col": "indicator", "year_col": "year",
            "value_col": "value", "year": None, "sheet": None, "decimal": "auto", "dash": "missing",
            "empty": "missing", "key_width": None, "header_row": None, "skip_rows": None}
_UNASSIGNED = re.compile(r"nicht zu(?:zu)?ord|nicht zugeordnet|ohne (?:angabe|zuordnung|gebiet|festen wohnsitz)|"
                         r"(?:gebiet|wohnort|bezirk|adresse) unbekannt|unbekannte[rs]? (?:gebiet|wohnort|adresse)",
                         re.IGNORECASE)
_TOTAL_WORDS = re.compile(r"\b(insgesamt|gesamt|summe|zusammen|total)\b", re.IGNORECASE)
_TOWN_WORDS = re.compile(r"^(?:stadt|gemeinde|landeshauptstadt|(?:freie und )?hansestadt)\s+", re.IGNORECASE)


@dataclass
class Sheet:
    """One detected table with the year its sheet name gives (sheets named "2023")."""

    name: str
    table: Table
    year: int | None


def read_sheets(path: Path, sheet: str | None, header_row: int | None = None, skip_rows: int | None = None
                ) -> tuple[list[Sheet], str | None]:
    """The detected table of the chosen sheet (or of every sheet named like a year for sheet="*")."""
    grids, sep = read_grid(path, sheet)
    if sheet == "*":
        grids = {n: g for n, g in grids.items() if re.fullmatch(r"(19|20)\d\d", n.strip())}
        if not grids:
            raise ValidationError(f"{path.name}: kein Tabellenblatt heißt wie ein Jahr (z. B. „2023“).")
    out = []
    for name, grid in grids.items():
        src = path.name if len(grids) == 1 else f"{path.name}, Blatt {name}"
        year = int(name) if sheet == "*" else None
        out.append(Sheet(src, detect(grid, src, header_row, skip_rows), year))
    return out, sep


def _find(frame: pd.DataFrame, name: str | None) -> str | None:
    """The label for ``name`` (case-, space- and date-insensitive, or the part under a group header)."""
    wanted = (name or "").strip().lower()
    for col in frame.columns:
        if col.strip().lower() == wanted:
            return col
    for col in frame.columns:
        if wanted and wanted in _aliases(col):
            return col
    return None


def _column(frame: pd.DataFrame, name: str | None, what: str, source: str) -> str | None:
    """The label for ``name``; None when name is None; a German error naming the columns when missing."""
    if not name or (col := _find(frame, name)):
        return col if name else None
    raise ValidationError(f"{source}: Spalte „{name}“ ({what}) nicht gefunden. Vorhanden: "
                          + ", ".join(f"„{c}“" for c in frame.columns[:30]) + ".")


def _years(cells: pd.Series, rows: np.ndarray, source: str) -> np.ndarray:
    years = map_unique(cells.astype(str), lambda c: int(c.strip()[-4:]) if c.strip()[-4:].isdigit() else np.nan
                       ).astype(float)
    bad = years.isna() | (years < 1900) | (years > 2100)
    if bad.any():
        listed = ", ".join(f"Zeile {r}: „{c}“" for r, c in zip(rows[bad.to_numpy()][:MAX_LISTED], cells[bad]))
        raise ValidationError(f"{source}: ungültige Jahresangaben ({listed}).")
    return years.to_numpy(dtype=int)


def map_columns(labels: list[str], columns: dict[str, str] | None, saved: dict[str, str | None] | None,
                known: dict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each value column → indicator key, or None (candidate for a new indicator), or IGNORE.

    Explicit ``columns`` (file label or label without date → key; "" = ignore) win, then a profile's saved
    columns (fuzzy; both merged), then indicators known by key or name (only without explicit columns).
    Returns (mapping, how each was found).
    """
    mapping: dict[str, str | None] = {}
    how: dict[str, str] = {}
    explicit = {k.strip().lower(): v for k, v in (columns or {}).items()}
    from_profile = profiles.match_columns(saved, labels) if saved else {}
    for label in labels:
        names = _aliases(label)
        hit = next((explicit[k] for k in names if k in explicit), None)
        if hit is not None:
            mapping[label], how[label] = hit.strip(), "angegeben"
            saved_target = from_profile.get(label, (hit.strip(),))[0] or IGNORE
            if saved_target != hit.strip():
                how[label] = f"angegeben (statt Vorlage: {saved_target or 'nicht importieren'})"
        elif label in from_profile:
            target, kind, old = from_profile[label]
            mapping[label] = target if target is not None else IGNORE
            how[label] = "Vorlage" if kind == "gleich" else f"Vorlage, ähnlich „{old}“ – bitte bestätigen"
        elif columns:
            mapping[label], how[label] = IGNORE, "nicht angegeben"
        else:
            target = next((known[k] for k in [label, *names, *map(norm_name, names)] if k in known), None)
            mapping[label], how[label] = target, ("bekannt" if target else "neu?")
    return mapping, how


def _aliases(label: str) -> list[str]:
    """Names a column goes by (lower case): its label, without its date, its part under a group header."""
    stem = column_date(label)[0]
    return list(dict.fromkeys(n.strip().lower() for n in (label, stem, label.split(" – ")[-1], stem.split(" – ")[-1])))


def read_values(path: Path, opts: dict, columns: dict[str, str] | None, column_years: dict[str, int] | None,
                saved: dict | None, known: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """Long frame (sheet, row, key, name, indicator, column, year, value, status) and what was found."""
    sheets, sep = read_sheets(path, opts["sheet"], opts["header_row"], opts["skip_rows"])
    parts, found = [], {"rows": [], "columns": {}, "how": {}, "years": {}, "candidates": [], "layout": [], "totals": [],
                        "warnings": []}
    for sh in sheets:
        t, src = sh.table, sh.name
        frame, rows = t.frame, np.asarray(t.rows)
        found["layout"].append(f"{src}: {t.summary()}")
        nc = _column(frame, opts["name_col"], "Gebietsname", src)
        by_name_only = nc and opts["key_col"] == DEFAULTS["key_col"] and not _find(frame, opts["key_col"])
        kc = nc if by_name_only else _column(frame, opts["key_col"], "Gebietsschlüssel", src)
        first = sum(map(len, found["rows"]))  # "rid": position of the row among all sheets' rows
        base = {"sheet": src, "row": rows, "rid": np.arange(first, first + len(rows)), "key": frame[kc].to_numpy(),
                "name": frame[nc].to_numpy() if nc else None, "total": np.isin(rows, t.totals)}
        found["rows"].append(pd.DataFrame(base))
        if opts["layout"] == "long":
            numeric = t.numeric_columns()
            if not _find(frame, opts["indicator_col"]) and len(numeric) >= 2:
                raise ValidationError(f"{src}: Spalte „{opts['indicator_col']}“ (Indikator) nicht gefunden – die Datei "
                                      "sieht breit aus (eine Spalte je Indikator: " + ", ".join(
                                          f"„{c}“" for c in numeric[:5]) + "). Bitte --layout wide angeben (im "
                                      "Assistenten: Aufbau „breit“).")
            ic = _column(frame, opts["indicator_col"], "Indikator", src)
            vc = _column(frame, opts["value_col"], "Wert", src)
            fixed = opts["year"] or sh.year
            yc = _column(frame, opts["year_col"], "Jahr", src) if fixed is None else None
            parts.append(pd.DataFrame(base | {"indicator": frame[ic].to_numpy(), "cell": frame[vc].to_numpy(),
                                              "column": vc, "year": _years(frame[yc], rows, src) if yc else fixed}))
            continue
        if opts["layout"] != "wide":
            raise ValidationError(f"Unbekanntes Layout „{opts['layout']}“ (long oder wide).")
        yc = None if opts["year"] else (_find(frame, opts["year_col"]) if opts["year_col"] == DEFAULTS["year_col"]
                                        else _column(frame, opts["year_col"], "Jahr", src))
        labels = [c for c in frame.columns if c not in (kc, nc, yc)]
        for col in (columns or {}):
            if not any(col.strip().lower() in _aliases(lab) for lab in labels):
                raise ValidationError(f"{src}: Spalte „{col}“ aus der Zuordnung fehlt in der Datei. Vorhanden: "
                                      + ", ".join(f"„{c}“" for c in labels[:30]) + ".")
        mapping, how = map_columns(labels, columns, (saved or {}).get("columns"), known)
        row_years = _years(frame[yc], rows, src) if yc else None
        wanted: list[tuple[str, str, np.ndarray]] = []  # (label, indicator, years per row)
        for label in labels:
            target = mapping[label]
            found["columns"][label], found["how"][label] = target or None, how[label]
            stem, header_year, date, rule = column_year(label)
            year, rule = _column_year(label, column_years, row_years, header_year, rule, opts["year"], sh.year)
            found["years"][label] = {"year": year, "rule": rule}
            if target is None:
                guess = md.guess(stem, t.descriptions.get(label, ""), "\n".join(t.notes), date)
                guess["key"] = _unused(guess["key"], set(known.values()) | {c["key"] for c in found["candidates"]})
                found["candidates"].append(guess | {"column": label, "year": year})
                continue
            if target == IGNORE:
                continue
            if year is None and row_years is None:
                raise ValidationError(f"{src}: Für Spalte „{label}“ ist kein Jahr bekannt – weder im Spaltennamen "
                                      "noch als Jahresspalte. Bitte ein Jahr angeben (--year bzw. „Jahr“ im "
                                      "Assistenten).")
            wanted.append((label, target, row_years if year is None else np.full(len(frame), year)))
        if wanted:  # one long frame, column after column (no frame per column)
            k = len(wanted)
            parts.append(pd.DataFrame({name: np.tile(arr, k) if arr is not None else None
                                       for name, arr in base.items() if name != "sheet"}
                                      | {"sheet": src, "indicator": np.repeat([w[1] for w in wanted], len(frame)),
                                         "cell": frame[[w[0] for w in wanted]].to_numpy().ravel(order="F"),
                                         "column": np.repeat([w[0] for w in wanted], len(frame)),
                                         "year": np.concatenate([w[2] for w in wanted])}))
        found["totals"] += [f"{src}, Zeile {r}" for r in t.totals]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["sheet", "row", "rid", "key", "name", "total", "indicator", "cell", "column", "year"])
    if opts["key_width"]:
        data["key"] = map_unique(data["key"], lambda k: k.zfill(opts["key_width"]))
    data["value"], data["status"] = _parse(data, opts, sep, found)
    return data.drop(columns=["cell"]), found


def _column_year(label: str, given: dict[str, int] | None, row_years: np.ndarray | None, header_year: int | None,
                 header_rule: str, fixed: int | None, sheet_year: int | None) -> tuple[int | None, str]:
    """The year of a value column and the rule that gave it (the dry run names it per column)."""
    if (given or {}).get(label):
        return given[label], "angegeben"
    if row_years is not None:
        return None, "Jahresspalte"
    for year, rule in ((header_year, header_rule), (fixed, "--year bzw. Jahr im Assistenten"),
                       (sheet_year, "Name des Tabellenblatts")):
        if year:
            return year, rule
    return None, "kein Jahr"


def _unused(key: str, taken: set[str]) -> str:
    """``key``, or with a number appended (within 60 characters) when another column already has it."""
    n, out = 1, key
    while out in taken:
        n += 1
        out = f"{key[:60 - len(str(n)) - 1]}_{n}"
    return out


def _parse(data: pd.DataFrame, opts: dict, sep: str | None, found: dict) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with the decimal separator of each column; refuses cells that are no number."""
    decimal = opts["decimal"]
    if decimal == "auto" and len(data):
        per_column, unsure = column_decimals(data["cell"], data["column"], "," if sep == ";" else ".")
        decimal = data["column"].map(per_column).to_numpy()
        for col in unsure:
            found["questions"] = found.get("questions", []) + [col]
            found["warnings"].append(f"Spalte „{col}“: Zahlen wie „1.234“ können 1234 oder 1,234 bedeuten. Bitte "
                                     "das Dezimalzeichen angeben (--decimal bzw. Auswahl im Assistenten).")
    values, status, bad = parse_values(data["cell"], decimal, opts["dash"], opts["empty"])
    if bad.any():
        sample = data[bad].head(MAX_LISTED)
        listed = "; ".join(f"{s}, Zeile {r}, Spalte „{c}“: „{v}“" for s, r, c, v in zip(
            sample["sheet"], sample["row"], sample["column"], sample["cell"]))
        raise ValidationError(f"{int(bad.sum())} Zellen sind keine Zahl ({listed}). Erlaubt sind Zahlen (auch "
                              "„1.234,5“) und die Zeichen „k. A.“, „.“, „*“, „-“ oder leere Zellen.")
    return values, status


def import_values(wh: Warehouse, path: str | Path, *, level: str | None = None, layout: str = "long",
                  key_col: str = "key",
                  name_col: str | None = None, indicator_col: str = "indicator", year_col: str = "year",
                  value_col: str = "value", year: int | None = None, sheet: str | None = None,
                  columns: dict[str, str] | None = None, column_years: dict[str, int] | None = None,
                  metadata: str | Path | None = None, indicators: list[dict] | None = None,
                  metadata_tables: str | Path | None = None, metadata_columns: str | Path | None = None,
                  decimal: str = "auto", dash: str = "missing", empty: str = "missing", key_width: int | None = None,
                  header_row: int | None = None, skip_rows: int | None = None, level_rows: list[str] | None = None,
                  profile: str | None = None,
                  save_profile: str | None = None, dry_run: bool = True, user: User | None = None,
                  progress: Progress = no_progress) -> ImportReport:
    """Check (and with ``dry_run=False`` write) indicator values for the areas of one level (``level``, else
    the profile's).

    ``columns``: value column → indicator key ("" = ignore); ``column_years``: value column → year;
    ``indicators``: metadata of new indicators (as rows of a metadata file); ``metadata_tables`` and
    ``metadata_columns``: the delivered metadata pair (:mod:`.delivered_meta`); ``empty``: what an empty cell
    means ("missing" or "suppressed"); ``header_row``/``skip_rows``: fix the table detection; ``level_rows``:
    the level of row ranges ("104-110=stadtbezirk", :mod:`.level_blocks`); ``profile``:
    a saved Importvorlage whose settings apply where the arguments are left at their defaults;
    ``save_profile``: store this import's settings and mapping under that name (with the commit).
    """
    path = check_file(path)
    report = ImportReport("Indikatorwerte", path.name)
    given = {"layout": layout, "key_col": key_col, "name_col": name_col, "indicator_col": indicator_col,
             "year_col": year_col, "value_col": value_col, "year": year, "sheet": sheet, "decimal": decimal,
             "dash": dash, "empty": empty, "key_width": key_width, "header_row": header_row, "skip_rows": skip_rows}
    saved = profiles.load(wh, profile) if profile else None
    level = level or (saved or {}).get("level")
    if not level:
        raise ValidationError("Bitte die Raumebene der Werte angeben (--level, z. B. --level sozialraum; mit "
                              "--profile gilt die Raumebene der Importvorlage).")
    opts = {k: (saved[k] if saved and v == DEFAULTS[k] and saved.get(k) is not None else v) for k, v in given.items()}
    levels = _levels(wh, level)
    areas = read_df(wh, "SELECT level, key, name FROM area WHERE list_contains(?, level)", [list(levels)])
    if not (areas["level"] == level).any():
        raise ValidationError(f"Die Raumebene „{level}“ hat keine Gebiete. Bitte zuerst die Gebiete importieren.")
    inds = read_df(wh, "SELECT key, name FROM indicator")
    meta_frame = _metadata(metadata, indicators)
    report.warnings += md.unknown_headers(meta_frame) if meta_frame is not None else []
    delivered = None
    if metadata_tables or metadata_columns:
        if not (metadata_tables and metadata_columns):
            raise ValidationError("Gelieferte Metadaten bitte als Paar angeben: --metadata-tables (Tabelle, Titel, "
                                  "Quelle, Fußnote) und --metadata-columns (Tabelle, Spalte, Bezeichnung, Einheit).")
        delivered = delivered_meta.read(metadata_tables, metadata_columns, path.name)
        meta_frame = delivered_meta.combine(meta_frame, delivered)
    known = ({k: k for k in inds["key"]} | {n.lower(): k for k, n in zip(inds["key"], inds["name"])}
             | {norm_name(n): k for k, n in zip(inds["key"], inds["name"])})
    if meta_frame is not None:
        known |= {str(k).strip(): str(k).strip() for k in meta_frame.get("key", [])}
        known |= {str(n).strip().lower(): str(k).strip() for k, n in zip(meta_frame.get("key", []),
                                                                         meta_frame.get("name", []))}
    progress(0.05, "Datei wird gelesen …")
    with bulk_reading():
        data, found = read_values(path, opts, columns, column_years, saved, known)
    report.warnings += found["warnings"]
    report.details |= {"layout": found["layout"], "columns": found["columns"], "column_rules": found["how"],
                       "column_years": found["years"], "candidates": found["candidates"]}
    for c in found["candidates"]:
        report.warnings.append(f"Spalte „{c['column']}“ ist noch kein Indikator und wird nicht importiert "
                               f"(Vorschlag: neuer Indikator „{c['name']}“, Schlüssel „{c['key']}“).")
    for col, how in found["how"].items():
        if "ähnlich" in how:
            report.warnings.append(f"Spalte „{col}“ nach der Importvorlage zugeordnet ({how}).")
        if "statt Vorlage" in how:
            report.warnings.append(f"Spalte „{col}“: die Angabe (--map) gilt, nicht die Importvorlage ({how}).")
    if profile and columns:
        rules = found["how"].values()
        report.warnings.append(f"Zuordnung aus --map ({sum(h.startswith('angegeben') for h in rules)} Spalten) und "
                               f"Importvorlage „{profile}“ ({sum(h.startswith('Vorlage') for h in rules)} Spalten) "
                               "zusammengeführt; bei beiden gilt --map.")
    progress(0.4, "Gebiete werden zugeordnet …")
    data["indicator"] = map_unique(data["indicator"], lambda i: known.get(i, known.get(str(i).lower(), i)))
    new_keys = sorted(set(data["indicator"]) - set(inds["key"]))
    new_inds = []
    if new_keys:
        if meta_frame is None:
            raise ValidationError("Unbekannte Indikatoren: " + ", ".join(f"„{k}“" for k in new_keys[:MAX_LISTED])
                                  + ". Bitte zuerst anlegen oder Metadaten mitgeben (" + md.HELP + ")")
        topics = dict(read_df(wh, "SELECT key, name FROM topic").itertuples(index=False))
        gaps = delivered_meta.missing(meta_frame, new_keys) if delivered is not None else []
        if gaps:
            _ask_missing(gaps, report, dry_run)
        else:
            new_inds = md.validate(meta_frame, new_keys, topics, set(inds["key"]))
    rows = pd.concat(found["rows"], ignore_index=True)
    if opts["key_width"]:
        rows["key"] = map_unique(rows["key"], lambda k: k.zfill(opts["key_width"]))
    report.rows_read = len(rows)
    matched_rows = _match_rows(rows, areas, levels, level, level_blocks.parse(level_rows, levels), report)
    at = data["rid"].to_numpy(dtype=np.int64)  # matched_rows is in the order of rows
    data = data.assign(**{c: matched_rows[c].to_numpy()[at] for c in ("level", "area_key", "unassigned")})
    if len(rows) and matched_rows["area_key"].notna().sum() == 0:
        raise ValidationError(f"{path.name}: keine Zeile passt zu einem Gebiet der Ebene „{levels[level]}“ – nichts "
                              "importiert. Stimmen Raumebene und Schlüsselspalte?" + _first_unmatched(report))
    if data[data["area_key"].notna()].duplicated(["indicator", "level", "area_key", "year"]).any():
        flip = level_blocks.resolve_doubles(matched_rows, data)
        if flip.any():
            level_blocks.swap(matched_rows, flip, "jede Zeile ein Gebiet")
            data = data.assign(**{c: matched_rows[c].to_numpy()[at] for c in ("level", "area_key")})
            report.details["level_blocks"] = level_blocks.describe(matched_rows, levels, level)
            _report_matching(matched_rows, report)
        names = dict(zip(zip(areas["level"], areas["key"]), areas["name"]))
        level_blocks.refuse_doubles(matched_rows, data, levels, names, path.name)
    unassigned = data[data["unassigned"].fillna(False).astype(bool)]
    matched = data[data["area_key"].notna()].copy()
    groups = _groups(matched_rows, areas, level, report)
    _refuse_double(matched, groups, path.name)
    counts = matched["status"].value_counts()
    report.matched = len(matched)
    report.details |= {"matched_rows": int(matched_rows["area_key"].notna().sum()), "values": int(counts.get("ok", 0)),
                       "suppressed": int(counts.get("suppressed", 0)), "missing": int(counts.get("missing", 0)),
                       "status_counts": counts.to_dict(), "indicators": sorted(set(matched["indicator"])),
                       "years": sorted(int(y) for y in set(matched["year"]))}
    progress(0.6, "Änderungen werden ermittelt …")
    frame = matched[["indicator", "level", "area_key", "year", "value", "status"]]
    _diff(wh, frame, report)
    sums = set(read_df(wh, "SELECT key FROM indicator WHERE aggregation = 'sum'")["key"]) | {
        i["key"] for i in new_inds if i["aggregation"] == "sum"}
    members = {k: [m for m, _ in ms] for k, ms in groups.items()}
    _check_totals(wh, frame, levels, level, sums, members, report)
    _implausible(frame, pd.concat([read_df(wh, "SELECT key, unit, kind FROM indicator"),
                                   pd.DataFrame(new_inds, columns=["key", "unit", "kind"])]), report)
    frame = pd.concat([frame, _town_with_unassigned(frame, unassigned, areas, levels, level, sums, members, report)],
                      ignore_index=True)
    superseded = _superseded(wh, frame, members, level, report)
    if not dry_run and found.get("questions") and opts["decimal"] == "auto":
        raise ValidationError("Dezimalzeichen unklar in " + ", ".join(f"„{c}“" for c in found["questions"])
                              + " – bitte angeben (--decimal , oder --decimal .). Nichts gespeichert.")
    if not dry_run and frame.empty:
        raise ValidationError(f"{path.name}: keine Spalte ist einem Indikator zugeordnet – nichts importiert. Bitte "
                              "Spalten zuordnen (--map Spalte=Indikator, neue Indikatoren mit --metadata; im "
                              "Assistenten in der Tabelle „Spalten zuordnen“).")
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
        area_groups.store(tx, level, groups)
        if len(superseded):
            tx.cur.executemany("DELETE FROM indicator_value WHERE indicator = ? AND level = ? AND area_key = ? "
                               "AND year = ? AND origin = 'source'", superseded[relations.KEY].values.tolist())
        store.upsert_values(tx, frame)
        tx.cur.unregister("new_frame")
        progress(0.9, "Gröbere Ebenen werden neu berechnet …")
        aggregation.refresh_aggregates(tx)
        meta = tx.cur.execute("SELECT * FROM indicator").df().set_index("key")
        members = relations.identity_members(meta, frame["indicator"].unique())  # only the sums this import touches
        report.warnings += relations.identity_warnings(
            tx.cur.execute("SELECT indicator, level, area_key, year, value, status FROM indicator_value "
                           "WHERE list_contains(?, year) AND list_contains(?, indicator)",
                           [sorted(int(y) for y in frame["year"].unique()), members]).df(),
            meta, area_groups.tree(tx.cur))
        if save_profile:
            profiles.save(tx, save_profile, opts | {"level": level}, found["columns"])
        tx.audit("indicator_value", path.name, {"changed_sample": [list(r) for r in before],
                                                "superseded": superseded.head(500).values.tolist()}, report.as_dict())

    touched = _touched(wh, report, new_inds, found["columns"], level, groups, save_profile)
    wh.write(user, "import-values", touched, write)
    report.committed = True
    from ..analysis.target_edits import reevaluate  # the analysis layer reads through queries, above importing
    report.details["ziele"] = reevaluate(wh, user, report.details["indicators"])
    progress(1.0, "Import abgeschlossen")
    return report


def _ask_missing(gaps: list[dict], report: ImportReport, dry_run: bool) -> None:
    """What the delivered metadata leaves open, asked once in one table (the dry run lists it; a commit stops)."""
    table = delivered_meta.missing_table(gaps)
    report.details["metadata_missing"] = gaps
    ask = (f"Für {fmt.count(len(gaps), 'neuen Indikator', 'neue Indikatoren')} fehlt noch: "
           + ", ".join(dict.fromkeys(f for g in gaps for f in g["missing"]))
           + " – bitte diese Tabelle ausfüllen und mit --metadata mitgeben (im Assistenten: Metadaten-Datei):\n"
           + table)
    if not dry_run:
        raise ValidationError(ask + "\nNichts gespeichert.")
    report.warnings.append(ask)


def _touched(wh: Warehouse, report: ImportReport, new_inds: list[dict], columns: dict, level: str,
             groups: dict, save_profile: str | None) -> list[Resource]:
    """What the commit writes: the indicators with values, the new ones, their numerators and denominators
    (each with its Themenfeld), new area groups (they concern every Themenfeld) and the profile it saves
    (with what it maps to now and will map to)."""
    new = {i["key"]: i for i in new_inds}
    keys = list(dict.fromkeys([*report.details["indicators"], *new]))
    if save_profile:
        keys += [k for k in dict.fromkeys(columns.values()) if k and k not in keys]
    touched = store.indicator_resources(wh.cursor(), keys, new)
    stored = area_groups.of_level(wh.cursor(), level)
    touched += [Resource("area", f"{level}:{key}") for key in groups if key not in stored]
    return touched + (profiles.resources(wh, save_profile) if save_profile else [])


def _metadata(path: str | Path | None, indicators: list[dict] | None) -> pd.DataFrame | None:
    """Metadata of new indicators from a file and/or given inline (the wizard), German or English fields."""
    frames = ([md.read_metadata(path)] if path else []) + ([md.normalise(pd.DataFrame(indicators))] if indicators else [])
    return pd.concat(frames, ignore_index=True) if frames else None


def _levels(wh: Warehouse, level: str) -> dict[str, str]:
    """The level and its coarser levels (key → name), finest first."""
    rows = {k: (n, p) for k, n, p in wh.cursor().execute("SELECT key, name, parent_level FROM spatial_level").fetchall()}
    if level not in rows:
        raise ValidationError(f"Die Raumebene „{level}“ gibt es nicht (vorhanden: {', '.join(rows)}).")
    out, current = {}, level
    while current in rows and current not in out:
        out[current] = rows[current][0]
        current = rows[current][1]
    return out


def _match_rows(rows: pd.DataFrame, areas: pd.DataFrame, levels: dict[str, str], level: str,
                level_rows: level_blocks.LevelRows, report: ImportReport) -> pd.DataFrame:
    """Area (and level) of every row; key evidence beats name evidence: a key of the import level, then a key
    of a coarser level (a total row such as "002 Rodenkirchen"), then a name of the import level, then a name
    of a coarser level ("Musterstadt insgesamt", "Stadt Köln", or "Insgesamt" alone for the town); rows of a
    coarser level named like an area of the import level are read as blocks (:mod:`.level_blocks`)."""
    rows = rows[["sheet", "row", "key", "name", "total"]].assign(
        name=rows["name"].where(rows["name"].notna(), "").astype(str))
    result = rows[["key", "name", "total"]].drop_duplicates().reset_index(drop=True)
    per_level = {}
    for lv in levels:
        candidates = areas[areas["level"] == lv]
        if candidates.empty:
            continue
        names = result["name"].where(result["name"].ne(""), result["key"].astype(str))  # no name column: the key
        if lv != level:
            stripped = names.str.replace(_TOTAL_WORDS, "", regex=True).str.strip(" :-–").str.replace(
                _TOWN_WORDS, "", regex=True)
            names = stripped.where(stripped.ne("") | ~result["total"],
                                   candidates["name"].iloc[0] if len(candidates) == 1 else "")
        m = match(pd.DataFrame({"key": result["key"], "name": names}), candidates).set_index(["key", "name"])
        got = m.reindex(pd.MultiIndex.from_arrays([result["key"].astype(str), names.astype(str)]))
        per_level[lv] = got.reset_index(drop=True).set_axis(result.index)
    result = result.assign(level=None, area_key=None, rule=None)
    for rules, coarser in (({"key", "key_norm"}, False), ({"key", "key_norm"}, True), ({"name", "name_norm"}, False),
                           ({"name", "name_norm"}, True), ({"combined"}, False)):
        for lv, got in per_level.items():
            if (lv != level) != coarser:
                continue
            take = result["area_key"].isna() & got["rule"].isin(rules)
            result.loc[take, "area_key"] = got.loc[take, "area_key"]
            result.loc[take, "level"] = lv
            result.loc[take, "rule"] = [(f"{levels[lv]}: " if coarser else "") + RULES[r] for r in got.loc[take, "rule"]]
    joint = result["rule"].eq(RULES["combined"])
    name_of = dict(zip(areas.loc[areas["level"] == level, "key"], areas.loc[areas["level"] == level, "name"]))
    result.loc[joint, "rule"] = [f"{RULES['combined']} " + " + ".join(name_of[m] for m in k.split(area_groups.SEPARATOR))
                                 for k in result.loc[joint, "area_key"]]
    own = per_level.get(level, pd.DataFrame({"reason": None, "suggestions": None}, index=result.index))
    result["reason"], result["suggestions"] = own["reason"], own["suggestions"]
    result["combined"] = joint
    result = level_blocks.alternatives(result, per_level, levels, level)
    no_key = result["key"].astype(str).str.strip().eq("")  # a database export's rows "ohne Zuordnung"
    result["unassigned"] = result["area_key"].isna() & (result["name"].str.contains(_UNASSIGNED, regex=True)
                                                        | result["key"].str.contains(_UNASSIGNED, regex=True) | no_key)
    result.loc[result["unassigned"], "rule"] = "ohne Gebiet"
    result.loc[result["unassigned"] & no_key, "rule"] = "ohne Gebiet (Schlüssel leer)"
    result = rows.merge(result.assign(uid=result.index), on=["key", "name", "total"], how="left")  # now per row
    result = level_blocks.assign(result, per_level, levels, level, level_rows)
    result["unassigned"] &= result["area_key"].isna()
    report.details["level_blocks"] = level_blocks.describe(result, levels, level)
    todo = result["area_key"].isna() & ~result["unassigned"]
    report.details["unassigned_rows"] = [{"row": int(r), "key": k, "name": n} for r, k, n in zip(
        result.loc[result["unassigned"], "row"], result.loc[result["unassigned"], "key"],
        result.loc[result["unassigned"], "name"])]
    _report_matching(result, report)
    if len(result) > MAX_REPORTED:
        report.warnings.append(f"Die Zuordnung je Zeile ist für die ersten {MAX_REPORTED} von {len(result)} Zeilen "
                               "aufgeführt; die Regeln sind für alle gezählt.")
    for s, r, k, n, reason, sugg in result.loc[todo, ["sheet", "row", "key", "name", "reason", "suggestions"]
                                               ].itertuples(index=False):
        report.unmatched.append({"row": int(r), "key": k, "name": n or None, "reason": reason or "kein Gebiet gefunden",
                                 "suggestions": list(sugg) if isinstance(sugg, list) else []})
    on_level = result[result["level"] == level]["rule"].value_counts()
    by_name = int(on_level.get(RULES["name"], 0) + on_level.get(RULES["name_norm"], 0))
    if by_name:
        report.warnings.append(f"{fmt.count(by_name, 'Zeile wurde', 'Zeilen wurden')} über den Gebietsnamen "
                               "zugeordnet, weil der Schlüssel nicht passte (Regel je Zeile im Bericht).")
    if on_level.get(RULES["key_norm"]):
        n = int(on_level[RULES["key_norm"]])
        report.warnings.append(f"{fmt.count(n, 'Zeile wurde', 'Zeilen wurden')} über den normalisierten Schlüssel "
                               "zugeordnet (führende Nullen bzw. Präfix ignoriert).")
    coarser = result[result["level"].notna() & (result["level"] != level)]
    if len(coarser):
        sums = fmt.count(len(coarser), "Zeile ist eine Summe", "Zeilen sind Summen")
        report.warnings.append(f"{sums} gröberer Ebenen und werden dort als gelieferte Werte gespeichert: " + ", ".join(
                                   f"Zeile {r} → {levels[lv]} {a}" for r, lv, a in zip(
                                       coarser["row"][:MAX_LISTED], coarser["level"], coarser["area_key"])) + ".")
    return result


def _report_matching(result: pd.DataFrame, report: ImportReport) -> None:
    """The area, level and rule of every row (the first MAX_REPORTED) and how often each rule was used."""
    report.details["matching"] = [
        {"sheet": s, "row": int(r), "key": k, "name": n, "level": lv, "area_key": a, "rule": ru}
        for s, r, k, n, lv, a, ru in result[["sheet", "row", "key", "name", "level", "area_key", "rule"]].head(
            MAX_REPORTED).itertuples(index=False)]
    report.details["matching_rules"] = result["rule"].fillna("nicht zugeordnet").value_counts().to_dict()


def _check_totals(wh: Warehouse, frame: pd.DataFrame, levels: dict[str, str], level: str, sums: set[str],
                  groups: dict[str, list[str]], report: ImportReport) -> None:
    """Delivered totals of coarser areas next to the sum of their areas in the same file (counts only):
    "Gesamtstadt, ew 2023: geliefert 2.950, Summe der Sozialraum-Gebiete 2.950, Differenz 0,0 %"; where areas
    lack a value, the sum of those with one, how many lack it and the gap. A group's value counts once, for the
    areas above all its members."""
    coarse = frame[(frame["level"] != level) & frame["status"].eq("ok") & frame["indicator"].isin(sums)]
    if coarse.empty:
        return
    areas = read_df(wh, "SELECT level, key, name, parent_key FROM area WHERE list_contains(?, level)", [list(levels)])
    parent = {lv: dict(zip(g["key"], g["parent_key"])) for lv, g in areas.groupby("level")}
    names = dict(zip(zip(areas["level"], areas["key"]), areas["name"]))
    chain = list(levels)
    own = areas.loc[areas["level"] == level, "key"]
    ancestor = pd.Series(own.to_numpy(), index=own.to_numpy())
    fine = frame[frame["level"] == level]
    fine = fine.assign(ok=fine["status"].eq("ok") * _covers(fine["area_key"], groups))
    lines = []
    for child, up in itertools.pairwise(chain):
        ancestor = ancestor.map(parent.get(child, {}))
        here = coarse[coarse["level"] == up]
        if here.empty:
            continue
        n_areas = ancestor.value_counts()
        shared = {g: a[0] for g, ms in groups.items() if len(a := ancestor.reindex(ms).unique()) == 1}
        up_of = pd.concat([ancestor, pd.Series(shared, dtype=object)])
        got = fine.assign(up=fine["area_key"].map(up_of)).groupby(["indicator", "up", "year"]).agg(
            total=("value", "sum"), n=("ok", "sum"))
        for ind, key, year, value in zip(here["indicator"], here["area_key"], here["year"], here["value"]):
            if (ind, key, year) not in got.index:
                continue
            total, n = got.loc[(ind, key, year)]
            head = f"{names[(up, key)]}, {ind} {year}: geliefert {fmt.number(value, 0)}"
            if n < n_areas.get(key, 0):
                lines.append(f"{head}, Summe der {int(n)} Gebiete mit Wert {fmt.number(total, 0)}, "
                             f"{fmt.count(int(n_areas[key] - n), 'Gebiet', 'Gebiete')} ohne Wert, "
                             f"Lücke {fmt.number(value - total, 0)}")
            else:
                share = (value - total) / total * 100 if total else float("nan")
                lines.append(f"{head}, Summe der Gebiete ({levels[level]}) {fmt.number(total, 0)}, Differenz "
                             f"{fmt.number(share, 1)} %")
    report.details["totals_check"] = lines
    differing = [line for line in lines if not line.endswith("Differenz 0,0 %")]
    if differing:
        report.warnings.append("Gelieferte Summen weichen ab (der gelieferte Wert gilt): " + "; ".join(
            differing[:MAX_LISTED]) + ("; …" if len(differing) > MAX_LISTED else "") + ".")


def _town_with_unassigned(frame: pd.DataFrame, unassigned: pd.DataFrame, areas: pd.DataFrame, levels: dict[str, str],
                          level: str, sums: set[str], groups: dict[str, list[str]], report: ImportReport
                          ) -> pd.DataFrame:
    """Rows without an area ("nicht zuordenbar") still belong to the town: for counts delivered for every area
    of the level, the town's value is stored as Σ areas + Σ rows without an area (with a note); otherwise the
    report says why they could not be counted."""
    top = list(levels)[-1]
    town = areas.loc[areas["level"] == top, "key"]
    if unassigned.empty or top == level or len(town) != 1:
        return frame.iloc[0:0]
    n_areas = int((areas["level"] == level).sum())
    out, lines = [], []
    for (ind, year), extra in unassigned.groupby(["indicator", "year"]):
        here = frame[(frame["indicator"] == ind) & (frame["year"] == year)]
        own = here[here["level"] == level]
        if ind not in sums:
            reason = "kein Anzahl-Indikator"
        elif (here["level"] == top).any():
            reason = "in der gelieferten Summe der Gesamtstadt enthalten"
        elif (own["status"].eq("ok") * _covers(own["area_key"], groups)).sum() < n_areas \
                or not extra["status"].eq("ok").all():
            reason = "nicht berücksichtigt: nicht alle Gebiete bzw. Zeilen haben einen Wert"
        else:
            value = own["value"].sum() + extra["value"].sum()
            note = f"inkl. {fmt.number(extra['value'].sum(), 0)} ohne Gebietszuordnung"
            out.append({"indicator": ind, "level": top, "area_key": town.iloc[0], "year": year, "value": value,
                        "status": "ok", "note": note})
            reason = f"in der Gesamtstadt mitgezählt ({note})"
        lines.append(f"{ind} {year}: {reason}")
    report.details["unassigned"] = lines
    without = fmt.count(len(report.details["unassigned_rows"]), "Zeile", "Zeilen")
    report.warnings.append(f"{without} ohne Gebiet (z. B. „nicht zuordenbar“): " + "; ".join(lines[:MAX_LISTED]) + ".")
    return pd.DataFrame(out, columns=[*frame.columns, "note"])


def _implausible(frame: pd.DataFrame, meta: pd.DataFrame, report: ImportReport) -> None:
    """Warn (the user decides) about shares outside 0–100 % (or ‰) and negative counts: "Anteil über 100 %:
    quote_u9 2024 – 3 Werte, z. B. 0101: 112,5" (a share delivered as a count, numerator and denominator swapped?)."""
    bounds = meta.assign(top=meta["unit"].map({"%": 100.0, "‰": 1000.0}))
    bounds = bounds[bounds["kind"].isin(["rate", "share"]) & bounds["top"].notna() | (bounds["kind"] == "count")]
    ok = frame[frame["status"].eq("ok")].merge(bounds.drop_duplicates("key"), left_on="indicator", right_on="key")
    odd = ok[(ok["value"] < 0) | (ok["value"] > ok["top"])]
    for (ind, year, kind, unit), g in odd.groupby(["indicator", "year", "kind", "unit"]):
        count = kind == "count"
        what = "Negative Anzahl" if count else f"Anteil außerhalb 0–{fmt.number(g['top'].iloc[0], 0)} {unit}"
        hint = ("Veränderung statt Bestand geliefert? Minuszeichen?" if count else
                "Anzahl statt Anteil geliefert? Zähler und Nenner vertauscht?")
        report.warnings.append(f"{what}: {ind} {year} – {fmt.count(len(g), 'Wert', 'Werte')}, z. B. " + ", ".join(
            f"{k}: {fmt.number(v, 0 if count else 1)}" for k, v in zip(g["area_key"][:3], g["value"]))
            + f". Bitte prüfen ({hint}).")


def _covers(keys: pd.Series, groups: dict[str, list[str]]) -> pd.Series:
    """How many areas each row's value stands for: the members of a group, else 1."""
    return keys.map(lambda k: len(groups[k]) if k in groups else 1)


def _groups(matched_rows: pd.DataFrame, areas: pd.DataFrame, level: str, report: ImportReport
            ) -> dict[str, list[tuple[str, str]]]:
    """The area groups of combined rows: group key → [(member key, member name), …]; listed in the report."""
    joint = matched_rows[matched_rows["combined"].eq(True)]
    name_of = dict(zip(areas.loc[areas["level"] == level, "key"], areas.loc[areas["level"] == level, "name"]))
    groups = {k: [(m, name_of[m]) for m in k.split(area_groups.SEPARATOR)] for k in joint["area_key"].unique()}
    if groups:
        report.details["area_groups"] = {k: area_groups.joint_name([n for _, n in ms]) for k, ms in groups.items()}
        listed = [f"Zeile {r} → {ru.removeprefix(RULES['combined']).strip()}"
                  for r, ru in zip(joint["row"][:MAX_LISTED], joint["rule"])]
        rows = fmt.count(len(joint), "kombinierte Zeile", "kombinierte Zeilen")
        report.warnings.append(f"{rows}: der Wert gehört der Gebietsgruppe (nicht auf die Gebiete aufgeteilt): "
                               + ", ".join(listed) + ".")
    return groups


def _refuse_double(matched: pd.DataFrame, groups: dict[str, list[tuple[str, str]]], source: str) -> None:
    """An area with its own value and a group value (or in two groups) for the same indicator and year would be
    counted twice: refused with both rows named."""
    if not groups:
        return
    units = matched[["row", "indicator", "year", "area_key"]]
    cover = pd.DataFrame([(g, m) for g, ms in groups.items() for m, _ in ms], columns=["area_key", "member"])
    spread = units.merge(cover, on="area_key", how="left")
    spread["member"] = spread["member"].fillna(spread["area_key"])
    twice = spread[spread.duplicated(["indicator", "year", "member"], keep=False)]
    if twice.empty:
        return
    listed = "; ".join(f"{m}, {i} {y}: Zeilen {', '.join(str(r) for r in g['row'])}" for (i, y, m), g in
                       list(twice.groupby(["indicator", "year", "member"]))[:MAX_LISTED])
    raise ValidationError(f"{source}: Gebiete haben einen eigenen Wert und zugleich einen gemeinsamen Wert einer "
                          f"kombinierten Zeile (sie würden doppelt gezählt): {listed}. Bitte eine der Zeilen "
                          "entfernen. Nichts gespeichert.")


def _superseded(wh: Warehouse, frame: pd.DataFrame, groups: dict[str, list[str]], level: str,
                report: ImportReport) -> pd.DataFrame:
    """Stored values this delivery replaces through a group: the members' own values where a group value
    arrives, a group's value where a member's own value arrives (same indicator and year; the newest wins)."""
    stored = area_groups.of_level(wh.cursor(), level) | groups
    empty = pd.DataFrame(columns=relations.KEY)
    if not stored:
        return empty
    incoming = frame[frame["level"] == level]
    arriving = set(incoming["area_key"])
    members = {m for k in arriving & set(stored) for m in stored[k]}  # of the groups in this delivery
    keys = sorted(members | {g for g, ms in stored.items() if g not in arriving and set(ms) & (arriving | members)})
    old = read_df(wh, "SELECT indicator, level, area_key, year FROM indicator_value WHERE level = ? AND "
                      "origin = 'source' AND list_contains(?, area_key) AND list_contains(?, indicator)",
                  [level, keys, sorted(set(incoming["indicator"]))])
    if old.empty:
        return empty

    def spread(f: pd.DataFrame) -> pd.DataFrame:
        return f.assign(member=f["area_key"].map(lambda k: stored.get(k, [k]))).explode("member")
    hit = spread(old).merge(spread(incoming[["indicator", "year", "area_key"]]), on=["indicator", "year", "member"],
                            suffixes=("", "_new"))
    gone = hit[hit["area_key"] != hit["area_key_new"]][relations.KEY].drop_duplicates()
    if len(gone):
        replaced = fmt.count(len(gone), "gespeicherter Wert wird", "gespeicherte Werte werden")
        report.warnings.append(f"{replaced} ersetzt, weil diese Lieferung dieselben Gebiete anders zusammenfasst "
                               "(Gebietsgruppe statt Einzelwerte oder umgekehrt): "
                               + ", ".join(f"{k} {i} {y}" for i, _, k, y in gone.head(MAX_LISTED).itertuples(
                                   index=False)) + ".")
    return gone


def _first_unmatched(report: ImportReport) -> str:
    if not report.unmatched:
        return ""
    u = report.unmatched[0]
    return f" Beispiel: Zeile {u['row']}: {u['reason']}."


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
