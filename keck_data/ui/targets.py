"""Page parts for Wirkungsziele: the status table with the Ampel and the target form."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from .. import fmt, policy
from ..analysis import target_edits, targets
from ..analysis.target_report import target_report_pdf
from ..policy import User
from ..safe_text import safe
from . import downloads, resources, state
from .resources import atlas

SYMBOLS = {"grün": "🟢 grün", "gelb": "🟡 gelb", "rot": "🔴 rot", "grau": "⚪ grau"}


def _value(v, decimals) -> str:
    return "–" if v is None or pd.isna(v) else fmt.number(float(v), int(decimals))


def status_table(status: pd.DataFrame, internal: bool = True) -> None:
    """One row per target: Ampel, title, indicator, area, baseline, latest value, target (internal also status and
    Freigabe)."""
    if status.empty:
        st.info("Noch keine Ziele. Unten „– neues Ziel –“ wählen, aus der Maßnahmenliste der Sitzung anlegen oder "
                "per „python -m keck_data ziele import DATEI.csv“ importieren.")
        return
    rows = pd.DataFrame({
        "Ampel": status["state"].map(SYMBOLS),
        "Ziel": status["title"],
        "Indikator": status["indicator_name"],
        "Gebiet": status["area_name"].fillna(status["area_key"]) + " (" + status["level_name"].fillna("") + ")",
        "Basis": [f"{_value(b, d)} ({y})" for b, d, y in zip(status["basis"], status["decimals"], status["base_year"])],
        "Aktuell": [f"{_value(c, d)} ({'' if pd.isna(y) else int(y)})" for c, d, y in
                    zip(status["current"], status["decimals"], status["current_year"])],
        "Ziel bis": [f"{_value(t, d)} ({y})" for t, d, y in
                     zip(status["target_value"], status["decimals"], status["target_year"])],
        "Status": status["status"].map(target_edits.STATUSES),
        "Freigegeben": status["released"].map({True: "ja", False: "nein"}),
        "Begründung": status["reason"],
    })
    if not internal:
        rows = rows.drop(columns=["Status", "Freigegeben"])
    st.dataframe(rows, hide_index=True, width="stretch")


def target_form(user: User, current: dict, measures: pd.DataFrame) -> str | None:
    """The fields of a target (prefilled from ``current``); saving returns its new Ampel state."""
    suffix = current.get("id", "neu")
    inds = resources.indicators()
    if user.topics:
        inds = inds[inds["topic"].isin(user.topics)]
    names = dict(zip(inds["key"], inds["name"]))
    levels = resources.levels()
    level_names = dict(zip(levels["key"], levels["name"]))
    left, right = st.columns(2)
    title = left.text_input("Titel *", current.get("title", ""), key=f"t_title_{suffix}")
    ind_keys = list(names)
    indicator = right.selectbox("Indikator *", ind_keys, format_func=names.get, key=f"t_ind_{suffix}",
                                index=ind_keys.index(current["indicator"]) if current.get("indicator") in names else 0)
    level_keys = list(levels["key"])
    level = left.selectbox("Ebene", level_keys, format_func=level_names.get, key=f"t_lvl_{suffix}",
                           index=level_keys.index(current["level"]) if current.get("level") in level_keys else 0)
    areas = resources.area_label(level)
    area_keys = list(areas)
    area = right.selectbox("Gebiet", area_keys, format_func=areas.get, key=f"t_area_{suffix}",
                           index=area_keys.index(current["area_key"]) if current.get("area_key") in areas else 0)
    years = resources.years(indicator)
    c1, c2, c3, c4 = st.columns(4)
    base_year = c1.selectbox("Basisjahr *", years[::-1], key=f"t_by_{suffix}",
                             index=years[::-1].index(int(current["base_year"]))
                             if current.get("base_year") in years else 0)
    target_year = c2.number_input("Zieljahr *", min_value=1990, max_value=2200, step=1, key=f"t_ty_{suffix}",
                                  value=int(current.get("target_year") or base_year + 5))
    target_value = c3.text_input("Zielwert *", _plain(current.get("target_value")), key=f"t_tv_{suffix}")
    tolerance = c4.text_input("Toleranz (Einheit des Indikators)", _plain(current.get("tolerance", 0)),
                              key=f"t_tol_{suffix}")
    directions = list(targets.DIRECTIONS)
    direction = left.radio("Richtung *", directions, horizontal=True, key=f"t_dir_{suffix}",
                           index=directions.index(current["direction"]) if current.get("direction") in directions
                           else 0)
    statuses = list(target_edits.STATUSES)
    status = right.selectbox("Status", statuses, format_func=target_edits.STATUSES.get, key=f"t_st_{suffix}",
                             index=statuses.index(current["status"]) if current.get("status") in statuses else 0)
    criterion = st.text_area("Messkriterium", current.get("criterion") or "", key=f"t_crit_{suffix}")
    responsible = left.text_input("Zuständig", current.get("responsible") or "", key=f"t_resp_{suffix}")
    labels = {int(i): f"{t} ({a or k}, {s})" for i, t, a, k, s in zip(
        measures["id"], measures["text"], measures["area_name"], measures["area_key"], measures["session"])}
    linked = right.multiselect("Maßnahmen (aus den Sitzungen)", list(labels), format_func=labels.get,
                               default=[m for m in current.get("measures", []) if m in labels],
                               key=f"t_meas_{suffix}", placeholder="Bitte wählen …")
    if not st.button("Ziel speichern", type="primary", key=f"t_save_{suffix}"):
        return None
    target_id = current.get("id")
    target_edits.save_target(atlas().wh, user, {
        "title": title, "indicator": indicator, "level": level, "area_key": area, "base_year": base_year,
        "target_year": target_year, "target_value": target_value, "direction": direction, "tolerance": tolerance,
        "criterion": criterion, "responsible": responsible, "status": status},
        target_id, current.get("version"), linked, atlas())
    found = resources.target_status()
    return found.loc[found["title"] == title.strip(), "state"].iloc[-1]


def _plain(v) -> str:
    """A stored number as the German text the field shows."""
    if v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
        return ""
    return f"{float(v):g}".replace(".", ",")


def ampel_legend(s) -> str:
    """The legend heading of the Ampel map: targets, or the threshold rule (a rule, not a goal)."""
    return resources.ampel_states(s.indicator, s.level, s.year)[1]


def ampel_rule(s) -> None:
    """The rule written next to the Ampel map, and the targets behind it."""
    states, heading = resources.ampel_states(s.indicator, s.level, s.year)
    if heading == targets.RULE_LABEL:
        st.caption(safe(states["reason"].iloc[0]))
        return
    st.caption(targets.RULE_TEXT)
    shown = resources.target_status()
    shown = shown[(shown["indicator"] == s.indicator) & (shown["level"] == s.level)]
    if len(shown):
        with st.expander(f"Ziele auf dieser Ebene ({len(shown)})"):
            status_table(shown, internal=not atlas().public)
        report_download("map")


def report_download(where: str) -> None:
    """The Zielbericht (every target this instance may show), built only when clicked."""
    if downloads.while_following():
        return
    a = atlas()
    st.download_button("Zielbericht als PDF", lambda: target_report_pdf(a), "zielbericht.pdf", "application/pdf",
                       on_click="ignore", key=f"dl_target_report_{where}")


def target_series(indicator: str, level: str, keys: list[str]) -> tuple[pd.DataFrame, dict]:
    """The targets of the Zeitreihe's indicator for its areas and the town, with the series names they belong to."""
    shown = resources.target_status()
    top = resources.levels().iloc[0]["key"]
    names = {(level, k): n for k, n in resources.area_label(level).items()} | {
        (top, k): n.split(" ", 1)[-1] for k, n in resources.area_label(top).items()}
    chosen = [(lv == level and k in keys) or lv == top for lv, k in zip(shown["level"], shown["area_key"])]
    mine = shown[(shown["indicator"] == indicator).to_numpy() & np.array(chosen, dtype=bool)]
    return mine, names


def create_from_measure(user: User | None, measures: pd.DataFrame) -> None:
    """"Ziel anlegen" below the Maßnahmenliste: opens the Ziele page with the Maßnahme's area and indicator."""
    if measures.empty or not policy.can(user, "open", "Arbeitsbereich"):
        return
    labels = {int(i): f"{t} ({a or k})" for i, t, a, k in zip(measures["id"], measures["text"], measures["area_name"],
                                                              measures["area_key"])}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Maßnahme als Wirkungsziel", list(labels), format_func=labels.get, key="goal_measure")
    if right.button("Ziel anlegen", key="goal_from_measure", width="stretch"):
        state.put("massnahme", str(chosen))
        st.switch_page("pages/arbeitsbereich/ziele.py")
