"""Szenario "geplante Einrichtung": the supply table before and after planned or closed facilities.

Nothing is written while planning; :func:`save` stores a scenario on request (policy-checked, one transaction,
audited). Scenarios stay internal: the public snapshot never copies them (:mod:`keck_data.publish`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from .. import fmt
from ..errors import ValidationError
from ..policy import Resource, User
from ..warehouse import Tx, Warehouse, read_df
from . import supply

SHOWN = ["places", "quote", "gap", "reachable_share", "sfca"]  # compared before/after


@dataclass(frozen=True)
class Comparison:
    """Both results and one table per area: key, name, level, demand, status and ``<column>_before`` /
    ``<column>_after`` for access_status and SHOWN, plus quote_change (places per 100, after − before)."""

    before: supply.Result
    after: supply.Result
    table: pd.DataFrame
    added: tuple = ()
    closed: tuple = ()


def compare(inputs: supply.Inputs, added: list[dict] = (), closed: list[int] = (),
            before: supply.Result | None = None) -> Comparison:
    """The table before and after adding ``added`` (name, lon, lat, capacity) and closing ``closed`` (POI ids)."""
    before = before or supply.compute(inputs)
    after = supply.compute(inputs, supply.with_changes(inputs, list(added), list(closed)))
    keys = ["level", "key", "name", "demand", "status", "access_status"]
    table = before.rows[keys + SHOWN].merge(after.rows[["level", "key", "access_status", *SHOWN]],
                                            on=["level", "key"], suffixes=("_before", "_after"))
    table["quote_change"] = table["quote_after"] - table["quote_before"]
    return Comparison(before, after, table, tuple(added), tuple(closed))


def save(wh: Warehouse, user: User | None, title: str, comparison: Comparison) -> int:
    """Store the scenario (question, changes, the per-area table) for ``user``; returns its id."""
    title = (title or "").strip()
    if not title:
        raise ValidationError("Bitte dem Szenario einen Titel geben.")
    if not comparison.added and not comparison.closed:
        raise ValidationError("Das Szenario ändert nichts: bitte eine geplante Einrichtung hinzufügen oder eine "
                              "bestehende schließen.")
    question = comparison.before.method
    rows = json.loads(comparison.table.to_json(orient="records", force_ascii=False))

    def insert(tx: Tx) -> int:
        new_id = tx.cur.execute(
            "INSERT INTO supply_scenario (title, question, added, closed, result, owner, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [title, json.dumps(question, ensure_ascii=False), json.dumps(list(comparison.added), ensure_ascii=False),
             json.dumps([int(c) for c in comparison.closed]), json.dumps(rows, ensure_ascii=False), tx.actor,
             datetime.now(timezone.utc).replace(tzinfo=None)]).fetchone()[0]
        tx.audit("supply_scenario", str(new_id), None, {"titel": title, "hinzugefügt": list(comparison.added),
                                                        "geschlossen": [int(c) for c in comparison.closed]})
        return int(new_id)

    return wh.write(user, "save-scenario", [Resource("scenario", title)], insert)


def saved(wh: Warehouse) -> pd.DataFrame:
    """Saved scenarios, newest first: id, title, owner, created_at, question, added, closed (JSON text)."""
    return read_df(wh, "SELECT id, title, owner, created_at, question, added, closed FROM supply_scenario "
                       "ORDER BY created_at DESC, id DESC")


def text_table(cmp: Comparison, level: str, only_changed: bool = False) -> pd.DataFrame:
    """The comparison of one level as German text (Gebiet, Nachfrage, Plätze/Quote/Erreichbarkeit/2SFCA vorher
    and nachher, Änderung der Quote, Lücke nachher); "k. A." where a value is hidden."""
    t = cmp.table[cmp.table["level"] == level]
    if only_changed:
        t = t[(t["places_after"] != t["places_before"]) | (t["quote_change"].fillna(0) != 0)
              | (t["sfca_after"].fillna(-1) != t["sfca_before"].fillna(-1))
              | (t["reachable_share_after"].fillna(-1) != t["reachable_share_before"].fillna(-1))]

    def col(name: str, decimals: int, status: str = "status") -> list[str]:
        return [fmt.value_text(v, "ok" if pd.notna(v) else s, decimals, None) for v, s in zip(t[name], t[status])]
    return pd.DataFrame({
        "Gebiet": (t["key"] + " " + t["name"]).to_list(), "Nachfrage": col("demand", 0),
        "Plätze vorher": col("places_before", 0), "Plätze nachher": col("places_after", 0),
        "Quote vorher": col("quote_before", 1), "Quote nachher": col("quote_after", 1),
        "Änderung der Quote": [fmt.difference(v, 1, None) for v in t["quote_change"]],
        "Erreichbar vorher (%)": col("reachable_share_before", 1, "access_status_before"),
        "Erreichbar nachher (%)": col("reachable_share_after", 1, "access_status_after"),
        "2SFCA vorher": col("sfca_before", 3, "access_status_before"), "2SFCA nachher": col("sfca_after", 3, "access_status_after"),
        "Lücke nachher (Plätze)": col("gap_after", 0)})
