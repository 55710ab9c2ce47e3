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
    public = ["--client.showErrorDetails", "none"] if settings().is_public else []  # no tracebacks for visitors
    sys.argv = ["streamlit", "run", str(APP), *public, *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
