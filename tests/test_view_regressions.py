"""Views that must follow the user (issue 22, items 9 and 12), in AppTest started from app.py."""
from __future__ import annotations

import pytest

from tests.app_harness import markdown


def legend(at) -> str:
    return next(m.value for m in at.markdown if 'class="keck-legend"' in m.value)


def param(at, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_manual_breaks_do_not_carry_over_to_another_indicator(app):
    at = app("public", None, ind="anteil_alleinerziehend", lvl="sozialraum", cls="manual", breaks="20,25,30")
    assert "bis 20,0 %" in legend(at) and "über 25,0 bis 30,0 %" in legend(at)
    at.selectbox(key="w_ind").set_value("sgb2_quote_u15").run()
    assert not at.exception
    assert "galten für „Anteil Alleinerziehender" in "\n".join(i.value for i in at.info)
    assert "über 25,0 bis 30,0" not in legend(at) and legend(at).count('class="sw') >= 3  # quantiles meanwhile
    assert not param(at, "breaks")
    at.text_input(key="w_breaks").input("10; 20").run()  # typed for this indicator: they hold
    assert "über 10,0 bis 20,0" in legend(at) and param(at, "breaks") in ("10,20", ["10", "20"])
    assert not at.info or "galten für" not in at.info[0].value


@pytest.mark.parametrize("page", ["pages/atlas/karte.py", "pages/atlas/diagramme.py"])
def test_address_follows_a_new_themenfeld(app, page):
    at = app("public", None, ind="sgb2_quote_u15", topic="soziale_lage")
    at.switch_page(page).run()
    at.selectbox(key="w_topic").set_value("bildung").run()
    first = at.selectbox(key="w_ind").value
    assert param(at, "topic") == "bildung" and param(at, "ind") == first != "sgb2_quote_u15"
    assert markdown(at)  # the heading followed as well
