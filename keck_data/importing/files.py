"""Reading untrusted files safely: size limits, zip checks, CSV dialects, German numbers and "k. A."."""
from __future__ import annotations

import csv
import datetime
import gc
import io
import itertools
import os
import re
import threading
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd

from ..errors import ValidationError
from .sheet_guard import SheetRefused, XlsxCellCount, read_old_workbook

MAX_BYTES = int(os.environ.get("KECK_IMPORT_MAX_MB", "200")) * 1024 * 1024
MAX_ROWS = int(os.environ.get("KECK_IMPORT_MAX_ROWS", "2000000"))
MAX_ZIP_MEMBERS = 200
MAX_ZIP_RATIO = 200
MAX_UNZIPPED_BYTES = 4 * MAX_BYTES
MAX_SHARED_STRINGS = 50 * 1024 * 1024  # the one workbook part openpyxl keeps in memory as a whole
MAX_TEXT = int(os.environ.get("KECK_IMPORT_MAX_TEXT_MB", "100")) * 1_000_000  # characters of cell text per file
MAX_COLUMNS = 1000
MAX_CELLS = int(os.environ.get("KECK_IMPORT_MAX_CELLS", "10000000"))  # cells of a sheet, as declared or counted
EXCEL = (".xlsx", ".xlsm", ".xls", ".ods")

# Zeichen for values without a number (German official statistics): what each means by default
SUPPRESSED_TOKENS = {"k. a.", "k.a.", "ka", "*", ".", "(.)", "geheim"}
MISSING_TOKENS = {"", "-", "–", "x", "nan", "n/a", "na", "null", "none", "..."}


_gc_lock = threading.Lock()
_gc_pauses = [0, True]  # imports running in bulk mode, whether the collector was on before the first


@contextmanager
def bulk_reading():
    """Cyclic garbage collection paused while a file becomes a million small rows (no cycles are built; the
    collector would walk all rows again and again: CSV reading took 1.6 s instead of 0.6 s per million
    rows). Reference counting still frees memory; nested and concurrent imports share one pause."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def check_file(path: str | Path, max_bytes: int | None = None) -> Path:
    """The file exists, is not empty and not larger than the limit."""
    path = Path(path)
    limit = max_bytes or MAX_BYTES
    if not path.is_file():
        raise ValidationError(f"Die Datei {path.name} wurde nicht gefunden.")
    size = path.stat().st_size
    if size == 0:
        raise ValidationError(f"Die Datei {path.name} ist leer.")
    if size > limit:
        raise ValidationError(f"Die Datei {path.name} ist mit {size / 1e6:.1f} MB zu groß "
                              f"(höchstens {limit / 1e6:.0f} MB). Bitte aufteilen.")
    return path


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValidationError(f"{path.name} ist keine gültige ZIP-Datei.") from None


def _chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path, limit: int):
    """The member's bytes in chunks; refuses members larger than declared or than ``limit``, and bad checksums."""
    written = 0
    try:
        with archive.open(member) as src:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > member.file_size:
                    raise ValidationError(f"{path.name}: „{member.filename}“ ist größer als im Archiv angegeben – "
                                          "die Datei ist beschädigt oder manipuliert.")
                if written > limit:
                    raise ValidationError(f"{path.name}: „{member.filename}“ wäre entpackt größer als "
                                          f"{limit / 1e6:.0f} MB – vermutlich eine ZIP-Bombe.")
                yield chunk
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ValidationError(f"{path.name}: „{member.filename}“ ist beschädigt ({_zip_reason(exc)}). "
                              "Bitte die Datei neu exportieren.") from None


def _zip_reason(exc: Exception) -> str:
    return "Prüfsumme falsch" if "CRC" in str(exc) else "Inhalt unvollständig"


