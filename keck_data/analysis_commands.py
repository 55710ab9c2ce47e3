"""CLI commands of the analysis layer: sozialindex, aehnliche-gebiete, auffaelligkeiten, abgeleitete, versorgung."""
from __future__ import annotations

import argparse
import json
from functools import partial
from typing import TextIO

from . import fmt
from .analysis import derived, profile, similar, sozialindex, supply
from .analysis.sozialindex import Classes, Spec
from .policy import system
from .queries import Atlas
from .warehouse import Warehouse

COMMANDS = ("sozialindex", "aehnliche-gebiete", "auffaelligkeiten", "abgeleitete", "versorgung")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sozialindex", help="Sozialindex berechnen (und als abgeleiteten Indikator speichern)")
    _level_year(p)
    p.add_argument("--indicators", required=True, help="Schlüssel:Gewicht[,Schlüssel:Gewicht …]")
    p.add_argument("--method", default="zscore", choices=list(sozialindex.METHODS))
    p.add_argument("--missing", default="refuse", choices=list(sozialindex.MISSING_RULES))
    p.add_argument("--polarity", action="append", help="Schlüssel=high_bad|high_good (Polung überschreiben)")
    p.add_argument("--classes", default="sd:-1,1,1.5", help="sd:-1,1,1.5 (SD-Grenzen) oder quantile:4")
    p.add_argument("--dynamics", type=int, help="Dynamik über so viele Jahre (Status-Dynamik-Matrix)")
    p.add_argument("--seed", type=int, default=19, help="Startwert der 1.000 Ziehungen der Rangstabilität")
    p.add_argument("--save", metavar="KEY", help="als abgeleiteten Indikator mit diesem Schlüssel speichern")
    p.add_argument("--name", help="Name des gespeicherten Indikators")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("aehnliche-gebiete", help="die ähnlichsten Gebiete eines Gebiets")
    p.add_argument("area", metavar="AREA", help="Gebietsschlüssel")
    _level_year(p)
    p.add_argument("--indicators", required=True, help="k1,k2,…")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--different-change", type=int, metavar="JAHRE",
                   help="ähnliche Lage, aber andere Entwicklung über so viele Jahre")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("auffaelligkeiten", help="Was fällt auf? Das Profil eines Gebiets")
    p.add_argument("area", metavar="AREA", help="Gebietsschlüssel")
    _level_year(p)
    p.add_argument("--base-year", type=int, help="Vergleichsjahr der Veränderung (Standard: das früheste)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("abgeleitete", help="abgeleitete Indikatoren auflisten (veraltet?) und neu berechnen")
    p.add_argument("--recompute", nargs="?", const="*", metavar="KEY",
                   help="einen (oder ohne Schlüssel alle veralteten) neu berechnen")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("versorgung", help="Versorgungsanalyse: Plätze je 100 der Nachfrage, Erreichbarkeit, 2SFCA")
    p.add_argument("--category", required=True, help="Einrichtungsart, z. B. kita")
    p.add_argument("--capacity-field", default="capacity", help="Feld mit der Platzzahl (Standard: capacity)")
    p.add_argument("--demand", required=True, help="Indikator der Nachfrage (Anzahl, z. B. Kinder 3–6)")
    _level_year(p)
    p.add_argument("--radius-m", type=float, default=500.0, help="Umkreis D in Metern (Luftlinie, Standard 500)")
    p.add_argument("--target-quote", type=float, default=100.0, help="Zielquote in Plätzen je 100 (Standard 100)")
    p.add_argument("--json", action="store_true", help="als ein JSON-Objekt ausgeben")



def _level_year(p: argparse.ArgumentParser) -> None:
    p.add_argument("--level", required=True, help="Raumebene")
    p.add_argument("--year", type=int, required=True, help="Jahr")


def run(args: argparse.Namespace, wh: Warehouse, out: TextIO) -> int:
    """One analysis command on an open warehouse."""
    say = partial(print, file=out)
    atlas = Atlas(wh)
    if args.command == "sozialindex":
        spec = Spec(args.level, args.year, sozialindex.parse_weights(args.indicators), args.method, args.missing,
                    dict(p.split("=", 1) for p in args.polarity or [] if "=" in p), Classes.parse(args.classes),
                    args.dynamics, seed=args.seed)
        if args.save:
            result = sozialindex.save(wh, system("cli"), atlas, spec, args.save, args.name or args.save)
        else:
            result = sozialindex.build(atlas, spec)
        if args.json:
            say(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            _print_index(result, say)
        if args.save:
            say(f"Gespeichert als abgeleiteter Indikator „{args.save}“ (noch nicht freigegeben).")
    elif args.command == "aehnliche-gebiete":
        keys = [k.strip() for k in args.indicators.split(",") if k.strip()]
        found = similar.similar(atlas, args.area, args.level, args.year, keys, args.k, args.different_change)
        if args.json:
            say(json.dumps(found.as_json(), ensure_ascii=False))
        else:
            say(f"Ähnlich wie {found.name} ({found.area}):")
            for r in found.table.itertuples():
                say(f"  {r.key:10} {r.name:30} Abstand {fmt.number(r.distance, 2):>6}  unterscheidet sich v. a. "
                    f"bei: {r.differs}")
    elif args.command == "auffaelligkeiten":
        prof = profile.profile(atlas, args.area, args.level, args.year, args.base_year)
        if args.json:
            say(json.dumps(prof.as_json(), ensure_ascii=False))
        else:
            say(f"Was fällt auf? {prof.name} ({args.year})")
            for sentence in prof.sentences():
                say(f"  • {sentence}")
            for r in prof.rows.itertuples():
                say(f"  {r.name:55} {r.value_text:>14} (Stadt {r.town_text}) {r.deviation_text:>10} "
                    f"{r.rank_text:16} {r.change_text}")
    elif args.command == "versorgung":
        _versorgung(args, atlas, say)
    else:
        if args.recompute:
            done = derived.recompute(wh, system("cli"), None if args.recompute == "*" else args.recompute)
            say(f"Neu berechnet: {', '.join(done) or 'nichts (nichts veraltet)'}.")
        listing = derived.listing(wh)
        if args.json:
            say(listing[["key", "name", "method", "state", "stale_reason", "released"]].to_json(
                orient="records", force_ascii=False))
        else:
            for r in listing.itertuples():
                say(f"  {r.key:20} {r.name:40} {r.method:12} {r.state}" + (f" – {r.stale_reason}" if r.stale else ""))
    return 0


def _print_index(result: sozialindex.Result, say) -> None:
    say(f"Sozialindex {result.spec.level} {result.spec.year}: {len(result.table)} Gebiete, Methode "
        f"{sozialindex.METHODS[result.spec.method]}, fehlende Werte: {sozialindex.MISSING_RULES[result.spec.missing]}")
    for r in result.table.itertuples():
        score = "–" if r.rank == 0 else fmt.number(r.score, 2)
        interval = f"{r.rank_p05}–{r.rank_p95}" if r.rank else ""
        flag = "" if r.class_stable else "  Klasse unsicher"
        say(f"  {r.rank or '':>4} {r.key:10} {r.name:30} {score:>7} {r.class_label:20} {interval}{flag}"
            + (f"  fehlt: {r.lacking}" if r.lacking else ""))


def _versorgung(args: argparse.Namespace, atlas: Atlas, say) -> None:
    """The supply table as German text or as the fixed JSON answer."""
    q = supply.Question(args.category, args.demand, args.level, args.year, radius_m=args.radius_m,
                        capacity_field=args.capacity_field, target=args.target_quote)
    result = supply.analyse(atlas, q)
    if args.json:
        say(json.dumps(result.as_json(), ensure_ascii=False))
        return
    say(f"Versorgung „{q.category}“ gegen „{q.demand}“ {q.year}, Umkreis {fmt.number(q.radius_m, 0)} m "
        f"({result.method['distance']})")
    for r in result.rows.itertuples():
        say(f"{r.level:14} {r.key:10} {r.name[:28]:28} Plätze {r.places:>6}  Nachfrage "
            f"{_text(r.demand, 0, r.status):>8}  Quote {_text(r.quote, 1, r.status):>7}  Erreichbar "
            f"{_text(r.reachable_share, 1, r.access_status):>7} %  2SFCA {_text(r.sfca, 3, r.access_status):>6}")
    if result.without_capacity:
        say(f"{len(result.without_capacity)} Einrichtungen ohne Platzzahl (nicht als 0 gezählt): "
            + ", ".join(result.without_capacity))
    if result.outside:
        say(f"{len(result.outside)} Einrichtungen außerhalb der Gebiete: " + ", ".join(result.outside))


def _text(value, decimals: int, status: str) -> str:
    return fmt.value_text(value, "ok" if value == value and value is not None else status, decimals, None)
