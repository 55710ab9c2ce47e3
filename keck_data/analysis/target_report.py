"""The Zielbericht for the Sozialplanungskonferenz: an A4 PDF with one section per target (chart and Ampel)."""
from __future__ import annotations

import io
from datetime import date

import matplotlib.pyplot as plt
import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import fmt
from ..export_report import BODY, H1, H2, SMALL, _p, footer
from ..queries import Atlas
from . import target_edits, targets

def series(atlas: Atlas, target: pd.Series) -> pd.DataFrame:
    """The target area's shown values (year, value; "k. A." and missing years left out) for the chart."""
    vals = atlas.values([target["indicator"]])
    mine = vals[(vals["level"] == target["level"]) & (vals["area_key"] == target["area_key"])
                & vals["status"].eq("ok")].sort_values("year")
    return mine[["year", "value"]].round({"value": int(target["decimals"])})


def chart_png(atlas: Atlas, target: pd.Series) -> bytes:
    """Values, the straight path from the baseline to the target (dashed) and the target (star)."""
    data = series(atlas, target)
    fig, ax = plt.subplots(figsize=(4.6, 2.4))
    ax.plot(data["year"], data["value"], marker="o", color="#333333", label="Werte")
    path = targets.path_points(target)
    if len(path):
        ax.plot(path["year"], path["value"], linestyle="--", color=targets.COLORS[target["state"]],
                linewidth=2, label="Pfad")
    ax.plot([target["target_year"]], [target["target_value"]], marker="*", markersize=14, color="#000000",
            linestyle="none", label="Ziel")
    ax.set_ylabel(target["unit"])
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=170, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _section(atlas: Atlas, number: int, t: pd.Series) -> KeepTogether:
    d = int(t["decimals"])

    def v(x) -> str:
        return "–" if x is None or pd.isna(x) else fmt.with_unit(float(x), d, t["unit"])
    state = Table([[_p(f"Ampel: {t['state']}", BODY)]], colWidths=[40 * mm], hAlign="LEFT")
    state.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(targets.COLORS[t["state"]])),
                               ("BOX", (0, 0), (-1, -1), 0.6, colors.black)]))
    current = f"{v(t['current'])} ({int(t['current_year'])})" if not pd.isna(t["current_year"]) else "–"
    facts = [("Indikator", t["indicator_name"]), ("Gebiet", f"{t['area_name']} ({t['level_name']})"),
             ("Basis", f"{v(t['basis'])} ({t['base_year']})"), ("Aktuell", current),
             ("Ziel", f"{t['direction']} auf {v(t['target_value'])} bis {t['target_year']}"),
             ("Toleranz", v(t["tolerance"])), ("Status", target_edits.STATUSES.get(t["status"], t["status"]))]
    facts += [(label, t[col]) for label, col in (("Messkriterium", "criterion"), ("Zuständig", "responsible"))
              if isinstance(t.get(col), str) and t[col]]
    table = Table([[_p(k, SMALL), _p(val, SMALL)] for k, val in facts], colWidths=[24 * mm, 60 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    body = Table([[Image(io.BytesIO(chart_png(atlas, t)), width=88 * mm, height=46 * mm), table]],
                 colWidths=[92 * mm, 86 * mm])
    body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([_p(f"{number}. {t['title']}", H2), state, Spacer(1, 1.5 * mm),
                         _p(f"Begründung: {t['reason']}", SMALL), Spacer(1, 1.5 * mm), body])


def target_report_pdf(atlas: Atlas) -> bytes:
    """Every target the atlas may show (public: released ones, from published values), one section each."""
    status = targets.current(atlas)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
                            bottomMargin=16 * mm, title=f"Zielbericht {atlas.municipality()}")
    counts = ", ".join(f"{int((status['state'] == s).sum())} {s}" for s in targets.STATES)
    story = [_p(f"Zielbericht {atlas.municipality()}", H1),
             _p(f"Stand {date.today():%d.%m.%Y} · {len(status)} Ziele ({counts})", BODY), Spacer(1, 2 * mm),
             _p(targets.RULE_TEXT, SMALL)]
    if status.empty:
        story.append(_p("Es sind keine Ziele angelegt (oder freigegeben).", BODY))
    story += [_section(atlas, i + 1, t) for i, (_, t) in enumerate(status.iterrows())]
    doc.build(story, onFirstPage=footer(atlas, "Zielbericht"), onLaterPages=footer(atlas, "Zielbericht"))
    return buf.getvalue()
