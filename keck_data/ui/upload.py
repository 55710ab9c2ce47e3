"""Uploaded files as temporary files (kept for the session) and their column names for the mapping step."""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from ..importing.areas import read_geofile
from ..importing.files import read_table

GEO = (".zip", ".geojson", ".json", ".gpkg")


def stored(upload) -> Path:
    """The upload written once to a private temp folder (re-used across reruns)."""
    key = f"upload_{upload.file_id}"
    if key not in st.session_state:
        folder = Path(tempfile.mkdtemp(prefix="keck_upload_"))
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        st.session_state[key] = str(path)
    return Path(st.session_state[key])


def columns(path: Path) -> list[str]:
    if path.suffix.lower() in GEO:
        return [c for c in read_geofile(path).columns if c != "geometry"]
    frame, _ = read_table(path)
    return list(frame.columns)
