"""Versorgung: places of a POI category against demand per area (quote, reach, 2SFCA) and the scenario
"geplante Einrichtung" (before/after); public: the released results only."""
import streamlit as st

from keck_data.analysis import scenario
from keck_data.config import settings
from keck_data.safe_text import safe
from keck_data.ui import frame, session, state, supply_view

if settings().is_public:
    supply_view.public_results()
    state.sync_url(["vs", "lvl", "yr"])
else:  # no st.stop(): the page frame still draws its end (QR corner, follow bar)
    with frame.controls(3) as cols:
        q = supply_view.question(cols)
    cmp = supply_view.comparison(q)
    st.markdown(f"# Versorgung {q.year}")
    st.caption(f"{cmp.before.method['distance']} · Umkreis {q.radius_m:.0f} m · "
               f"{cmp.before.method['demand_points']}")
    if cmp.before.without_capacity:
        with st.expander(f"{len(cmp.before.without_capacity)} Einrichtungen ohne Platzzahl (nicht als 0 gezählt)"):
            st.markdown(safe(", ".join(cmp.before.without_capacity)))
    supply_view.planning_form(q, cmp.before)
    cmp = supply_view.comparison(q)
    supply_view.maps(q, cmp)
    changed = scenario.text_table(cmp, q.level, only_changed=True)
    if cmp.added or cmp.closed:
        st.markdown("## Veränderte Gebiete")
        st.table(changed, hide_index=True)
    st.markdown("## Alle Gebiete")
    st.dataframe(scenario.text_table(cmp, q.level), hide_index=True, width="stretch", height=420)
    supply_view.save_forms(q, cmp, session.user())
    state.sync_url(["cat", "dem", "lvl", "yr", "radius", "target"])
