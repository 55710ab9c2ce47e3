"""The linear-programming attacker and the cheapest cover, both on a :class:`relations.System`.

*Attacker*: for every hidden cell it minimises and maximises the cell's value subject to all relations, the
published values and non-negativity, then rounds the bounds to integers (counts are whole numbers). The cells
fall apart into independent components (hidden cells linked through a relation); each component is one small
HiGHS model whose objective changes from cell to cell (warm-started re-solves, a fraction of a millisecond each).

*Cover*: for a hidden cell whose interval is too narrow, the cheapest set of published cells to hide so that two
tables consistent with everything still published put the cell at least ``width`` apart: the published cells may
deviate from their values at a cost per unit in either table (an L1 deviation LP); those that move are hidden.
"""
from __future__ import annotations

from typing import NamedTuple

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .relations import System

BIG = 1e9  # upper bound on every count (keeps the LPs bounded; anything above counts as unbounded)
EPS = 1e-6


class Solver:
    """Sparse views of one system's rows for fast neighbourhood walks and sub-models."""

    def __init__(self, system: System, values: np.ndarray):
        self.system = system
        self.values = values  # the true (internal) value of every cell; NaN where not known
        self.by_row = system.matrix.tocsr()
        self.by_col = system.matrix.tocsc()
        self.coo = system.matrix.tocoo()
        self.pattern = abs(self.by_row).astype(bool).astype(float)

    def rows_of(self, cols) -> np.ndarray:
        return np.unique(_gather(self.by_col.indptr, self.by_col.indices, np.asarray(cols, int)))

    def cols_of(self, rows) -> np.ndarray:
        return np.unique(_gather(self.by_row.indptr, self.by_row.indices, np.asarray(rows, int)))

    def component(self, start: int, unknown: np.ndarray) -> np.ndarray:
        """The hidden cells linked to ``start`` through relations (rows) that contain hidden cells."""
        seen = {start}
        frontier = [start]
        seen_rows: set[int] = set()
        while frontier:
            rows = [r for r in self.rows_of(frontier) if r not in seen_rows]
            seen_rows.update(rows)
            cols = self.cols_of(rows)
            frontier = [c for c in cols[unknown[cols]] if c not in seen]
            seen.update(frontier)
        return np.array(sorted(seen))

    def components(self, unknown: np.ndarray) -> np.ndarray:
        """A component label for every cell: hidden cells linked through relations share one."""
        link = (self.pattern @ sparse.diags(unknown.astype(float))).tocsr()
        n_rows = link.shape[0]
        graph = sparse.bmat([[None, link], [link.T, None]], format="csr")
        _, labels = csgraph.connected_components(graph, directed=False)
        return np.unique(labels[n_rows:], return_inverse=True)[1]

    def single_bounds(self, cells: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer bounds of hidden ``cells`` that are the only hidden cell in each of their rows."""
        shift = self.by_row @ np.nan_to_num(seen)
        row_lo, row_hi = self.system.lower - shift, self.system.upper - shift
        sel = cells[self.coo.col]
        r, c, a = self.coo.row[sel], self.coo.col[sel], self.coo.data[sel]
        b1, b2 = row_lo[r] / a, row_hi[r] / a
        lo, hi = np.zeros(len(cells)), np.full(len(cells), np.inf)
        np.maximum.at(lo, c, np.minimum(b1, b2))
        np.minimum.at(hi, c, np.maximum(b1, b2))
        return np.ceil(lo[cells] - EPS), np.floor(hi[cells] + EPS)

    def submodel(self, cols: np.ndarray, fixed: np.ndarray) -> tuple[Sub, np.ndarray, np.ndarray]:
        """Rows touching the sorted ``cols``: the matrix over ``cols`` and the row bounds with every other cell
        of those rows fixed at ``fixed``."""
        rows = self.rows_of(cols)
        ptr = self.by_row.indptr
        r = np.repeat(np.arange(len(rows)), ptr[rows + 1] - ptr[rows])
        at = _gather(ptr, np.arange(len(self.by_row.indices)), rows)
        j, v = self.by_row.indices[at], self.by_row.data[at]
        k = np.minimum(np.searchsorted(cols, j), len(cols) - 1)
        inside = cols[k] == j
        out = ~inside
        shift = np.bincount(r[out], weights=v[out] * np.nan_to_num(fixed[j[out]]), minlength=len(rows))
        sub = Sub(len(rows), len(cols), r[inside], k[inside], v[inside])
        return sub, self.system.lower[rows] - shift, self.system.upper[rows] - shift


class Sub(NamedTuple):
    """A sparse sub-matrix as coordinates."""

    n_rows: int
    n_cols: int
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray

    def times(self, x: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Row sums of the columns ``cols`` (a boolean mask) weighted with ``x`` (one value per such column)."""
        weight = np.zeros(self.n_cols)
        weight[cols] = x
        return np.bincount(self.row, weights=self.value * weight[self.col], minlength=self.n_rows)


def _gather(ptr: np.ndarray, idx: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``idx[ptr[w]:ptr[w + 1]]`` for every ``w`` in ``which``, concatenated."""
    starts, lens = ptr[which], ptr[which + 1] - ptr[which]
    if not lens.sum():
        return idx[:0]
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return idx[offsets + np.arange(lens.sum())]


def _highs(a: Sub, row_lo, row_hi, col_lo, col_hi, cost) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.n_cols, a.n_rows
    inf = highspy.kHighsInf
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.asarray(col_lo, float)
    lp.col_upper_ = np.asarray(col_hi, float)
    lp.row_lower_ = np.where(np.isneginf(row_lo), -inf, row_lo)
    lp.row_upper_ = np.where(np.isposinf(row_hi), inf, row_hi)
    order = np.argsort(a.col, kind="stable")
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(np.bincount(a.col, minlength=a.n_cols))]).astype(np.int32)
    lp.a_matrix_.index_ = a.row[order].astype(np.int32)
    lp.a_matrix_.value_ = a.value[order].astype(float)
    h.passModel(lp)
    return h


def _optimum(h: highspy.Highs) -> float | None:
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return h.getInfo().objective_function_value


def intervals(solver: Solver, unknown: np.ndarray, check: np.ndarray, width: float,
              starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer bounds ``lo, hi`` a reader can prove for the ``check`` cells (NaN elsewhere; inf = unbounded).

    ``unknown``: cells the reader does not see; every other cell is read at ``solver.values``. ``starts``: only
    the components of these cells are solved (default: those of every ``check`` cell). Exact wherever
    ``hi − lo < width``; where feasible tables already spread a cell by ``width`` or more, the spread seen is
    returned instead (inner bounds: enough to know the cell is safe, and far fewer LPs).
    """
    starts = check if starts is None else starts
    n = len(unknown)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    seen = np.where(unknown, np.nan, solver.values)
    labels = solver.components(unknown)
    size = np.bincount(labels)
    wanted = np.zeros(len(size), bool)
    wanted[labels[starts & unknown]] = True
    single = check & unknown & wanted[labels] & (size[labels] == 1)
    lo[single], hi[single] = solver.single_bounds(single, seen)
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(size)])
    for label in np.flatnonzero(wanted & (size > 1)):
        _solve(solver, np.sort(order[bounds[label]:bounds[label + 1]]), check, width, seen, lo, hi)
    return lo, hi


