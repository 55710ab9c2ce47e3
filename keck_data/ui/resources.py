"""The process's warehouse connection and cached, version-keyed loaders (DESIGN.md rules 4 and 8)."""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, TypeVar

import pandas as pd
import streamlit as st

from .. import cli, handover
from ..analysis import correlation, derived, similar as similar_areas, sozialindex as social_index, targets
from ..analysis import profile as area_profile
from ..config import settings
from ..errors import WarehouseError
from ..queries import Atlas
from ..warehouse import Warehouse

LOG = logging.getLogger("keck_data")


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Warehouse:
    """The internal instance: one read-write connection per file and process, kept open; command-line jobs
    run on it through the desk (:mod:`keck_data.handover`). A command holding the file is waited for."""
    if not Path(path).exists():  # here, not in atlas(): a file once open is not looked for on every call
        raise WarehouseError(f"Kein Warehouse unter {path}. Bitte zuerst „python -m keck_data init-demo“ ausführen.")
    wh = handover.open_waiting(lambda: Warehouse(path), settings().wait_seconds, lambda locked: None)
    handover.Desk(wh, cli.run_job).start()
    return wh


class _Snapshot:
    """The public instance's open snapshot, shared by all sessions, with a count of the reruns reading it.

    A rerun reads one snapshot from start to end (:func:`reading`). When a new file has been published, the
    next rerun waits until the last reader of the old one has finished, then closes it and opens the new one:
    DuckDB hands out the already open database for a path, so the old handle must be closed first, and
    closing it under a running query is what showed visitors "Connection already closed".
    """

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.stamp: tuple | None = None
        self.wh: Warehouse | None = None
        self.readers = 0

    def acquire(self, path: Path) -> Warehouse:
        with self.changed:
            while True:
                info = os.stat(path)
                stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
                if self.wh is None or self.stamp == stamp or not self.readers:
                    break
                self.changed.wait()  # a new file: let the reruns on the old one finish
            if self.stamp != stamp or self.wh is None:
                if self.wh is not None:
                    self.wh.close()
                    self.wh = None  # stays None if the new file cannot be opened
                self.wh, self.stamp = Warehouse(path, read_only=True), stamp
            self.readers += 1
            return self.wh

    def release(self) -> None:
        with self.changed:
            self.readers -= 1
            self.changed.notify_all()


@st.cache_resource(show_spinner=False)
def _snapshots() -> dict[str, _Snapshot]:
    """One shared :class:`_Snapshot` per path (created under a lock)."""
    return {}


_SNAPSHOTS_LOCK = threading.Lock()
_held = threading.local()  # the snapshot this thread's rerun reads


def _snapshot_for(path: Path) -> _Snapshot:
    with _SNAPSHOTS_LOCK:
        return _snapshots().setdefault(str(path), _Snapshot())


def _acquire(path: Path) -> tuple[_Snapshot, Warehouse]:
    """The public snapshot at ``path``, opened for one reader. Missing, broken or of another schema version:
    visitors read a German sentence without the server's path or DuckDB's message; the operator finds both in
    the log (issue 23)."""
    if not path.exists():
        LOG.error("Kein veröffentlichter Datenstand unter %s: intern „Veröffentlichen“ ausführen oder "
                  "„python -m keck_data publish“.", path)
        raise WarehouseError("Es gibt noch keinen veröffentlichten Datenstand. Bitte später erneut versuchen.")
    snapshot = _snapshot_for(path)
    try:
        return snapshot, snapshot.acquire(path)
    except Exception as err:  # any failure to open is the same news for a visitor
        LOG.error("Veröffentlichter Datenstand %s nicht lesbar: %s", path, err)
        raise WarehouseError("Der veröffentlichte Datenstand kann gerade nicht gelesen werden. Bitte später "
                             "erneut versuchen.") from None


