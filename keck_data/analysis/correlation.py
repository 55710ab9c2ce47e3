"""Zusammenhänge: the indicator correlation matrix of a level and year (Pearson and Spearman), each cell over
the areas where both indicators have a shown value ("k. A." and "keine Daten" excluded pairwise), with its n."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import ValidationError
from . import standardise

MIN_PAIRS = 3  # fewer common areas: no coefficient


@dataclass
class Correlations:
    """``pearson``, ``spearman`` and ``n``: indicator × indicator frames (index and columns = keys; NaN where
    fewer than MIN_PAIRS areas have both values); ``names``: key → German name."""

    keys: list[str]
    names: dict[str, str]
    pearson: pd.DataFrame
    spearman: pd.DataFrame
    n: pd.DataFrame

    def pairs(self) -> pd.DataFrame:
        """One row per pair (x, y, name_x, name_y, pearson, spearman, n), strongest |Pearson| first."""
        rows = [(a, b, self.names[a], self.names[b], self.pearson.loc[a, b], self.spearman.loc[a, b],
                 int(self.n.loc[a, b])) for i, a in enumerate(self.keys) for b in self.keys[i + 1:]]
        out = pd.DataFrame(rows, columns=["x", "y", "name_x", "name_y", "pearson", "spearman", "n"])
        return out.sort_values("pearson", key=lambda r: -r.abs(), na_position="last", ignore_index=True)


def matrix(atlas, level: str, year: int, keys: list[str]) -> Correlations:
    """Pairwise Pearson and Spearman correlations of ``keys`` over the areas of ``level`` in ``year``."""
    if len(keys) < 2:
        raise ValidationError("Bitte mindestens zwei Indikatoren wählen.")
    unknown = sorted(set(keys) - set(atlas.indicators()["key"]))
    if unknown:
        raise ValidationError("Unbekannte oder nicht freigegebene Indikatoren: " + ", ".join(unknown) + ".")
    values = pd.DataFrame(standardise.read(atlas, level, year, keys).values, columns=keys)
    both = values.notna().astype(int)
    n = both.T @ both
    pearson = values.corr("pearson", min_periods=MIN_PAIRS)
    spearman = values.corr("spearman", min_periods=MIN_PAIRS)  # ranked within each pair's common areas
    names = atlas.indicators().set_index("key").loc[keys, "name"].to_dict()
    return Correlations(list(keys), names, pearson, spearman, n)
