"""CLI ``ziele import FILE.csv`` and ``ziele status [--json]`` (fixed interface, see README)."""
from __future__ import annotations

import argparse
import json
from functools import partial
from typing import TextIO

from .analysis import target_edits, targets
from .policy import system
from .queries import Atlas
from .warehouse import Warehouse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ziele", help="Wirkungsziele: importieren und Ampel-Status")
    actions = p.add_subparsers(dest="ziele_command", required=True)
    imp = actions.add_parser("import", help="Ziele aus CSV importieren (alles oder nichts); Spalten: "
                                            + ", ".join(target_edits.CSV_COLUMNS))
    imp.add_argument("file", help="CSV-Datei (; oder , getrennt, UTF-8)")
    st = actions.add_parser("status", help="Ampel aller Ziele")
    st.add_argument("--json", action="store_true", help="als JSON-Liste ausgeben")


def read_only(args: argparse.Namespace) -> bool:
    """``ziele status`` only reads."""
    return args.command == "ziele" and args.ziele_command == "status"


def run(args: argparse.Namespace, wh: Warehouse, out: TextIO, err: TextIO) -> int:
    """One ``ziele`` command on an open warehouse (German errors are raised as KeckError)."""
    say = partial(print, file=out)
    if args.ziele_command == "import":
        atlas = Atlas(wh)
        result = target_edits.import_targets(wh, system("cli"), args.file, atlas)
        states = ", ".join(f"{n} {s}" for s, n in result["ampel"].items() if n)
        say(f"Ziele importiert aus {result['datei']}: {result['neu']} neu, {result['geändert']} geändert "
            f"(Ampel: {states}).")
        return 0
    rows = targets.status_rows(targets.current(Atlas(wh)))
    if args.json:
        say(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        say("Keine Ziele angelegt (python -m keck_data ziele import DATEI.csv).")
    for r in rows:
        say(f"[{r['ampel']:4}] {r['titel']} ({r['indikator']}, {r['ebene']} {r['gebiet']}): {r['begruendung']}")
    say(targets.RULE_TEXT)
    return 0
