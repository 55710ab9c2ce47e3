"""Statistical disclosure control: small counts become "k. A." before any value leaves keck_data.

* **primary** suppression on the internal raw counts: values from 0 (or 1, when zeros may be shown) up to the
  threshold — whether or not the indicator is released; indicators with Geheimhaltung „keine“ (``privacy``
  ``none``: dwellings, schools, data anonymised by the supplier) are public and never hidden;
* **secondary** suppression over every declared relation (:mod:`keck_data.relations`: spatial sums, indicator
  identities, rests of shares) until the LP attacker (:mod:`keck_data.disclosure`) can narrow no hidden cell —
  and no small rest of a share — to an interval narrower than the protection width (threshold + 1 by default);
  each round hides the cheapest published cells (fewest, smallest, finest level) that give the missing room;
* rates are hidden where their numerator or denominator count is hidden (also where the rate would read
  "keine Daten": that label would reveal a denominator of 0), means where their weight is hidden.

Status ``suppressed`` (value removed) stays distinct from ``missing`` (no data) and from a real 0; ``reason``
says why a cell is hidden (for internal users; the public snapshot carries no reasons).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import disclosure, relations
from .config import settings
from .errors import KeckError

SUPPRESSED = "suppressed"
LABEL_SUPPRESSED = "k. A."
LABEL_MISSING = "keine Daten"
DERIVED_WITHOUT = "berechnet ohne: "  # note of a derived cell computed without these inputs (", "-joined keys)
KEY = relations.KEY
MAX_ROUNDS = 50


@dataclass(frozen=True)
class PrivacyRule:
    """The deployment's suppression rule."""

    threshold: int = 3
    suppress_zeros: bool = True
    width: int | None = None  # protection width; None: threshold + 1

    @classmethod
    def from_settings(cls) -> PrivacyRule:
        s = settings()
        return cls(threshold=s.privacy_threshold, suppress_zeros=s.suppress_zeros, width=s.privacy_width)

    @property
    def protection(self) -> int:
        return self.threshold + 1 if self.width is None else self.width

    def is_small(self, values):
        lower = values >= 0 if self.suppress_zeros else values > 0
        return lower & (values <= self.threshold)


def apply(values: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame, rule: PrivacyRule,
          protected: bool = False) -> pd.DataFrame:
    """Return ``values`` with small and derivable counts (and rates built on them) suppressed.

    ``values``: indicator, level, area_key, year, value, status (+ any columns) — the internal raw values of
    *all* indicators, so that the decision does not depend on what is released or asked for; ``meta``: indicator
    metadata indexed by key (kind, aggregation, numerator, denominator, parts, share); ``tree``: level, key,
    parent_level, parent_key. ``protected``: the values are a published snapshot that was protected already, so
    only the primary rule is checked again (a fence). Adds ``reason`` (why a cell is hidden).
    """
    out = values.sort_values(KEY).reset_index(drop=True)
    out["reason"] = np.where(out["status"].eq(SUPPRESSED), "bei der Lieferung unterdrückt", None)
    kind = out["indicator"].map(meta["kind"])
    primary = (kind.eq("count") & ~is_public(out["indicator"], meta) & out["status"].eq("ok")
               & rule.is_small(out["value"]))
    out.loc[primary, ["status", "reason"]] = [SUPPRESSED, f"primär: Fallzahl höchstens {rule.threshold}"]
    if not protected:
        for _, year in out.groupby("year", sort=True):  # no relation spans two years
            system = relations.build(year, meta, tree)
            hidden = Protection(system, rule, is_public(system.cells["indicator"], meta).to_numpy()).run()
            if hidden:
                secondary = system.cells.iloc[list(hidden)][KEY].assign(why=list(hidden.values()))
                rows = out.reset_index().merge(secondary, on=KEY)
                out.loc[rows["index"].to_numpy(), ["status", "reason"]] = np.column_stack(
                    [np.full(len(rows), SUPPRESSED), rows["why"].to_numpy()])
    _follow_parts(out, meta)
    _follow_derived(out, meta)
    out.loc[out["status"] == SUPPRESSED, "value"] = np.nan
    return out


def is_public(indicators: pd.Series, meta: pd.DataFrame) -> pd.Series:
    """Cells of indicators with Geheimhaltung „keine“ (``privacy = 'none'``: no personal data, or anonymised by
    the supplier): never hidden by the threshold, never hidden to protect another cell, public to the attacker."""
    if "privacy" not in meta:
        return pd.Series(False, index=indicators.index)
    return indicators.map(meta["privacy"]).eq("none")


