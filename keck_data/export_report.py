"""The Gebietsbericht as an A4 PDF: one to three areas, every Themenfeld, city value, trend, locator map."""
from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

from . import fmt  # noqa: E402
from .analysis import profile  # noqa: E402
from .export_map import area_frame  # noqa: E402
from .queries import Atlas  # noqa: E402
from .warehouse import read_df  # noqa: E402

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
BODY = ParagraphStyle("body", fontName="DejaVu", fontSize=9, leading=12)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5)
H1 = ParagraphStyle("h1", parent=BODY, fontName="DejaVu-Bold", fontSize=16, leading=20, spaceAfter=4)
H2 = ParagraphStyle("h2", parent=BODY, fontName="DejaVu-Bold", fontSize=11.5, leading=15, spaceBefore=8,
                    spaceAfter=3)
HATCHES = ["////", "\\\\\\\\", "xxxx"]


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph whose text is never read as markup."""
    return Paragraph(html.escape(str(text)), style)


def locator_map(atlas: Atlas, level: str, keys: list[str]) -> bytes:
    """Small black-and-white map: the chosen areas hatched and numbered, the others light grey."""
    gdf = area_frame(atlas, level)
    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    gdf.plot(ax=ax, color="#eeeeee", edgecolor="#999999", linewidth=0.3)
    for i, key in enumerate(keys):
        sel = gdf[gdf["key"] == key]
        sel.plot(ax=ax, facecolor="#bbbbbb", edgecolor="black", hatch=HATCHES[i], linewidth=1.2)
        pt = sel.geometry.representative_point().iloc[0]
        ax.annotate(str(i + 1), (pt.x, pt.y), ha="center", va="center", fontsize=11, weight="bold",
                    bbox=dict(boxstyle="circle", fc="white", ec="black"))
    ax.set_axis_off()
    ax.set_aspect("equal")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def bookmarks_for(atlas: Atlas, keys: list[str]) -> list[tuple[str, str]]:
    """(title, interpretation) of bookmarks whose view contains one of the areas (public ones in public mode)."""
    rows = read_df(atlas.wh, "SELECT title, interpretation, view_state FROM bookmark WHERE (NOT ? OR public) "
                             "ORDER BY created_at", [atlas.public])
    out = []
    for title, text, state in rows.itertuples(index=False):
        areas = json.loads(state).get("areas") or []
        if text and set(areas) & set(keys):
            out.append((title, text))
    return out


@dataclass
class Report:
    """The Gebietsbericht's content, rendered as PDF (print) and as HTML (the accessible version, BITV)."""
    title: str
    areas: str
    note: str
    locator_png: bytes
    head: list[str]
    sections: list[tuple[str, list[list[str]]]]  # Themenfeld, rows of cell texts
    interpretations: list[tuple[str, str]]  # bookmark title, interpretation text
    standouts: list[tuple[str, list[str]]]  # "Was fällt auf?": area label (with several areas), sentences
    sources: str
    document_title: str = ""


def report_content(atlas: Atlas, level: str, keys: list[str], year: int, base_year: int | None = None) -> Report:
    """What the Gebietsbericht for 1–3 areas says (privacy applied through the Atlas)."""
    table = atlas.compare(level, keys, year)  # validates 1–3 known areas
    years = atlas.years()
    base_year = base_year or years[0]
    names = atlas.area_label(level)
    labels = [names[k] for k in keys]
    base = atlas.values(list(table["indicator"]), [base_year, year])
    shown = base[base["status"] == "ok"].pivot_table(index=["indicator", "level", "area_key"], columns="year",
                                                     values="value")
    change = (shown.get(year) - shown.get(base_year)).dropna() if {year, base_year} <= set(shown.columns) else {}
    top = atlas.levels().iloc[0]["key"]
    city = (top, atlas.areas(top)["key"].iloc[0])

    def with_change(text: str, ind: str, lv: str, key: str, decimals: int, unit: str) -> str:
        delta = change.get((ind, lv, key)) if len(change) else None
        return text if delta is None else f"{text} ({fmt.difference(delta, decimals, unit)})"

    standouts = [(f"({i + 1}) {lab}" if len(keys) > 1 else "",
                  profile.profile(atlas, key, level, year).sentences()) for i, (key, lab) in enumerate(zip(keys, labels))]
    sections = []
    for topic, group in table.groupby("topic", sort=False):
        rows = []
        for _, r in group.iterrows():
            d = int(r["decimals"])
            areas = [with_change(r[lab], r["indicator"], level, key, d, r["unit"]) for key, lab in zip(keys, labels)]
            rows.append([f"{r['name']} ({r['unit']})", *areas,
                         with_change(r["city_text"], r["indicator"], *city, d, r["unit"])])
        sections.append((topic, rows))
    sources = sorted(set(atlas.indicators().set_index("key").loc[list(table["indicator"]), "source"]))
    return Report(
        title=f"Gebietsbericht {atlas.municipality()} {year}",
        areas=f"{atlas.level_name(level)}: " + "; ".join(f"({i + 1}) {lab}" for i, lab in enumerate(labels)),
        note=f"Werte {year}, in Klammern die Veränderung seit {base_year}. „k. A.“ = aus Datenschutzgründen "
             f"keine Angabe. Erstellt am {date.today():%d.%m.%Y}.",
        locator_png=locator_map(atlas, level, keys),
        head=["Indikator"] + [f"({i + 1}) {lab}" for i, lab in enumerate(labels)] + [atlas.municipality()],
        sections=sections, interpretations=bookmarks_for(atlas, keys), standouts=standouts,
        sources="; ".join(sources),
        document_title=f"Gebietsbericht {', '.join(labels)}")


