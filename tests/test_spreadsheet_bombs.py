"""Spreadsheet expansion bombs (issue 23, item 1): .ods repeat attributes, .xls/.ods read in a memory-limited
child, XLSX refused by declared dimension and by counted cells – German messages, nothing stored, peak memory of
the whole process tree measured in a subprocess."""
import os
import re
import subprocess
import sys

import pytest

from keck_data.errors import ValidationError
from keck_data.importing import files, import_values
from keck_data.importing.sheet_guard import SheetRefused, read_old_workbook
from keck_data.policy import system
from tests.conftest import ROOT
from tests.delivery_files import ods, ods_bomb, xlsx_cells
from tests.import_helpers import fingerprint

TESTER = system("test")

# Runs a command and reports the peak RSS of its whole process tree (every descendant is waited for, so
# RUSAGE_CHILDREN holds the largest of them; this small wrapper itself is far below any of them).
PEAK = """
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(out.stdout + out.stderr)
print("EXIT", out.returncode)
print("PEAK_MB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def _peak_run(*command, env=None):
    out = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **(env or {})}, timeout=600, check=False)
    return out.stdout, int(re.search(r"PEAK_MB (\d+)", out.stdout).group(1))


def test_ods_expansion_bomb_is_refused_by_its_declared_expansion_with_bounded_memory(demo_copy, tmp_path):
    bomb = ods_bomb(tmp_path / "bombe.ods")
    assert bomb.stat().st_size < 1000
    from keck_data.warehouse import Warehouse
    with Warehouse(demo_copy) as wh:
        before = fingerprint(wh)
    output, peak = _peak_run(sys.executable, "-m", "keck_data", "import-values", str(bomb), "--level", "sozialraum",
                             "--year", "2025", "--dry-run", env={"KECK_WAREHOUSE": str(demo_copy)})
    assert "20000 Zeilen × 1000 Spalten" in output and "Nichts wurde gelesen" in output, output
    assert "EXIT 2" in output and "Traceback" not in output, output
    assert peak < 500, f"peak RSS {peak} MB"
    with Warehouse(demo_copy) as wh:
        assert fingerprint(wh) == before


def test_ods_text_expansion_counts_repeated_cells(tmp_path):
    bomb = ods_bomb(tmp_path / "text.ods", rows=2_000, columns=100, length=1_000)  # 200,000 cells, 200 M chars
    with pytest.raises(ValidationError, match="ausgedehnt mehr als 100 Mio. Zeichen Text"):
        files.read_grid(bomb)


READ_UNGUARDED = """
import sys
from pathlib import Path
from keck_data.importing.sheet_guard import SheetRefused, read_old_workbook
huge = 10 ** 12
try:
    read_old_workbook(Path(sys.argv[1]), None, {"rows": huge, "columns": 1000, "text": huge, "cells": huge})
    print("READ")
except SheetRefused as refusal:
    print(refusal)
"""


def test_the_reading_child_is_memory_limited_whatever_the_file_declares(tmp_path):
    """Without the declared-expansion check (as for an .xls, which has no repeat attributes) calamine runs into
    the child's address-space limit: the child ends, the parent gives a German message."""
    bomb = ods_bomb(tmp_path / "bombe.ods")
    output, peak = _peak_run(sys.executable, "-c", READ_UNGUARDED, str(bomb))
    assert "mehr als 420 MB Arbeitsspeicher" in output, output
    assert peak < 500, f"peak RSS {peak} MB"


def test_an_ods_as_libreoffice_writes_it_is_read(wh, tmp_path):
    path = ods(tmp_path / "werte.ods", [["Schlüssel", "Sozialraum", "ew_gesamt"], ["0101", "Marktplatz", 1234],
                                        ["0102", "Domviertel", 2345.0]])
    assert files.read_grid(path)[0] == {"Daten": [["Schlüssel", "Sozialraum", "ew_gesamt"],
                                                  ["0101", "Marktplatz", "1234"], ["0102", "Domviertel", "2345"]]}
    report = import_values(wh, path, level="sozialraum", layout="wide", key_col="Schlüssel", name_col="Sozialraum", year=2025,
                           dry_run=True, user=TESTER)
    assert report.details["matched_rows"] == 2 and report.details["columns"] == {"ew_gesamt": "ew_gesamt"}


def test_a_broken_ods_or_xls_gets_a_german_message(tmp_path):
    broken = tmp_path / "kaputt.xls"
    broken.write_bytes(b"kein Excel" * 100)
    with pytest.raises(ValidationError, match="kaputt.xls lässt sich nicht als Excel-Datei lesen"):
        files.read_grid(broken)
    with pytest.raises(SheetRefused, match="Tabellenblatt „Fehlt“ nicht gefunden"):
        read_old_workbook(ods(tmp_path / "a.ods", [["a"]]), "Fehlt", {"rows": 9, "columns": 9, "text": 99, "cells": 99})


def test_xlsx_refused_by_its_declared_dimension_before_reading(tmp_path):
    path = xlsx_cells(tmp_path / "gross.xlsx", rows=3, columns=2, dimension="A1:J5000000")
    with pytest.raises(ValidationError, match="laut Angabe der Datei 50.000.000 Zellen"):
        files.read_grid(path)


def test_xlsx_refused_by_counted_cells_when_the_dimension_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_CELLS", 1_000)
    path = xlsx_cells(tmp_path / "viele.xlsx", rows=101, columns=10)
    with pytest.raises(ValidationError, match="„xl/worksheets/sheet1.xml“ hat 1.0\\d\\d Zellen"):
        files.read_grid(path)
    assert len(files.read_grid(xlsx_cells(tmp_path / "ok.xlsx", rows=99, columns=10))[0]["Daten"]) == 99


def test_xlsx_with_50_million_cells_is_refused_quickly_with_bounded_memory(tmp_path):
    path = xlsx_cells(tmp_path / "fuenfzig.xlsx", rows=5_000_000, columns=10)
    script = "import sys; from pathlib import Path; from keck_data.importing import files; files.read_grid(Path(sys.argv[1]))"
    output, peak = _peak_run(sys.executable, "-c", script, str(path))
    assert re.search(r"„xl/worksheets/sheet1.xml“ hat 10\.0\d\d\.\d{3} Zellen \(höchstens 10\.000\.000\)", output), output
    assert peak < 500, f"peak RSS {peak} MB"


def test_utf16_text_as_excel_saves_unicode_text_is_read(tmp_path):
    """Issue 23: UTF-16 files got "keine Datenzeilen gefunden"."""
    path = tmp_path / "unicode.txt"
    path.write_bytes("Schlüssel\tSozialraum\tew_gesamt\r\n0101\tMarktplatz\t1234\r\n0102\tDomviertel\t2345\r\n"
                     .encode("utf-16"))
    frame, dialect = files.read_table(path)
    assert dialect["sep"] == "\t" and list(frame.columns) == ["Schlüssel", "Sozialraum", "ew_gesamt"]
    assert frame.values.tolist() == [["0101", "Marktplatz", "1234"], ["0102", "Domviertel", "2345"]]
