"""Spreadsheet-safe cells: the one place where every CSV and XLSX export neutralises formulas (headers too)."""
from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[\d.,]+%?")  # "-1,5" is a number, not a formula


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; anything else passes unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and every column name neutralised (numbers stay numbers)."""
    out = frame.map(neutralise)
    out.columns = [neutralise(str(c)) for c in frame.columns]
    return out


def csv_bytes(frame: pd.DataFrame, decimal: str = ",") -> bytes:
    """CSV for German spreadsheets: UTF-8 with BOM, ';', decimal comma, formulas neutralised."""
    return safe_frame(frame).to_csv(sep=";", decimal=decimal, index=False).encode("utf-8-sig")
