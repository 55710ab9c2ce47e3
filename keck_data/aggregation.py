"""Aggregation of indicator values to coarser spatial levels, by each indicator's rule.

* ``sum``: counts are added up (only when every child has a value);
* ``ratio``: rates are recomputed as Σ numerator / Σ denominator × scale — never averaged;
* ``weighted_mean``: means are weighted with the child values of the weight indicator;
* ``none``: left empty, with the reason in ``note``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .warehouse import Tx

NOT_AGGREGABLE = "nicht auf gröbere Ebenen aggregierbar"


def aggregate(values: pd.DataFrame, parent_of: pd.Series, meta: pd.DataFrame,
              uninhabited: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Aggregate one level's values to its parent level.

    ``values``: indicator, area_key, year, value, status (one child level); ``parent_of``: child key → parent key;
    ``meta``: indicator metadata indexed by key; ``uninhabited``: child keys without residents on purpose (their
    missing values do not make a parent incomplete). Returns rows for the parent areas with a ``note``.
    """
    n_children = parent_of[~parent_of.index.isin(list(uninhabited))].value_counts()
    v = values.assign(parent=values["area_key"].map(parent_of)).dropna(subset=["parent"])
    v = v.assign(ok=v["status"].eq("ok") & v["value"].notna())
    out = []

    def complete(groups: pd.DataFrame) -> pd.Series:
        return groups["n_ok"].ge(groups["parent"].map(n_children).fillna(0).to_numpy())

    def gaps(groups: pd.DataFrame, full: pd.Series, what: str) -> list[str | None]:
        """The note of an incomplete parent: how many of its areas lack a value ("2 von 48 Gebieten")."""
        total = groups["parent"].map(n_children).fillna(0).astype(int).to_numpy()
        return [None if f else f"unvollständig: {t - n} von {t} Gebieten ohne {what}"
                for f, t, n in zip(full, total, groups["n_ok"].astype(int))]

    sums = {}
    sum_keys = meta.index[meta["aggregation"] == "sum"]
    sv = v[v["indicator"].isin(sum_keys)]
    if not sv.empty:
        g = sv.groupby(["indicator", "parent", "year"], as_index=False).agg(
            value=("value", "sum"), n_ok=("ok", "sum"))
        full = complete(g)
        g["status"] = np.where(full, "ok", "missing")
        g["note"] = gaps(g, full, "Wert")
        g.loc[~full, "value"] = np.nan
        out.append(g)
        sums = {k: grp.set_index(["parent", "year"])["value"] for k, grp in g.groupby("indicator")}

    for key, ind in meta[meta["aggregation"] == "ratio"].iterrows():
        num, den = sums.get(ind["numerator"]), sums.get(ind["denominator"])
        years = v.loc[v["indicator"] == key, ["parent", "year"]].drop_duplicates().set_index(["parent", "year"]).index
        if num is not None and den is not None:  # also where the rate itself was not delivered
            years = years.union(num.index.intersection(den.index))
        if len(years) == 0:
            continue
        n = num.reindex(years) if num is not None else pd.Series(np.nan, index=years)
        d = den.reindex(years) if den is not None else pd.Series(np.nan, index=years)
        with np.errstate(divide="ignore", invalid="ignore"):
            val = (n / d.where(d > 0)) * float(ind["scale"])
        frame = val.rename("value").reset_index().assign(indicator=key)
        frame["status"] = np.where(frame["value"].notna(), "ok", "missing")
        frame["note"] = np.where(frame["value"].notna(), None, "Zähler oder Nenner fehlt")
        out.append(frame)

    for key, ind in meta[meta["aggregation"] == "weighted_mean"].iterrows():
        mv = v[v["indicator"] == key]
        wv = v[v["indicator"] == ind["weight"]][["area_key", "year", "value"]].rename(columns={"value": "w"})
        if mv.empty:
            continue
        m = mv.merge(wv, on=["area_key", "year"], how="left")
        m["ok"] = m["ok"] & m["w"].notna()
        m["vw"] = m["value"] * m["w"]
        g = m.groupby(["parent", "year"], as_index=False).agg(vw=("vw", "sum"), w=("w", "sum"), n_ok=("ok", "sum"))
        full = complete(g) & (g["w"] > 0)
        g["value"] = np.where(full, g["vw"] / g["w"].where(g["w"] > 0), np.nan)
        g["status"] = np.where(full, "ok", "missing")
        g["note"] = gaps(g, full, "Wert oder Gewicht")
        out.append(g.assign(indicator=key))

    none_keys = meta.index[meta["aggregation"] == "none"]
    nv = v[v["indicator"].isin(none_keys)][["indicator", "parent", "year"]].drop_duplicates()
    if not nv.empty:
        out.append(nv.assign(value=np.nan, status="missing", note=NOT_AGGREGABLE))

    if not out:
        return pd.DataFrame(columns=["indicator", "area_key", "year", "value", "status", "note"])
    result = pd.concat(out, ignore_index=True).rename(columns={"parent": "area_key"})
    return result[["indicator", "area_key", "year", "value", "status", "note"]]


def refresh_aggregates(tx: Tx) -> int:
    """Recompute every aggregated value bottom-up; source values at any level always win."""
    cur = tx.cur
    meta = cur.execute("SELECT * FROM indicator").df().set_index("key")
    levels = cur.execute("SELECT key, parent_level FROM spatial_level ORDER BY ordering DESC").fetchall()
    cur.execute("DELETE FROM indicator_value WHERE origin = 'aggregated'")
    written = 0
    for level, parent_level in levels:
        if parent_level is None:
            continue
        parent_of = cur.execute(
            "SELECT key, parent_key FROM area WHERE level = ? AND parent_key IS NOT NULL", [level]
        ).df().set_index("key")["parent_key"]
        child_values = cur.execute(
            "SELECT indicator, area_key, year, value, status FROM indicator_value WHERE level = ? "
            "ORDER BY indicator, area_key, year", [level]
        ).df()
        if child_values.empty or parent_of.empty:
            continue
        uninhabited = frozenset(k for (k,) in cur.execute("SELECT key FROM uninhabited_area WHERE level = ?",
                                                           [level]).fetchall())
        agg = aggregate(child_values, parent_of, meta, uninhabited).assign(level=parent_level, origin="aggregated")
        cur.register("agg_values", agg)
        cur.execute(
            "INSERT INTO indicator_value SELECT a.indicator, a.level, a.area_key, a.year, a.value, a.status, "
            "a.origin, a.note FROM agg_values a WHERE NOT EXISTS (SELECT 1 FROM indicator_value s WHERE "
            "s.indicator = a.indicator AND s.level = a.level AND s.area_key = a.area_key AND s.year = a.year)"
        )
        cur.unregister("agg_values")
        written += len(agg)
    tx.audit("indicator_value", None, None, {"aggregated_rows": written})
    return written
