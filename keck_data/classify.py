"""Class breaks for choropleth maps (on mapclassify), colour-blind-safe palettes and German legends."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd

from . import fmt
from .errors import ValidationError
from .privacy import LABEL_MISSING, LABEL_SUPPRESSED

warnings.filterwarnings("ignore", message="Numba not installed")

METHODS = {
    "quantile": "Quantile (gleich viele Gebiete je Klasse)",
    "equal_interval": "Gleiche Intervalle",
    "natural_breaks": "Natürliche Brüche (Fisher-Jenks)",
    "std_mean": "Standardabweichung",
    "manual": "Manuelle Grenzen",
}
# ColorBrewer 7-class sequential schemes (colour-blind safe), light → dark
PALETTES = {
    "orange_rot": ("Orange–Rot", ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"]),
    "gelb_rot": ("Gelb–Rot", ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]),
    "lila": ("Lila", ["#f1eef6", "#d4b9da", "#c994c7", "#df65b0", "#e7298a", "#ce1256", "#91003f"]),
    "blau": ("Blau", ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]),
    "viridis": ("Viridis", ["#fde725", "#8fd744", "#35b779", "#21908d", "#31688e", "#443a83", "#440154"]),
}
COLOR_SUPPRESSED = "#8c8c8c"
COLOR_MISSING = "#f2f2f2"
MIN_CLASSES, MAX_CLASSES = 3, 7


@dataclass
class LegendEntry:
    label: str
    color: str
    count: int


@dataclass
class Classification:
    """Upper class bounds, each value's class (−1 = no value) and the legend."""

    bounds: list[float]
    classes: np.ndarray
    colors: list[str]
    legend: list[LegendEntry] = field(default_factory=list)

    def color_of(self, i: int, status: str) -> str:
        if status == "suppressed":
            return COLOR_SUPPRESSED
        return COLOR_MISSING if i < 0 else self.colors[i]


def palette(name: str, k: int, polarity: str) -> list[str]:
    """``k`` colours; for indicators where a high value is favourable the scale runs dark → light."""
    if name not in PALETTES:
        raise ValidationError(f"Unbekannte Farbpalette „{name}“. Möglich: {', '.join(PALETTES)}.")
    full = PALETTES[name][1]
    colors = [full[int(round(i))] for i in np.linspace(0, len(full) - 1, k)] if k > 1 else [full[len(full) // 2]]
    return colors[::-1] if polarity == "high_good" else colors


MIN_BREAKS, MAX_BREAKS = 2, 6


def parse_breaks(text: str, values: pd.Series) -> tuple[float, ...]:
    """Manual class breaks typed in German ("10; 20,5; 1.000") → ascending floats inside the value range.

    Raises ValidationError with a German message that names the offending entry.
    """
    parts = [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    breaks = []
    for part in parts:
        plain = part.replace(" ", "")
        if "," in plain or re.fullmatch(r"-?\d{1,3}(\.\d{3})+", plain):  # German: 1.000,5 or 1.000
            plain = plain.replace(".", "").replace(",", ".")
        try:
            breaks.append(float(plain))
        except ValueError:
            raise ValidationError(f"„{part}“ ist keine Zahl. Bitte Grenzen mit Semikolon trennen, "
                                  "Dezimalkomma verwenden (z. B. 10; 20,5; 30).") from None
    if not MIN_BREAKS <= len(breaks) <= MAX_BREAKS:
        raise ValidationError(f"Bitte {MIN_BREAKS} bis {MAX_BREAKS} Grenzen angeben (angegeben: {len(breaks)}).")
    if any(b >= c for b, c in zip(breaks, breaks[1:])):
        raise ValidationError("Die Grenzen müssen aufsteigen, jede größer als die vorige.")
    data = pd.to_numeric(values, errors="coerce").dropna()
    if len(data):
        low, high = float(data.min()), float(data.max())
        outside = [b for b in breaks if not low < b < high]
        if outside:
            raise ValidationError(
                f"Grenze {fmt.number(outside[0], 2)} liegt nicht zwischen dem kleinsten ({fmt.number(low, 2)}) "
                f"und dem größten Wert ({fmt.number(high, 2)}).")
    return tuple(breaks)


def _bounds(values: np.ndarray, method: str, k: int, manual: list[float] | None) -> list[float]:
    unique = np.unique(values)
    if len(unique) == 1:
        return [float(unique[0])]
    k = min(k, len(unique))
    if method == "quantile":
        bins = mapclassify.Quantiles(values, k=k).bins
    elif method == "equal_interval":
        bins = mapclassify.EqualInterval(values, k=k).bins
    elif method == "natural_breaks":
        jenks = mapclassify.FisherJenks if len(values) <= 1000 else mapclassify.FisherJenksSampled
        bins = jenks(values, k=k).bins
    elif method == "std_mean":
        bins = mapclassify.StdMean(values, multiples=[-1.5, -0.5, 0.5, 1.5] if k >= 5 else [-1, 1]).bins
    elif method == "manual":
        if not manual:
            raise ValidationError("Für manuelle Klassengrenzen bitte mindestens eine Grenze angeben.")
        inner = sorted({float(b) for b in manual if values.min() < float(b) < values.max()})
        bins = np.array(inner + [values.max()])
    else:
        raise ValidationError(f"Unbekannte Klassifizierung „{method}“. Möglich: {', '.join(METHODS)}.")
    bins = np.unique(np.asarray(bins, dtype=float))
    bins = bins[(bins >= values.min()) & (bins < values.max())]
    bins = np.append(bins, values.max())
    return [float(b) for b in bins]


def classify(values: pd.Series, statuses: pd.Series, method: str = "quantile", k: int = 5,
             palette_name: str = "orange_rot", polarity: str = "high_bad", decimals: int = 1, unit: str = "",
             manual_breaks: list[float] | None = None) -> Classification:
    """Classify the shown values; suppressed and missing ones get their own legend entries."""
    if not MIN_CLASSES <= k <= MAX_CLASSES:
        raise ValidationError(f"Die Klassenzahl muss zwischen {MIN_CLASSES} und {MAX_CLASSES} liegen, nicht {k}.")
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    shown = statuses.to_numpy() == "ok"
    shown &= ~np.isnan(vals)
    classes = np.full(len(vals), -1)
    legend: list[LegendEntry] = []
    bounds: list[float] = []
    colors: list[str] = []
    if shown.any():
        data = vals[shown]
        bounds = _bounds(data, method, k, manual_breaks)
        colors = palette(palette_name, len(bounds), polarity)
        classes[shown] = np.searchsorted(np.array(bounds), data, side="left").clip(0, len(bounds) - 1)
        lower = float(data.min())
        for i, upper in enumerate(bounds):
            count = int((classes == i).sum())
            if len(bounds) == 1:
                text = fmt.with_unit(upper, decimals, unit)
            elif i == 0:
                text = f"bis {fmt.with_unit(upper, decimals, unit)}"
            else:
                text = f"über {fmt.number(lower, decimals)} bis {fmt.with_unit(upper, decimals, unit)}"
            legend.append(LegendEntry(text, colors[i], count))
            lower = upper
    n_supp = int((statuses.to_numpy() == "suppressed").sum())
    n_missing = len(vals) - int(shown.sum()) - n_supp
    if n_supp:
        legend.append(LegendEntry(LABEL_SUPPRESSED + " (Datenschutz)", COLOR_SUPPRESSED, n_supp))
    if n_missing:
        legend.append(LegendEntry(LABEL_MISSING, COLOR_MISSING, n_missing))
    return Classification(bounds=bounds, classes=classes, colors=colors, legend=legend)
