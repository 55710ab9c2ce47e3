"""Sozialindex: weighted standardised indicators → score, rank (1 = most disadvantaged), classes, rank stability.

score = Σ w·z / Σ w over the chosen indicators, z standardised over the level's areas that have a value and
flipped where a high value is good (so a high score always means more need). An area lacking an input ("k. A."
or "keine Daten") gets no index under ``missing="refuse"``; under ``"renormalise"`` its score uses the weights
of the inputs it has. Ties are broken by area key. Classes: ``sd`` cut-offs on the standardised score (default
−1 / +1 / +1.5 SD: Berlin's Monitoring Soziale Stadtentwicklung, class 1 "hoch" … 4 "sehr niedrig") or
``quantile`` classes of the ranking (class 1 = least need). Rank stability: every weight multiplied by a
seeded uniform factor in [1 − spread, 1 + spread], ``draws`` times; per area the 5th–95th percentile of its rank,
and whether its class stays the same over that range.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import fmt, privacy
from ..errors import ValidationError
from ..policy import User
from ..warehouse import Warehouse
from . import derived, standardise
from .standardise import METHODS, Matrix

MISSING_RULES = {"refuse": "Gebiet ohne Index", "renormalise": "Gewichte der vorhandenen Indikatoren"}
SD_LABELS = {(-1.0, 1.0, 1.5): ["Status hoch", "Status mittel", "Status niedrig", "Status sehr niedrig"]}
DYNAMICS_LABELS = ["Dynamik positiv", "Dynamik stabil", "Dynamik negativ"]
TIE_DECIMALS = 9  # scores equal to this many decimals are ties (broken by area key)


@dataclass(frozen=True)
class Classes:
    """``sd``: class = 1 + number of ``cuts`` below the standardised score; ``quantile``: ``n`` equal-sized
    classes of the ranking. Class 1 is the least need."""

    kind: str = "sd"
    cuts: tuple[float, ...] = (-1.0, 1.0, 1.5)
    n: int = 4

    def labels(self) -> list[str]:
        if self.kind == "quantile":
            return [f"{i}. {'Quartil' if self.n == 4 else 'Quantil'}" for i in range(1, self.n + 1)]
        if tuple(self.cuts) in SD_LABELS:
            return SD_LABELS[tuple(self.cuts)]
        edges = ["−∞", *(fmt.number(c, 1) for c in self.cuts), "+∞"]
        return [f"{a} bis {b} SD" for a, b in zip(edges, edges[1:])]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "cuts": list(self.cuts), "n": self.n}

    @classmethod
    def parse(cls, text: str) -> Classes:
        """``"sd:-1,1,1.5"`` or ``"quantile:4"``."""
        kind, _, rest = text.partition(":")
        try:
            if kind == "quantile":
                return cls("quantile", (), int(rest or 4))
            if kind == "sd":
                cuts = tuple(sorted(float(c) for c in rest.split(","))) if rest else cls.cuts
                return cls("sd", cuts, len(cuts) + 1)
        except ValueError:
            pass
        raise ValidationError(f"Klassen bitte als „sd:-1,1,1.5“ oder „quantile:4“ angeben, nicht „{text}“.")


@dataclass(frozen=True)
class Spec:
    """What the planner chose. ``weights``: indicator key → weight (> 0), in order; ``polarity``: overrides of
    the metadata's polarity (high_bad | high_good | neutral); ``dynamics_years``: with N, a dynamics index over
    the change since year − N (same weights and standardisation) and the status × dynamics matrix."""

    level: str
    year: int
    weights: dict[str, float]
    method: str = "zscore"
    missing: str = "refuse"
    polarity: dict[str, str] = field(default_factory=dict)
    classes: Classes = Classes()
    dynamics_years: int | None = None
    draws: int = 1000
    spread: float = 0.25
    seed: int = 19

    def check(self) -> None:
        if not self.weights:
            raise ValidationError("Bitte mindestens einen Indikator mit Gewicht wählen.")
        bad = [k for k, w in self.weights.items() if not np.isfinite(w) or w <= 0]
        if bad:
            raise ValidationError("Gewichte müssen größer als 0 sein: " + ", ".join(bad) + ".")
        if self.method not in METHODS:
            raise ValidationError(f"Unbekannte Standardisierung „{self.method}“ (zscore, rank oder minmax).")
        if self.missing not in MISSING_RULES:
            raise ValidationError(f"Unbekannte Regel für fehlende Werte „{self.missing}“ (refuse oder renormalise).")
        wrong = {k: p for k, p in self.polarity.items() if p not in standardise.POLARITIES}
        if wrong:
            raise ValidationError("Unbekannte Polung: " + ", ".join(f"{k}={p}" for k, p in wrong.items())
                                  + " (high_bad, high_good oder neutral).")
        if self.classes.kind == "quantile" and not 2 <= self.classes.n <= 10:
            raise ValidationError("Bitte 2 bis 10 Quantilklassen wählen.")
        if not 0 <= self.spread < 1 or self.draws < 0:
            raise ValidationError("Die Gewichtsstreuung muss zwischen 0 und 100 % liegen.")

    def parameters(self) -> dict:
        """The JSON parameters of the derivation (everything but the weights)."""
        return {"level": self.level, "year": self.year, "method": self.method, "missing": self.missing,
                "polarity": self.polarity, "classes": self.classes.as_dict(), "dynamics_years": self.dynamics_years,
                "draws": self.draws, "spread": self.spread, "seed": self.seed}


def parse_weights(text: str) -> dict[str, float]:
    """``"a:2,b:1,c"`` → ``{"a": 2.0, "b": 1.0, "c": 1.0}`` (German message on a bad weight)."""
    weights: dict[str, float] = {}
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        key, _, weight = item.partition(":")
        try:
            weights[key.strip()] = float(weight.replace(",", ".")) if weight else 1.0
        except ValueError:
            raise ValidationError(f"Gewicht von „{key}“ ist keine Zahl: „{weight}“ (Format Schlüssel:Gewicht).")
    if not weights:
        raise ValidationError("Bitte Indikatoren als Schlüssel:Gewicht angeben, z. B. sgb2_quote_u15:2,"
                              "arbeitslosenanteil:1.")
    return weights


# -- the computation on arrays (no warehouse) -------------------------------------------------------------

def scores(z: np.ndarray, weights: np.ndarray, missing: str) -> np.ndarray:
    """Σ w·z / Σ w per area (weights: k → areas; draws × k → draws × areas); NaN where the missing rule gives
    none."""
    present = ~np.isnan(z)
    filled = np.where(present, z, 0.0)
    w = np.atleast_2d(weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        if missing == "refuse":
            out = (w @ filled.T) / w.sum(axis=1, keepdims=True)
            out[:, ~present.all(axis=1)] = np.nan
        else:
            out = (w @ filled.T) / (w @ present.T.astype(float))
    return out if np.ndim(weights) == 2 else out[0]


def ranks(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score, ties broken by row order (rows are sorted by area key); 0 = no score."""
    valid = ~np.isnan(score)
    out = np.zeros(len(score), np.int32)
    out[valid] = _ranked(score[valid][None, :])[0]
    return out