@contextmanager
def reading() -> Iterator[None]:
    """One rerun: it finds its Atlas once (not on each of the thirty calls of a page), and on the public
    instance reads one snapshot to its end (a publish meanwhile reaches the next rerun)."""
    if getattr(_held, "running", False):
        yield
        return
    _held.running, _held.atlas = True, None
    try:
        cfg = settings()
        if not cfg.is_public:
            yield
            return
        snapshot, _held.wh = _acquire(cfg.public_warehouse_path)
        try:
            yield
        finally:
            _held.wh = None
            snapshot.release()
    finally:
        _held.running, _held.atlas = False, None


def _snapshot(path: Path) -> Warehouse:
    """The snapshot this rerun reads; outside :func:`reading` (tests, tools) the current one."""
    held = getattr(_held, "wh", None)
    if held is not None:
        return held
    snapshot, wh = _acquire(path)
    snapshot.release()
    return wh


def atlas() -> Atlas:
    """The Atlas of this deployment; a new public snapshot is picked up on the next rerun."""
    if getattr(_held, "atlas", None) is not None:  # found before in this rerun
        return _held.atlas
    found = _find_atlas()
    if getattr(_held, "running", False):
        _held.atlas = found
    return found


def _find_atlas() -> Atlas:
    cfg = settings()
    if cfg.is_public:
        wh = _snapshot(cfg.public_warehouse_path)
    else:
        wh = _open(str(cfg.warehouse_path))
    return _atlas_for(wh, cfg.is_public, id(wh))


@st.cache_resource(max_entries=8, show_spinner=False)
def _atlas_for(_wh: Warehouse, public: bool, wh_id: int) -> Atlas:
    """One Atlas per open warehouse (``wh_id``), so its metadata memo survives reruns."""
    return Atlas(_wh, public=public)


T = TypeVar("T")
MAX_KEPT = 256  # results per kind (method) and version; the oldest goes first
_MISSING = object()


def kept(key: tuple, compute: Callable[[Atlas], T], max_entries: int = MAX_KEPT) -> T:
    """``compute(atlas)``, kept on the Atlas for every session until the next write (results of an older
    warehouse version are dropped); ``key[0]`` names the kind, at most ``max_entries`` of a kind are kept.

    Shared, not copied: callers treat the result as read-only, which keeps a rerun on 11,000 areas from
    unpickling the geometry every time. Reading is a plain dict lookup: with Streamlit's cache_resource (two
    locks per call, ~70 calls per rerun) the 40 followers of a live session queued for each other's locks.
    One computation per key; others asking meanwhile wait for it.
    """
    a = atlas()
    version = a.wh.version()
    store = a.shared.setdefault(key[0], {})
    full = (version, *key[1:])
    value = store.get(full, _MISSING)
    if value is not _MISSING:
        return value
    with a.shared.setdefault(("computing", key[0], full), threading.Lock()):
        value = store.get(full, _MISSING)
        if value is _MISSING:
            value = compute(a)
            with a.shared.setdefault(("storing", key[0]), threading.Lock()):  # readers never iterate
                for old in [k for k in store if k[0] < version]:
                    del store[old]
                while len(store) >= max_entries:
                    del store[next(iter(store))]
                store[full] = value
    a.shared.pop(("computing", key[0], full), None)
    return value


def _cached(method: str, *args: Any) -> Any:
    """``Atlas.<method>(*args)``, kept (see :func:`kept`)."""
    args = tuple(tuple(x) if isinstance(x, list) else x for x in args)
    return kept((method, args), lambda a: getattr(a, method)(*args))


# One typed loader per resource (the columns are documented on the Atlas methods).
def indicators() -> pd.DataFrame:
    return _cached("indicators")


def indicator(key: str) -> pd.Series:
    return _cached("indicator", key)


def topics() -> pd.DataFrame:
    return _cached("topics")


def levels() -> pd.DataFrame:
    return _cached("levels")


def level_name(level: str) -> str:
    return _cached("level_name", level)


def years(indicator_key: str | None) -> list[int]:
    return _cached("years", indicator_key)


