"""Command line: ``python -m keck_data <command>`` (German messages, exit code 2 on a KeckError)."""
from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from . import analysis_commands, auth, data_commands, demo, handover, policy, privacy_audit, target_commands
from .cli_parser import GermanParser
from .config import settings
from .errors import KeckError, WarehouseError, WarehouseLocked
from .privacy import PrivacyRule
from .publish import publish
from .warehouse import Warehouse, read_df

READ_ONLY = ("info", "versorgung", "audit-privacy")  # commands that never write
# resolved here: a job handed over runs in another directory
PATH_ARGS = ("file", "metadata", "metadata_tables", "metadata_columns", "target", "snapshot")
INCOMPLETE = 3  # audit-privacy found nothing, but without the internal warehouse's relations


def info(wh: Warehouse) -> dict:
    """Levels with area counts, topics, indicators, years, POIs by category, warehouse version."""
    levels = read_df(wh, "SELECT l.key, l.name, count(a.key) AS areas FROM spatial_level l LEFT JOIN area a "
                         "ON a.level = l.key GROUP BY l.key, l.name, l.ordering ORDER BY l.ordering")
    pois = read_df(wh, "SELECT c.name, count(p.id) AS n FROM poi_category c LEFT JOIN poi p ON p.category = c.key "
                       "GROUP BY c.name ORDER BY c.name")
    years = read_df(wh, "SELECT DISTINCT year FROM indicator_value ORDER BY year")["year"].tolist()
    inds = read_df(wh, "SELECT count(*) AS n, count(*) FILTER (WHERE released) AS released FROM indicator")
    return {
        "municipality": wh.meta("municipality"),
        "demo": wh.meta("demo") == "true",
        "levels": [{"key": r.key, "name": r.name, "areas": int(r.areas)} for r in levels.itertuples()],
        "topics": read_df(wh, "SELECT name FROM topic ORDER BY ordering")["name"].tolist(),
        "indicators": int(inds["n"][0]),
        "indicators_released": int(inds["released"][0]),
        "years": [int(y) for y in years],
        "values": int(read_df(wh, "SELECT count(*) AS n FROM indicator_value")["n"][0]),
        "pois": {r.name: int(r.n) for r in pois.itertuples()},
        "warehouse_version": wh.version(),
        "schema_version": wh.schema_version(),
    }


def year_ranges(years: list[int]) -> str:
    """[2011, 2017, 2018, 2019] → "2011, 2017–2019" (gaps visible, not one misleading range)."""
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _print_info(data: dict, out: TextIO) -> None:
    say = partial(print, file=out)
    say(f"Kommune: {data['municipality']}" + (" (synthetische Demodaten)" if data["demo"] else ""))
    say("Raumebenen: " + ", ".join(f"{lv['name']} ({lv['areas']})" for lv in data["levels"]))
    say(f"Themenfelder ({len(data['topics'])}): " + ", ".join(data["topics"]))
    say(f"Indikatoren: {data['indicators']} (davon freigegeben: {data['indicators_released']})")
    years = data["years"]
    say(f"Jahre: {year_ranges(years)}" if years else "Jahre: keine")
    say(f"Werte: {data['values']}")
    say("POIs: " + ", ".join(f"{k} ({v})" for k, v in data["pois"].items()))
    say(f"Warehouse-Version: {data['warehouse_version']} (Schema {data['schema_version']})")


def _parser() -> argparse.ArgumentParser:
    parser = GermanParser(prog="python -m keck_data", description="Sozialraum-Atlas: Verwaltung")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init-demo", help="Demo-Warehouse „Musterstadt“ erzeugen")
    p.add_argument("--force", action="store_true", help="vorhandenes Warehouse ersetzen")
    sub.add_parser("init-auth", help="Cookie-Schlüssel und Demo-Konten (je Rolle) beim ersten Start anlegen")
    p = sub.add_parser("info", help="Überblick über das Warehouse")
    p.add_argument("--json", action="store_true", help="als ein JSON-Objekt ausgeben")
    p = sub.add_parser("publish", help="öffentlichen Schnappschuss schreiben")
    p.add_argument("--target", help="Zieldatei (Standard: KECK_PUBLIC_WAREHOUSE)")
    p = sub.add_parser("audit-privacy", help="Angriffstest: lässt sich ein „k. A.“-Wert aus dem Veröffentlichten "
                                              "berechnen oder eingrenzen? (Exit-Code 1, wenn ja; 3, wenn ohne "
                                              "internes Warehouse nur eingeschränkt geprüft)")
    p.add_argument("--snapshot", help="öffentlicher Schnappschuss (Standard: KECK_PUBLIC_WAREHOUSE)")
    data_commands.add_parsers(sub)
    analysis_commands.add_parsers(sub)
    target_commands.add_parsers(sub)
    return parser