def round_declared(values: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """``values`` with every value rounded to its indicator's declared decimals (what is published)."""
    decimals = values["indicator"].map(meta["decimals"]).fillna(6).astype(int).to_numpy()
    scaled = values["value"].to_numpy(float) * 10.0 ** decimals
    return values.assign(value=np.round(scaled) / 10.0 ** decimals)


def _follow_parts(out: pd.DataFrame, meta: pd.DataFrame) -> None:
    """Hide every rate whose numerator or denominator is hidden, and every mean whose weight is hidden (a shown
    mean and its parent's would be one more equation on the hidden weight) — in place."""
    place = out.groupby(["level", "area_key", "year"], sort=False).ngroup().to_numpy()
    rows_of = out.groupby("indicator").indices
    hidden = out["status"].eq(SUPPRESSED).to_numpy()
    missing = out["status"].eq("missing").to_numpy()
    weight = meta["weight"] if "weight" in meta else pd.Series(None, index=meta.index)
    for key, ind in meta[meta["kind"].isin(["rate", "mean"])].iterrows():
        parts = (ind["numerator"], ind["denominator"]) if ind["kind"] == "rate" else (weight[key],)
        deps = [rows_of[d] for d in parts if isinstance(d, str) and d in rows_of]
        if key not in rows_of or not deps:
            continue
        dep, own = np.concatenate(deps), rows_of[key]
        follows = np.isin(place[own], place[dep[hidden[dep]]]) & ~hidden[own]
        follows &= ~(missing[own] & np.isin(place[own], place[dep[missing[dep]]]))  # no data stays "keine Daten"
        rows = own[follows]
        why = "Zähler oder Nenner ist „k. A.“" if ind["kind"] == "rate" else "Gewicht ist „k. A.“"
        out.loc[rows, ["status", "reason"]] = [SUPPRESSED, why]


def _follow_derived(out: pd.DataFrame, meta: pd.DataFrame) -> None:
    """Hide a derived cell where one of its inputs (``meta["inputs"]``) is hidden, unless the cell's note says
    it was computed without that input — in place; derived indicators of derived indicators follow too."""
    if "inputs" not in meta:
        return
    derivations = {k: v for k, v in meta["inputs"].items() if isinstance(v, list) and v}
    place = out.groupby(["level", "area_key", "year"], sort=False).ngroup().to_numpy()
    rows_of = out.groupby("indicator").indices
    notes = out["note"] if "note" in out else pd.Series(None, index=out.index)
    for _ in range(len(derivations)):
        hidden = out["status"].eq(SUPPRESSED).to_numpy()
        changed = False
        for key, inputs in derivations.items():
            if key not in rows_of:
                continue
            own = rows_of[key]
            left_out = [set(n[len(DERIVED_WITHOUT):].split(", ")) if isinstance(n, str) and n.startswith(
                DERIVED_WITHOUT) else set() for n in notes.to_numpy()[own]]
            for inp in inputs:
                if inp not in rows_of:
                    continue
                dep = rows_of[inp]
                follows = np.isin(place[own], place[dep[hidden[dep]]]) & ~hidden[own]
                follows &= np.array([inp not in lo for lo in left_out], bool)
                if follows.any():
                    out.loc[own[follows], ["status", "reason"]] = [SUPPRESSED, f"Eingang „{inp}“ ist „k. A.“"]
                    hidden[own[follows]] = changed = True
        if not changed:
            return


class Protection:
    """Secondary suppression on one relation system: hide published cells until every hidden cell is safe."""

    def __init__(self, system: relations.System, rule: PrivacyRule, public: np.ndarray | None = None):
        self.system, self.rule = system, rule
        self.public = np.zeros(len(system.cells), bool) if public is None else public  # never hidden
        cells = system.cells
        self.values = cells["value"].to_numpy(float)
        status = cells["status"].to_numpy()
        small = np.asarray(rule.is_small(cells["value"]), bool)
        self.unknown = status != "ok"
        self.check = (status == SUPPRESSED) | ((status == "rest") & small)
        self.solver = disclosure.Solver(system, self.values)
        self._areas()
        self.component = self.solver.components(np.ones(len(cells), bool))
        self.members = pd.Series(np.arange(len(cells))).groupby(self.component).apply(np.asarray).to_dict()
        self.key = list(cells[KEY].itertuples(index=False, name=None))

    def _areas(self) -> None:
        """Every cell's area, the areas' ancestors by depth, and the cost of hiding each cell."""
        ids = self.system.ids
        parent = ids.parent
        depth = np.zeros(len(parent), int)
        for _ in range(len(parent)):
            d = np.where(parent >= 0, depth[np.maximum(parent, 0)] + 1, 0)
            if (d == depth).all():
                break
            depth = d
        anc = np.full((len(parent), depth.max(initial=0) + 1), -1)
        node = np.arange(len(parent))
        while (node >= 0).any():
            ok = node >= 0
            anc[np.flatnonzero(ok), depth[node[ok]]] = node[ok]
            node = np.where(ok, parent[np.maximum(node, 0)], -1)
        self.area, self.parent, self.depth, self.anc = ids.cell_place, parent, depth, anc
        known = self.area >= 0
        height = np.where(known, depth.max(initial=0) - depth[np.maximum(self.area, 0)], 0)
        root = known & (parent[np.maximum(self.area, 0)] < 0)
        v = np.nan_to_num(self.values)
        self.cost = 1 + 0.25 * height + 8.0 * root + 0.1 * v / (1 + v.max(initial=0))

    def run(self) -> dict[int, str]:
        """Cells hidden additionally (secondary), each with the reason."""
        hidden: dict[int, str] = {}
        width = self.rule.protection
        starts = self.check.copy()
        for _ in range(MAX_ROUNDS):
            lo, hi = disclosure.intervals(self.solver, self.unknown, self.check, width, starts)
            failing = np.flatnonzero(self.check & (hi - lo < width))
            if not len(failing):
                return hidden
            starts = np.zeros_like(self.check)
            for cell in failing:
                if starts[self.solver.component(cell, self.unknown)].any():  # changed in this round: look again
                    lo[cell], hi[cell] = disclosure.interval(self.solver, self.unknown, cell)
                    if hi[cell] - lo[cell] >= width:
                        continue
                picks = self._cheapest(cell, width)
                self.unknown[picks] = True
                self.check[picks] = True
                starts[picks] = True
                hidden.update({int(p): self._reason(p, cell) for p in picks})
        raise KeckError(f"Die sekundäre Geheimhaltung kam nach {MAX_ROUNDS} Runden zu keinem Ende; bitte die "
                        "Beziehungen der Indikatoren (Summen, Anteile) prüfen.")

    def _cheapest(self, cell: int, width: int) -> np.ndarray:
        """The cheapest published cells whose hiding gives ``cell`` an interval of at least ``width``."""
        for scope in (self._local(cell), self.members[self.component[cell]]):
            scope = scope[~self.public[scope]]
            options = [found[0] for side in (0, 1, -1)
                       if (found := disclosure.cover(self.solver, self.unknown, scope, cell, width, self.cost, side))
                       is not None and len(found[0])]
            if options:
                return min(options, key=lambda o: (round(self.cost[o].sum(), 6), len(o), tuple(o)))
        rows = self.solver.rows_of([cell])  # nothing cheaper is possible: hide the cell's whole relations
        cols = self.solver.cols_of(rows)
        return cols[~self.unknown[cols] & ~self.public[cols]]

    def _local(self, cell: int) -> np.ndarray:
        """Cells of the same relation component under the parent area of ``cell`` (its siblings' subtrees)."""
        area = self.area[cell]
        top = self.parent[area] if area >= 0 and self.parent[area] >= 0 else area
        same = self.members[self.component[cell]]
        if top < 0:
            return same
        areas = self.area[same]
        return same[(areas >= 0) & (self.anc[np.maximum(areas, 0), self.depth[top]] == top)]

    def _reason(self, pick: int, protected: int) -> str:
        rows = self.solver.rows_of([pick])
        shared = [r for r in rows if protected in set(self.solver.cols_of([r]))]
        label = self.system.labels[(shared or list(rows))[0]] if len(rows) else ""
        indicator, _, area, year = self.key[protected]
        what = f"Rest von {indicator[len(relations.REST):]}" if indicator.startswith(relations.REST) else indicator
        return f"sekundär: schützt {what} {area} {year} – {label}"
