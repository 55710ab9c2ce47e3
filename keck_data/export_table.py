"""Tables as files: formatted XLSX with a metadata sheet, and CSV for German Excel (privacy already applied)."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .cells import csv_bytes, neutralise, safe_frame
from .importing.metadata import KIND_NAMES, PRIVACY_HELP
from .queries import Atlas

HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
REFERENCE_FILL = PatternFill("solid", fgColor="F2F2F2")


def table_frame(atlas: Atlas, indicators: list[str], level: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, metadata) for export: one row per area, numbers as numbers, k. A./keine Daten as text."""
    table = atlas.table(indicators, level, year)
    meta = atlas.indicators().set_index("key").loc[indicators]
    out = pd.DataFrame({"Ebene": table["level_name"], "Schlüssel": table["key"], "Gebiet": table["name"]})
    for key in indicators:
        name = meta.loc[key, "name"]
        numbers = table[f"_num_{key}"]
        out[f"{name} ({meta.loc[key, 'unit']})"] = [n if pd.notna(n) else txt for n, txt in zip(numbers, table[name])]
    out.attrs["reference_rows"] = int(table["reference"].sum())
    return out, meta.reset_index()


def to_xlsx(atlas: Atlas, indicators: list[str], level: str, year: int) -> bytes:
    """A formatted workbook: title, reference rows, the areas, a 'Metadaten' sheet with definitions."""
    data, meta = (safe_frame(f) for f in table_frame(atlas, indicators, level, year))
    wb = Workbook()
    ws = wb.active
    ws.title = "Tabelle"
    title = f"Sozialraum-Atlas {atlas.municipality()} – {atlas.level_name(level)}, {year}"
    ws.append([neutralise(title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"Stand: {date.today():%d.%m.%Y}. „k. A.“ = aus Datenschutzgründen keine Angabe."])
    ws.append([])
    ws.append(list(data.columns))
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    decimals = [None, None, None] + [int(d) for d in meta["decimals"]]
    for i, row in enumerate(data.itertuples(index=False)):
        ws.append(list(row))
        for j, cell in enumerate(ws[ws.max_row]):
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if j >= 3:
                    cell.alignment = Alignment(horizontal="right")
            elif decimals[j] is not None:
                cell.number_format = "#,##0" + ("." + "0" * decimals[j] if decimals[j] else "")
            if i < data.attrs["reference_rows"]:
                cell.font = Font(bold=True)
                cell.fill = REFERENCE_FILL
    ws.freeze_panes = "D5"
    for j, col in enumerate(data.columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = 14 if j > 3 else (30 if j == 3 else 12)
    ms = wb.create_sheet("Metadaten")
    fields = [("key", "Schlüssel"), ("name", "Indikator"), ("topic_name", "Themenfeld"), ("unit", "Einheit"),
              ("definition", "Definition"), ("calculation", "Berechnung"), ("source", "Quelle"),
              ("reference_date", "Stichtag"), ("interpretation", "Interpretation"), ("data_owner", "Datenhalter"),
              ("update_cycle", "Aktualisierung"), ("kind_name", "Art"), ("privacy_name", "Geheimhaltung")]
    meta = meta.assign(kind_name=meta["kind"].map(KIND_NAMES), privacy_name=meta["privacy"].map(PRIVACY_HELP))
    ms.append([label for _, label in fields])
    for cell in ms[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for _, m in meta.iterrows():
        ms.append([m[f] for f, _ in fields])
        for cell in ms[ms.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for j in range(1, len(fields) + 1):
        ms.column_dimensions[get_column_letter(j)].width = 40 if j in (5, 6, 7) else 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(atlas: Atlas, indicators: list[str], level: str, year: int) -> bytes:
    """UTF-8 with BOM, ';' separator and decimal comma, formulas neutralised."""
    data, meta = table_frame(atlas, indicators, level, year)
    for col, decimals in zip(data.columns[3:], meta["decimals"]):
        data[col] = [f"{v:.{int(decimals)}f}".replace(".", ",") if isinstance(v, float) else v for v in data[col]]
    return csv_bytes(data)