def _check_members(archive: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """Member names and declared sizes: no paths outside the archive, no bombs by declaration."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise ValidationError(f"{path.name} enthält {len(members)} Dateien (höchstens {MAX_ZIP_MEMBERS}).")
    total = 0
    for m in members:
        name = m.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name):
            raise ValidationError(f"{path.name} enthält einen unzulässigen Pfad „{m.filename}“ "
                                  "(Pfad außerhalb des Archivs). Die Datei wurde nicht verarbeitet.")
        total += m.file_size
        if m.compress_size and m.file_size / m.compress_size > MAX_ZIP_RATIO and m.file_size > 10_000_000:
            raise ValidationError(f"{path.name}: „{m.filename}“ entpackt sich auf das "
                                  f"{m.file_size // m.compress_size}-Fache – vermutlich eine ZIP-Bombe.")
    if total > MAX_UNZIPPED_BYTES:
        raise ValidationError(f"{path.name} wäre entpackt {total / 1e6:.0f} MB groß "
                              f"(höchstens {MAX_UNZIPPED_BYTES / 1e6:.0f} MB).")
    return members


def safe_unzip(path: Path, dest: Path, wanted: tuple[str, ...]) -> list[Path]:
    """Extract the members with the wanted endings, refusing path traversal and decompression bombs."""
    with _open_zip(path) as archive:
        out = []
        for m in _check_members(archive, path):
            if m.is_dir() or not m.filename.lower().endswith(wanted):
                continue
            target = dest / Path(m.filename.replace("\\", "/")).name
            with open(target, "wb") as dst:
                dst.writelines(_chunks(archive, m, path, MAX_UNZIPPED_BYTES))
            out.append(target)
        return out


def check_workbook(path: Path) -> None:
    """An XLSX is a zip: every part is decompressed once (streamed) to check sizes and checksums, and the
    shared-strings part, which openpyxl holds in memory, is bounded; so are the cells of each worksheet, by
    its declared dimension and by count, before openpyxl reads a row."""
    with _open_zip(path) as archive:
        total = 0
        for m in _check_members(archive, path):
            limit = MAX_SHARED_STRINGS if m.filename.endswith("sharedStrings.xml") else MAX_UNZIPPED_BYTES - total
            cells = XlsxCellCount(path.name, m.filename, MAX_CELLS) if m.filename.startswith("xl/worksheets/") \
                else None
            try:
                for chunk in _chunks(archive, m, path, limit):
                    total += len(chunk)
                    if cells:
                        cells.feed(chunk)
            except SheetRefused as refusal:
                raise ValidationError(str(refusal)) from None


def _decode(raw: bytes, name: str) -> str:
    """UTF-16 with its byte-order mark (Excel's "Unicode-Text"), UTF-8 (with or without BOM), else Windows-1252
    as German Excel writes it."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationError(f"{name}: Die Datei beginnt wie UTF-16, ist aber beschädigt. Bitte als "
                                  "„CSV UTF-8“ speichern.") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(f"{name}: Die Zeichenkodierung ist weder UTF-8 noch Windows-1252. "
                          "Bitte als „CSV UTF-8“ speichern.")


def read_grid(path: Path, sheet: str | int | None = None) -> tuple[dict[str, list[list[str]]], str | None]:
    """Every cell of a CSV or workbook as text, row by row, nothing interpreted yet: (sheet name → rows,
    CSV separator or None for workbooks).

    ``sheet``: a name, None for the first sheet, "*" for all sheets. Memory is bounded: at most
    ``MAX_ROWS`` rows, ``MAX_COLUMNS`` columns and ``MAX_TEXT`` characters of cell text per file.
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _workbook_rows(path, sheet), None
    if suffix in (".xls", ".ods"):
        return _old_workbook_rows(path, sheet), None
    if suffix not in (".csv", ".txt", ".tsv"):
        raise ValidationError(f"{path.name}: Dateiformat „{suffix}“ wird nicht unterstützt (CSV oder XLSX).")
    rows, sep = _csv_rows(path)
    return {path.stem: rows}, sep


def csv_separator(text: str) -> str:
    sample = text[:20000]
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        return ";" if sample.count(";") > sample.count(",") else ","


def _csv_rows(path: Path) -> tuple[list[list[str]], str]:
    """CSV rows; an unclosed quote is refused with the line where it starts."""
    text = _decode(path.read_bytes(), path.name)
    if not text.strip():
        raise ValidationError(f"Die Datei {path.name} ist leer.")
    sep = csv_separator(text)
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    line, quoted = 1, '"' in text
    if not quoted:  # no field can span lines: read in one go (a million rows in a second, not four)
        try:
            rows = list(itertools.islice(reader, MAX_ROWS + 1))
        except csv.Error as exc:
            raise ValidationError(f"{path.name}, Zeile {reader.line_num}: Die Zeile lässt sich nicht lesen ({exc}).") \
                from None
        if len(rows) > MAX_ROWS:
            raise ValidationError(f"{path.name} hat mehr als {MAX_ROWS} Zeilen.")
        return rows, sep
    try:
        for row in reader:
            if quoted and any("\n" in c and sep in c for c in row):
                raise csv.Error("unclosed quote")
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise ValidationError(f"{path.name} hat mehr als {MAX_ROWS} Zeilen.")
            line = reader.line_num + 1
    except csv.Error:
        raise ValidationError(f"{path.name}, Zeile {line}: Ein Anführungszeichen (\") wird nicht geschlossen – "
                              "die folgenden Zeilen würden zu einem einzigen Feld. Bitte das Zeichen in der Datei "
                              "entfernen oder verdoppeln (\"\").") from None
    return rows, sep


def _workbook_rows(path: Path, sheet: str | int | None) -> dict[str, list[list[str]]]:
    """Rows of XLSX sheets, streamed with openpyxl (shared strings are shared, not copied per cell)."""
    check_workbook(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ValidationError(f"{path.name} lässt sich nicht als Excel-Datei lesen ({type(exc).__name__}).") from None
    try:
        names = wb.sheetnames
        if sheet == "*":
            chosen = names
        elif sheet is None or sheet == 0:
            chosen = names[:1]
        elif str(sheet) in names:
            chosen = [str(sheet)]
        else:
            raise ValidationError(f"{path.name}: Tabellenblatt „{sheet}“ nicht gefunden (vorhanden: "
                                  + ", ".join(names) + ").")
        text_left = MAX_TEXT
        out = {}
        for name in chosen:
            ws = wb[name]
            ws.reset_dimensions()  # the stored dimension may claim a million rows × 16,384 columns
            rows = []
            for raw in ws.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in raw[:MAX_COLUMNS]]
                while cells and not cells[-1]:
                    cells.pop()
                text_left -= sum(map(len, cells))
                if text_left < 0:
                    raise ValidationError(f"{path.name}, Blatt „{name}“, Zeile {len(rows) + 1}: Die Zellen "
                                          f"enthalten zusammen mehr als {MAX_TEXT / 1e6:.0f} Mio. Zeichen Text – so "
                                          "viel Text hat keine Datentabelle (beschädigte oder manipulierte Datei?).")
                rows.append(cells)
                if len(rows) > MAX_ROWS:
                    raise ValidationError(f"{path.name}, Blatt „{name}“: mehr als {MAX_ROWS} Zeilen.")
            out[name] = rows
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ValidationError(f"{path.name} lässt sich nicht als Excel-Datei lesen ({type(exc).__name__}).") from None
    finally:
        wb.close()
    return out


def read_table(path: Path, sheet: str | int | None = None) -> tuple[pd.DataFrame, dict]:
    """A simple table (first row = column names) as text cells; returns (frame, dialect info)."""
    sheets = read_excel(path, sheet) if path.suffix.lower() in EXCEL else None
    if sheets is not None:
        return next(iter(sheets.values())), {"decimal": ".", "sep": None}
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        raise ValidationError(f"{path.name}: Dateiformat „{path.suffix.lower()}“ wird nicht unterstützt (CSV oder XLSX).")
    rows, sep = _csv_rows(path)
    frame = _frame(rows, path.name)
    return frame, {"decimal": "," if sep == ";" else "auto", "sep": sep}


def _frame(rows: list[list[str]], name: str) -> pd.DataFrame:
    """First row = column names; shorter rows padded, longer ones refused."""
    header = [str(c).strip() for c in rows[0]] if rows else []
    body = [r for r in rows[1:] if any(str(c).strip() for c in r)]
    if not body:
        raise ValidationError(f"{name} enthält nur eine Kopfzeile und keine Daten.")
    width = len(header)
    for i, r in enumerate(rows[1:], start=2):
        if len(r) > width and any(str(c).strip() for c in r[width:]):
            raise ValidationError(f"{name}, Zeile {i}: {len(r)} Felder, die Kopfzeile hat nur {width} Spalten.")
    return pd.DataFrame([(list(r) + [""] * width)[:width] for r in body], columns=header, dtype=str)


def read_excel(path: Path, sheet: str | int | None = None) -> dict[str, pd.DataFrame]:
    """Sheets of a workbook as text frames (first row = column names) keyed by sheet name.

    ``sheet``: a name, None for the first sheet, "*" for all sheets.
    """
    out = {name: _frame(rows, f"{path.name}, Blatt {name}") for name, rows in read_grid(path, sheet)[0].items()
           if any(any(c for c in r) for r in rows[1:])}
    if not out:
        raise ValidationError(f"{path.name} enthält keine Daten.")
    return out


def _old_workbook_rows(path: Path, sheet: str | int | None) -> dict[str, list[list[str]]]:
    """Old .xls and .ods workbooks, read by python-calamine in a memory-limited child process (sheet_guard)."""
    if path.suffix.lower() == ".ods":
        check_workbook(path)  # a zip like XLSX: sizes and checksums of every part
    limits = {"rows": MAX_ROWS, "columns": MAX_COLUMNS, "text": MAX_TEXT, "cells": MAX_CELLS}
    try:
        sheets = read_old_workbook(path, sheet, limits)
    except SheetRefused as refusal:
        raise ValidationError(str(refusal)) from None
    return {name: [[_cell_text(v) for v in row] for row in rows] for name, rows in sheets.items()}


def _cell_text(v) -> str:
    """Excel cells as text; whole floats lose their '.0' so numeric keys stay readable; dates in German."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v))
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.strftime("%d.%m.%Y")
    return str(v).strip()


def parse_values(cells: pd.Series, decimal: str | np.ndarray = "auto", dash: str = "missing",
                 empty: str = "missing") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text cells → (values, status, bad) with German or English numbers and the Zeichen for no value.

    ``decimal``: "," (German: 1.234,5), "." (English: 1,234.5) or "auto" (German where a comma decides it),
    one for all cells or one per cell; ``dash``: what "-" means: "missing" (default) or "zero" (official
    statistics: nothing there); ``empty``: what an empty cell means: "missing" or "suppressed" (a supplier's
    note such as "leere Zellen: weniger als 4 Fälle").
    Runs in an in-memory DuckDB (vectorised, a million cells in well under a second).
    """
    decimals = np.broadcast_to(np.asarray(decimal, dtype=object), (len(cells),))
    con = duckdb.connect()
    try:
        con.register("cells", pd.DataFrame({"c": cells.astype(str).to_numpy(), "d": decimals}))
        out = con.execute(
            """
            WITH t AS (SELECT row_number() OVER () AS i, trim(replace(c, chr(160), ' ')) AS raw, d FROM cells),
            u AS (SELECT i, raw, d, lower(raw) AS low,
                         regexp_replace(replace(raw, ' ', ''), '(%|‰|€)$', '') AS body FROM t)
            SELECT list_contains(?, low) OR (? AND raw = '') AS supp,
                   list_contains(?, low) AND NOT (? AND raw IN ('-', '–')) AND NOT (? AND raw = '') AS miss,
                   ? AND raw IN ('-', '–') AS zero,
                   CASE WHEN d = ',' OR (d = 'auto' AND contains(body, ','))
                        THEN TRY_CAST(replace(replace(body, '.', ''), ',', '.') AS DOUBLE)
                        ELSE TRY_CAST(replace(body, ',', '') AS DOUBLE) END AS v
            FROM u ORDER BY i
            """,
            [sorted(SUPPRESSED_TOKENS), empty == "suppressed", sorted(MISSING_TOKENS), dash == "zero",
             empty == "suppressed", dash == "zero"],
        ).df()
    finally:
        con.close()
    values = out["v"].to_numpy(dtype=float, na_value=np.nan)
    zero = out["zero"].to_numpy(dtype=bool)
    values[zero] = 0.0
    status = np.where(out["supp"].to_numpy(dtype=bool), "suppressed",
                      np.where(out["miss"].to_numpy(dtype=bool), "missing", "ok"))
    bad = (status == "ok") & np.isnan(values)
    values[status != "ok"] = np.nan
    return values, status, bad


_COMMA_DECIMAL = r"^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*%?$"
_POINT_DECIMAL = r"^[-+]?(\d{1,3}(,\d{3})+\.\d+|\d+\.(\d{1,2}|\d{4,}))\s*%?$"
_AMBIGUOUS = r"^[-+]?\d{1,3}(\.\d{3})+$"


def column_decimals(cells: pd.Series, columns: pd.Series, default: str) -> tuple[dict[str, str], list[str]]:
    """The decimal separator of each column, decided by its own cells (41,5 → ","; 41.5 → "."); a column
    whose only evidence is "1.234" (thousands or three decimals?) follows the rest of the file, else
    ``default``; it stays ambiguous (a question for the user) where the file's evidence is mixed or
    contradicts ``default``. Returns (column → separator, ambiguous columns)."""
    con = duckdb.connect()
    try:
        con.register("cells", pd.DataFrame({"c": cells.to_numpy(dtype=object), "col": columns.to_numpy(dtype=object)}))
        found = con.execute(
            "SELECT col, bool_or(regexp_matches(trim(c), ?)), bool_or(regexp_matches(trim(c), ?)), "
            "bool_or(regexp_matches(trim(c), ?)) FROM cells GROUP BY col", [_COMMA_DECIMAL, _POINT_DECIMAL, _AMBIGUOUS]
        ).df().set_index("col")
    finally:
        con.close()
    comma, point, ambiguous = (found.iloc[:, i].astype(bool) for i in range(3))
    both = sorted(comma.index[comma & point])
    if both:
        raise ValidationError("Dezimaltrennzeichen widersprüchlich: in " + ", ".join(f"„{c}“" for c in both[:10])
                              + " stehen Zahlen mit Komma und mit Punkt als Dezimalzeichen. Bitte einheitlich "
                              "speichern oder das Dezimalzeichen angeben (--decimal).")
    mixed = bool(comma.any() and point.any())
    file_wide = "," if comma.any() and not mixed else "." if point.any() and not mixed else default
    out, unsure = {}, []
    for col in comma.index:
        out[col] = "," if comma[col] else "." if point[col] else file_wide
        if ambiguous[col] and not (comma[col] or point[col]) and (mixed or file_wide != default):
            unsure.append(col)
    return out, unsure
