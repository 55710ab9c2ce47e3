"""Streamlit settings that depend on the mode, made to hold however the atlas was started.

``.streamlit/config.toml`` holds every setting that is the same in both modes (no full GC after every run,
no file watcher, viewer toolbar …); ``python -m keck_data.ui.serve`` also passes the mode's options on its
command line. For ``streamlit run app.py`` every script run applies what can still be changed while the server
runs, and the log says what cannot (websocket compression is fixed when the server starts).
"""
from __future__ import annotations

import logging

from streamlit import config

from ..config import settings

LOG = logging.getLogger("keck_data")
ERRORS = "client.showErrorDetails"
_replaced: dict[str, object] = {}  # the value this module replaced (restored when a test switches to internal)
_logged: set[str] = set()  # modes whose settings this process has logged


def apply() -> None:
    """Public: no error details for visitors (read on every error, so setting it now holds from here on)."""
    mode = settings().mode
    if mode == "public" and config.get_option(ERRORS) != "none":
        _replaced.setdefault(ERRORS, config.get_option(ERRORS))
        config.set_option(ERRORS, "none")
    elif mode != "public" and ERRORS in _replaced:
        config.set_option(ERRORS, _replaced.pop(ERRORS))
    if mode not in _logged:
        _logged.add(mode)
        _log(mode)


def _log(mode: str) -> None:
    effective = {key: config.get_option(key) for key in
                 (ERRORS, "runner.postScriptGC", "server.fileWatcherType", "server.enableWebsocketCompression")}
    LOG.warning("Sozialraum-Atlas (%s): %s", mode, ", ".join(f"{key}={value}" for key, value in effective.items()))
    if mode == "public" and not effective["server.enableWebsocketCompression"]:
        LOG.warning("Öffentliche Instanz ohne komprimierte Websocket-Nachrichten: mit "
                    "python -m keck_data.ui.serve starten (oder --server.enableWebsocketCompression true).")