def area_label(level: str) -> dict[str, str]:
    return _cached("area_label", level)


def uninhabited(level: str) -> list[str]:
    return _cached("uninhabited", level)


def municipality() -> str:
    return _cached("municipality")


def is_demo() -> bool:
    return _cached("is_demo")


def bounds() -> tuple[float, float, float, float]:
    return _cached("bounds")


def display_shapes(level: str) -> pd.DataFrame:
    return _cached("display_shapes", level)


def level_values(indicator_key: str, level: str, year: int) -> pd.DataFrame:
    return _cached("level_values", indicator_key, level, year)


def incomplete(indicator_keys: list[str], year: int) -> pd.DataFrame:
    return _cached("incomplete", indicator_keys, [year])


def reference_values(indicator_key: str, year: int) -> pd.DataFrame:
    return _cached("reference_values", indicator_key, year)


def table(indicator_keys: list[str], level: str, year: int) -> pd.DataFrame:
    return _cached("table", indicator_keys, level, year)


def compare(level: str, keys: list[str], year: int) -> pd.DataFrame:
    return _cached("compare", level, keys, year)


def scatter(x: str, y: str, level: str, year: int) -> tuple[pd.DataFrame, float | None]:
    return _cached("scatter", x, y, level, year)


def timeseries(indicator_key: str, level: str, keys: list[str]) -> pd.DataFrame:
    return _cached("timeseries", indicator_key, level, keys)


def poi_categories() -> pd.DataFrame:
    return _cached("poi_categories")


def pois(categories: list[str]) -> pd.DataFrame:
    return _cached("pois", categories)


def profile(area: str, level: str, year: int) -> area_profile.Profile:
    """Was fällt auf? The area's profile (:func:`keck_data.analysis.profile.profile`)."""
    return kept(("profile", area, level, year), lambda a: area_profile.profile(a, area, level, year))


def derived_states() -> dict[str, tuple[str, str | None]]:
    """Derived indicator key → (state "aktuell" | "veraltet", why stale); empty in the public snapshot."""
    def load(a: Atlas) -> dict:
        listing = derived.listing(a.wh)
        return {k: (s, r) for k, s, r in zip(listing["key"], listing["state"], listing["stale_reason"])}
    return kept(("derived_states",), load)


def sozialindex(spec: social_index.Spec) -> social_index.Result:
    """The index of ``spec`` (:func:`keck_data.analysis.sozialindex.build`), kept until the next write."""
    key = (json.dumps(spec.weights), json.dumps(spec.parameters(), sort_keys=True))
    return kept(("sozialindex", *key), lambda a: social_index.build(a, spec), max_entries=32)


def target_status() -> pd.DataFrame:
    """Every target this instance may show with its Ampel (columns: analysis.targets.evaluate)."""
    return kept(("target_status",), targets.current)


def ampel_states(indicator_key: str, level: str, year: int) -> tuple[pd.DataFrame, str]:
    """The Ampel per area for the map and the table (analysis.targets.map_states)."""
    return kept(("ampel_states", indicator_key, level, year), lambda a: targets.map_states(a, indicator_key, level,
                                                                                           year))


def correlations(level: str, year: int, keys: list[str]) -> correlation.Correlations:
    """The correlation matrix (:func:`keck_data.analysis.correlation.matrix`), kept until the next write."""
    return kept(("correlations", level, year, tuple(keys)), lambda a: correlation.matrix(a, level, year, keys))


def similar(area: str, level: str, year: int, keys: list[str]) -> similar_areas.Similar:
    """The five areas most similar to ``area`` over those of ``keys`` that have a value for it in ``year``
    (:func:`keck_data.analysis.similar.similar`, :func:`~keck_data.analysis.similar.with_values`)."""
    def load(a: Atlas) -> similar_areas.Similar:
        shown = similar_areas.with_values(a, area, level, year, keys)
        return similar_areas.similar(a, area, level, year, shown or keys)
    return kept(("similar", area, level, year, tuple(keys)), load)
