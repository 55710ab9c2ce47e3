"""Derived indicators: an analysis result saved as an ordinary indicator, with its derivation beside it.

The whole API, for a method ``m`` (say ``"sozialindex"``)::

    from keck_data.analysis import derived

    d = derived.Derivation("sozialindex", inputs={"sgb2_u15": 2.0, "alo_quote": 1.0},
                           parameters={"level": "planungsraum", "year": 2023, "method": "zscore"})
    derived.save(wh, user, {"key": "si_2023", "name": "Sozialindex 2023", "definition": "…",
                            "calculation": "…"}, d, values)

* ``values``: a DataFrame with columns level, area_key, year, value, status (``ok`` | ``missing`` |
  ``suppressed``) and optionally note. Compute it from :class:`~keck_data.queries.Atlas` values (privacy
  applied), never from raw rows. An area left without an input under a "renormalise" rule gets the note
  ``privacy.DERIVED_WITHOUT + "key1, key2"``; everywhere else a hidden input hides the derived cell.
* :func:`save` creates or replaces the indicator (kind ``index``, aggregation ``none``, not released; topic of
  the first input unless given; ``source``/``reference_date`` generated, ``calculation`` generated unless
  given), replaces all its values (origin ``derived``) and stores the derivation (method, inputs with weights and
  order, parameters, computed-at warehouse version, who, when): one policy-checked, audited write
  ("save-derived"). A key of a delivered (non-derived) indicator is refused.
* Stale ("veraltet"): the writers mark it inside their own transaction — ``store.upsert_values`` (import,
  edit), ``store.upsert_indicators`` (metadata such as polarity), ``store.upsert_areas`` (a level's areas),
  ``editing.set_released`` (a withdrawn input also withdraws the released derived indicators built on it).
  A new write path calls :func:`mark_stale` / :func:`mark_level_stale` with its ``Tx``. Derived indicators of
  derived indicators are followed.
* :func:`listing` / :func:`stale` say what is derived, from what, and what is "veraltet" since when and why;
  :func:`recompute` recomputes one key (or every stale one) by calling
  ``keck_data.analysis.<method>.recompute(atlas, derivation) -> values`` — each method module provides it.
* Release, publish, export, map and table need nothing more: the values are indicator values.
  :func:`release_problem` (asked by ``editing.set_released``) releases a derived indicator only when it is
  current and all its inputs are released; ``privacy.apply`` knows each derivation via :func:`inputs_by_indicator`.
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import NotFoundError, ValidationError
from ..policy import Resource, User
from ..warehouse import Tx, Warehouse, read_df

ORIGIN = "derived"
STALE = "veraltet"
STATUSES = ("ok", "missing", "suppressed")
METHOD = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Derivation:
    """How a derived indicator is computed: ``method`` (module name under keck_data.analysis), ``inputs``
    (indicator key → weight, in order) and method ``parameters`` (JSON-serialisable)."""

    method: str
    inputs: dict[str, float]
    parameters: dict = field(default_factory=dict)


def save(wh: Warehouse, user: User | None, meta: dict, derivation: Derivation, values: pd.DataFrame) -> str:
    """Create or replace the derived indicator ``meta["key"]`` with ``values``; returns the key.

    ``meta`` needs key, name and definition; optional: topic, unit (default "Index"), calculation, polarity
    (default high_bad: a high index means more need), decimals (default 2), reference_date, interpretation.
    """
    key, name = str(meta.get("key") or "").strip(), str(meta.get("name") or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", key):
        raise ValidationError("Bitte einen Schlüssel aus Buchstaben, Ziffern, „_“, „-“ oder „.“ angeben "
                              f"(nicht „{key}“).")
    if not name or not str(meta.get("definition") or "").strip():
        raise ValidationError("Der abgeleitete Indikator braucht einen Namen und eine Definition.")
    if not METHOD.match(derivation.method):
        raise ValidationError(f"Unbekannte Berechnungsmethode „{derivation.method}“.")
    inds = read_df(wh, "SELECT key, name, topic, reference_date FROM indicator").set_index("key")
    unknown = [k for k in derivation.inputs if k not in inds.index]
    if unknown or not derivation.inputs:
        raise ValidationError("Eingangsindikatoren fehlen oder sind unbekannt: " + (", ".join(unknown) or "keine")
                              + ".")
    if key in derivation.inputs:
        raise ValidationError(f"„{key}“ kann nicht aus sich selbst berechnet werden.")
    existing = wh.cursor().execute("SELECT (SELECT count(*) FROM indicator WHERE key = ?), "
                                   "(SELECT count(*) FROM derivation WHERE indicator = ?)", [key, key]).fetchone()
    if existing[0] and not existing[1]:
        raise ValidationError(f"„{key}“ ist ein gelieferter Indikator und wird nicht überschrieben; bitte einen "
                              "anderen Schlüssel wählen.")
    frame = _checked(wh, values)
    names = {k: inds.loc[k, "name"] for k in derivation.inputs}
    row = {"kind": "index", "aggregation": "none", "polarity": "high_bad", "decimals": 2, "unit": "Index",
           "topic": inds.loc[next(iter(derivation.inputs)), "topic"], **meta, "key": key, "name": name,
           "released": False, "numerator": None, "denominator": None, "weight": None, "parts": None, "share": False}
    row["calculation"] = meta.get("calculation") or describe(derivation, names)
    row["source"] = f"Sozialraum-Atlas, berechnet aus: {', '.join(names.values())}"
    row["reference_date"] = meta.get("reference_date") or ", ".join(sorted(set(
        inds.loc[list(derivation.inputs), "reference_date"].astype(str))))
    old = read_df(wh, "SELECT topic FROM indicator WHERE key = ?", [key])
    resources = [Resource("indicator", key, row["topic"])]
    resources += [Resource("indicator", key, t) for t in old["topic"] if t != row["topic"]]

    def write(tx: Tx) -> None:
        from .. import store  # store marks derived indicators stale, so it imports this module

        store.upsert_indicators(tx, [row])
        tx.cur.execute("DELETE FROM indicator_value WHERE indicator = ?", [key])
        store.upsert_values(tx, frame.assign(indicator=key, origin=ORIGIN))
        _store_derivation(tx, key, derivation)
    wh.write(user, "save-derived", resources, write)
    return key


def describe(derivation: Derivation, names: dict[str, str]) -> str:
    """A generic German calculation text: method, inputs with weights, parameters."""
    inputs = "; ".join(f"{names.get(k, k)} (Gewicht {w:g})" for k, w in derivation.inputs.items())
    params = ", ".join(f"{k}: {v}" for k, v in derivation.parameters.items())
    return f"Abgeleitet ({derivation.method}) aus {inputs}" + (f"; Parameter: {params}" if params else "") + "."


def _checked(wh: Warehouse, values: pd.DataFrame) -> pd.DataFrame:
    """The values with known levels/areas and statuses, one row per cell, no value unless ok."""
    need = ["level", "area_key", "year", "value", "status"]
    lacking = [c for c in need if c not in values]
    if lacking:
        raise ValidationError("Interner Fehler: den berechneten Werten fehlen die Spalten " + ", ".join(lacking) + ".")
    frame = values[need + (["note"] if "note" in values else [])].copy()
    frame["area_key"] = frame["area_key"].astype(str)
    known = read_df(wh, "SELECT level, key FROM area UNION ALL SELECT level, key FROM area_group")
    merged = frame.merge(known, left_on=["level", "area_key"], right_on=["level", "key"], how="left")
    if merged["key"].isna().any():
        bad = merged.loc[merged["key"].isna(), ["level", "area_key"]].head(3)
        raise ValidationError("Berechnete Werte für unbekannte Gebiete: "
                              + ", ".join(f"{lv}/{k}" for lv, k in bad.itertuples(index=False)) + ".")
    if not frame["status"].isin(STATUSES).all():
        raise ValidationError("Interner Fehler: unbekannter Status in den berechneten Werten.")
    if frame.duplicated(["level", "area_key", "year"]).any():
        raise ValidationError("Interner Fehler: ein Gebiet hat in einem Jahr mehrere berechnete Werte.")
    ok = frame["status"].eq("ok")
    if not np.isfinite(frame.loc[ok, "value"].to_numpy(float)).all():
        raise ValidationError("Interner Fehler: ein berechneter Wert ist keine endliche Zahl.")
    frame.loc[~ok, "value"] = np.nan
    return frame


def _store_derivation(tx: Tx, key: str, derivation: Derivation) -> None:
    """Write (or replace) the derivation row and its inputs; current (not stale) as of this transaction."""
    before = tx.cur.execute("SELECT method, parameters FROM derivation WHERE indicator = ?", [key]).fetchone()
    version = int(tx.cur.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
    tx.cur.execute("INSERT OR REPLACE INTO derivation VALUES (?, ?, ?, ?, ?, ?, FALSE, NULL, NULL)",
                   [key, derivation.method, json.dumps(derivation.parameters, ensure_ascii=False), version,
                    _now(), tx.actor])
    tx.cur.execute("DELETE FROM derivation_input WHERE indicator = ?", [key])
    tx.cur.executemany("INSERT INTO derivation_input VALUES (?, ?, ?, ?)",
                       [[key, k, float(w), i] for i, (k, w) in enumerate(derivation.inputs.items())])
    tx.audit("derivation", key, None if before is None else {"method": before[0], "parameters": before[1]},
             {"method": derivation.method, "inputs": derivation.inputs, "parameters": derivation.parameters,
              "computed_version": version})


# -- staleness ------------------------------------------------------------------------------------------------

def mark_stale(tx: Tx, inputs: Iterable[str], reason: str) -> list[str]:
    """Mark every derived indicator built (directly or through others) on ``inputs`` as stale, in ``tx``.

    Returns the keys newly marked; an indicator already stale keeps its first reason."""
    marked: list[str] = []
    todo = sorted(set(inputs))
    while todo:
        rows = tx.cur.execute(
            "UPDATE derivation SET stale = TRUE, stale_reason = ?, stale_since = ? WHERE NOT stale AND indicator "
            "IN (SELECT indicator FROM derivation_input WHERE list_contains(?, input)) RETURNING indicator",
            [reason, _now(), todo]).fetchall()
        todo = sorted(r[0] for r in rows)
        for key in todo:
            tx.audit("derivation.stale", key, False, reason)
        marked += todo
    return marked


def mark_poi_stale(tx: Tx, categories: Iterable[str]) -> list[str]:
    """Mark the derived indicators computed from POIs of ``categories`` (parameter "category", e.g. a
    Versorgungsanalyse) stale, in ``tx``; their dependants follow."""
    cats = sorted({str(c) for c in categories if c})
    if not cats:
        return []
    names = dict(tx.cur.execute("SELECT key, name FROM poi_category WHERE list_contains(?, key)", [cats]).fetchall())
    reason = "Einrichtungen geändert: " + ", ".join(names.get(c, c) for c in cats)
    rows = tx.cur.execute("UPDATE derivation SET stale = TRUE, stale_reason = ?, stale_since = ? WHERE NOT stale "
                          "AND list_contains(?, json_extract_string(parameters, '$.category')) RETURNING indicator",
                          [reason, _now(), cats]).fetchall()
    marked = [r[0] for r in rows]
    for key in marked:
        tx.audit("derivation.stale", key, False, reason)
    return marked + mark_stale(tx, marked, reason)


def mark_level_stale(tx: Tx, level: str, reason: str) -> list[str]:
    """Mark the derived indicators with values on ``level`` stale (its areas changed), in ``tx``."""
    keys = [k for (k,) in tx.cur.execute("SELECT DISTINCT indicator FROM indicator_value WHERE origin = ? AND "
                                         "level = ?", [ORIGIN, level]).fetchall()]
    if not keys:
        return []
    rows = tx.cur.execute("UPDATE derivation SET stale = TRUE, stale_reason = ?, stale_since = ? WHERE NOT stale "
                          "AND list_contains(?, indicator) RETURNING indicator", [reason, _now(), keys]).fetchall()
    marked = [r[0] for r in rows]
    for key in marked:
        tx.audit("derivation.stale", key, False, reason)
    return marked + mark_stale(tx, marked, reason)


def withdraw_dependants(tx: Tx, key: str) -> list[str]:
    """An input is withdrawn: its derived indicators become stale, released ones are withdrawn too (in ``tx``)."""
    stale_keys = mark_stale(tx, [key], f"Eingang „{key}“ zurückgezogen")
    dependants = _dependants(tx.cur, key)
    rows = tx.cur.execute("UPDATE indicator SET released = FALSE WHERE released AND list_contains(?, key) "
                          "RETURNING key", [dependants]).fetchall() if dependants else []
    for (k,) in rows:
        tx.audit("indicator.released", k, True, False)
    return sorted(set(stale_keys) | {k for (k,) in rows})


def _dependants(cur, key: str) -> list[str]:
    """Every derived indicator built directly or indirectly on ``key``."""
    found: list[str] = []
    todo = [key]
    while todo:
        todo = [k for (k,) in cur.execute("SELECT DISTINCT indicator FROM derivation_input WHERE "
                                          "list_contains(?, input)", [todo]).fetchall() if k not in found]
        found += todo
    return found


def release_problem(cur, key: str) -> str | None:
    """Why the derived indicator ``key`` may not be released now (None: it may, or it is not derived)."""
    row = cur.execute("SELECT stale FROM derivation WHERE indicator = ?", [key]).fetchone()
    if row is None:
        return None
    if row[0]:
        return f"„{key}“ ist {STALE} – bitte zuerst neu berechnen, dann freigeben."
    hidden = [k for (k,) in cur.execute("SELECT d.input FROM derivation_input d JOIN indicator i ON i.key = d.input "
                                        "WHERE d.indicator = ? AND NOT i.released ORDER BY d.ordering",
                                        [key]).fetchall()]
    if hidden:
        return (f"„{key}“ wird aus nicht freigegebenen Indikatoren berechnet ({', '.join(hidden)}); bitte diese "
                "zuerst freigeben – die Öffentlichkeit sieht nur Ergebnisse aus Werten, die sie sehen darf.")
    return None


# -- reading --------------------------------------------------------------------------------------------------

def inputs_by_indicator(cur) -> dict[str, list[str]]:
    """Derived indicator key → its input keys (for the disclosure control)."""
    rows = cur.execute("SELECT indicator, list(input ORDER BY ordering) FROM derivation_input "
                       "GROUP BY indicator").fetchall()
    return {k: list(v) for k, v in rows}


def get(wh: Warehouse, key: str) -> Derivation:
    """The derivation of ``key`` (NotFoundError if it is not a derived indicator)."""
    row = wh.cursor().execute("SELECT method, parameters FROM derivation WHERE indicator = ?", [key]).fetchone()
    if row is None:
        raise NotFoundError(f"„{key}“ ist kein abgeleiteter Indikator.")
    inputs = wh.cursor().execute("SELECT input, weight FROM derivation_input WHERE indicator = ? ORDER BY ordering",
                                 [key]).fetchall()
    return Derivation(row[0], {k: float(w) for k, w in inputs}, json.loads(row[1]))


def listing(wh: Warehouse) -> pd.DataFrame:
    """Every derived indicator.

    Returns key, name, method, inputs (dict key → weight), parameters (dict), released, stale (bool), state
    ("aktuell" | "veraltet"), stale_reason, stale_since, computed_version, computed_at, computed_by.
    """
    df = read_df(wh, "SELECT d.indicator AS key, i.name, d.method, d.parameters, i.released, d.stale, "
                     "d.stale_reason, d.stale_since, d.computed_version, d.computed_at, d.computed_by, "
                     "(SELECT list(struct_pack(k := n.input, w := n.weight) ORDER BY n.ordering) FROM "
                     "derivation_input n WHERE n.indicator = d.indicator) AS inputs FROM derivation d "
                     "JOIN indicator i ON i.key = d.indicator ORDER BY i.name")
    df["inputs"] = [{p["k"]: float(p["w"]) for p in (ins if ins is not None else [])} for ins in df["inputs"]]
    df["parameters"] = [json.loads(p) for p in df["parameters"]]
    df["state"] = np.where(df["stale"], STALE, "aktuell")
    return df


def stale(wh: Warehouse) -> pd.DataFrame:
    """The derived indicators marked "veraltet" (columns as :func:`listing`)."""
    df = listing(wh)
    return df[df["stale"]].reset_index(drop=True)


def recompute(wh: Warehouse, user: User | None, key: str | None = None) -> list[str]:
    """Recompute ``key`` (or every stale derived indicator) with its method; returns the keys recomputed."""
    from ..queries import Atlas  # queries sits above the store layer this module also serves

    keys = [key] if key else list(stale(wh)["key"])
    for k in keys:
        derivation = get(wh, k)
        module = importlib.import_module(f"{__package__}.{derivation.method}")
        values = _checked(wh, module.recompute(Atlas(wh), derivation))
        topic = read_df(wh, "SELECT topic FROM indicator WHERE key = ?", [k])["topic"][0]

        def write(tx: Tx, k: str = k, values: pd.DataFrame = values, derivation: Derivation = derivation) -> None:
            from .. import store

            tx.cur.execute("DELETE FROM indicator_value WHERE indicator = ?", [k])
            store.upsert_values(tx, values.assign(indicator=k, origin=ORIGIN))
            _store_derivation(tx, k, derivation)
        wh.write(user, "recompute-derived", [Resource("indicator", k, topic)], write)
    return keys


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
