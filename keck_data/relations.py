"""Declared relations between count values: the linear equations a reader can combine to recompute a cell.

* **spatial**: an additive count of a parent area is the sum of its children (per indicator and year);
* **identities**: an indicator declared as the sum of parts (``parts = "ew_u3 + ew_3_6"``), per area and year;
* **area groups**: a group's count (one delivered value for several areas) is the sum of its members' counts,
  which are unknown and stay in their parents' sums (``tree`` rows with ``members``, see
  :func:`keck_data.area_groups.tree`); areas between a member and the group's common ancestor that have no value
  enter as unknowns too, so a group across parents still ties the ancestor's sum;
* **complements**: for a share (``share``: the numerator counts a part of the denominator) the rest
  ``denominator − numerator`` is a count too; it enters as a virtual cell (indicator ``rest:<rate>``) that is
  never published but must not become derivable either.

A relation is used where its total exists (a child area without data counts as 0, as for uninhabited areas;
a missing part drops an identity) and, where all its values are known, where it holds; relations that do not
hold are reported ("Summe stimmt nicht: …").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

KEY = ["indicator", "level", "area_key", "year"]
REST = "rest:"


def identities(meta: pd.DataFrame) -> dict[str, list[str]]:
    """``total → parts`` from the ``parts`` metadata (``"a + b + c"``), only counts known to ``meta``."""
    if "parts" not in meta:
        return {}
    out = {}
    for key, text in meta["parts"].dropna().items():
        parts = [p.strip() for p in str(text).split("+") if p.strip()]
        if parts and all(p in meta.index for p in parts):
            out[key] = parts
    return out


def shares(meta: pd.DataFrame) -> pd.DataFrame:
    """Rates whose numerator is a part of the denominator (both counts known to ``meta``)."""
    if "share" not in meta:
        return meta.iloc[0:0]
    rates = meta[(meta["kind"] == "rate") & meta["share"].eq(True)]
    return rates[rates["numerator"].isin(meta.index) & rates["denominator"].isin(meta.index)]


class Lookup:
    """Cell ids by (indicator, area, year), vectorised (−1 where there is no such cell).

    Areas are numbered by their row in ``tree`` (``place``); ``parent`` gives each area's parent place.
    """

    def __init__(self, cells: pd.DataFrame, tree: pd.DataFrame):
        self.areas = pd.MultiIndex.from_arrays([tree["level"], tree["key"].astype(str)])
        self.parent = self.place(tree["parent_level"], tree["parent_key"])
        grouped = tree["members"].notna().to_numpy() if "members" in tree else np.zeros(len(tree), bool)
        self.is_group = np.append(grouped, False)  # place −1 reads False
        self.indicators = pd.Index(cells["indicator"].unique())
        self.first_year = int(cells["year"].min()) if len(cells) else 0
        n_years = int(cells["year"].max()) - self.first_year + 1 if len(cells) else 1
        self.cell_place = self.place(cells["level"], cells["area_key"])
        self.table = np.full((len(self.indicators), len(self.areas) + 1, n_years), -1)
        self.table[self.indicators.get_indexer(cells["indicator"]), self.cell_place,
                   cells["year"].to_numpy(int) - self.first_year] = np.arange(len(cells))

    def place(self, level, area_key) -> np.ndarray:
        """Area numbers (−1 for none)."""
        keys = pd.Series(area_key, dtype=object).to_numpy()
        return self.areas.get_indexer(pd.MultiIndex.from_arrays(
            [pd.Series(level, dtype=object).to_numpy(), [None if k is None else str(k) for k in keys]]))

    def __call__(self, indicator, place: np.ndarray, year) -> np.ndarray:
        ind = self.indicators.get_indexer(np.broadcast_to(np.asarray(indicator, dtype=object), np.shape(place)))
        yr = np.asarray(year, int) - self.first_year
        ok = (ind >= 0) & (place >= 0) & (yr >= 0) & (yr < self.table.shape[2])
        return np.where(ok, self.table[ind, place, np.where(ok, yr, 0)], -1)


@dataclass
class System:
    """Cells (counts and virtual rests) and the relations between them as rows ``lower ≤ Σ coef·cell ≤ upper``."""

    cells: pd.DataFrame  # KEY + value, status ("ok", "suppressed", "absent", "rest"); positional index = cell id
    matrix: sparse.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    labels: list[str]
    broken: list[str] = field(default_factory=list)  # relations that do not hold on the known values

    tree: pd.DataFrame | None = None

    def __post_init__(self):
        self.ids = Lookup(self.cells, self.tree)

    def add_rows(self, entries: tuple[np.ndarray, np.ndarray, np.ndarray], lower, upper, labels) -> None:
        """Append rows given as (row, cell, coef) arrays with rows numbered from 0."""
        rows, cols, coef = entries
        extra = sparse.csr_matrix((coef, (rows, cols)), shape=(len(labels), len(self.cells)))
        self.matrix = sparse.vstack([self.matrix, extra]).tocsr()
        self.lower = np.concatenate([self.lower, lower])
        self.upper = np.concatenate([self.upper, upper])
        self.labels += list(labels)


def identity_members(meta: pd.DataFrame, touched) -> list[str]:
    """Every indicator of the declared identities that contain one of the ``touched`` indicators."""
    touched = set(touched)
    return sorted({k for total, parts in identities(meta).items() if touched & {total, *parts}
                   for k in (total, *parts)})


def identity_warnings(values: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame, limit: int = 5) -> list[str]:
    """German warnings for declared identities the values break (sums of areas are checked by the import)."""
    if values.empty:
        return []
    broken = build(values, meta, tree, spatial=False).broken
    return broken[:limit] + ([f"… und {len(broken) - limit} weitere Summen"] if len(broken) > limit else [])


def build(values: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame, *, fill_absent: bool = False,
          spatial: bool = True) -> System:
    """The relation system over the count cells of ``values``.

    ``values``: KEY + value, status (any indicators; counts are used); ``meta``: indicator metadata indexed by
    key (kind, aggregation, numerator, denominator, parts, share); ``tree``: level, key, parent_level, parent_key.
    ``fill_absent``: counts that appear in an identity or share but have no values here (not released) enter as
    unknown cells, as a reader who knows the definitions would treat them. ``spatial``: include the sums of areas.
    """
    counts = meta.index[meta["kind"] == "count"]
    cells = values.loc[values["indicator"].isin(counts) & values["status"].ne("missing"), KEY + ["value", "status"]]
    if fill_absent:
        cells = pd.concat([cells, _absent(cells, values, meta, tree)], ignore_index=True)
    cells = pd.concat([cells, _group_unknowns(cells, tree)], ignore_index=True)
    cells = pd.concat([cells, _rests(cells, Lookup(cells, tree), meta)], ignore_index=True)
    system = System(cells, sparse.csr_matrix((0, len(cells))), np.zeros(0), np.zeros(0), [], tree=tree)
    kinds = ([_spatial(system, meta)] if spatial else []) + [_identity(system, meta), _complement(system, meta),
                                                             _grouped(system)]
    for entries, labels in kinds:
        system.add_rows(entries, np.zeros(len(labels)), np.zeros(len(labels)), labels)
    return _drop_broken(system)


def _absent(cells: pd.DataFrame, values: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame) -> pd.DataFrame:
    related = set()
    for total, parts in identities(meta).items():
        related |= {total, *parts}
    rates = meta[meta["kind"] == "rate"]
    related |= set(rates["numerator"].dropna()) | set(rates["denominator"].dropna())
    missing = sorted(k for k in related if k in meta.index and meta.loc[k, "kind"] == "count"
                     and k not in set(cells["indicator"]))
    years = sorted(values["year"].unique())
    if not missing or not years:
        return cells.iloc[0:0]
    grid = tree[["level", "key"]].rename(columns={"key": "area_key"}).merge(pd.DataFrame({"year": years}),
                                                                            how="cross")
    return pd.concat([grid.assign(indicator=k, value=np.nan, status="absent") for k in missing],
                     ignore_index=True)[KEY + ["value", "status"]]


def _group_unknowns(cells: pd.DataFrame, tree: pd.DataFrame) -> pd.DataFrame:
    """Unknown cells for the members of every group with a count, and for areas between a member and the
    group's common ancestor that have no count there (a parent left "keine Daten" by a group across parents)."""
    if "members" not in tree or not tree["members"].notna().any():
        return cells.iloc[0:0]
    up = {(lv, k): (pl, pk) for lv, k, pl, pk in tree[["level", "key", "parent_level", "parent_key"]].itertuples(
        index=False)}
    out = []
    for lv, key, pl, pk, members in tree[tree["members"].notna()].itertuples(index=False):
        here = cells[(cells["level"] == lv) & (cells["area_key"] == key)][["indicator", "year"]]
        if here.empty:
            continue
        places = set()
        for m in members:
            node = (lv, m)
            while node[1] is not None and node != (pl, pk):
                places.add(node)
                node = up.get(node, (None, None))
        grid = here.merge(pd.DataFrame(sorted(places), columns=["level", "area_key"]), how="cross")
        out.append(grid.assign(value=np.nan, status="absent"))
    if not out:
        return cells.iloc[0:0]
    found = pd.concat(out, ignore_index=True).drop_duplicates(KEY)
    new = found.merge(cells[KEY].astype({"area_key": str}), on=KEY, how="left", indicator=True)["_merge"]
    return found[new.eq("left_only").to_numpy()][KEY + ["value", "status"]]


