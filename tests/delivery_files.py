"""Files shaped like real deliveries of a statistics office, built by code (openpyxl) for import tests."""
from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font


def publication(path: Path, year: int, columns: list[tuple[str, str, list]], keys: list[tuple[str, str]],
                total: list | None = None, group: str | None = None) -> Path:
    """A sheet as a statistics office publishes it.

    Title block (title, copyright), a merged group header with the reference date, the column names, a
    description row, data rows, a total row and footnotes. ``columns``: (name, description, values per area).
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"Tabelle {year}"
    ws.append([f"Statistischer Bericht – Bevölkerung und Soziales in Musterstadt {year}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"© Amt für Statistik Musterstadt, {year + 1}. Vervielfältigung mit Quellenangabe gestattet."])
    ws.append([])
    last = 2 + len(columns)
    ws.append(["", "", group or f"Bevölkerung am 31.12.{year}"] + [""] * (len(columns) - 1))
    ws.merge_cells(start_row=4, start_column=3, end_row=4, end_column=last)
    ws.append(["Schlüssel", "Sozialraum"] + [c[0] for c in columns])
    ws.append(["Amtlicher Schlüssel des Sozialraums", "Name des Sozialraums"] + [c[1] for c in columns])
    for i, (key, name) in enumerate(keys):
        ws.append([key, name] + [c[2][i] for c in columns])
    if total is not None:
        ws.append(["", "Musterstadt insgesamt"] + total)
    ws.append([])
    ws.append(["Quelle: Einwohnerregister Musterstadt, Auswertung Amt für Statistik"])
    ws.append(["1) Personen mit Hauptwohnsitz; Werte unter 4 sind mit „.“ gesperrt."])
    wb.save(path)
    return path


def shared_string_bomb(path: Path, cells: int = 120_000, length: int = 30_000) -> Path:
    """A small XLSX whose one long shared string is referenced by every cell: a reader that copies shared
    strings per cell needs cells × length characters (here 3.6 GB) for a file of a few hundred kB."""
    sheet = [('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')]
    per_row = 20
    for r in range(1, cells // per_row + 1):
        sheet.append(f'<row r="{r}">' + "".join(f'<c r="{_col(c)}{r}" t="s"><v>0</v></c>' for c in range(per_row))
                     + "</row>")
    sheet.append("</sheetData></worksheet>")
    strings = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org'
               f'/spreadsheetml/2006/main" count="{cells}" uniqueCount="1"><si><t>{"x" * length}</t></si></sst>')
    return _workbook(path, {"xl/worksheets/sheet1.xml": "".join(sheet), "xl/sharedStrings.xml": strings})


def _col(c: int) -> str:
    return chr(65 + c)


def _workbook(path: Path, parts: dict[str, str]) -> Path:
    """A minimal valid XLSX package with the given sheet and shared strings parts."""
    base = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Daten" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (base | parts).items():
            z.writestr(name, text)
    return path


def corrupt_member(source: Path, target: Path, member: str, how: str) -> Path:
    """A copy of a zip (XLSX) whose ``member`` lies about its size ("size") or has a wrong checksum ("crc")."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as z:
        info = z.getinfo(member)
    local = info.header_offset
    central = data.rfind(b"PK\x05\x06")  # end of central directory
    for offset, field in ((local + 14, "crc"), (local + 22, "size")):
        if field == how:
            _patch(data, offset, how)
    start = int.from_bytes(data[central + 16:central + 20], "little")
    pos = start
    while data[pos:pos + 4] == b"PK\x01\x02":
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        extra = int.from_bytes(data[pos + 30:pos + 32], "little") + int.from_bytes(data[pos + 32:pos + 34], "little")
        if data[pos + 46:pos + 46 + name_len].decode() == member:
            _patch(data, pos + (16 if how == "crc" else 24), how)
        pos += 46 + name_len + extra
    target.write_bytes(bytes(data))
    return target


def _patch(data: bytearray, offset: int, how: str) -> None:
    if how == "crc":
        data[offset] ^= 0xFF
    else:  # declared uncompressed size: claim 100 bytes
        data[offset:offset + 4] = (100).to_bytes(4, "little")


ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def ods(path: Path, rows: list[list], trailing_repeats: bool = True) -> Path:
    """An OpenDocument spreadsheet with one sheet; like LibreOffice writes it, each row ends in a repeated empty
    cell and the sheet in a million repeated empty rows (``trailing_repeats``)."""
    def cell(v):
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
    tail_cell = '<table:table-cell table:number-columns-repeated="16000"/>' if trailing_repeats else ""
    body = "".join("<table:table-row>" + "".join(map(cell, r)) + tail_cell + "</table:table-row>" for r in rows)
    if trailing_repeats:
        body += ('<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
                 'table:number-columns-repeated="16384"/></table:table-row>')
    return _ods(path, f'<table:table table:name="Daten">{body}</table:table>')


def ods_bomb(path: Path, rows: int = 20_000, columns: int = 1_000, length: int = 100) -> Path:
    """The .ods expansion bomb of issue 23: one row of one 100-character cell, repeated 1,000 times across and
    20,000 times down – under 1 kB, 2 billion characters once expanded."""
    return _ods(path, f'<table:table table:name="Daten"><table:table-row table:number-rows-repeated="{rows}">'
                      f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
                      f'<text:p>{"x" * length}</text:p></table:table-cell></table:table-row></table:table>')


def _ods(path: Path, tables: str) -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2">'
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
                '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return path


def xlsx_cells(path: Path, rows: int, columns: int, dimension: str | None = None) -> Path:
    """An XLSX of ``rows`` × ``columns`` numeric cells (no shared strings), written streamed; ``dimension`` is
    what the sheet declares (``<dimension ref="…"/>``), None for no declaration."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main">' + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>")
    _workbook(path, {"xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     'openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>'})
    row = "".join("<c><v>1</v></c>" for _ in range(columns))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/worksheets/sheet1.xml", "w") as part:
        part.write(head.encode())
        block = f"<row>{row}</row>".encode() * 1000
        for _ in range(rows // 1000):
            part.write(block)
        part.write(f"<row>{row}</row>".encode() * (rows % 1000))
        part.write(b"</sheetData></worksheet>")
    return path
