"""CLI ``python -m keck_data versorgung``: the supply table as German text or as the fixed JSON answer."""
from __future__ import annotations

import argparse
import json
from functools import partial
from typing import TextIO

from .. import fmt
from ..queries import Atlas
from ..warehouse import Warehouse
from . import supply


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("versorgung", help="Versorgungsanalyse: Plätze je 100 der Nachfrage, Erreichbarkeit, 2SFCA")
    p.add_argument("--category", required=True, help="Einrichtungsart, z. B. kita")
    p.add_argument("--capacity-field", default="capacity", help="Feld mit der Platzzahl (Standard: capacity)")
    p.add_argument("--demand", required=True, help="Indikator der Nachfrage (Anzahl, z. B. Kinder 3–6)")
    p.add_argument("--level", required=True, help="Raumebene")
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--radius-m", type=float, default=500.0, help="Umkreis D in Metern (Luftlinie, Standard 500)")
    p.add_argument("--target-quote", type=float, default=100.0, help="Zielquote in Plätzen je 100 (Standard 100)")
    p.add_argument("--json", action="store_true", help="als ein JSON-Objekt ausgeben")


def run(args: argparse.Namespace, wh: Warehouse, out: TextIO) -> int:
    q = supply.Question(args.category, args.demand, args.level, args.year, radius_m=args.radius_m,
                        capacity_field=args.capacity_field, target=args.target_quote)
    result = supply.analyse(Atlas(wh), q)
    say = partial(print, file=out)
    if args.json:
        say(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
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
    return 0


def _text(value, decimals: int, status: str) -> str:
    return fmt.value_text(value, "ok" if value == value and value is not None else status, decimals, None)
