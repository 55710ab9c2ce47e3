"""Both start commands of README serve the public atlas with the same settings (issue 22, item 13):
``python -m keck_data.ui.serve`` and ``streamlit run app.py``, nothing but .streamlit/config.toml and the mode."""
from __future__ import annotations

import re
import secrets
import shutil
import time

import pytest

from tests.browser_support import SERVE, STREAMLIT_RUN, atlas_server, wait_idle

pytestmark = pytest.mark.browser


def effective(log) -> dict[str, str]:
    """The settings the atlas logs at its first script run."""
    deadline = time.time() + 60
    while not (found := re.search(r"Sozialraum-Atlas \((\w+)\): (.*)", log.read_text())):
        assert time.time() < deadline, log.read_text()
        time.sleep(0.3)
    return {"mode": found.group(1), **dict(pair.split("=", 1) for pair in found.group(2).split(", "))}


@pytest.mark.parametrize("start", [SERVE, STREAMLIT_RUN], ids=["serve", "streamlit-run"])
@pytest.mark.parametrize("mode", ["public", "internal"])
def test_every_start_command_keeps_the_settings(start, mode, files, demo_file, browser, tmp_path):
    internal = tmp_path / "keck.duckdb"  # its own file: the shared browser servers' internal instance holds theirs
    shutil.copy(demo_file, internal)
    env = {"KECK_MODE": mode, "KECK_PUBLIC_WAREHOUSE": str(files["public"]),
           "KECK_WAREHOUSE": str(internal), "KECK_AUTH_DIR": str(tmp_path / "auth"),
           "KECK_COOKIE_KEY": secrets.token_hex(32)}  # the internal instance refuses to start without one
    log = tmp_path / "server.log"
    with atlas_server(env, log, start, options=()) as url:  # no options: config.toml and the mode decide
        page = browser.new_page()
        try:
            page.goto(f"{url}/karte")
            wait_idle(page, timeout=120_000)
            found = effective(log)
        finally:
            page.close()
    # the same in both modes and both commands (config.toml)
    assert found["runner.postScriptGC"] == "False" and found["server.fileWatcherType"] == "none", found
    assert found["client.showErrorDetails"] == ("none" if mode == "public" else "full"), found
    if mode == "public" and start == STREAMLIT_RUN:  # fixed at server start: said in the log, not silent
        assert "Öffentliche Instanz ohne komprimierte Websocket-Nachrichten" in log.read_text()
