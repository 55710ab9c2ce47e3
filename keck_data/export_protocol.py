"""The protocol of a Sozialraumkonferenz as an A4 PDF (black-and-white readable) and as Markdown.

Both are rendered from one :class:`Protocol`: title, date, participants, the agenda, and for each area the views
shown while it was selected (indicator value of the area vs the city, read through ``Atlas`` so "k. A." stays
"k. A."; the map image in the PDF) and its notes and measures.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Image, SimpleDocTemplate, Spacer, Table, TableStyle

from . import conference
from .errors import KeckError
from .export_map import render_map
from .export_report import BODY, H1, H2, SMALL, _p
from .mapdeck import MapSettings
from .queries import Atlas

MAX_VIEWS_PER_AREA = 3  # map images per area in the PDF (the most recent distinct views)


@dataclass
class ShownView:
    settings: MapSettings
    title: str  # indicator and year
    area_text: str
    city_text: str


@dataclass
class AreaPart:
    key: str
    name: str
    on_agenda: bool
    views: list[ShownView] = field(default_factory=list)
    notes: pd.DataFrame | None = None


@dataclass
class Protocol:
    session: conference.Session
    municipality: str
    level_name: str
    areas: list[AreaPart]


def build(atlas: Atlas, session_id: int) -> Protocol:
    """Collect what the protocol says (privacy applied by the Atlas for every value)."""
    s = conference.session(atlas.wh, session_id)
    names = atlas.area_label(s.level)
    notes = conference.notes(atlas.wh, session_id)
    shown = conference.shown_views(atlas.wh, session_id)
    keys = list(s.agenda) + [k for k in notes["area_key"].unique() if k not in s.agenda]
    city = atlas.municipality()
    parts = []
    for key in keys:
        part = AreaPart(key, names.get(key, key), key in s.agenda, notes=notes[notes["area_key"] == key])
        seen: list[tuple[str, int]] = []
        for view in reversed(list(shown["view"])):
            wanted = (view.get("ind"), view.get("yr"))
            if view.get("sel") != key or view.get("lvl", s.level) != s.level or None in wanted or wanted in seen:
                continue
            seen.append(wanted)
            try:
                part.views.insert(0, _view(atlas, s.level, key, view["ind"], int(view["yr"]), view))
            except (KeckError, KeyError, ValueError):
                continue  # an indicator deleted since: the protocol still lists the notes
            if len(seen) == MAX_VIEWS_PER_AREA:
                break
        parts.append(part)
    return Protocol(s, city, atlas.level_name(s.level), parts)


def _view(atlas: Atlas, level: str, key: str, ind: str, year: int, view: dict) -> ShownView:
    meta = atlas.indicator(ind)
    values = atlas.level_values(ind, level, year).set_index("key")
    city = atlas.reference_values(ind, year)["text"]
    settings = MapSettings(ind, level, year, view.get("cls", "quantile"), int(view.get("k", 5)),
                           view.get("pal", "orange_rot"), selected=(key,))
    return ShownView(settings, f"{meta['name']} {year}", values.at[key, "text"],
                     city.iloc[0] if len(city) else "keine Daten")


def _due(value) -> str:
    return "" if pd.isna(value) else f"{pd.Timestamp(value):%d.%m.%Y}"


def protocol_markdown(atlas: Atlas, session_id: int) -> str:
    """The protocol as Markdown (for e-mail or a wiki)."""
    p = build(atlas, session_id)
    s = p.session
    lines = [f"# Protokoll: {s.title}", "", f"- Datum: {s.held_on:%d.%m.%Y}", f"- Moderation: {s.moderator}",
             f"- Teilnehmende: {s.participants or '–'}",
             f"- Tagesordnung ({p.level_name}): " + "; ".join(a.name for a in p.areas if a.on_agenda), "",
             "„k. A.“ = aus Datenschutzgründen keine Angabe.", ""]
    for part in p.areas:
        lines += [f"## {part.name}" + ("" if part.on_agenda else " (nicht auf der Tagesordnung)"), ""]
        lines += [f"- Gezeigt: {v.title}: {v.area_text} (Gesamtstadt {p.municipality}: {v.city_text})"
                  for v in part.views] or ["- Keine Ansicht zu diesem Gebiet gezeigt."]
        for kind, label in conference.KINDS.items():
            rows = part.notes[part.notes["kind"] == kind]
            if rows.empty:
                continue
            lines += ["", f"**{label}**", ""]
            for n in rows.itertuples(index=False):
                extra = (f" – zuständig: {n.responsible}, bis {_due(n.due) or 'offen'}, "
                         f"{conference.STATUSES[n.status]}") if kind == "measure" else ""
                lines.append(f"- {n.text}{extra}")
        lines.append("")
    return "\n".join(lines)


def protocol_pdf(atlas: Atlas, session_id: int) -> bytes:
    """The protocol as an A4 PDF: black text, grey-ruled tables, the maps shown with their legends."""
    p = build(atlas, session_id)
    s = p.session
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Protokoll {s.title}",
                            author=f"Sozialraum-Atlas {p.municipality}")
    width = A4[0] - 32 * mm
    story = [_p(f"Protokoll: {s.title}", H1),
             _table([["Datum", f"{s.held_on:%d.%m.%Y}"], ["Moderation", s.moderator],
                     ["Teilnehmende", s.participants or "–"],
                     [f"Tagesordnung ({p.level_name})", "; ".join(a.name for a in p.areas if a.on_agenda)]],
                    [width * 0.28, width * 0.72]),
             _p("„k. A.“ = aus Datenschutzgründen keine Angabe.", SMALL)]
    for part in p.areas:
        story.append(_p(part.name + ("" if part.on_agenda else " (nicht auf der Tagesordnung)"), H2))
        if not part.views:
            story.append(_p("Keine Ansicht zu diesem Gebiet gezeigt.", SMALL))
        for v in part.views:
            story += [_p(f"{v.title}: {part.name} {v.area_text} – Gesamtstadt {p.municipality} {v.city_text}"),
                      Image(io.BytesIO(render_map(atlas, v.settings, "png", dpi=90)), width=width,
                            height=width * 8.27 / 11.69)]
        for kind, label in conference.KINDS.items():
            rows = part.notes[part.notes["kind"] == kind]
            if rows.empty:
                continue
            if kind == "measure":
                body = [["Maßnahme", "Zuständig", "Bis", "Status"]] + [
                    [n.text, n.responsible or "", _due(n.due), conference.STATUSES[n.status]]
                    for n in rows.itertuples(index=False)]
                story += [_p(label, BODY), _table(body, [width * 0.5, width * 0.2, width * 0.14, width * 0.16],
                                                  header=True)]
            else:
                story += [_p(label, BODY), _table([[n.text] for n in rows.itertuples(index=False)], [width])]
        story.append(Spacer(1, 3 * mm))
    doc.build(story)
    return buf.getvalue()


def _table(rows: list[list[str]], widths: list[float], header: bool = False) -> Table:
    t = Table([[_p(c, SMALL) for c in r] for r in rows], colWidths=widths, repeatRows=1 if header else 0)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dddddd")))
    t.setStyle(TableStyle(style))
    return t
