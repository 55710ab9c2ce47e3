"""Zusammenhänge: the correlation matrix of chosen indicators (Pearson or Spearman, n per cell); a click on a
cell, or the pair picker, opens its scatter plot."""
import streamlit as st

from keck_data import charts, fmt
from keck_data.errors import KeckError
from keck_data.ui import frame, resources, state, widgets

COEFFICIENTS = {"pearson": "Pearson", "spearman": "Spearman (Rang)"}
DEFAULTS = ["sgb2_quote_u15", "arbeitslosenanteil", "anteil_alleinerziehend", "quote_u9", "gymnasialquote"]

inds = resources.indicators()
inds = inds[inds["kind"] != "count"]
names = dict(zip(inds["key"], inds["name"]))
with frame.controls(3) as cols:
    level, year = widgets.level_and_year(cols[0], cols[0])
    with cols[1]:
        coefficient = state.widget(st.radio, "Koeffizient", list(COEFFICIENTS), "coef", "pearson",
                                   format_func=COEFFICIENTS.get)
    with cols[2]:
        chosen = state.multiselect("Indikatoren", list(names), "inds", default=[k for k in DEFAULTS if k in names],
                                   format_func=names.get)
st.markdown(f"# Zusammenhänge {year}")
try:
    result = resources.correlations(level, year, chosen)
except KeckError as err:
    st.info(str(err))
    st.stop()
r = result.pearson if coefficient == "pearson" else result.spearman
fig = charts.correlation_heatmap(r, result.n, names, f"Korrelationen ({COEFFICIENTS[coefficient]}), "
                                 f"{resources.level_name(level)} {year}", "Sozialraum-Atlas; je Paar nur Gebiete "
                                 "mit beiden Werten („k. A.“ und fehlende Werte ausgenommen)")
with frame.figure("corr_figure", f"Diagramm: {charts.plain(fig.layout.title.text)} – die Werte je Paar stehen in "
                                 "der Tabelle darunter"):
    event = st.plotly_chart(charts.for_wall(fig) if frame.presenting() else fig, on_select="rerun",
                            selection_mode="points", key="corr_map", width="stretch", config=frame.PLOTLY_CONFIG)
points = event.selection.points if event and event.get("selection") else []
pairs = result.pairs()
labels = [f"{a} × {b} (r = {fmt.number(p, 2)}, n = {n})" for a, b, p, n in
          zip(pairs["name_x"], pairs["name_y"], pairs["pearson"], pairs["n"])]
with st.expander("Daten als Tabelle"):  # the heatmap's text alternative: every pair with both coefficients
    st.table(pairs.assign(**{c: pairs[c].map(lambda v: fmt.number(v, 2)) for c in ("pearson", "spearman")})
             [["name_x", "name_y", "pearson", "spearman", "n"]]
             .rename(columns={"name_x": "Indikator 1", "name_y": "Indikator 2", "pearson": "Pearson",
                              "spearman": "Spearman", "n": "n (Gebiete)"}).set_index("Indikator 1"))
picked = 0
if points:  # a click on a cell picks its pair
    by_label = {charts.wrap(v, 30): k for k, v in names.items()}
    x, y = by_label.get(points[0].get("x")), by_label.get(points[0].get("y"))
    match = pairs.index[((pairs["x"] == x) & (pairs["y"] == y)) | ((pairs["x"] == y) & (pairs["y"] == x))]
    picked = int(match[0]) if len(match) else 0
pair = st.selectbox("Streudiagramm für", range(len(pairs)), index=picked, format_func=labels.__getitem__,
                    key=f"corr_pair_{picked}")
x, y = pairs.loc[pair, "x"], pairs.loc[pair, "y"]
data, pearson = resources.scatter(x, y, level, year)
if data.empty:
    st.info("Für dieses Paar gibt es keine Gebiete mit beiden Werten.")
else:
    frame.chart(charts.scatter(data, resources.indicator(x), resources.indicator(y), pearson, [],
                               resources.municipality(), year), key="corr_scatter")
state.sync_url(["lvl", "yr", "coef", "inds"])