def _grouped(system: System):
    """group − Σ members = 0 for every count of an area group (members are unknown cells)."""
    ids, cells, tree = system.ids, system.cells, system.tree
    if "members" not in tree:
        return _stack([], [])
    members = dict(zip(zip(tree["level"], tree["key"]), tree["members"]))
    at = np.flatnonzero(ids.is_group[ids.cell_place])
    rows, cols, coef, labels = [], [], [], []
    for cell in at:
        ind, lv, key, year = cells.iloc[cell][KEY]
        parts = ids(ind, ids.place([lv] * len(members[(lv, key)]), members[(lv, key)]), year)
        if (parts < 0).any():
            continue
        rows += [len(labels)] * (len(parts) + 1)
        cols += [cell, *parts]
        coef += [1.0] + [-1.0] * len(parts)
        labels.append(f"{ind} {year}: {key} = Summe der Gebiete der Gruppe")
    return (np.array(rows, int), np.array(cols, int), np.array(coef, float)), labels


def _rests(cells: pd.DataFrame, ids: Lookup, meta: pd.DataFrame) -> pd.DataFrame:
    out = []
    for key, rate in shares(meta).iterrows():
        is_den = (cells["indicator"] == rate["denominator"]).to_numpy()
        num = ids(rate["numerator"], ids.cell_place[is_den], cells["year"].to_numpy()[is_den])
        both = cells[is_den][num >= 0]
        value = both["value"].to_numpy() - cells["value"].to_numpy()[num[num >= 0]]
        out.append(both.assign(indicator=REST + key, value=value, status="rest"))
    return pd.concat(out, ignore_index=True) if out else cells.iloc[0:0]


