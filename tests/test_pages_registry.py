"""Smoke test over every registered page × every role (and the public instance), built from the page registry."""
import pytest
from streamlit.util import calc_hash

from keck_data.policy import ROLES, User
from keck_data.ui import registry
from tests.app_harness import markdown

def open_address(at, url_path: str):
    """Run the page a browser gets for /<url_path> (st.Page hashes its url_path; AppTest.switch_page only finds
    script files, and refused addresses all run the one refusal script)."""
    at._page_hash = calc_hash(url_path)
    return at.run()


CASES = [("public", None)] + [("internal", role) for role in ROLES]


@pytest.mark.parametrize("mode,role", CASES, ids=[role or mode for mode, role in CASES])
def test_every_registered_page_renders_or_refuses_in_german(app, mode, role):
    at = app(mode, role, areas="0101,0203", sel="0101", ind2="ew_u18", poi="kita")
    user = User("probe", "probe", role) if role else None
    for spec in registry.PAGES:
        open_address(at, spec.url_path)
        assert not at.exception, (spec.url_path, [e.value for e in at.exception])
        text = markdown(at)
        if registry.allowed(spec, mode == "public", user):
            assert not at.error, (spec.url_path, [e.value for e in at.error])
            assert "Seite nicht verfügbar" not in text, spec.url_path
            for frame in at.dataframe:  # Streamlit shows empty cells as the English "None"
                empty = frame.value.columns[frame.value.isna().any()].tolist()
                assert not empty, (spec.url_path, empty)
        else:
            assert "Seite nicht verfügbar" in text, spec.url_path
            why = "\n".join(w.value for w in at.warning)
            assert "nicht freigegeben" in why or "öffentlichen Instanz" in why


def test_refusal_page_links_to_the_map(app):
    at = app("internal", "keck_nutzer")
    open_address(at, "benutzer")
    assert "Diese Seite ist für Ihre Rolle nicht freigegeben" in "\n".join(w.value for w in at.warning)
    assert [link.label for link in at.get("page_link")] == ["Zur Karte"]
