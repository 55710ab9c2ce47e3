"""A new public snapshot while visitors are reading: running reruns finish on the old one, later ones use the
new one, and nobody sees an error, a traceback or a server path."""
import asyncio
import itertools
import os
import secrets
import shutil

import pytest

from benchmarks.protocol import Browser, run
from keck_data import editing
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.browser_support import atlas_server

PAGES = ["karte", "tabelle", "indikatoren", "zeitreihe"]


@pytest.fixture()
def snapshots(demo_file, tmp_path):
    """Two different snapshots (the second has the Sozialindex released) and the served file."""
    source = tmp_path / "keck.duckdb"
    shutil.copy(demo_file, source)
    first, second = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with Warehouse(source) as wh:
        publish(wh, first, system())
        editing.set_released(wh, system(), "sozialindex", True)
        publish(wh, second, system())
    served = tmp_path / "public" / "public.duckdb"
    served.parent.mkdir()
    shutil.copy(first, served)
    return first, second, served


def test_30_swaps_while_4_visitors_rerun_show_no_error(snapshots, tmp_path):
    """A real public server and four visitors over Streamlit's protocol (AppTests in threads share one runtime
    and break each other, which is not what visitors see)."""
    first, second, served = snapshots

    async def scenario(url: str) -> tuple[list[str], int]:
        problems, runs, done = [], [0], asyncio.Event()

        async def visitor(n: int) -> None:
            browser = Browser(url)
            problems.extend((await browser.open("karte")).errors)
            for i in itertools.count(n):
                if done.is_set():
                    break
                page = PAGES[i % len(PAGES)]
                problems.extend(f"{page}: {e}" for e in (await browser.rerun(page_hash=browser.pages[page])).errors)
                runs[0] += 1
            await browser.close()

        async def publisher() -> None:
            for i in range(30):  # exactly what publish does: a complete file renamed over the served one
                tmp = served.with_name(f".public.duckdb.{i}.tmp")
                shutil.copy(second if i % 2 == 0 else first, tmp)
                os.replace(tmp, served)
                seen = runs[0]
                for _ in range(2400):  # the next swap comes while others still read
                    if runs[0] >= seen + 2:
                        break
                    await asyncio.sleep(0.05)
            done.set()

        await asyncio.gather(publisher(), *(visitor(n) for n in range(4)))
        return problems, runs[0]

    with atlas_server({"KECK_MODE": "public", "KECK_PUBLIC_WAREHOUSE": str(served)}, tmp_path / "public.log") as url:
        problems, runs = run(scenario(url))
    assert not problems, problems[:5]
    assert runs >= 60, "the visitors hardly ran"
    assert "Traceback" not in (tmp_path / "public.log").read_text()


def test_public_errors_are_a_german_box_without_traceback_or_path(app, monkeypatch):
    from keck_data.queries import Atlas

    def broken(self, *args):
        raise RuntimeError("/srv/keck/warehouse/public.duckdb: kaputt")

    monkeypatch.setattr(Atlas, "table", broken)
    at = app("public")
    at.switch_page("pages/atlas/tabelle.py").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Diese Ansicht konnte gerade nicht angezeigt werden. Bitte die Seite "
                                           "neu laden."]


@pytest.mark.parametrize("mode,options", [
    ("public", ["--client.showErrorDetails", "none", "--runner.postScriptGC", "false", "--server.fileWatcherType",
                "none", "--server.enableWebsocketCompression", "true"]),
    # each 0.5 s tick of a live session's followers ran a full gc.collect() (≈150 ms of CPU with 40 followers)
    # and resolved the path of every loaded module for the file watcher (a third of the server's CPU)
    ("internal", ["--runner.postScriptGC", "false", "--server.fileWatcherType", "none"])])
def test_server_options(mode, options, monkeypatch):
    """Public: no error details for visitors; both: no full garbage collection after every script run, no
    source file watcher."""
    from keck_data.ui import serve
    started = []
    monkeypatch.setattr(serve.cli, "main", lambda: started.append(list(serve.sys.argv)))
    monkeypatch.setattr(serve.sys, "argv", ["serve", "--server.port", "8502"])
    monkeypatch.setenv("KECK_MODE", mode)
    monkeypatch.setenv("KECK_COOKIE_KEY", secrets.token_hex(32))  # the internal server refuses a weak key
    serve.main()
    args = started[0][3:]
    pairs = set(zip(args, args[1:]))
    assert all((options[i], options[i + 1]) in pairs for i in range(0, len(options), 2)), args
    assert args[-2:] == ["--server.port", "8502"]  # the caller's options last: they win
