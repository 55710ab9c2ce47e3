"""Reading untrusted files safely: size limits, zip checks, CSV dialects, German numbers and "k. A."."""
from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..errors import ValidationError

MAX_BYTES = int(os.environ.get("KECK_IMPORT_MAX_MB", "200")) * 1024 * 1024
MAX_ROWS = int(os.environ.get("KECK_IMPORT_MAX_ROWS", "2000000"))
MAX_ZIP_MEMBERS = 200
MAX_ZIP_RATIO = 200
MAX_UNZIPPED_BYTES = 4 * MAX_BYTES

# Zeichen for values without a number (German official statistics): what each means by default
SUPPRESSED_TOKENS = {"k. a.", "k.a.", "ka", "*", ".", "(.)", "geheim"}
MISSING_TOKENS = {"", "-", "–", "x", "nan", "n/a", "na", "null", "none", "..."}


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


def safe_unzip(path: Path, dest: Path, wanted: tuple[str, ...]) -> list[Path]:
    """Extract the members with the wanted endings, refusing path traversal and decompression bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValidationError(f"{path.name} ist keine gültige ZIP-Datei.") from None
    with archive:
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
        out = []
        for m in members:
            if m.is_dir() or not m.filename.lower().endswith(wanted):
                continue
            target = dest / Path(m.filename.replace("\\", "/")).name
            with archive.open(m) as src, open(target, "wb") as dst:
                written = 0
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > m.file_size or written > MAX_UNZIPPED_BYTES:
                        raise ValidationError(f"{path.name}: „{m.filename}“ ist größer als angegeben.")
                    dst.write(chunk)
            out.append(target)
        return out


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as German Excel writes it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(f"{name}: Die Zeichenkodierung ist weder UTF-8 noch Windows-1252. "
                          "Bitte als „CSV UTF-8“ speichern.")


def read_table(path: Path, sheet: str | int | None = None) -> tuple[pd.DataFrame, dict]:
    """Read CSV or XLSX as text cells (keys keep leading zeros); returns (frame, dialect info)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        frames = read_excel(path, sheet)
        return next(iter(frames.values())), {"decimal": ".", "sep": None}
    if suffix not in (".csv", ".txt", ".tsv"):
        raise ValidationError(f"{path.name}: Dateiformat „{suffix}“ wird nicht unterstützt (CSV oder XLSX).")
    text = _decode(path.read_bytes(), path.name)
    if not text.strip():
        raise ValidationError(f"Die Datei {path.name} ist leer.")
    sample = text[:20000]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        sep = ";" if sample.count(";") > sample.count(",") else ","
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, engine="c")
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ValidationError(f"{path.name} enthält nur eine Kopfzeile und keine Daten.")
    if len(frame) > MAX_ROWS:
        raise ValidationError(f"{path.name} hat {len(frame)} Zeilen (höchstens {MAX_ROWS}).")
    return frame, {"decimal": "," if sep == ";" else "auto", "sep": sep}


def read_excel(path: Path, sheet: str | int | None = None) -> dict[str, pd.DataFrame]:
    """Sheets of a workbook (python-calamine: fast, read-only) as text frames keyed by sheet name.

    ``sheet``: a name, None for the first sheet, "*" for all sheets.
    """
    wanted = None if sheet == "*" else (0 if sheet is None else sheet)
    try:
        frames = pd.read_excel(path, sheet_name=wanted, dtype=object, engine="calamine", keep_default_na=False)
    except ValueError as exc:
        raise ValidationError(f"{path.name}: Tabellenblatt „{sheet}“ nicht gefunden ({exc}).") from None
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ValidationError(f"{path.name} lässt sich nicht als Excel-Datei lesen ({type(exc).__name__}).") from None
    if isinstance(frames, pd.DataFrame):
        frames = {str(sheet if sheet is not None else 0): frames}
    out = {}
    for name, frame in frames.items():
        frame.columns = [str(c).strip() for c in frame.columns]
        if len(frame) > MAX_ROWS:
            raise ValidationError(f"{path.name}, Blatt {name}: {len(frame)} Zeilen (höchstens {MAX_ROWS}).")
        out[str(name)] = frame.map(_cell_text)
    if all(f.empty for f in out.values()):
        raise ValidationError(f"{path.name} enthält keine Daten.")
    return out


def _cell_text(v) -> str:
    """Excel cells as text; whole floats lose their '.0' so numeric keys stay readable."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else str(int(v))
    return str(v)


def parse_values(cells: pd.Series, decimal: str = "auto", dash: str = "missing"
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text cells → (values, status, bad) with German or English numbers and the Zeichen for no value.

    ``decimal``: "," (German: 1.234,5), "." (English: 1,234.5) or "auto" (German where a comma decides it);
    ``dash``: what "-" means: "missing" (default) or "zero" (official statistics: nothing there).
    Runs in an in-memory DuckDB (vectorised, a million cells in well under a second).
    """
    con = duckdb.connect()
    try:
        con.register("cells", pd.DataFrame({"c": cells.astype(str).to_numpy()}))
        out = con.execute(
            """
            WITH t AS (SELECT row_number() OVER () AS i, trim(replace(c, chr(160), ' ')) AS raw FROM cells),
            u AS (SELECT i, raw, lower(raw) AS low,
                         regexp_replace(replace(raw, ' ', ''), '(%|‰|€)$', '') AS body FROM t)
            SELECT list_contains(?, low) AS supp,
                   list_contains(?, low) AND NOT (? AND raw IN ('-', '–')) AS miss,
                   ? AND raw IN ('-', '–') AS zero,
                   CASE WHEN ? = ',' OR (? = 'auto' AND contains(body, ','))
                        THEN TRY_CAST(replace(replace(body, '.', ''), ',', '.') AS DOUBLE)
                        ELSE TRY_CAST(replace(body, ',', '') AS DOUBLE) END AS v
            FROM u ORDER BY i
            """,
            [sorted(SUPPRESSED_TOKENS), sorted(MISSING_TOKENS), dash == "zero", dash == "zero", decimal, decimal],
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