def classify(score: np.ndarray, rank: np.ndarray, classes: Classes) -> np.ndarray:
    """Class per area: SD cut-offs on the standardised score, or quantiles of the ranking; 0 = no score."""
    valid = rank > 0
    out = np.zeros(len(score), int)
    out[valid] = _classed(score[valid][None, :], rank[valid][None, :], classes)[0]
    return out


def _ranked(s: np.ndarray) -> np.ndarray:
    """Ranks within each row of draws × areas (all with a score): scores equal to TIE_DECIMALS decimals are
    tied and broken by column (area key) — one integer key per cell, so the fast unstable sort is exact."""
    m = s.shape[1]
    keys = np.rint(-s * 10.0 ** TIE_DECIMALS).astype(np.int64) * m + np.arange(m)
    order = np.argsort(keys, axis=1)
    r = np.empty(order.shape, np.int32)
    np.put_along_axis(r, order, np.arange(1, m + 1, dtype=np.int32)[None, :], axis=1)
    return r


def _classed(s: np.ndarray, r: np.ndarray, classes: Classes) -> np.ndarray:
    """Classes within each row of draws × areas (all with a score); class 1 = least need."""
    n = s.shape[1]
    if classes.kind == "quantile":
        return 1 + ((n - r) * classes.n) // n
    sd = s.std(axis=1, keepdims=True)
    z = (s - s.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    return 1 + np.searchsorted(np.asarray(classes.cuts, float), z, side="left")


def stability(z: np.ndarray, weights: np.ndarray, spec: Spec, base_class: np.ndarray) -> tuple[np.ndarray, ...]:
    """rank_p05, rank_p95 and class stability over ``spec.draws`` seeded weight perturbations."""
    valid = ~np.isnan(scores(z, weights, spec.missing))
    p05, p95, stable = np.zeros(len(z), np.int32), np.zeros(len(z), np.int32), np.ones(len(z), bool)
    if not valid.any():
        return p05, p95, stable
    if spec.draws == 0:
        p05 = p95 = ranks(scores(z, weights, spec.missing))
        return p05, p95, stable
    rng = np.random.default_rng(spec.seed)
    drawn = weights * rng.uniform(1 - spec.spread, 1 + spec.spread, size=(spec.draws, len(weights)))
    s = scores(z[valid], drawn, spec.missing)  # draws × areas
    r = _ranked(s)
    p05[valid], p95[valid] = np.quantile(r, [0.05, 0.95], axis=0, method="inverted_cdf")
    c05, c95 = np.quantile(_classed(s, r, spec.classes), [0.05, 0.95], axis=0, method="inverted_cdf")
    stable[valid] = (c05 == base_class[valid]) & (c95 == base_class[valid])
    return p05, p95, stable


# -- through the warehouse ---------------------------------------------------------------------------------

@dataclass
class Result:
    """A computed index. ``table``: key, name, score, rank, class, class_label, rank_p05, rank_p95,
    class_stable, lacking (names of the inputs without a shown value), plus dynamics, dynamics_class,
    dynamics_label with ``dynamics_years``; sorted by rank (areas without index last, by key)."""

    spec: Spec
    matrix: Matrix
    names: dict[str, str]
    polarity: dict[str, str]
    table: pd.DataFrame
    missing: list[str]
    lacking_keys: list[list[str]]

    def as_json(self) -> dict:
        """The fixed CLI interface: areas (key, name, score, rank, class, rank_p05, rank_p95), weights, method,
        missing (area keys lacking an input)."""
        areas = [{"key": r["key"], "name": r["name"], "score": None if np.isnan(r["score"])
                  else round(float(r["score"]), 6), **{c: _int(r[c]) for c in ("rank", "class", "rank_p05",
                                                                               "rank_p95")}}
                 for _, r in self.table.iterrows()]
        return {"areas": areas, "weights": dict(self.spec.weights), "method": self.spec.method,
                "missing": self.missing, "missing_rule": self.spec.missing, "polarity": self.polarity,
                "level": self.spec.level, "year": self.spec.year, "classes": self.spec.classes.labels()}

    def values(self) -> pd.DataFrame:
        """The index as derived-indicator values: level, area_key, year, value, status, note ("k. A." where a
        hidden input leaves the area without index; renormalised areas name the inputs left out)."""
        t = self.table.set_index("key").loc[self.matrix.areas["key"]]
        hidden = (self.matrix.status == privacy.SUPPRESSED).any(axis=1)
        status = np.where(t["rank"].to_numpy() > 0, "ok", np.where(hidden, privacy.SUPPRESSED, "missing"))
        notes = [privacy.DERIVED_WITHOUT + ", ".join(lk) if lk and s == "ok" else None
                 for lk, s in zip(self.lacking_keys, status)]
        return pd.DataFrame({"level": self.spec.level, "area_key": t.index, "year": self.spec.year,
                             "value": t["score"].to_numpy(), "status": status, "note": notes})

    def describe(self) -> tuple[str, str]:
        """Generated metadata: (definition, calculation) in German."""
        s = self.spec
        parts = " + ".join(f"{w:g} × {self.names[k]}" + (" (hoch ist gut: × −1)" if self.polarity[k] == "high_good"
                                                          else "") for k, w in s.weights.items())
        how = {"zscore": "z-Wert = (Wert − Mittelwert) / Standardabweichung (Grundgesamtheit)",
               "rank": "Rang-Perzentil = (Rang − 1) / (Anzahl − 1)",
               "minmax": "Min-Max = (Wert − Minimum) / (Maximum − Minimum)"}[s.method]
        definition = (f"Sozialindex aus {len(s.weights)} Indikatoren, {s.year}: je höher, desto größer der "
                      "Handlungsbedarf (Rang 1 = größter Bedarf).")
        calculation = (f"Gewichtetes Mittel der standardisierten Indikatoren: ({parts}) / {sum(s.weights.values()):g}; "
                       f"Standardisierung: {how}, über die Gebiete mit Wert; fehlende Werte: "
                       f"{MISSING_RULES[s.missing]}; Klassen: {', '.join(s.classes.labels())}.")
        return definition, calculation


def build(atlas, spec: Spec) -> Result:
    """Compute the index of ``spec`` from the shown values (privacy applied) of an :class:`Atlas`."""
    spec.check()
    inds = atlas.indicators().set_index("key")
    unknown = [k for k in spec.weights if k not in inds.index]
    if unknown:
        raise ValidationError("Unbekannte oder nicht freigegebene Indikatoren: " + ", ".join(unknown) + ".")
    keys = list(spec.weights)
    matrix = standardise.read(atlas, spec.level, spec.year, keys)
    polarity = {k: spec.polarity.get(k, inds.loc[k, "polarity"]) for k in keys}
    sign = standardise.signs([polarity[k] for k in keys])
    z = standardise.standardise(matrix.values, spec.method, sign)
    weights = np.array([spec.weights[k] for k in keys], float)
    score = scores(z, weights, spec.missing)
    rank = ranks(score)
    cls = classify(score, rank, spec.classes)
    p05, p95, stable = stability(z, weights, spec, cls)
    names = {k: inds.loc[k, "name"] for k in keys}
    lacking = np.isnan(matrix.values)
    lacking_keys = [[k for k, miss in zip(keys, row) if miss] for row in lacking]
    labels = spec.classes.labels()
    table = matrix.areas.assign(
        score=score, rank=rank, **{"class": cls}, class_label=[labels[c - 1] if c else "" for c in cls],
        rank_p05=p05, rank_p95=p95, class_stable=stable | (cls == 0),
        lacking=[", ".join(names[k] for k in lk) for lk in lacking_keys])
    if spec.dynamics_years:
        table = table.join(_dynamics(atlas, spec, keys, sign, weights).set_index("key"), on="key")
    table = table.assign(_none=rank == 0).sort_values(["_none", "rank", "key"]).drop(columns="_none")
    missing = list(matrix.areas["key"][lacking.any(axis=1)])
    return Result(spec, matrix, names, polarity, table.reset_index(drop=True), missing, lacking_keys)


def _dynamics(atlas, spec: Spec, keys: list[str], sign: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    """The dynamics index: the same index over each indicator's change since ``year − dynamics_years``; classes
    positiv (< −1 SD: need falls), stabil, negativ (> +1 SD)."""
    base = standardise.read(atlas, spec.level, spec.year - spec.dynamics_years, keys)
    now = standardise.read(atlas, spec.level, spec.year, keys)
    change = now.values - base.values  # same areas (both sorted by key)
    score = scores(standardise.standardise(change, spec.method, sign), weights, spec.missing)
    cls = classify(score, ranks(score), Classes("sd", (-1.0, 1.0), 3))
    return pd.DataFrame({"key": now.areas["key"], "dynamics": score, "dynamics_class": cls,
                         "dynamics_label": [DYNAMICS_LABELS[c - 1] if c else "" for c in cls]})


def status_dynamics_matrix(result: Result) -> pd.DataFrame:
    """Counts of areas per status class (rows) × dynamics class (columns), German labels (needs dynamics)."""
    t = result.table[(result.table["class"] > 0) & (result.table["dynamics_class"] > 0)]
    out = pd.crosstab(t["class_label"], t["dynamics_label"])
    return out.reindex(index=result.spec.classes.labels(), columns=DYNAMICS_LABELS, fill_value=0)


def save(wh: Warehouse, user: User | None, atlas, spec: Spec, key: str, name: str) -> Result:
    """Compute and save the index as the derived indicator ``key`` (method "sozialindex")."""
    result = build(atlas, spec)
    definition, calculation = result.describe()
    derived.save(wh, user, {"key": key, "name": name, "definition": definition, "calculation": calculation,
                            "unit": "Indexpunkte" if spec.method == "zscore" else "Index",
                            "reference_date": str(spec.year),
                            "interpretation": "Rang 1 = größter Handlungsbedarf; Klassen: "
                                              + ", ".join(spec.classes.labels()) + "."},
                 derived.Derivation("sozialindex", dict(spec.weights), spec.parameters()), result.values())
    return result


def spec_of(derivation: derived.Derivation) -> Spec:
    """The Spec a saved derivation was computed with."""
    p = derivation.parameters
    c = p.get("classes") or {}
    classes = Classes(c.get("kind", "sd"), tuple(c.get("cuts", Classes.cuts)), int(c.get("n", 4)))
    spec = Spec(p["level"], int(p["year"]), dict(derivation.inputs), p.get("method", "zscore"),
                p.get("missing", "refuse"), dict(p.get("polarity") or {}), classes, p.get("dynamics_years"))
    return replace(spec, draws=int(p.get("draws", 1000)), spread=float(p.get("spread", 0.25)),
                   seed=int(p.get("seed", 19)))


def recompute(atlas, derivation: derived.Derivation) -> pd.DataFrame:
    """The derived values anew (called by :func:`keck_data.analysis.derived.recompute`)."""
    return build(atlas, replace(spec_of(derivation), draws=0)).values()


def _int(x) -> int | None:
    return int(x) if x and not pd.isna(x) else None
