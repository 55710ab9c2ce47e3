"""Sozialraum-Atlas: entry point (page config, mode, login, the page registry, pg.run())."""
import logging

import streamlit as st

from keck_data.config import settings
from keck_data.errors import KeckError
from keck_data.ui import frame, mode_options, registry, resources, session, upload_gate
from keck_data.safe_text import safe

st.set_page_config(page_title="Sozialraum-Atlas", page_icon="🗺️", layout="wide")
mode_options.apply()  # also under `streamlit run app.py`
try:
    with resources.reading():  # one Atlas for the whole rerun; public: one snapshot to its end
        public = settings().is_public
        user = None if public else session.current_user()
        upload_gate.permit(user)  # uploads only from signed-in editors' sessions
        page = st.navigation(registry.navigation(public, user),
                             position="hidden" if not public and user is None else frame.nav_position(),
                             expanded=True)  # every page listed: no English "View 3 more" link
        frame.begin(page.url_path, user, page.title)
        page.run()
        frame.finish(user)
except KeckError as err:
    st.error(safe(err))
except Exception:
    if not settings().is_public:
        raise  # internal: Streamlit shows the details to staff
    logging.getLogger("keck_data").exception("Fehler beim Anzeigen einer Seite")  # for the operator
    st.error("Diese Ansicht konnte gerade nicht angezeigt werden. Bitte die Seite neu laden.")  # no traceback
