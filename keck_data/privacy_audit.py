"""The attacker's audit of what the public sees: can any "k. A." cell be recomputed or narrowed?

The audit reads only published values (a snapshot, or what an export contains) and the declared relations
(:mod:`keck_data.relations`). On top of the relations it uses what published rates say: a rate shown at its
declared decimals bounds numerator / denominator (also for counts that are not released), and a rate shown as
"keine Daten" next to a hidden denominator says the denominator is 0. It then runs the LP attacker
(:mod:`keck_data.disclosure`) and reports

* every hidden count (and the unreleased numerator of every hidden rate) whose feasible interval is narrower
  than the protection width — width 0 means recomputed exactly;
* every rest of a share (denominator − numerator) and every unreleased count that can be pinned inside the
  small range 0…threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import area_groups, disclosure, relations
from .privacy import SUPPRESSED, PrivacyRule, is_public
from .warehouse import Warehouse, read_df

KEY = relations.KEY


@dataclass(frozen=True)
class Finding:
    """One cell the attacker narrows too far, and the relations that did it."""

    indicator: str
    area_key: str
    year: int
    lo: float
    hi: float
    how: str

    def text(self) -> str:
        lo, hi = f"{self.lo + 0:.0f}", f"{self.hi + 0:.0f}"  # + 0 turns -0 into 0
        bounds = f"= {lo}" if self.lo == self.hi else f"zwischen {lo} und {hi}"
        return f"{self.indicator} {self.area_key} {self.year}: {bounds} – über {self.how}"


@dataclass
class AuditResult:
    """What the audit checked and found."""

    width: int
    cells: int  # published values read
    checked: int  # hidden cells and rests examined
    findings: list[Finding]

    @property
    def exact(self) -> int:
        return sum(f.hi - f.lo == 0 for f in self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def details(self, limit: int = 20) -> list[str]:
        lines = [f.text() for f in self.findings[:limit]]
        return lines + ([f"… und {len(self.findings) - limit} weitere"] if len(self.findings) > limit else [])

    def summary(self) -> str:
        return (f"{self.exact} Zellen rekonstruierbar, {len(self.findings) - self.exact} enger als {self.width} "
                f"({self.checked} verborgene Zellen in {self.cells} veröffentlichten Werten geprüft)")


@dataclass
class Attack:
    """The attacker's bounds for one year: every cell of ``system`` with ``lo``/``hi`` where examined."""

    system: relations.System
    lo: np.ndarray
    hi: np.ndarray
    hidden: np.ndarray  # hidden counts and unreleased numerators of hidden rates: need the full width
    derived: np.ndarray  # rests of shares and other unreleased counts: must not be pinned to a small value

    def bounds(self, indicator: str, level: str, area_key: str) -> tuple[float, float]:
        ids = self.system.ids
        i = int(ids(indicator, ids.place([level], [area_key]), self.system.cells["year"].iloc[:1].to_numpy())[0])
        return self.lo[i], self.hi[i]


def attack(year: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame, rule: PrivacyRule) -> Attack:
    """Run the attacker on the published values of one year (indicator, level, area_key, year, value, status)."""
    system = relations.build(year, meta, tree, fill_absent=True)
    _add_rate_rows(system, year, meta)
    status = system.cells["status"].to_numpy()
    values = np.where(status == "ok", system.cells["value"].to_numpy(float), np.nan)
    hidden = (status == SUPPRESSED) | _absent_numerators(system, year, meta)
    derived = ((status == "rest") | (status == "absent")) & ~hidden & ~is_public(system.cells["indicator"], meta)
    lo, hi = disclosure.intervals(disclosure.Solver(system, values), status != "ok", hidden | derived,
                                  rule.protection)
    return Attack(system, lo, hi, hidden, derived)


def audit(published: pd.DataFrame, meta: pd.DataFrame, tree: pd.DataFrame, rule: PrivacyRule) -> AuditResult:
    """Attack ``published`` (indicator, level, area_key, year, value, status); ``meta`` declares the relations
    (all indicators the reader knows definitions of, indexed by key); ``tree``: level, key, parent_level,
    parent_key."""
    findings, checked = [], 0
    for _, year in published.groupby("year", sort=True):
        a = attack(year, meta, tree, rule)
        lo, hi, width = a.lo, a.hi, rule.protection
        checked += int(a.hidden.sum()) + int(a.derived.sum())
        pinned = a.derived & (hi - lo < width) & np.asarray(rule.is_small(hi), bool)  # known to be small
        bad = (a.hidden & (hi - lo < width)) | pinned
        solver_rows = a.system.matrix.tocsc()
        for i in np.flatnonzero(bad):
            ind, _, area, yr = a.system.cells.loc[i, KEY]
            rows = solver_rows.indices[solver_rows.indptr[i]:solver_rows.indptr[i + 1]][:3]
            how = "; ".join(a.system.labels[r] for r in rows)
            findings.append(Finding(ind, area, int(yr), float(lo[i]), float(hi[i]), how))
    return AuditResult(rule.protection, len(published), checked, findings)


