"""Charts as files (PNG, JPG, SVG, PDF) through plotly + kaleido, which drives the local Chromium."""
from __future__ import annotations

import plotly.graph_objects as go

from .errors import KeckError, ValidationError

FORMATS = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml", "pdf": "application/pdf"}


def chart_bytes(fig: go.Figure, fmt: str = "png") -> bytes:
    """The figure with its title and source line, A4-landscape sized."""
    if fmt not in FORMATS:
        raise ValidationError(f"Unbekanntes Format „{fmt}“ (möglich: {', '.join(FORMATS)}).")
    try:
        return fig.to_image(format="jpeg" if fmt == "jpg" else fmt, width=1400, height=900, scale=1)
    except Exception as exc:  # kaleido reports a missing browser with several exception types
        raise KeckError("Der Diagramm-Export braucht einen lokalen Chromium-Browser (Debian: "
                        f"„apt-get install chromium“). Fehler: {type(exc).__name__}") from exc