def _audit(snapshot: Path, declarations: Warehouse | None, out: TextIO) -> int:
    """Attack the snapshot with the relations declared in ``declarations`` (the internal warehouse); 1 when a
    cell is found, INCOMPLETE when nothing is found but the internal relations were not at hand."""
    with Warehouse(snapshot, read_only=True) as pub:
        result = privacy_audit.audit_snapshot(pub, declarations, PrivacyRule.from_settings())
    print("\n".join([result.summary()] + result.details()), file=out)
    if declarations is None:
        print(f"Nur eingeschränkt geprüft: kein internes Warehouse unter {settings().warehouse_path}, die "
              "Beziehungen stammen nur aus dem Schnappschuss (Exit-Code 3).", file=out)
    return 1 if not result.ok else INCOMPLETE if declarations is None else 0


def main(argv: list[str] | None = None) -> int:
    """Run one command. Commands on the internal warehouse run here, or — while the internal instance holds the
    file — in that instance (:mod:`keck_data.handover`), with the same output and exit code."""
    args = _parser().parse_args(argv)
    cfg = settings()
    path = cfg.warehouse_path
    try:
        if args.command == "init-demo":
            return _init_demo(path, args.force)
        if args.command == "audit-privacy":
            args.snapshot = args.snapshot or str(cfg.public_warehouse_path)
            if not path.exists():  # the snapshot alone: what it declares itself
                return _audit(Path(args.snapshot), None, sys.stdout)
        if args.command == "publish":
            if not path.exists():
                raise WarehouseError(f"Kein internes Warehouse unter {path} – nichts zu veröffentlichen. "
                                     "Zuerst „python -m keck_data init-demo“ oder Daten importieren.")
            args.target = args.target or str(cfg.public_warehouse_path)
        job = {k: str(Path(v).resolve()) if k in PATH_ARGS and v else v for k, v in vars(args).items()}
        return handover.run_or_hand_over(path, job, lambda: Warehouse(path, read_only=args.command in READ_ONLY
                                                                        or target_commands.read_only(args)),
                                         run_job, sys.stdout, sys.stderr, cfg.wait_seconds)
    except KeckError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2


def run_job(job: dict, wh: Warehouse, out: TextIO, err: TextIO) -> int:
    """One command on an open warehouse (here, or on the desk of the running instance); German errors → 2."""
    args = argparse.Namespace(**job)
    say = partial(print, file=out)
    try:
        if args.command == "init-auth":
            created = auth.init_auth(wh)
            if any(password for _, _, password in created):
                say("Demo-Konten angelegt (Passwörter werden nur jetzt angezeigt, gespeichert sind nur Hashes):")
            elif created:
                say(f"Anmeldedaten vorhanden ({auth.config_dir()}); die Demo-Konten erhalten ihre Rolle auch in "
                    f"diesem Warehouse ({wh.path}), Passwörter unverändert:")
            else:
                say(f"Anmeldedaten vorhanden ({auth.config_dir()}).")
            for username, role, password in created:
                say(f"  {username:12} {policy.role_label(role):28} Passwort: {password or 'wie bisher'}")
            for problem in auth.login_problems(wh):
                print(f"Warnung: {problem}", file=err)
        elif args.command == "audit-privacy":  # here, or in the running instance that holds the file
            return _audit(Path(args.snapshot), wh, out)
        elif args.command == "info":
            data = info(wh)
            say(json.dumps(data, ensure_ascii=False)) if args.json else _print_info(data, out)
        elif args.command == "publish":
            result = publish(wh, args.target, policy.system("cli"))
            if not result["indicators"]:
                say(f"0 Indikatoren freigegeben – zuerst freigeben (python -m keck_data release INDIKATOR …), "
                    f"dann erneut veröffentlichen. {result['path']} enthält keine Indikatoren.")
            else:
                say(f"Veröffentlicht: {result['indicators']} Indikatoren, {result['values']} Werte "
                    f"({result['suppressed']} als „k. A.“, davon {result['secondary']} sekundär) nach "
                    f"{result['path']}. Angriffstest: {result['audit']}.")
        elif args.command in analysis_commands.COMMANDS:
            return analysis_commands.run(args, wh, out)
        elif args.command == "ziele":
            return target_commands.run(args, wh, out, err)
        else:
            return data_commands.run(args, wh, out, err)
    except KeckError as error:
        print(f"Fehler: {error}", file=err)
        return 2
    return 0


def _init_demo(path: Path, force: bool) -> int:
    pid = handover.desk_pid(path)
    if force and pid is not None:
        raise WarehouseLocked(f"Die laufende Anwendung (PID {pid}) hat {path} geöffnet; zum Neuaufbau des "
                              "Demo-Warehouse bitte zuerst die Anwendung beenden.", pid)
    result = demo.init_demo(path, force=force)
    if result.get("skipped"):
        print(f"Warehouse {path} ist schon vorhanden (mit --force neu erzeugen).")
    else:
        print(f"Demo-Warehouse {result['path']} erzeugt in {result['seconds']} s "
              f"({result['bytes'] / 1e6:.1f} MB, {result['values']} Werte, {result['pois']} POIs).")
    return 0