def report_pdf(atlas: Atlas, level: str, keys: list[str], year: int, base_year: int | None = None) -> bytes:
    """The Gebietsbericht for 1–3 areas as PDF bytes (for print; report_html is the accessible version)."""
    report = report_content(atlas, level, keys, year, base_year)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=report.document_title,
                            author=f"Sozialraum-Atlas {atlas.municipality()}")
    story = [_p(report.title, H1), _p(report.areas), _p(report.note, SMALL),
             Spacer(1, 4 * mm), Image(io.BytesIO(report.locator_png), width=95 * mm, height=72 * mm),
             _p("Was fällt auf?", H2)]
    for label, sentences in report.standouts:
        if label:
            story.append(_p(label, ParagraphStyle("st", parent=BODY, fontName="DejaVu-Bold")))
        story += [_p(f"• {s}") for s in sentences] or [_p("Keine Werte zum Vergleichen.")]
    width = (A4[0] - 32 * mm)
    col = [width * 0.34] + [width * 0.66 / (len(keys) + 1)] * (len(keys) + 1)
    for topic, rows in report.sections:
        t = Table([[_p(h, SMALL) for h in report.head]] + [[_p(c, SMALL) for c in row] for row in rows],
                  colWidths=col, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dddddd")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [_p(topic, H2), t]
    if report.interpretations:
        story.append(_p("Interpretationen aus Lesezeichen", H2))
        for title, text in report.interpretations:
            story += [_p(title, ParagraphStyle("bt", parent=BODY, fontName="DejaVu-Bold")), _p(text), Spacer(1, 2 * mm)]
    story += [_p("Quellen", H2), _p(report.sources, SMALL)]
    doc.build(story, onFirstPage=footer(atlas), onLaterPages=footer(atlas))
    return buf.getvalue()


def report_html(atlas: Atlas, level: str, keys: list[str], year: int, base_year: int | None = None) -> bytes:
    """The same Gebietsbericht as one accessible HTML file: lang="de", headings, data tables with header
    cells and captions, the locator map with a text alternative (the PDF is not tagged)."""
    r = report_content(atlas, level, keys, year, base_year)
    e = html.escape
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in r.head)
    parts = [f"<h1>{e(r.title)}</h1>", f"<p>{e(r.areas)}</p>", f"<p><small>{e(r.note)}</small></p>",
             f'<img src="data:image/png;base64,{base64.b64encode(r.locator_png).decode()}" width="380" '
             f'alt="Lagekarte: {e(r.areas)} in {e(atlas.municipality())}">', "<h2>Was fällt auf?</h2>"]
    for label, sentences in r.standouts:
        parts += ([f"<h3>{e(label)}</h3>"] if label else []) + [
            "<ul>" + "".join(f"<li>{e(s)}</li>" for s in sentences) + "</ul>" if sentences
            else "<p>Keine Werte zum Vergleichen.</p>"]
    for topic, rows in r.sections:
        body = "".join("<tr>" + f'<th scope="row">{e(row[0])}</th>' + "".join(f"<td>{e(c)}</td>" for c in row[1:])
                       + "</tr>" for row in rows)
        parts.append(f"<h2>{e(topic)}</h2><table><caption>{e(topic)}</caption><thead><tr>{head}</tr></thead>"
                     f"<tbody>{body}</tbody></table>")
    if r.interpretations:
        parts.append("<h2>Interpretationen aus Lesezeichen</h2>")
        parts += [f"<h3>{e(title)}</h3><p>{e(text)}</p>" for title, text in r.interpretations]
    parts.append(f"<h2>Quellen</h2><p>{e(r.sources)}</p>")
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5;color:#1a1a1a}"
             "table{border-collapse:collapse;width:100%;margin-bottom:1rem}th,td{border:1px solid #555;"
             "padding:.3rem .5rem;text-align:left;vertical-align:top}caption{text-align:left;font-weight:bold}")
    return (f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{e(r.document_title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{style}</style></head>'
            f'<body><main>{"".join(parts)}</main></body></html>').encode("utf-8")


def footer(atlas: Atlas, title: str = "Gebietsbericht"):
    """Page footer of the reports: atlas, report title, page number."""
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("DejaVu", 7.5)
        canvas.drawString(16 * mm, 9 * mm, f"Sozialraum-Atlas {atlas.municipality()} – {title}")
        canvas.drawRightString(A4[0] - 16 * mm, 9 * mm, f"Seite {doc.page}")
        canvas.restoreState()
    return draw