def interval(solver: Solver, unknown: np.ndarray, cell: int) -> tuple[float, float]:
    """The exact integer bounds of one hidden ``cell``."""
    lo, hi = np.full(len(unknown), np.nan), np.full(len(unknown), np.nan)
    only = np.zeros(len(unknown), bool)
    only[cell] = True
    _solve(solver, solver.component(cell, unknown), only, np.inf, np.where(unknown, np.nan, solver.values), lo, hi)
    return lo[cell], hi[cell]


def _solve(solver: Solver, cols: np.ndarray, check: np.ndarray, width: float, seen: np.ndarray,
           lo: np.ndarray, hi: np.ndarray) -> None:
    """Bounds of the ``check`` cells of one component (sorted ``cols``), written into ``lo`` and ``hi``."""
    a, row_lo, row_hi = solver.submodel(cols, seen)
    k = len(cols)
    h = _highs(a, row_lo, row_hi, np.zeros(k), np.full(k, BIG), np.zeros(k))
    idx = np.arange(k, dtype=np.int32)
    low, high = np.full(k, np.inf), np.full(k, -np.inf)  # spread of the feasible tables seen so far

    def optimum(cost: np.ndarray) -> float | None:
        h.changeColsCost(k, idx, cost)
        value = _optimum(h)
        if value is not None:
            x = np.asarray(h.getSolution().col_value)
            np.minimum(low, x, out=low)
            np.maximum(high, x, out=high)
        return value

    if np.isfinite(width):  # two spread-out tables first: most cells are then seen to be safe without their LPs
        optimum(np.ones(k))
        optimum(-np.ones(k))
    for i in np.flatnonzero(check[cols]):
        if np.floor(high[i] + EPS) - np.ceil(low[i] - EPS) >= width:
            lo[cols[i]], hi[cols[i]] = np.ceil(low[i] - EPS), np.floor(high[i] + EPS)
            continue
        unit = np.zeros(k)
        unit[i] = 1.0
        least, most = optimum(unit), optimum(-unit)
        most = np.nan if most is None else -most
        lo[cols[i]] = np.nan if least is None else np.ceil(least - EPS)
        hi[cols[i]] = np.inf if most >= BIG / 10 else np.floor(most + EPS)


