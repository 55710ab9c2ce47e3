"""Plotly figures for the chart and time series pages (and their export): German labels, source line."""
from __future__ import annotations

import html
import re
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from . import fmt

HIGHLIGHT = "#d7301f"
NORMAL = "#6baed6"
FONT = dict(size=18)


def literal(text: object) -> str:
    """A name as plotly shows it: "<" and "&" as entities, so an area or indicator name is never read as a tag."""
    return html.escape(str(text), quote=False)


def wrap(text: str, width: int = 48) -> str:
    """Long chart titles wrap (plotly never wraps by itself); shown literally (``literal``)."""
    return "<br>".join(textwrap.wrap(literal(text), width)) or literal(text)


def _layout(fig: go.Figure, title: str, source: str) -> go.Figure:
    """German number format, large fonts; the source sits under the title, so it never meets the axis labels."""
    lines = wrap(title).count("<br>") + 1
    fig.update_layout(title=dict(text=wrap(title), font=dict(size=22),
                                 subtitle=dict(text=wrap(f"Quelle: {source}", 90), font=dict(size=13))),
                      font=FONT, template="plotly_white", separators=",.",
                      margin=dict(t=90 + 28 * lines, b=70), xaxis=dict(automargin=True), yaxis=dict(automargin=True),
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left"))
    return fig


VALUE_LABELS_UP_TO = 15  # columns with their value written on them; more: values in the hover and the table
LABEL_FONT = dict(size=16)
NAMED_POINTS = 1  # scatter: the area at each end of the y axis is named on the chart (two overlapped)


def _axis(ind: pd.Series, vertical: bool = False) -> str:
    """Axis title, wrapped: a long one on the vertical axis would otherwise run up into the source line
    (a rotated line of 22 characters at 18 px fits the plot height of every chart)."""
    return wrap(f"{ind['name']} ({ind['unit']})" if ind["unit"] else str(ind["name"]), 22 if vertical else 48)


def ranking(values: pd.DataFrame, city: pd.DataFrame, ind: pd.Series, highlight: list[str], horizontal: bool,
            municipality: str, year: int) -> go.Figure:
    """Areas sorted by value; k. A. and missing areas listed in the footnote; the city value as a line."""
    shown = values[values["status"] == "ok"].sort_values("value", ascending=horizontal)
    colors = [HIGHLIGHT if k in highlight else NORMAL for k in shown["key"]]
    labels = (shown["key"] + " " + shown["name"]).map(literal)
    texts = [fmt.number(v, int(ind["decimals"])) for v in shown["value"]]
    labelled = horizontal or len(shown) <= VALUE_LABELS_UP_TO  # never squeezed into a bar (were 5 px)
    bar = go.Bar(x=shown["value"] if horizontal else labels, y=labels if horizontal else shown["value"],
                 orientation="h" if horizontal else "v", marker_color=colors, text=texts if labelled else None,
                 textposition="outside", textfont=LABEL_FONT, cliponaxis=False, customdata=texts,
                 hovertext=[f"{lab}: {t}" for lab, t in zip(labels, texts)], hoverinfo="text")
    fig = go.Figure(bar)
    city_ok = city[city["status"] == "ok"]
    if len(city_ok):
        cv = float(city_ok["value"].iloc[0])
        line = dict(line_dash="dash", line_color="#333",
                    annotation_text=f"{literal(municipality)}: {fmt.with_unit(cv, int(ind['decimals']), ind['unit'])}")
        if ind["kind"] != "count":
            fig.add_vline(x=cv, **line) if horizontal else fig.add_hline(y=cv, **line)
    hidden = values[values["status"] != "ok"]
    note = ""
    if len(hidden):
        note = f" · ohne Wert (k. A./keine Daten): {fmt.count(len(hidden), 'Gebiet', 'Gebiete')}"
    if horizontal:
        fig.update_layout(height=max(450, 22 * len(shown) + 150))
    fig.update_xaxes(title=_axis(ind) if horizontal else None, rangemode="tozero")
    fig.update_yaxes(title=None if horizontal else _axis(ind, vertical=True), rangemode="tozero")
    fig.update_layout(meta={"rows": "Gebiet", "value": f"{ind['name']} ({ind['unit']})"})
    return _layout(fig, f"{ind['name']} {year}", f"{ind['source']}{note}")


def scatter(data: pd.DataFrame, ix: pd.Series, iy: pd.Series, r: float | None, highlight: list[str],
            municipality: str, year: int) -> go.Figure:
    """Scatter of two indicators with Pearson's r and a least-squares trend line."""
    colors = [HIGHLIGHT if k in highlight else NORMAL for k in data["key"]]
    labels = (data["key"] + " " + data["name"]).map(literal)
    low = set(data.nsmallest(NAMED_POINTS, "value_y")["key"])
    named = low | set(data.nlargest(NAMED_POINTS, "value_y")["key"]) | set(highlight)
    fig = go.Figure(go.Scatter(x=data["value_x"], y=data["value_y"], mode="markers+text", marker=dict(
        size=14, color=colors, line=dict(width=1, color="#333")), text=labels, name="Gebiete",
        customdata=[[fmt.number(vx, int(ix["decimals"])), fmt.number(vy, int(iy["decimals"]))]
                    for vx, vy in zip(data["value_x"], data["value_y"])],
        texttemplate=[literal(n) if k in named else "" for k, n in zip(data["key"], data["name"])],
        textposition=["bottom center" if k in low else "top center" for k in data["key"]], textfont=dict(size=15),
        cliponaxis=False,
        hovertemplate="%{text}<br>x: %{x}<br>y: %{y}<extra></extra>"))
    if len(data) >= 3:
        slope, intercept = np.polyfit(data["value_x"], data["value_y"], 1)
        xs = np.array([data["value_x"].min(), data["value_x"].max()])
        fig.add_trace(go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name="Trendlinie",
                                 line=dict(color="#333", dash="dash")))
    r_text = f"r = {fmt.number(r, 2)}" if r is not None else "r: zu wenige Gebiete"
    fig.update_xaxes(title=_axis(ix))
    fig.update_yaxes(title=_axis(iy, vertical=True))
    fig.update_layout(meta={"rows": "Gebiet"}, height=560)
    return _layout(fig, f"{iy['name']} und {ix['name']} {year} ({r_text})", f"{ix['source']}; {iy['source']}")


