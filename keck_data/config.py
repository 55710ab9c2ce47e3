"""Deployment settings, read from environment variables (no streamlit here)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ValidationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"Die Umgebungsvariable {name} muss eine ganze Zahl sein, nicht „{raw}“.") from None


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "ja", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """All knobs of one deployment."""

    mode: str
    warehouse_path: Path
    public_warehouse_path: Path
    privacy_threshold: int
    suppress_zeros: bool
    tile_url: str | None = None  # self-hosted base-map tiles ({z}/{x}/{y}); None: no third-party requests
    client_header: str | None = None  # header the reverse proxy sets to the client address (e.g. X-Real-IP)
    privacy_width: int | None = None  # protection width of hidden cells; None: threshold + 1
    public_url: str | None = None  # address of the public instance (QR codes of released views point there)
    wait_seconds: int = 300  # how long a command waits for the running instance or another command
    accessibility_contact: str | None = None  # feedback contact of the Erklärung zur Barrierefreiheit
    accessibility_enforcement: str | None = None  # the Land's Schlichtungs-/Durchsetzungsstelle

    @property
    def is_public(self) -> bool:
        return self.mode == "public"


def _tile_url(url: str | None) -> str | None:
    if url and not (url.startswith(("https://", "http://", "/")) and all(p in url for p in ("{z}", "{x}", "{y}"))):
        raise ValidationError(f"KECK_TILE_URL muss eine Adresse mit {{z}}, {{x}} und {{y}} sein, nicht „{url}“ "
                              "(z. B. https://karten.example.de/tiles/{z}/{x}/{y}.png).")
    return url


def settings() -> Settings:
    """Read the settings now (tests change the environment between runs)."""
    mode = os.environ.get("KECK_MODE", "internal").strip().lower()
    if mode not in ("internal", "public"):
        raise ValidationError(f"KECK_MODE muss „internal“ oder „public“ sein, nicht „{mode}“.")
    threshold = _int_env("KECK_PRIVACY_THRESHOLD", 3)
    if threshold < 0:
        raise ValidationError("KECK_PRIVACY_THRESHOLD darf nicht negativ sein.")
    return Settings(
        mode=mode,
        warehouse_path=Path(os.environ.get("KECK_WAREHOUSE", PROJECT_ROOT / "warehouse" / "keck.duckdb")),
        public_warehouse_path=Path(
            os.environ.get("KECK_PUBLIC_WAREHOUSE", PROJECT_ROOT / "warehouse" / "public.duckdb")
        ),
        privacy_threshold=threshold,
        suppress_zeros=_bool_env("KECK_PRIVACY_SUPPRESS_ZEROS", True),
        tile_url=_tile_url(os.environ.get("KECK_TILE_URL", "").strip() or None),
        client_header=os.environ.get("KECK_CLIENT_HEADER", "").strip() or None,
        privacy_width=_int_env("KECK_PRIVACY_WIDTH", threshold + 1),
        public_url=os.environ.get("KECK_PUBLIC_URL", "").strip().rstrip("/") or None,
        wait_seconds=_int_env("KECK_WAIT_SECONDS", 300),
        accessibility_contact=os.environ.get("KECK_A11Y_CONTACT", "").strip() or None,
        accessibility_enforcement=os.environ.get("KECK_A11Y_ENFORCEMENT", "").strip() or None,
    )
