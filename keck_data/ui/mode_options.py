"""Streamlit settings that depend on the mode, made to hold however the atlas was started.

``.streamlit/config.toml`` holds every setting that is the same in both modes (no full GC after every run,
no file watcher, viewer toolbar …); ``python -m keck_data.ui.serve`` also passes the mode's options on its
command line. For ``streamlit run app.py`` the first script run of the process applies what can still be
changed while the server runs, and says in the log what cannot (websocket compression is fixed at start).
"""
from __future__ import annotations

import logging

from streamlit import config

from ..config import settings

LOG = logging.getLogger("keck_data")
_applied: list[bool] = []  # once per process


def apply() -> None:
    """Public: no error details for visitors (read on every error, so setting it now holds from here on)."""
    if _applied:
        return
    _applied.append(True)
    public = settings().is_public
    if public:
        config.set_option("client.showErrorDetails", "none")
    effective = {key: config.get_option(key) for key in
                 ("client.showErrorDetails", "runner.postScriptGC", "server.fileWatcherType",
                  "server.enableWebsocketCompression")}
    LOG.warning("Sozialraum-Atlas (%s): %s", settings().mode,
                ", ".join(f"{key}={value}" for key, value in effective.items()))
    if public and not effective["server.enableWebsocketCompression"]:
        LOG.warning("Öffentliche Instanz ohne komprimierte Websocket-Nachrichten: mit "
                    "python -m keck_data.ui.serve starten (oder --server.enableWebsocketCompression true).")