def timeseries(ts: pd.DataFrame, ind: pd.Series) -> go.Figure:
    """One line per area plus the city (dashed); missing years stay gaps."""
    fig = go.Figure()
    for series, g in ts.groupby("series", sort=False):
        city = bool(g["is_city"].iloc[0])
        fig.add_trace(go.Scatter(x=g["year"], y=g["value"], mode="lines+markers", name=literal(series),
                                 customdata=[fmt.value_text(v, st, int(ind["decimals"]), ind["unit"])
                                             for v, st in zip(g["value"], g["status"])],
                                 connectgaps=False, line=dict(width=4 if city else 3, dash="dash" if city else None),
                                 marker=dict(size=9)))
    fig.update_xaxes(title="Jahr", dtick=1)
    # counts and rates start at 0, so a small change does not look dramatic; means and indices keep their range
    fig.update_yaxes(title=_axis(ind, vertical=True),
                     rangemode="tozero" if ind["kind"] in ("count", "rate") else "normal")
    fig.update_layout(meta={"rows": "Jahr"})
    return _layout(fig, f"{ind['name']} im Zeitverlauf", ind["source"])


def with_targets(fig: go.Figure, shown: pd.DataFrame, names: dict[tuple[str, str], str]) -> go.Figure:
    """Draw each target of ``shown`` (evaluated targets of the chart's series; ``names``: (level, area) → series
    name) into a Zeitreihe: baseline (circle), straight path (dotted) and target value (star)."""
    for t in shown.itertuples(index=False):
        if pd.isna(t.basis):
            continue
        label = literal(f"Ziel „{t.title}“ ({names.get((t.level, t.area_key), t.area_key)}, Ampel {t.state})")
        fig.add_trace(go.Scatter(x=[t.base_year, t.target_year], y=[t.basis, t.target_value], name=label,
                                 mode="lines+markers", line=dict(dash="dot", width=3, color="#444444"),
                                 marker=dict(size=[12, 18], symbol=["circle-open", "star"], color="#444444")))
    return fig


def comparison(table: pd.DataFrame, keys: list[str], names: list[str], municipality: str, topic: str,
               normalised: bool) -> go.Figure:
    """Grouped bars per indicator of a Themenfeld: the chosen areas and the city (raw, or city = 100)."""
    fig = go.Figure()
    city = table["city"].to_numpy(dtype=float)
    labels = [wrap(n, 28) for n in table["name"]]
    with np.errstate(divide="ignore", invalid="ignore"):
        for key, name, color in zip(keys, names, ["#d7301f", "#2b8cbe", "#31a354"]):
            values = table[f"_num_{key}"].to_numpy(dtype=float)
            shown = values / city * 100 if normalised else values
            texts = [t for t in table[name]]
            fig.add_trace(go.Bar(name=literal(name), x=labels, y=shown, marker_color=color, hovertext=texts, customdata=texts,
                                 hoverinfo="text+name"))
        fig.add_trace(go.Bar(name=literal(municipality), x=labels, y=np.where(np.isnan(city), np.nan, 100.0)
                             if normalised else city, marker_color="#7f7f7f", hovertext=list(table["city_text"]),
                             customdata=list(table["city_text"]),
                             hoverinfo="text+name"))
    if normalised:
        fig.add_hline(y=100, line_dash="dash", line_color="#333",
                      annotation_text=f"{literal(municipality)} = 100")
    fig.update_layout(barmode="group", height=520, meta={"rows": "Indikator"})
    fig.update_yaxes(title=f"Index ({literal(municipality)} = 100)" if normalised else "Wert (Einheit je Indikator)",
                     rangemode="tozero")
    return _layout(fig, f"Gebietsvergleich: {topic}", "Sozialraum-Atlas; Werte wie in der Tabelle, "
                   "„k. A.“ und fehlende Werte ohne Balken")