def cover(solver: Solver, unknown: np.ndarray, scope: np.ndarray, target: int, width: float,
          cost: np.ndarray, side: int = 0) -> tuple[np.ndarray, float] | None:
    """Published cells of ``scope`` to hide so that two tables consistent with everything still published put
    ``target`` at least ``width`` apart (its interval then spans ``width``, wherever its true value lies in it).

    ``side`` 0: both tables may move; +1 / −1: the second is the true table, the first lies above / below it.
    Cells outside ``scope`` keep their values. Returns (cells to hide, cost) or None if impossible in scope.
    """
    scope = np.union1d(scope, [target])
    neighbours = solver.cols_of(solver.rows_of(scope))
    scope = np.union1d(scope, neighbours[unknown[neighbours] & np.isnan(solver.values[neighbours])])
    a, row_lo, row_hi = solver.submodel(scope, solver.values)
    free = unknown[scope]
    shown = scope[~free]
    shift = a.times(solver.values[shown], ~free)
    # one table: hidden cells take any value y ≥ 0; shown cells may move up (u) or down (d ≤ value) at their cost
    down_of = np.cumsum(~free) - 1 + len(scope)  # column of d for every shown cell
    mine = ~free[a.col]
    rows = np.concatenate([a.row, a.row[mine]])
    cols = np.concatenate([a.col, down_of[a.col[mine]]])
    vals = np.concatenate([a.value, -a.value[mine]])
    n, m, t = len(scope) + len(shown), a.n_rows, int(np.searchsorted(scope, target))
    # two such tables, and one more row: target in the first − target in the second ≥ width
    matrix = Sub(2 * m + 1, 2 * n, np.concatenate([rows, rows + m, [2 * m, 2 * m]]),
                 np.concatenate([cols, cols + n, [t, t + n]]), np.concatenate([vals, vals, [1.0, -1.0]]))
    col_hi = np.tile(np.concatenate([np.full(len(scope), BIG), solver.values[shown]]), 2)
    if side:
        col_hi[n:][np.flatnonzero(~free).tolist() + list(range(len(scope), n))] = 0.0  # shown cells stay put
        matrix = matrix._replace(value=np.concatenate([matrix.value[:-2], [side, -side]]))
    c = np.tile(np.concatenate([np.where(free, 0.0, cost[scope]), cost[shown]]), 2)
    h = _highs(matrix, np.concatenate([row_lo - shift, row_lo - shift, [width]]),
               np.concatenate([row_hi - shift, row_hi - shift, [np.inf]]), np.zeros(2 * n), col_hi, c)
    total = _optimum(h)
    if total is None:
        return None
    x = np.asarray(h.getSolution().col_value)
    moved = x[:n] + x[n:]
    return shown[moved[:len(scope)][~free] + moved[len(scope):] > EPS], total
