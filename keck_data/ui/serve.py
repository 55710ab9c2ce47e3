"""Start the atlas: ``python -m keck_data.ui.serve [streamlit options]``.

Same as ``streamlit run app.py`` except that Streamlit's legacy auto-discovery of the ``pages/`` folder is off
from the first request on, so a deep link such as ``/karte?ind=…`` works even as the server's first visit.
"""
import sys
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from keck_data.config import settings

APP = Path(__file__).resolve().parents[2] / "app.py"


def main() -> None:
    PagesManager.uses_pages_directory = False
    # No full garbage collection after every script run (Streamlit's default): with pandas, shapely and plotly
    # loaded it took 40 % of a loaded public replica's CPU (bench_load profile) and ~150 ms of each 0.5 s tick of
    # a live session's follow fragment (bench_session profile). Public also: no tracebacks for visitors;
    # compressed websocket messages (the map's JSON shrinks several times; nothing secret is sent).
    # No source file watcher: after every script run it resolved the path of every loaded module (a third of
    # the server's CPU with 40 followers polling, bench_session profile); an installed atlas does not change
    # its code while it runs (developers pass --server.fileWatcherType auto).
    both = ["--runner.postScriptGC", "false", "--server.fileWatcherType", "none"]
    options = (["--client.showErrorDetails", "none", *both, "--server.enableWebsocketCompression", "true"]
               if settings().is_public else both)
    sys.argv = ["streamlit", "run", str(APP), *options, *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
