"""Old .xls and .ods workbooks, read with bounded memory.

python-calamine has no guard: an 800-byte .ods whose cells repeat 20,000 × 1,000 times expands to gigabytes
inside Rust before Python sees a row. So the atlas never reads these files in its own process: a child
process (this file run as a script; standard library and python-calamine only) first checks an .ods's
*declared* expansion (repeat attributes, spaces ``text:s``) by streaming ``content.xml``, then reads the rows
under an address-space limit and sends them back as JSON lines. A file that would need more memory (an .xls
has no repeat attributes, but may reference one long string from every cell) ends the child, not the atlas.
"""
from __future__ import annotations

import datetime
import json
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.parsers import expat

MEMORY_LIMIT = 420 * 1024 * 1024  # address space of the reading child (its RSS stays below this)
CPU_SECONDS = 300

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class SheetRefused(Exception):
    """The child's German reason for refusing the file."""


def read_old_workbook(path: Path, sheet, limits: dict) -> dict[str, list[list]]:
    """Rows of an .xls/.ods workbook (numbers and text as calamine reads them, dates as German text) keyed by sheet
    name, read in a memory-limited child. ``limits``: rows, columns, text (characters), cells.
    Raises :class:`SheetRefused` with a German message."""
    args = json.dumps({"path": str(path), "sheet": sheet, **limits})
    proc = subprocess.Popen([sys.executable, "-I", __file__, args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
    sheets: dict[str, list[list]] = {}
    refusal = None
    with proc:
        for line in proc.stdout:
            kind, payload = json.loads(line)
            if kind == "sheet":
                rows = sheets[payload] = []
            elif kind == "row":
                rows.append(payload)
            elif kind == "refused":
                refusal = payload
    if refusal:
        raise SheetRefused(refusal)
    if proc.returncode != 0:
        raise SheetRefused(f"{path.name} würde beim Lesen mehr als {MEMORY_LIMIT // 2**20} MB Arbeitsspeicher oder "
                           f"{CPU_SECONDS} s Rechenzeit brauchen – so groß ist keine Datentabelle (beschädigte oder "
                           "manipulierte Datei?). Bitte als XLSX oder CSV speichern.")
    return sheets


def _emit(kind: str, payload) -> None:
    sys.stdout.write(json.dumps([kind, payload], ensure_ascii=False) + "\n")


def check_ods_expansion(path: Path, limits: dict) -> None:
    """Refuse an .ods whose declared repeats expand beyond the limits, before anything is read: per sheet the
    rows up to the last non-empty one, the columns up to the last non-empty cell (calamine fills the box in
    between), and the characters of all non-empty cells (repeats multiplied out)."""
    state = {"table": "", "rows": 0, "cols": 0, "last_row": 0, "text": 0,
             "row_repeat": 1, "row_cols": 0, "row_text": 0, "row_filled": False,
             "cell_repeat": 0, "cell_text": 0, "cell_filled": False, "in_cell": False}

    def refuse(what: str) -> None:
        raise SheetRefused(f"{path.name}, Blatt „{state['table']}“: {what} – so viel hat keine Datentabelle "
                           "(beschädigte oder manipulierte Datei?). Nichts wurde gelesen.")

    def start(name, attrs):
        if name == f"{TABLE} table":
            state.update(table=attrs.get(f"{TABLE} name", ""), rows=0, cols=0, last_row=0)
        elif name == f"{TABLE} table-row":
            state.update(row_repeat=int(attrs.get(f"{TABLE} number-rows-repeated", "1")), row_cols=0,
                         row_text=0, row_filled=False)
        elif name in (f"{TABLE} table-cell", f"{TABLE} covered-table-cell"):
            state.update(cell_repeat=int(attrs.get(f"{TABLE} number-columns-repeated", "1")), in_cell=True,
                         cell_text=sum(len(v) for k, v in attrs.items() if k.startswith(OFFICE)),
                         cell_filled=f"{OFFICE} value-type" in attrs)
        elif name == f"{TEXT} s" and state["in_cell"]:
            state["cell_text"] += int(attrs.get(f"{TEXT} c", "1"))
            state["cell_filled"] = True

    def chars(data):
        if state["in_cell"]:
            state["cell_text"] += len(data)
            state["cell_filled"] = state["cell_filled"] or bool(data.strip())

    def end(name):
        if name in (f"{TABLE} table-cell", f"{TABLE} covered-table-cell"):
            state["in_cell"] = False
            state["row_cols"] += state["cell_repeat"]
            if state["cell_filled"]:
                state["row_filled"] = True
                state["row_text"] += state["cell_text"] * state["cell_repeat"]
                state["cols"] = max(state["cols"], state["row_cols"])
        elif name == f"{TABLE} table-row":
            state["rows"] += state["row_repeat"]
            if state["row_filled"]:
                state["last_row"] = state["rows"]
                state["text"] += state["row_text"] * state["row_repeat"]
            if state["last_row"] > limits["rows"]:
                refuse(f"mehr als {limits['rows']} Zeilen")
            if state["last_row"] * state["cols"] > limits["cells"]:
                refuse(f"{state['last_row']} Zeilen × {state['cols']} Spalten = {state['last_row'] * state['cols']:,}"
                       f" Zellen (höchstens {limits['cells']:,})".replace(",", "."))
            if state["text"] > limits["text"]:
                refuse(f"die Zellen enthalten ausgedehnt mehr als {limits['text'] / 1e6:.0f} Mio. Zeichen Text")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
            while chunk := content.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (KeyError, zipfile.BadZipFile, expat.ExpatError, ValueError) as exc:
        raise SheetRefused(f"{path.name} lässt sich nicht als ODS-Datei lesen ({type(exc).__name__}).") from None


class XlsxCellCount:
    """Cells of one XLSX worksheet part, fed chunk by chunk while the part is checked anyway: refused when the
    declared dimension (``<dimension ref="A1:J5000000"/>``) or the cells counted so far exceed ``limit``."""

    def __init__(self, file: str, part: str, limit: int):
        self.file, self.part, self.limit = file, part, limit
        self.count, self.tail, self.first = 0, b"", True

    def feed(self, chunk: bytes) -> None:
        if self.first:
            self.first = False
            ref = re.search(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', chunk[:65536])
            if ref and ref.group(3):
                rows = int(ref.group(4)) - int(ref.group(2)) + 1
                cols = _column_number(ref.group(3)) - _column_number(ref.group(1)) + 1
                self._check(rows * cols, "laut Angabe der Datei ")
        data = self.tail + chunk
        self.count += len(_CELL_TAG.findall(data))
        self.tail = data[-2:]
        self._check(self.count, "")

    def _check(self, cells: int, how: str) -> None:
        if cells > self.limit:
            raise SheetRefused(f"{self.file}: „{self.part}“ hat {how}{cells:,} Zellen (höchstens {self.limit:,}) – so "
                               "viele hat keine Datentabelle (beschädigte oder manipulierte Datei?). Nichts wurde "
                               "gelesen.".replace(",", "."))


_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _cell(value):
    """JSON-able as it is; dates as German text (as the XLSX reader writes them), other types as text."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return value.strftime("%d.%m.%Y") if isinstance(value, datetime.date) else str(value)


def _read(path: Path, sheet, limits: dict) -> None:
    """The child's work: check, read, send rows (trailing empty cells dropped, at most ``columns`` wide)."""
    import python_calamine

    if path.suffix.lower() == ".ods":
        check_ods_expansion(path, limits)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise SheetRefused(f"{path.name} lässt sich nicht als Excel-Datei lesen ({type(exc).__name__}).") from None
    names = book.sheet_names
    if sheet == "*":
        chosen = names
    elif sheet in (None, 0):
        chosen = names[:1]
    elif str(sheet) in names:
        chosen = [str(sheet)]
    else:
        raise SheetRefused(f"{path.name}: Tabellenblatt „{sheet}“ nicht gefunden (vorhanden: {', '.join(names)}).")
    text_left = limits["text"]
    for name in chosen:
        _emit("sheet", name)
        for count, row in enumerate(book.get_sheet_by_name(name).iter_rows(), start=1):
            if count > limits["rows"]:
                raise SheetRefused(f"{path.name}, Blatt „{name}“: mehr als {limits['rows']} Zeilen.")
            cells = [_cell(v) for v in row[:limits["columns"]]]
            while cells and cells[-1] in ("", None):
                cells.pop()
            text_left -= sum(len(str(c)) for c in cells)
            if text_left < 0:
                raise SheetRefused(f"{path.name}, Blatt „{name}“, Zeile {count}: Die Zellen enthalten zusammen "
                                   f"mehr als {limits['text'] / 1e6:.0f} Mio. Zeichen Text – so viel Text hat keine "
                                   "Datentabelle (beschädigte oder manipulierte Datei?).")
            _emit("row", cells)


def main() -> None:
    args = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    try:
        _read(Path(args.pop("path")), args.pop("sheet"), args)
    except SheetRefused as refusal:
        _emit("refused", str(refusal))


if __name__ == "__main__":
    main()
