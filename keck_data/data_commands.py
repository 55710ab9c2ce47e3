"""CLI commands import-areas, import-values, import-pois (each with --dry-run), uninhabited, release,
export-values, export-opendata."""
from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path
from typing import TextIO

from . import editing
from .errors import KeckError, ValidationError
from .export_opendata import export_values, open_data_zip
from .importing import import_areas, import_pois, import_values, set_uninhabited
from .importing import metadata as md
from .importing.report import ImportReport
from .policy import system
from .queries import Atlas
from .warehouse import Warehouse


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValidationError(f"{what} bitte als Quelle=Ziel angeben, nicht „{item}“.")
        src, dst = item.split("=", 1)
        out[src.strip()] = dst.strip()
    return out


def add_parsers(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("file", help="Datei")
    common.add_argument("--dry-run", action="store_true", help="nur prüfen, nichts speichern")
    common.add_argument("--json", action="store_true", help="Bericht als JSON")
    p = sub.add_parser("import-areas", parents=[common], help="Gebiete einer Raumebene importieren")
    p.add_argument("--level", required=True, help="Schlüssel der Raumebene, z. B. planungsraum")
    p.add_argument("--level-name", help="Anzeigename der Raumebene, z. B. Planungsraum")
    p.add_argument("--key", required=True, help="Spalte mit dem Gebietsschlüssel")
    p.add_argument("--name", required=True, help="Spalte mit dem Gebietsnamen")
    p.add_argument("--parent-level", help="übergeordnete Raumebene")
    p.add_argument("--parent-rule", default="spatial", choices=["spatial", "prefix", "column"])
    p.add_argument("--parent-column", help="Spalte mit dem Schlüssel des übergeordneten Gebiets")
    p.add_argument("--prefix-len", type=int, help="Länge des Schlüsselanfangs, der das übergeordnete Gebiet nennt")
    p.add_argument("--crs", help="Koordinatensystem, falls die Datei keines (oder ein falsches) hat")
    p.add_argument("--key-width", type=int, help="Schlüssel links mit Nullen auf diese Länge auffüllen")
    p.add_argument("--layer", help="Layer einer GeoPackage-Datei")
    p.add_argument("--municipality", help="Name der Kommune (beim ersten Import)")
    p = sub.add_parser("import-values", parents=[common], help="Indikatorwerte importieren (CSV/XLSX)",
                       description="Indikatorwerte importieren. Titelzeilen, Gruppenköpfe, Beschreibungszeile, "
                       "Fußnoten und Summenzeilen werden erkannt (--header-row/--skip-rows legen es fest). "
                       + md.HELP)
    p.add_argument("--level", help="Raumebene der Werte (mit --profile: Standard aus der Importvorlage)")
    p.add_argument("--layout", default="long", choices=["long", "wide"])
    p.add_argument("--key", default="key", help="Spalte mit dem Gebietsschlüssel")
    p.add_argument("--area-name", help="Spalte mit dem Gebietsnamen (Ersatz, wenn der Schlüssel nicht passt)")
    p.add_argument("--indicator-column", default="indicator")
    p.add_argument("--year-column", default="year")
    p.add_argument("--value-column", default="value")
    p.add_argument("--year", type=int, help="Jahr für alle Werte (breites Layout)")
    p.add_argument("--sheet", help="Tabellenblatt; * = alle Blätter, die wie ein Jahr heißen")
    p.add_argument("--map", action="append", help="Spalte=Indikator (mehrfach)")
    p.add_argument("--metadata", help="Metadaten-Datei für neue Indikatoren (Format: siehe oben)")
    p.add_argument("--metadata-tables", help="gelieferte Tabellen-Metadaten (Tabelle, Titel, Quelle, Fußnote)")
    p.add_argument("--metadata-columns", help="gelieferte Spalten-Metadaten (Tabelle, Spalte, Bezeichnung, Einheit)")
    p.add_argument("--decimal", default="auto", choices=["auto", ",", "."],
                   help="Dezimalzeichen (auto: je Spalte erkannt, bei Unklarheit wird gefragt)")
    p.add_argument("--dash", default="missing", choices=["missing", "zero"], help="Bedeutung von „-“")
    p.add_argument("--empty", default="missing", choices=["missing", "suppressed"],
                   help="Bedeutung leerer Zellen: keine Daten (missing) oder k. A./geheim (suppressed)")
    p.add_argument("--key-width", type=int)
    p.add_argument("--header-row", type=int, help="Zeile mit den Spaltennamen (1 = erste Zeile; sonst erkannt)")
    p.add_argument("--skip-rows", type=int, help="Zeilen zwischen Spaltennamen und Daten (z. B. Beschreibung)")
    p.add_argument("--level-rows", action="append", metavar="ZEILEN=EBENE",
                   help="Raumebene eines Zeilenbereichs festlegen, z. B. 104-110=stadtbezirk (mehrfach)")
    p.add_argument("--profile", help="gespeicherte Importvorlage verwenden")
    p.add_argument("--save-profile", help="Einstellungen und Zuordnung als Importvorlage speichern (beim Import)")
    p = sub.add_parser("import-pois", parents=[common], help="Einrichtungen (POIs) importieren")
    p.add_argument("--name", default="name", help="Spalte mit dem Namen")
    p.add_argument("--category", help="eine Kategorie für alle Punkte")
    p.add_argument("--category-column", help="Spalte mit der Kategorie")
    p.add_argument("--category-map", action="append", help="Wert=Kategorie (mehrfach)")
    p.add_argument("--lat")
    p.add_argument("--lon")
    p.add_argument("--x")
    p.add_argument("--y")
    p.add_argument("--crs")
    p.add_argument("--field", action="append", help="Feld=Spalte[,Spalte] (address, website, …)")
    p.add_argument("--capacity", help="Spalte mit der Kapazität")
    p.add_argument("--internal", action="store_true", help="nicht öffentlich anzeigen")
    p.add_argument("--tolerance-m", type=float, help="Punkte bis zu so vielen Metern außerhalb der Kommune annehmen "
                   "(Standard: KECK_POI_TOLERANCE_M, sonst 0)")
    p = sub.add_parser("uninhabited", help="Gebiete ohne Wohnbevölkerung kennzeichnen (zählen nicht als fehlend)")
    p.add_argument("keys", nargs="+", metavar="SCHLÜSSEL", help="Gebietsschlüssel")
    p.add_argument("--level", required=True, help="Raumebene der Gebiete")
    p.add_argument("--undo", action="store_true", help="Kennzeichnung entfernen")
    p = sub.add_parser("release", help="Indikatoren freigeben (oder mit --withdraw zurückziehen)")
    p.add_argument("indicators", nargs="+", metavar="INDIKATOR", help="Schlüssel der Indikatoren")
    p.add_argument("--withdraw", action="store_true", help="Freigabe zurückziehen")
    p = sub.add_parser("export-values", help="alle Werte als CSV (Langformat, Datenschutz angewandt)")
    p.add_argument("file")
    p.add_argument("--released-only", action="store_true", help="nur freigegebene Indikatoren")
    p = sub.add_parser("export-opendata", help="offene Daten (freigegeben) als ZIP: CSV, GeoPackage, GeoJSON")
    p.add_argument("file")
    p.add_argument("--year", type=int, help="Jahr der Werte in den Geodateien (Standard: das letzte)")


def run(args: argparse.Namespace, wh: Warehouse, out: TextIO, err: TextIO) -> int:
    """One data command on an open warehouse; the report to ``out``, progress to ``err``."""
    say = partial(print, file=out)
    if args.command == "uninhabited":
        n = set_uninhabited(wh, system("cli"), args.level, args.keys, not args.undo)
        say(f"{n} Gebiete {'wieder als bewohnt' if args.undo else 'als ohne Wohnbevölkerung'} gekennzeichnet; "
            "gröbere Ebenen neu berechnet.")
        return 0
    if args.command == "release":
        for key in args.indicators:
            editing.set_released(wh, system("cli"), key, not args.withdraw)
        state = "zurückgezogen" if args.withdraw else "freigegeben"
        say(f"{len(args.indicators)} Indikatoren {state}: {', '.join(args.indicators)}. Für die öffentliche "
            "Instanz danach „python -m keck_data publish“.")
        return 0
    if args.command == "export-values":
        n = export_values(wh, args.file, released_only=args.released_only)
        say(f"{n} Werte nach {args.file} geschrieben.")
        return 0
    if args.command == "export-opendata":
        Path(args.file).write_bytes(open_data_zip(Atlas(wh, public=True), args.year))
        say(f"Offene Daten nach {args.file} geschrieben.")
        return 0
    try:
        report = _run_import(args, wh, err)
    except KeckError as error:
        if args.json:  # the object is printed also on refusal; the message goes to stderr as well
            say(json.dumps({"command": args.command, "source": Path(args.file).name, "committed": False,
                            "error": str(error)}, ensure_ascii=False))
        raise
    say(json.dumps(report.as_dict(), ensure_ascii=False) if args.json else report.summary())
    return 0


def _run_import(args: argparse.Namespace, wh: Warehouse, err: TextIO) -> ImportReport:
    """import-areas, import-values or import-pois with the parsed arguments."""
    progress = (lambda f, m: print(f"[{f:4.0%}] {m}", file=err, flush=True)) if not args.json else None
    kwargs = {"dry_run": args.dry_run, "user": system("cli")} | ({"progress": progress} if progress else {})
    if args.command == "import-areas":
        return import_areas(wh, args.file, level=args.level, level_name=args.level_name, key_col=args.key,
                            name_col=args.name, parent_level=args.parent_level, parent_rule=args.parent_rule,
                            parent_col=args.parent_column, prefix_len=args.prefix_len, crs=args.crs,
                            key_width=args.key_width, layer=args.layer, municipality=args.municipality, **kwargs)
    if args.command == "import-values":
        return import_values(wh, args.file, level=args.level, layout=args.layout, key_col=args.key,
                             name_col=args.area_name, indicator_col=args.indicator_column,
                             year_col=args.year_column, value_col=args.value_column, year=args.year,
                             sheet=args.sheet, columns=_pairs(args.map, "--map") or None,
                             metadata=args.metadata, metadata_tables=args.metadata_tables,
                             metadata_columns=args.metadata_columns, decimal=args.decimal, dash=args.dash,
                             empty=args.empty, key_width=args.key_width, header_row=args.header_row,
                             skip_rows=args.skip_rows, level_rows=args.level_rows, profile=args.profile,
                             save_profile=args.save_profile, **kwargs)
    return import_pois(wh, args.file, name_col=args.name, category=args.category,
                       category_col=args.category_column,
                       category_map=_pairs(args.category_map, "--category-map") or None,
                       lat_col=args.lat, lon_col=args.lon, x_col=args.x, y_col=args.y, crs=args.crs,
                       fields=_pairs(args.field, "--field") or None, capacity_col=args.capacity,
                       public=not args.internal, tolerance_m=args.tolerance_m, **kwargs)
