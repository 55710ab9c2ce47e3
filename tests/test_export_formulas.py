"""No export cell can run as a spreadsheet formula: text cells and headers of every CSV/XLSX, in one place."""
import csv
import io
import re
import zipfile

import openpyxl
import pytest

from keck_data import editing, export_opendata, export_table
from keck_data.policy import Resource, User, system
from keck_data.queries import Atlas

EDITOR = User("statistik", "Editor", "keck_admin")
EVIL = '=HYPERLINK("http://angreifer.example","Klick")'
FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?[\d.,]+%?")


@pytest.fixture()
def poisoned(wh):
    """Metadata, a unit, an indicator key, an area key and an area name as an attacker would deliver them."""
    editing.save_indicator(wh, EDITOR, {"key": EVIL, "name": EVIL, "topic": "bildung", "unit": "@SUM(A1)",
                                        "definition": "+cmd|' /C calc'!A0", "calculation": "-1+1", "source": EVIL,
                                        "reference_date": "31.12.", "kind": "count", "released": True})
    editing.save_values(wh, EDITOR, EVIL, "sozialraum", 2024, {"0101": "120", "0102": "-7"})

    def rename(tx):
        tx.cur.execute("UPDATE area SET key = '=0101', name = '=2+5' WHERE level = 'sozialraum' AND key = '0101'")
        tx.cur.execute("UPDATE indicator_value SET area_key = '=0101' WHERE level = 'sozialraum' AND area_key = '0101'")
        tx.audit("area", "=0101", "0101", "=0101")
    wh.write(system("test"), "import-areas", [Resource("level", "sozialraum")], rename)
    return wh


def _unsafe_csv(data: bytes, shown: str = "HYPERLINK") -> list[str]:
    """The cells a spreadsheet would run as a formula (after checking the poisoned text is in the file)."""
    cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";") for cell in row]
    assert any(shown in cell for cell in cells)
    return [cell for cell in cells if cell.startswith(FORMULA) and not NUMBER.fullmatch(cell)]


def test_table_xlsx_has_no_formula_cells(poisoned):
    data = export_table.to_xlsx(Atlas(poisoned), [EVIL, "schulanfaenger"], "sozialraum", 2024)
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(EVIL in str(c.value) for c in cells)  # the text is there, as text
    bad = [(c.coordinate, c.value) for c in cells if c.data_type == "f" or (
        isinstance(c.value, str) and c.value.startswith(FORMULA))]
    assert not bad


def test_table_csv_has_no_formula_cells(poisoned):
    data = export_table.to_csv(Atlas(poisoned), [EVIL], "sozialraum", 2024)
    assert not _unsafe_csv(data)


def test_export_values_has_no_formula_cells(poisoned, tmp_path):
    export_opendata.export_values(poisoned, tmp_path / "werte.csv")
    data = (tmp_path / "werte.csv").read_bytes()
    assert not _unsafe_csv(data) and not _unsafe_csv(data, "=0101")


def test_open_data_csvs_have_no_formula_cells(poisoned):
    with zipfile.ZipFile(io.BytesIO(export_opendata.open_data_zip(Atlas(poisoned, public=True), 2024))) as z:
        for name in ("werte.csv", "metadaten.csv"):
            data = z.read(name)
            assert not _unsafe_csv(data), name