def audit_snapshot(snapshot: Warehouse, declarations: Warehouse | None, rule: PrivacyRule) -> AuditResult:
    """Attack everything in a published snapshot; relations as declared in ``declarations`` (the internal
    warehouse: its unreleased indicators take part as unknowns) or, without it, in the snapshot itself."""
    published = read_df(snapshot, "SELECT indicator, level, area_key, year, value, status FROM indicator_value")
    meta = read_df(declarations or snapshot, "SELECT * FROM indicator").set_index("key")
    return audit(published, meta, area_groups.tree(snapshot.cursor()), rule)


def _add_rate_rows(system: relations.System, year: pd.DataFrame, meta: pd.DataFrame) -> None:
    """Bounds from shown rates, and "denominator = 0" from rates shown as missing next to a hidden denominator."""
    rates = year.merge(meta[meta["kind"] == "rate"][["numerator", "denominator", "scale", "decimals"]],
                       left_on="indicator", right_index=True)
    if rates.empty:
        return
    place = system.ids.place(rates["level"], rates["area_key"])
    num, den = (system.ids(rates[c].to_numpy(), place, rates["year"].to_numpy()) for c in ("numerator", "denominator"))
    status = np.append(system.cells["status"].to_numpy(), "none")  # id −1 reads "none"
    both_known = (status[num] == "ok") & (status[den] == "ok")
    shown = rates["status"].eq("ok").to_numpy() & (num >= 0) & (den >= 0) & ~both_known
    v, scale, dec = (rates[c].to_numpy(float) for c in ("value", "scale", "decimals"))
    rounded = np.abs(v * 10 ** dec - np.round(v * 10 ** dec)) < 1e-6
    half = np.where(rounded, 0.5 * 10 ** -dec, 1e-9 * np.maximum(1, np.abs(v)))
    s = np.flatnonzero(shown)
    n = len(s)
    if n:  # num − (v ± h)/scale · den between the bounds: two rows per shown rate
        rows = np.concatenate([np.arange(n), np.arange(n), n + np.arange(n), n + np.arange(n)])
        cols = np.concatenate([num[s], den[s], num[s], den[s]])
        coef = np.concatenate([np.ones(n), -(v[s] + half[s]) / scale[s], np.ones(n), -(v[s] - half[s]) / scale[s]])
        labels = [f"{i} = {x:g} ({a}, {y})" for i, x, a, y in
                  zip(rates["indicator"].to_numpy()[s], v[s], rates["area_key"].to_numpy()[s],
                      rates["year"].to_numpy()[s])]
        system.add_rows((rows, cols, coef), np.concatenate([np.full(n, -np.inf), np.zeros(n)]),
                        np.concatenate([np.zeros(n), np.full(n, np.inf)]), labels * 2)
    zero = rates["status"].eq("missing").to_numpy() & (status[den] == SUPPRESSED) & (num >= 0)  # not: no data
    z = np.flatnonzero(zero)
    if len(z):
        labels = [f"{i} „keine Daten“ (Nenner 0) ({a}, {y})" for i, a, y in
                  zip(rates["indicator"].to_numpy()[z], rates["area_key"].to_numpy()[z], rates["year"].to_numpy()[z])]
        system.add_rows((np.arange(len(z)), den[z], np.ones(len(z))), np.zeros(len(z)),
                        np.zeros(len(z)), labels)


def _absent_numerators(system: relations.System, year: pd.DataFrame, meta: pd.DataFrame) -> np.ndarray:
    """Cells of unreleased numerators behind hidden rates (the count the hidden rate protects)."""
    hidden = year[year["status"].eq(SUPPRESSED) & year["indicator"].isin(meta.index[meta["kind"] == "rate"])]
    mask = np.zeros(len(system.cells), bool)
    if hidden.empty:
        return mask
    ids = system.ids(hidden["indicator"].map(meta["numerator"]).to_numpy(),
                     system.ids.place(hidden["level"], hidden["area_key"]), hidden["year"].to_numpy())
    ids = ids[ids >= 0]
    mask[ids[system.cells["status"].to_numpy()[ids] == "absent"]] = True
    return mask
