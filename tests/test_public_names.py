"""The public snapshot carries no login names: not as bookmark owner, not as the last editor of a POI."""
from keck_data import editing
from keck_data.policy import User
from keck_data.publish import publish
from keck_data.warehouse import Warehouse

EDITOR = User("m.mustermann", "Maria Mustermann", "keck_admin")


def test_snapshot_has_no_login_names(wh, tmp_path):
    poi = editing.create_poi(wh, EDITOR, {"name": "Kita Regenbogen", "category": "kita", "lon": 8.46, "lat": 51.52,
                                          "public": True})
    editing.save_bookmark(wh, EDITOR, "Hafen im Blick", "Hohe Quote", {"page": "karte"}, public=True)
    publish(wh, tmp_path / "public.duckdb", EDITOR)
    with Warehouse(tmp_path / "public.duckdb", read_only=True) as pub:
        cur = pub.cursor()
        assert cur.execute("SELECT count(*) FROM poi WHERE id = ?", [poi]).fetchone()[0] == 1
        assert cur.execute("SELECT title FROM bookmark").fetchall() == [("Hafen im Blick",)]
        columns = cur.execute("SELECT table_name, column_name FROM information_schema.columns WHERE data_type = "
                              "'VARCHAR'").fetchall()
        for table, column in columns:
            found = cur.execute(f'SELECT count(*) FROM "{table}" WHERE contains("{column}", ?)',
                                [EDITOR.username]).fetchone()[0]
            assert found == 0, f"{table}.{column} contains the login name"

