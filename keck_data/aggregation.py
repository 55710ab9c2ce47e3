"""Aggregation of indicator values to coarser spatial levels, by each indicator's rule.

* ``sum``: counts are added up (only when every child has a value);
* ``ratio``: rates are recomputed as Σ numerator / Σ denominator × scale — never averaged;
* ``weighted_mean``: means are weighted with the child values of the weight indicator;
* ``none``: left empty, with the reason in ``note``.

A parent is complete when every inhabited child is covered, by its own value or by the value of an area group
(:mod:`keck_data.area_groups`) it belongs to; a group's value counts once and its members' own values for the
same indicator and year are not added again. A group whose members lie in different parents makes each of
them incomplete and feeds the lowest common ancestor once: its parents are carried one level up as a group.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import area_groups
from .warehouse import Tx

NOT_AGGREGABLE = "nicht auf gröbere Ebenen aggregierbar"


def aggregate(values: pd.DataFrame, parent_of: pd.Series, meta: pd.DataFrame,
              uninhabited: frozenset[str] = frozenset(), groups: dict[str, list[str]] | None = None,
              joint_of: dict[str, str] | None = None) -> pd.DataFrame:
    """Aggregate one level's values to its parent level.

    ``values``: indicator, area_key, year, value, status (one child level); ``parent_of``: child key → parent key;
    ``meta``: indicator metadata indexed by key; ``uninhabited``: child keys without residents on purpose (their
    missing values do not make a parent incomplete); ``groups``: area group key → member keys (values stored
    under the group key; ``parent_of`` gives the group's parent, or the joint unit of a group across parents);
    ``joint_of``: parent → joint unit, for the indicators and years where such a group has a value.
    Returns rows for the parent areas (and joint units) with a ``note``.
    """
    groups, joint_of = groups or {}, joint_of or {}
    n_children = parent_of[~parent_of.index.isin(list(uninhabited) + list(groups))].value_counts()
    for unit in set(joint_of.values()):
        n_children[unit] = n_children.reindex(unit.split("+")).fillna(0).sum()
    v = _once(values, groups)
    v = v.assign(parent=_row_parents(v, parent_of, joint_of)).dropna(subset=["parent"])
    v = v.assign(ok=(v["status"].eq("ok") & v["value"].notna()) * v["covers"])
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
        ratios = meta[meta["aggregation"] == "ratio"]
        needed = g[g["indicator"].isin(set(ratios["numerator"]) | set(ratios["denominator"]))]
        sums = {k: grp.set_index(["parent", "year"])["value"] for k, grp in needed.groupby("indicator")}

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
        m["ok"] = m["ok"] * m["w"].notna()
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


def _once(values: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    """``values`` with ``covers`` (areas a row stands for: a group's members, else 1), without members' own rows
    where their group has a row for the same indicator and year (a group's value counts once)."""
    if not groups:
        return values.assign(covers=1)
    member = pd.DataFrame([(g, m) for g, ms in groups.items() for m in ms], columns=["group", "area_key"])
    grouped = values[["indicator", "area_key", "year"]].rename(columns={"area_key": "group"}).merge(member, on="group")
    own = values.merge(grouped, on=["indicator", "area_key", "year"], how="left", indicator=True)["_merge"]
    kept = values[own.eq("left_only").to_numpy()]
    return kept.assign(covers=kept["area_key"].map(lambda k: len(groups[k]) if k in groups else 1))


def _row_parents(v: pd.DataFrame, parent_of: pd.Series, joint_of: dict[str, str]) -> pd.Series:
    """Each row's parent; for an indicator and year in which a group across parents has a value, the rows of
    those parents' children go to their joint unit instead."""
    parent = v["area_key"].map(parent_of)
    if not joint_of:
        return parent
    joint = parent.map(joint_of)
    units = set(joint_of.values())
    active = {(i, y, p) for i, y, p in zip(v["indicator"], v["year"], parent) if p in units}  # a group's row
    use = [(i, y, j) in active for i, y, j in zip(v["indicator"], v["year"], joint)]
    return parent.where(~np.array(use, bool), joint)


def _parents(parent_of: pd.Series, groups: dict[str, list[str]], names: dict[str, str]
             ) -> tuple[pd.Series, dict[str, str], dict[str, list[str]], dict[str, str]]:
    """Parents for one level pass with area groups: a group whose members share a parent feeds it; groups across
    parents join those parents (transitively) into one unit, keyed like a group, that is carried one level up.
    Returns (child/group key → parent or joint unit, parent → joint unit, joint unit → its parents, note for
    each such parent)."""
    joint_of: dict[str, str] = {}
    for members in groups.values():
        parents = sorted({parent_of.get(m) for m in members} - {None})
        if len(parents) < 2:
            continue
        tied = sorted(set(parents).union(*[joint_of[p].split("+") for p in parents if p in joint_of]))
        for p in tied:
            joint_of[p] = "+".join(tied)
    extra = {g: joint_of.get(parent_of.get(ms[0]), parent_of.get(ms[0])) for g, ms in groups.items()}
    units = {u: u.split("+") for u in set(joint_of.values())}
    notes = {}
    for g, ms in groups.items():
        if extra[g] in units:
            text = (f"unvollständig: gemeinsamer Wert für {' und '.join(names.get(m, m) for m in ms)} reicht über "
                    "dieses Gebiet hinaus (zählt im übergeordneten Gebiet)")
            notes.update({p: text for p in {parent_of.get(m) for m in ms} - {None}})
    return pd.concat([parent_of, pd.Series(extra, dtype=object)]), joint_of, units, notes


def refresh_aggregates(tx: Tx) -> int:
    """Recompute every aggregated value bottom-up; source values at any level always win."""
    cur = tx.cur
    meta = cur.execute("SELECT * FROM indicator").df().set_index("key")
    levels = cur.execute("SELECT key, parent_level FROM spatial_level ORDER BY ordering DESC").fetchall()
    cur.execute("DELETE FROM indicator_value WHERE origin = 'aggregated'")
    written = 0
    carried, carried_groups = None, {}  # joint parents of groups across parents, with their values
    for level, parent_level in levels:
        if parent_level is None:
            continue
        areas = cur.execute("SELECT key, name, parent_key FROM area WHERE level = ? AND parent_key IS NOT NULL",
                            [level]).df()
        child_values = cur.execute(
            "SELECT indicator, area_key, year, value, status FROM indicator_value WHERE level = ? "
            "ORDER BY indicator, area_key, year", [level]
        ).df()
        groups = area_groups.of_level(cur, level) | carried_groups
        if carried is not None:
            child_values = pd.concat([child_values, carried], ignore_index=True).drop_duplicates(
                ["indicator", "area_key", "year"])
        if child_values.empty or areas.empty:
            carried, carried_groups = None, {}
            continue
        parent_of, joint_of, joint, notes = _parents(areas.set_index("key")["parent_key"], groups,
                                                     dict(zip(areas["key"], areas["name"])))
        uninhabited = frozenset(k for (k,) in cur.execute("SELECT key FROM uninhabited_area WHERE level = ?",
                                                           [level]).fetchall())
        agg = aggregate(child_values, parent_of, meta, uninhabited, groups, joint_of)
        is_joint = agg["area_key"].isin(list(joint))
        carried, carried_groups = agg[is_joint].drop(columns="note"), joint
        agg = _with_joint_notes(agg[~is_joint], notes, agg[is_joint])
        agg = agg.assign(level=parent_level, origin="aggregated")
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


def _with_joint_notes(agg: pd.DataFrame, notes: dict[str, str], joint: pd.DataFrame) -> pd.DataFrame:
    """Parents split by a group across parents: "keine Daten" with the note why, for every indicator and year
    the joint unit has (their own children's sum alone would be an undercount)."""
    if not notes or joint.empty:
        return agg
    rows = pd.DataFrame([{"indicator": i, "area_key": p, "year": y, "value": np.nan, "status": "missing", "note": n}
                         for i, u, y in joint[["indicator", "area_key", "year"]].itertuples(index=False)
                         for p in u.split("+") if (n := notes.get(p))])
    if rows.empty:
        return agg
    keep = agg.merge(rows[["indicator", "area_key", "year"]], how="left", indicator=True)["_merge"].eq("left_only")
    return pd.concat([agg[keep.to_numpy()], rows], ignore_index=True)
