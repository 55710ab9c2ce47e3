"""Who may upload: Streamlit accepts ``PUT /_stcore/upload_file/<session>/<file>`` from any open browser session
and keeps the file in memory until the session ends, with or without an uploader on the page (three anonymous
100 MB PUTs: +300 MB). The atlas lets the PUT through only for sessions whose signed-in user may open the
Arbeitsbereich (the import page's own question); everybody else gets 403 before a byte of the body is read. The
public instance never permits a session. ``serve.py`` installs the gate into Streamlit's upload route.
"""
from __future__ import annotations

import threading

from starlette.responses import PlainTextResponse
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .. import policy
from ..policy import User

_permitted: set[str] = set()  # Streamlit session ids
_lock = threading.Lock()


def permit(user: User | None) -> None:
    """On every run: this browser session may upload exactly while its user may open the Arbeitsbereich."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with _lock:
        if user is not None and policy.can(user, "open", "Arbeitsbereich"):
            _permitted.add(ctx.session_id)
        else:
            _permitted.discard(ctx.session_id)


def permitted(session_id: str) -> bool:
    with _lock:
        return session_id in _permitted


def install() -> None:
    """Wrap the PUT of Streamlit's upload routes (Streamlit ≥ 1.67, Starlette server) with the gate."""
    from starlette.routing import Route
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_upload_routes

    def gated_routes(*args, **kwargs):
        routes = []
        for route in original(*args, **kwargs):
            if "PUT" in (route.methods or ()):
                route = Route(route.path, _gated(route.endpoint), methods=["PUT"])
            routes.append(route)
        return routes

    starlette_app.create_upload_routes = gated_routes


def _gated(endpoint):
    async def put(request):
        if not permitted(request.path_params.get("session_id", "")):
            return PlainTextResponse("Hochladen ist nur angemeldeten Bearbeiterinnen und Bearbeitern erlaubt.",
                                     status_code=403, headers={"Connection": "close"})
        return await endpoint(request)
    return put
