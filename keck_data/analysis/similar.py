"""Vergleichbare Gebiete: the k areas of the same level closest to an area (Euclidean distance over z-scores,
unweighted), with the indicators in which each differs most; optionally "similar status, different change"."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import NotFoundError, ValidationError
from . import standardise

MAX_K = 50


@dataclass
class Similar:
    """``table``: key, name, distance, differs (German: the two indicators that differ most, with the z
    difference), and with a change period change_distance; nearest first (ties by area key)."""

    area: str
    name: str
    table: pd.DataFrame
    excluded: list[str]  # areas left out because they lack one of the indicators

    def as_json(self) -> dict:
        rows = [{"key": r.key, "name": r.name, "distance": round(float(r.distance), 6), "differs": r.differs}
                | ({"change_distance": round(float(r.change_distance), 6)} if "change_distance" in self.table
                   else {}) for r in self.table.itertuples()]
        return {"area": self.area, "name": self.name, "similar": rows, "excluded": self.excluded}


def similar(atlas, area: str, level: str, year: int, keys: list[str], k: int = 5,
            different_change: int | None = None) -> Similar:
    """The ``k`` areas most similar to ``area``; with ``different_change`` = N years: among the areas most
    similar in status (the nearest quarter, at least 2k), those whose change over N years differs most."""
    if not 1 <= k <= MAX_K:
        raise ValidationError(f"Bitte zwischen 1 und {MAX_K} ähnliche Gebiete anfordern.")
    _known(atlas, keys)
    matrix = standardise.read(atlas, level, year, keys)
    z = standardise.standardise(matrix.values, "zscore")
    keys_of = list(matrix.areas["key"])
    if area not in keys_of:
        raise NotFoundError(f"Das Gebiet „{area}“ gibt es auf der Ebene „{atlas.level_name(level)}“ nicht.")
    me = keys_of.index(area)
    names = atlas.indicators().set_index("key")["name"]
    lacking = [names[k] for k, v in zip(keys, z[me]) if np.isnan(v)]
    if lacking:
        raise ValidationError(f"{matrix.areas['name'][me]} hat keinen gezeigten Wert für: {', '.join(lacking)} – "
                              "bitte diese Indikatoren abwählen.")
    complete = ~np.isnan(z).any(axis=1)
    distance = np.sqrt(((z - z[me]) ** 2).sum(axis=1))
    candidates = np.flatnonzero(complete & (np.arange(len(z)) != me))
    order = candidates[np.argsort(distance[candidates], kind="stable")]  # rows are sorted by key: ties by key
    table = pd.DataFrame({"row": order, "distance": distance[order]})
    if different_change:
        change = standardise.standardise(
            matrix.values - standardise.read(atlas, level, year - different_change, keys).values, "zscore")
        change_distance = np.sqrt(((change - change[me]) ** 2).sum(axis=1))
        if np.isnan(change_distance[me]):
            raise ValidationError(f"{matrix.areas['name'][me]} hat für {year - different_change} nicht alle "
                                  "Werte – keine Entwicklung zu vergleichen.")
        near = table.head(max(2 * k, len(order) // 4)).assign(change_distance=lambda t: change_distance[t["row"]])
        table = near.dropna(subset=["change_distance"]).sort_values("change_distance", ascending=False,
                                                                    kind="stable")
    table = table.head(k)
    rows = table["row"].to_numpy()
    table = table.assign(key=matrix.areas["key"].to_numpy()[rows], name=matrix.areas["name"].to_numpy()[rows],
                         differs=[_differs(z[r] - z[me], keys, names) for r in rows])
    return Similar(area, matrix.areas["name"][me], table.drop(columns="row").reset_index(drop=True),
                   [k for k, ok in zip(keys_of, complete) if not ok])


def with_values(atlas, area: str, level: str, year: int, keys: list[str]) -> list[str]:
    """Those of ``keys`` for which ``area`` has a shown value in ``year`` (the map's toggle compares over the
    Themenfeld's indicators: one without a value that year, e.g. an index saved for another year, is left out)."""
    v = atlas.values(keys, [year])
    shown = set(v.loc[(v["level"] == level) & (v["area_key"] == area) & (v["status"] == "ok"), "indicator"])
    return [k for k in keys if k in shown]


def _known(atlas, keys: list[str]) -> None:
    if len(keys) < 1:
        raise ValidationError("Bitte mindestens einen Indikator wählen.")
    unknown = sorted(set(keys) - set(atlas.indicators()["key"]))
    if unknown:
        raise ValidationError("Unbekannte oder nicht freigegebene Indikatoren: " + ", ".join(unknown) + ".")


def _differs(diff: np.ndarray, keys: list[str], names: pd.Series) -> str:
    """"Quote A (+1,2 SD), Quote B (−0,8 SD)": the two largest absolute z differences."""
    top = np.argsort(-np.abs(diff), kind="stable")[:2]
    return ", ".join(f"{names[keys[i]]} ({f'{diff[i]:+.1f}'.replace('.', ',').replace('-', '−')} SD)"
                     for i in top if abs(diff[i]) >= 0.05)
