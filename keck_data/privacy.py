"""Statistical disclosure control: small counts become "k. A." before any value leaves keck_data.

* primary suppression: counts from 0 (or 1, when zeros may be shown) up to the threshold;
* secondary suppression: in every parent/children group of an additive count where the parent is shown, a
  single hidden child would follow from the total, so the next-smallest sibling is hidden too; a hidden
  parent whose children are all shown would follow from their sum, so its smallest child is hidden;
* rates and shares are hidden where their numerator or denominator count is hidden.

Status ``suppressed`` (value removed) stays distinct from ``missing`` (no data) and from a real 0.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import settings

SUPPRESSED = "suppressed"
LABEL_SUPPRESSED = "k. A."
LABEL_MISSING = "keine Daten"


@dataclass(frozen=True)
class PrivacyRule:
    """The deployment's suppression rule."""

    threshold: int = 3
    suppress_zeros: bool = True

    @classmethod
    def from_settings(cls) -> "PrivacyRule":
        s = settings()
        return cls(threshold=s.privacy_threshold, suppress_zeros=s.suppress_zeros)

    def is_small(self, values: pd.Series) -> pd.Series:
        lower = values >= 0 if self.suppress_zeros else values > 0
        return lower & (values <= self.threshold)


def apply(values: pd.DataFrame, meta: pd.DataFrame, areas: pd.DataFrame, rule: PrivacyRule) -> pd.DataFrame:
    """Return ``values`` with small and derivable counts (and rates built on them) suppressed.

    ``values``: indicator, level, area_key, year, value, status — all levels of the indicators and, for rates,
    of their numerator and denominator; ``meta``: indicator metadata indexed by key; ``areas``: level, key,
    parent_level, parent_key.
    """
    out = values.copy()
    kind = out["indicator"].map(meta["kind"])
    primary = kind.eq("count") & out["status"].eq("ok") & rule.is_small(out["value"])
    out.loc[primary, "status"] = SUPPRESSED

    additive = out["indicator"].isin(meta.index[(meta["kind"] == "count") & (meta["aggregation"] == "sum")])
    hidden_pairs = out.loc[additive & out["status"].eq(SUPPRESSED), ["indicator", "year"]].drop_duplicates()
    if len(hidden_pairs):
        children = _children(areas)
        for ind, year in hidden_pairs.itertuples(index=False):
            part = out[(out["indicator"] == ind) & (out["year"] == year)]
            out.loc[_secondary(part, children), "status"] = SUPPRESSED

    rates = meta[meta["kind"] == "rate"]
    hidden = out.loc[out["status"] == SUPPRESSED, ["indicator", "level", "area_key", "year"]]
    if not rates.empty and len(hidden):
        for key, ind in rates.iterrows():
            is_rate = (out["indicator"] == key).to_numpy()
            if not is_rate.any():
                continue
            sub = out.loc[is_rate, ["level", "area_key", "year"]]
            deps = [d for d in (ind["numerator"], ind["denominator"]) if isinstance(d, str)]
            dep_hidden = hidden[hidden["indicator"].isin(deps)].drop(columns="indicator").drop_duplicates()
            flagged = sub.merge(dep_hidden.assign(_h=True), on=["level", "area_key", "year"], how="left")["_h"]
            rows = out.index[is_rate][flagged.eq(True).to_numpy()]
            out.loc[rows[out.loc[rows, "status"].eq("ok").to_numpy()], "status"] = SUPPRESSED
    out.loc[out["status"] == SUPPRESSED, "value"] = np.nan
    return out


def _children(areas: pd.DataFrame) -> dict[tuple, list[tuple]]:
    kids: dict[tuple, list[tuple]] = defaultdict(list)
    linked = areas.dropna(subset=["parent_key", "parent_level"])
    for lv, key, plv, pkey in zip(linked["level"], linked["key"], linked["parent_level"], linked["parent_key"]):
        kids[(plv, pkey)].append((lv, key))
    return kids


def _secondary(part: pd.DataFrame, children: dict[tuple, list[tuple]]) -> list:
    """Row labels (of ``part``: one additive indicator, one year) that need secondary suppression."""
    node = {(lv, ak): i for i, lv, ak in zip(part.index, part["level"], part["area_key"])}
    value = dict(zip(part.index, part["value"]))
    status = dict(zip(part.index, part["status"]))
    added = []

    def hide_smallest(candidates: list) -> bool:
        shown = [i for i in candidates if status[i] == "ok"]
        if not shown:
            return False
        pick = min(shown, key=lambda i: value[i])
        status[pick] = SUPPRESSED
        added.append(pick)
        return True

    changed = True
    while changed:
        changed = False
        for parent, kids in children.items():
            p = node.get(parent)
            if p is None:
                continue
            kid_rows = [node[k] for k in kids if k in node]
            hidden = len(kids) - sum(status[i] == "ok" for i in kid_rows)
            if status[p] == "ok" and hidden == 1:
                if not hide_smallest(kid_rows):
                    status[p] = SUPPRESSED
                    added.append(p)
                changed = True
            elif status[p] == SUPPRESSED and hidden == 0 and kid_rows:
                changed = hide_smallest(kid_rows) or changed
    return added
