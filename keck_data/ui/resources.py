"""The process's warehouse connection and cached, version-keyed loaders (DESIGN.md rules 4 and 8)."""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from ..config import settings
from ..errors import WarehouseError
from ..queries import Atlas
from ..warehouse import Warehouse


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(path: str, read_only: bool, stamp: tuple | None) -> Warehouse:
    """One connection per file (and, for the public snapshot, per published version of it)."""
    return Warehouse(path, read_only=read_only)


def atlas() -> Atlas:
    """The Atlas of this deployment; a new public snapshot is picked up on the next rerun."""
    cfg = settings()
    if cfg.is_public:
        path = cfg.public_warehouse_path
        if not path.exists():
            raise WarehouseError(
                f"Es gibt noch keinen veröffentlichten Datenstand ({path}). Bitte intern „Veröffentlichen“ "
                "ausführen oder „python -m keck_data publish“.")
        info = os.stat(path)
        wh = _open(str(path), True, (info.st_ino, info.st_mtime_ns, info.st_size))
    else:
        path = cfg.warehouse_path
        if not path.exists():
            raise WarehouseError(
                f"Kein Warehouse unter {path}. Bitte zuerst „python -m keck_data init-demo“ ausführen.")
        wh = _open(str(path), False, None)
    return Atlas(wh, public=cfg.is_public)


@st.cache_data(max_entries=1024, show_spinner=False)
def _call(_atlas: Atlas, key: tuple, method: str, args: tuple) -> Any:
    return getattr(_atlas, method)(*args)


def load(method: str, *args: Any) -> Any:
    """``Atlas.<method>(*args)`` cached until the next write (the warehouse version is part of the key)."""
    a = atlas()
    key = (str(a.wh.path), a.public, a.wh.version(), os.stat(a.wh.path).st_mtime_ns if a.public else 0)
    return _call(a, key, method, tuple(tuple(x) if isinstance(x, list) else x for x in args))
