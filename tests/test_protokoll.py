"""Änderungsprotokoll: one page of entries at a time, long values shortened, German labels."""
from keck_data import editing
from keck_data.policy import Resource, system
from keck_data.warehouse import Warehouse


def _bulk(wh, n: int, size: int = 10) -> None:
    def write(tx):
        for i in range(n):
            tx.audit("topic", f"t{i}", None, "x" * size)
    wh.write(system("massen"), "save-indicator", [Resource("topic")], write)


def test_entries_come_in_pages_with_long_values_shortened(wh):
    _bulk(wh, 120, size=5_000_000)
    total = editing.audit_count(wh, "massen", None)
    assert total == 120
    first = editing.audit_entries(wh, "massen", None, limit=50)
    third = editing.audit_entries(wh, "massen", None, limit=50, offset=100)
    assert len(first) == 50 and len(third) == 20 and set(first["id"]).isdisjoint(third["id"])
    assert first["after"].str.len().max() <= editing.MAX_SHOWN + 1


def test_protokoll_page_shows_one_page(app, internal_file):
    with Warehouse(internal_file) as wh:
        _bulk(wh, 130)
    at = app("internal", role="keck_admin")
    at.switch_page("pages/arbeitsbereich/protokoll.py").run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert len(shown) == 50 and "Aktion" in shown.columns
    assert "Indikator gespeichert" in set(shown["Aktion"])
    at.number_input(key="audit_page").set_value(2).run()
    assert not at.exception and len(at.dataframe[0].value) == 50
    assert at.dataframe[0].value["Nr."].max() < shown["Nr."].min()