def _triples(groups: list[tuple[np.ndarray, float]], n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, cell, coef) arrays for ``n_rows`` rows, one cell id array (one per row) and coefficient per group."""
    rows = np.concatenate([np.arange(n_rows)] * len(groups)) if groups else np.array([], int)
    cols = np.concatenate([g[0] for g in groups]) if groups else np.array([], int)
    coef = np.concatenate([np.full(n_rows, g[1]) for g in groups]) if groups else np.array([])
    return rows, cols, coef


def _spatial(system: System, meta):
    """parent − Σ children with values = 0 for every additive count, year and parent with a value (children
    without data — uninhabited areas — count as 0; where that does not hold, :func:`_drop_broken` drops it)."""
    ids, cells = system.ids, system.cells
    additive = cells["indicator"].isin(meta.index[(meta["kind"] == "count") & (meta["aggregation"] == "sum")])
    child = np.flatnonzero(additive.to_numpy() & (ids.parent[ids.cell_place] >= 0) & ~ids.is_group[ids.cell_place])
    parent_place = ids.parent[ids.cell_place[child]]
    year = cells["year"].to_numpy()[child]
    parent = ids(cells["indicator"].to_numpy()[child], parent_place, year)
    group = pd.DataFrame({"cell": child, "parent": parent, "ind": cells["indicator"].to_numpy()[child],
                          "place": parent_place, "year": year})
    group = group[group["parent"] >= 0].sort_values(["parent", "cell"])
    group["row"] = group.groupby("parent", sort=True).ngroup()
    heads = group.drop_duplicates("row")
    rows = np.concatenate([heads["row"].to_numpy(), group["row"].to_numpy()])
    cols = np.concatenate([heads["parent"].to_numpy(), group["cell"].to_numpy()])
    coef = np.concatenate([np.ones(len(heads)), -np.ones(len(group))])
    keys = ids.areas.get_level_values(1).to_numpy()[heads["place"].to_numpy()]
    labels = (heads["ind"] + " " + heads["year"].astype(str) + ": " + keys + " = Summe seiner Teilgebiete").tolist()
    return (rows, cols, coef), labels


def _identity(system: System, meta):
    ids, cells, triples, labels = system.ids, system.cells, [], []
    for total, parts in identities(meta).items():
        at = np.flatnonzero((cells["indicator"] == total).to_numpy())
        place, year = ids.cell_place[at], cells["year"].to_numpy()[at]
        found = [ids(k, place, year) for k in [total, *parts]]
        full = (np.vstack(found) >= 0).all(axis=0)
        triples.append(_triples([(i[full], 1.0 if n == 0 else -1.0) for n, i in enumerate(found)], int(full.sum())))
        sel = cells.iloc[at[full]]
        labels.append((f"{total} = {' + '.join(parts)} (" + sel["area_key"].astype(str) + ", "
                       + sel["year"].astype(str) + ")").tolist())
    return _stack(triples, labels)


def _complement(system: System, meta):
    ids, cells, triples, labels = system.ids, system.cells, [], []
    for key, rate in shares(meta).iterrows():
        at = np.flatnonzero((cells["indicator"] == REST + key).to_numpy())
        place, year = ids.cell_place[at], cells["year"].to_numpy()[at]
        found = [ids(k, place, year) for k in (rate["denominator"], rate["numerator"], REST + key)]
        triples.append(_triples([(found[0], 1.0), (found[1], -1.0), (found[2], -1.0)], len(at)))
        sel = cells.iloc[at]
        labels.append((f"{rate['denominator']} = {rate['numerator']} + Rest (" + sel["area_key"].astype(str) + ", "
                       + sel["year"].astype(str) + ")").tolist())
    return _stack(triples, labels)


def _stack(triples: list, labels: list[list[str]]):
    """Concatenate groups of rows, renumbering each group after the previous ones."""
    offset, rows = 0, []
    for (r, _, _), lab in zip(triples, labels):
        rows.append(r + offset)
        offset += len(lab)
    if not triples:
        return (np.array([], int), np.array([], int), np.array([])), []
    return ((np.concatenate(rows), np.concatenate([t[1] for t in triples]), np.concatenate([t[2] for t in triples])),
            [x for lab in labels for x in lab])


def _drop_broken(system: System) -> System:
    """Remove rows whose cells all have values that do not add up; remember them for warnings."""
    values = system.cells["value"].to_numpy(float)
    unknown = np.isnan(values)
    m = system.matrix
    has_unknown = (abs(m) @ unknown.astype(float)) > 0
    residual = m @ np.nan_to_num(values)
    broken = ~has_unknown & (np.abs(residual) > 0.5)
    if broken.any():
        system.broken = [f"Summe stimmt nicht: {system.labels[i]} (Abweichung {residual[i]:+.0f})"
                         for i in np.flatnonzero(broken)]
        keep = np.flatnonzero(~broken)
        system.matrix = m[keep]
        system.lower, system.upper = system.lower[keep], system.upper[keep]
        system.labels = [system.labels[i] for i in keep]
    return system
