"""Command line: ``python -m keck_data <command>`` (German messages, exit code 2 on a KeckError)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import auth, data_commands, demo, policy, privacy_audit
from .config import settings
from .errors import KeckError, WarehouseError
from .privacy import PrivacyRule
from .publish import publish
from .warehouse import Warehouse, read_df


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


def _print_info(data: dict) -> None:
    print(f"Kommune: {data['municipality']}" + (" (synthetische Demodaten)" if data["demo"] else ""))
    print("Raumebenen: " + ", ".join(f"{lv['name']} ({lv['areas']})" for lv in data["levels"]))
    print(f"Themenfelder ({len(data['topics'])}): " + ", ".join(data["topics"]))
    print(f"Indikatoren: {data['indicators']} (davon freigegeben: {data['indicators_released']})")
    years = data["years"]
    print(f"Jahre: {year_ranges(years)}" if years else "Jahre: keine")
    print(f"Werte: {data['values']}")
    print("POIs: " + ", ".join(f"{k} ({v})" for k, v in data["pois"].items()))
    print(f"Warehouse-Version: {data['warehouse_version']} (Schema {data['schema_version']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keck_data", description="Sozialraum-Atlas: Verwaltung")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init-demo", help="Demo-Warehouse „Musterstadt“ erzeugen")
    p.add_argument("--force", action="store_true", help="vorhandenes Warehouse ersetzen")
    sub.add_parser("init-auth", help="Cookie-Schlüssel und Demo-Konten (je Rolle) beim ersten Start anlegen")
    p = sub.add_parser("info", help="Überblick über das Warehouse")
    p.add_argument("--json", action="store_true", help="als ein JSON-Objekt ausgeben")
    p = sub.add_parser("publish", help="öffentlichen Schnappschuss schreiben")
    p.add_argument("--target", help="Zieldatei (Standard: KECK_PUBLIC_WAREHOUSE)")
    p = sub.add_parser("audit-privacy", help="Angriffstest: lässt sich ein „k. A.“-Wert aus dem Veröffentlichten "
                                              "berechnen oder eingrenzen? (Exit-Code 1, wenn ja)")
    p.add_argument("--snapshot", help="öffentlicher Schnappschuss (Standard: KECK_PUBLIC_WAREHOUSE)")
    data_commands.add_parsers(sub)
    args = parser.parse_args(argv)
    cfg = settings()
    try:
        if args.command == "init-demo":
            result = demo.init_demo(cfg.warehouse_path, force=args.force)
            if result.get("skipped"):
                print(f"Warehouse {cfg.warehouse_path} ist schon vorhanden (mit --force neu erzeugen).")
            else:
                print(f"Demo-Warehouse {result['path']} erzeugt in {result['seconds']} s "
                      f"({result['bytes'] / 1e6:.1f} MB, {result['values']} Werte, {result['pois']} POIs).")
        elif args.command == "init-auth":
            with Warehouse(cfg.warehouse_path) as wh:
                created = auth.init_auth(wh)
            if created:
                print("Demo-Konten angelegt (Passwörter werden nur jetzt angezeigt, gespeichert sind nur Hashes):")
                for username, role, password in created:
                    print(f"  {username:12} {policy.role_label(role):28} Passwort: {password}")
            else:
                print(f"Anmeldedaten vorhanden ({auth.config_dir()}).")
        elif args.command == "info":
            with Warehouse(cfg.warehouse_path, read_only=True) as wh:
                data = info(wh)
            print(json.dumps(data, ensure_ascii=False)) if args.json else _print_info(data)
        elif args.command == "publish":
            if not cfg.warehouse_path.exists():
                raise WarehouseError(f"Kein internes Warehouse unter {cfg.warehouse_path} – nichts zu veröffentlichen. "
                                     "Zuerst „python -m keck_data init-demo“ oder Daten importieren.")
            with Warehouse(cfg.warehouse_path) as wh:
                result = publish(wh, args.target or cfg.public_warehouse_path, policy.system("cli"))
            if not result["indicators"]:
                print(f"0 Indikatoren freigegeben – zuerst freigeben (python -m keck_data release INDIKATOR …), "
                      f"dann erneut veröffentlichen. {result['path']} enthält keine Indikatoren.")
            else:
                print(f"Veröffentlicht: {result['indicators']} Indikatoren, {result['values']} Werte "
                      f"({result['suppressed']} als „k. A.“, davon {result['secondary']} sekundär) nach {result['path']}. "
                      f"Angriffstest: {result['audit']}.")
        elif args.command == "audit-privacy":
            result, note = privacy_audit.audit_files(Path(args.snapshot or cfg.public_warehouse_path),
                                                     cfg.warehouse_path, PrivacyRule.from_settings())
            print("\n".join([result.summary()] + result.details() + ([note] if note else [])))
            return 0 if result.ok else 1
        else:
            return data_commands.run(args, cfg.warehouse_path)
    except KeckError as err:
        print(f"Fehler: {err}", file=sys.stderr)
        return 2
    return 0
