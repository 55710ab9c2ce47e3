"""Indicator matrices of one level and year, standardised the same way for the Sozialindex, similar areas and
the area profile: polarity-aware, over the areas that have a value ("k. A." and "keine Daten" are no value)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ValidationError

METHODS = {"zscore": "z-Wert", "rank": "Rang-Perzentil", "minmax": "Min-Max"}
POLARITIES = ("high_bad", "high_good", "neutral")


@dataclass
class Matrix:
    """Values of ``keys`` (indicators) for the areas of one level and year.

    ``areas``: key, name (sorted by key: ties are broken by area key); ``values``: areas × indicators, NaN where
    there is no shown value; ``status``: the same shape, ok | suppressed | missing.
    """

    level: str
    year: int
    keys: list[str]
    areas: pd.DataFrame
    values: np.ndarray
    status: np.ndarray


def read(atlas, level: str, year: int, keys: list[str]) -> Matrix:
    """The shown values (privacy applied) of ``keys`` on ``level`` in ``year``; area groups with a value replace
    their members (as on the map)."""
    if not keys:
        raise ValidationError("Bitte mindestens einen Indikator wählen.")
    atlas.level_name(level)
    vals = atlas.values(list(keys), [year])
    vals = vals[vals["level"] == level]
    areas = atlas.units(level, set(vals["area_key"]))[["key", "name"]].sort_values("key", ignore_index=True)
    rows = pd.Index(areas["key"]).get_indexer(vals["area_key"])
    cols = pd.Index(list(keys)).get_indexer(vals["indicator"])
    found = rows >= 0
    values = np.full((len(areas), len(keys)), np.nan)
    status = np.full(values.shape, "missing", dtype=object)
    values[rows[found], cols[found]] = vals["value"].to_numpy(float)[found]
    status[rows[found], cols[found]] = vals["status"].to_numpy(object)[found]
    values[status != "ok"] = np.nan
    return Matrix(level, year, list(keys), areas, values, status)


def signs(polarity: list[str]) -> np.ndarray:
    """−1 where a high value is good (then a high standardised value always means more need), else +1."""
    return np.array([-1.0 if p == "high_good" else 1.0 for p in polarity])


def standardise(values: np.ndarray, method: str = "zscore", sign: np.ndarray | None = None) -> np.ndarray:
    """Column-wise over the rows that have a value; NaN stays NaN.

    zscore: (x − mean) / population SD (a column without spread gives 0); rank: percentile of the average
    rank, (r − 1) / (n − 1) in [0, 1]; minmax: (x − min) / (max − min). ``sign`` −1 flips a column
    (z → −z, rank and minmax p → 1 − p), so that a high result always means more need.
    """
    if method not in METHODS:
        raise ValidationError(f"Unbekannte Standardisierung „{method}“ (zscore, rank oder minmax).")
    x = np.asarray(values, float)
    sign = np.ones(x.shape[1]) if sign is None else np.asarray(sign, float)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column without any value stays NaN
        if method == "zscore":
            sd = np.nanstd(x, axis=0)
            z = (x - np.nanmean(x, axis=0)) / np.where(sd > 0, sd, np.nan)
            z = np.where(np.isnan(x), np.nan, np.nan_to_num(z, nan=0.0))
            return z * sign
        if method == "rank":
            ranks = pd.DataFrame(x).rank(method="average").to_numpy()
            n = np.sum(~np.isnan(x), axis=0)
            p = (ranks - 1) / np.where(n > 1, n - 1, np.nan)
        else:
            lo, hi = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
            p = (x - lo) / np.where(hi > lo, hi - lo, np.nan)
        p = np.where(np.isnan(x), np.nan, np.nan_to_num(p, nan=0.5))
        return np.where(sign < 0, 1 - p, p)