def rank_stability(table: pd.DataFrame, title: str, source: str) -> go.Figure:
    """The ranking with each area's rank interval (5th–95th percentile of the weight draws) as whiskers; areas
    whose class is not stable in red. ``table``: key, name, rank, rank_p05, rank_p95, class_label, class_stable
    (areas without index are left out)."""
    t = table[table["rank"] > 0].sort_values("rank")
    labels = (t["key"] + " " + t["name"]).map(literal)
    colors = [NORMAL if stable else HIGHLIGHT for stable in t["class_stable"]]
    fig = go.Figure(go.Scatter(
        x=t["rank"], y=labels, mode="markers", marker=dict(size=11, color=colors, line=dict(width=1, color="#333")),
        error_x=dict(type="data", symmetric=False, array=t["rank_p95"] - t["rank"],
                     arrayminus=t["rank"] - t["rank_p05"], color="#555", thickness=2, width=6),
        customdata=np.column_stack([t["rank_p05"], t["rank_p95"], t["class_label"]]),
        hovertemplate="%{y}: Rang %{x} (%{customdata[0]}–%{customdata[1]}), %{customdata[2]}<extra></extra>",
        name="Rang (5.–95. Perzentil)"))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title="Rang (1 = größter Handlungsbedarf)", rangemode="tozero")
    fig.update_layout(height=max(450, 22 * len(t) + 170), showlegend=False)
    unstable = int((~t["class_stable"]).sum())
    note = f" · rot: Klasse nicht stabil ({unstable})" if unstable else " · alle Klassen stabil"
    return _layout(fig, title, source + note)


def correlation_heatmap(r: pd.DataFrame, n: pd.DataFrame, names: dict[str, str], title: str,
                        source: str) -> go.Figure:
    """Correlation coefficients as a red–blue heatmap with German labels; the hover shows r and n."""
    labels = [wrap(names[k], 30) for k in r.columns]
    text = [[("–" if np.isnan(v) else fmt.number(v, 2)) for v in row] for row in r.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=r.to_numpy(), x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True, text=text,
        texttemplate="%{text}", customdata=n.to_numpy(), colorbar=dict(title="r"),
        hovertemplate="%{y}<br>%{x}<br>r = %{text} (n = %{customdata})<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(500, 60 * len(labels) + 250))
    return _layout(fig, title, source)


WALL_FONT = 20  # px: the smallest text on the projector (issue 22: axis labels were 13 px)


def for_wall(fig: go.Figure) -> go.Figure:
    """A copy with every text at least WALL_FONT px (title, source line, axes, legend, values, annotations)."""
    wall = go.Figure(fig)
    size = max(WALL_FONT, (fig.layout.font.size or 0) + 4)
    wall.update_layout(font=dict(size=size), legend=dict(font=dict(size=size)),
                       title=dict(font=dict(size=size + 6), subtitle=dict(font=dict(size=WALL_FONT))),
                       margin=dict(t=(fig.layout.margin.t or 90) + 40))
    wall.update_xaxes(tickfont=dict(size=size), title_font=dict(size=size))
    wall.update_yaxes(tickfont=dict(size=size), title_font=dict(size=size))
    wall.update_traces(textfont=dict(size=size), selector=lambda t: getattr(t, "textfont", None) is not None)
    wall.update_annotations(font=dict(size=size))
    return wall


def plain(text: str | None) -> str:
    """A plotly text without its line breaks and tags, entities read (for the table and the accessible name)."""
    return html.unescape(re.sub(r"<[^>]+>", "", (text or "").replace("<br>", " "))).strip()


def table_of(fig: go.Figure) -> pd.DataFrame:
    """The figure's data as a table, the chart's text alternative: one row per area, indicator or year, the
    values as the chart's hover shows them (k. A. and keine Daten as such).

    Reads what ranking, scatter, timeseries and comparison store: ``layout.meta["rows"]`` (the row title) and
    each trace's display texts in ``customdata`` (scatter: [x text, y text] per area).
    """
    rows = fig.layout.meta["rows"]
    traces = [t for t in fig.data if t.customdata is not None]
    first = traces[0]
    if first.type == "scatter" and "lines" not in first.mode:  # a scatter plot (not a time series)
        x, y = plain(fig.layout.xaxis.title.text), plain(fig.layout.yaxis.title.text)
        return pd.DataFrame({rows: [plain(t) for t in first.text], x: [c[0] for c in first.customdata],
                             y: [c[1] for c in first.customdata]})
    columns: dict[str, dict] = {}
    for t in traces:
        categories = t.y if getattr(t, "orientation", None) == "h" else t.x
        name = plain(t.name) if t.name else fig.layout.meta.get("value", "Wert")
        columns[name] = {plain(str(c)): text for c, text in zip(categories, t.customdata)}
    table = pd.DataFrame(columns).fillna("keine Daten")
    return table.rename_axis(rows).reset_index()
