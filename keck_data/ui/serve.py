"""Start the atlas: ``python -m keck_data.ui.serve [streamlit options]``.

Same as ``streamlit run app.py`` except that Streamlit's legacy auto-discovery of the ``pages/`` folder is off
from the first request on, so a deep link such as ``/karte?ind=…`` works even as the server's first visit.
"""
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli
from streamlit.web.server.starlette import starlette_server

from keck_data import auth
from keck_data.config import settings
from keck_data.errors import KeckError
from keck_data.importing.files import MAX_BYTES
from keck_data.ui import upload, upload_gate

APP = Path(__file__).resolve().parents[2] / "app.py"
MAX_INCOMING_MESSAGE = 2 * 2**20  # a browser's websocket message: widget values (a 20-million-character user
# name was kept in the session for an hour); Streamlit's own limit (200 MB) stays for what the server sends


def main() -> None:
    PagesManager.uses_pages_directory = False
    # No full garbage collection after every script run (Streamlit's default): with pandas, shapely and plotly
    # loaded it took 40 % of a loaded public replica's CPU (bench_load profile) and ~150 ms of each 0.5 s tick of
    # a live session's follow fragment (bench_session profile). Public also: no tracebacks for visitors;
    # compressed websocket messages (the map's JSON shrinks several times; nothing secret is sent).
    # No source file watcher: after every script run it resolved the path of every loaded module (a third of
    # the server's CPU with 40 followers polling, bench_session profile); an installed atlas does not change
    # its code while it runs (developers pass --server.fileWatcherType auto).
    # Uploads: only signed-in editors' sessions (upload_gate), at most the import limit; the public instance
    # takes none (1 MB is Streamlit's smallest limit; the gate refuses every session there anyway).
    # No "Download as CSV" in the dataframe toolbar: it writes cells unneutralised (=HYPERLINK(…) in a name);
    # the pages offer their own CSV/XLSX downloads through keck_data/cells.py.
    public = settings().is_public
    if not public:
        try:
            auth.cookie_key()  # a weak key would let anybody forge a login cookie: do not start at all
        except KeckError as err:
            sys.exit(f"Der Sozialraum-Atlas startet nicht: {err}")
    both = ["--runner.postScriptGC", "false", "--server.fileWatcherType", "none", "--client.disableDataExport", "true",
            "--server.maxUploadSize", "1" if public else str(MAX_BYTES // 2**20)]
    options = (["--client.showErrorDetails", "none", *both, "--server.enableWebsocketCompression", "true"]
               if public else both)
    upload_gate.install()
    if not public:
        upload.sweep_abandoned()
    starlette_server._get_uvicorn_config_kwargs = _uvicorn_options(starlette_server._get_uvicorn_config_kwargs)
    sys.argv = ["streamlit", "run", str(APP), *options, *sys.argv[1:]]
    cli.main()


def _uvicorn_options(original):
    """Streamlit's uvicorn options with a small limit for what a browser sends (Streamlit's own 200 MB stays for
    what the server sends) and without trusting X-Forwarded-For (uvicorn trusts it from 127.0.0.1, so a rotating
    header got every guess of the login throttle a new client; behind a proxy set KECK_CLIENT_HEADER)."""
    def options():
        return original() | {"ws_max_size": MAX_INCOMING_MESSAGE, "proxy_headers": False}
    return options


if __name__ == "__main__":
    main()
