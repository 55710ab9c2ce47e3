"""Command-line jobs while the internal instance runs: handed to the process that holds the warehouse.

DuckDB lets one process open a file for writing and no other process open it at all meanwhile. The internal
instance keeps its connection open (its caches and the protected-values memo live on it), so a page rerun costs
nothing extra. Instead, the instance runs a *desk*: a thread that watches ``<warehouse>.jobs/`` and runs the
command-line jobs it finds there on its own connection, one after the other, so every write still goes through
``Warehouse.write`` (policy, one transaction, audit row, version bump that the pages' caches key on).

A command that finds the file locked hands its parsed arguments to the desk of the process holding the lock and
relays that job's output and exit code; if the holder has no desk (another command), it waits its turn.
Files of one job: ``<id>.job`` (arguments, written by the command) → ``<id>.run`` (claimed by the desk) →
``<id>.out``/``<id>.err`` (output as it is written) and ``<id>.rc`` (exit code; the job is done).
"""
from __future__ import annotations

import json
import os
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from .errors import WarehouseError, WarehouseLocked
from .warehouse import Warehouse

T = TypeVar("T")
POLL_SECONDS = 0.2
WAITING = "Warte auf die laufende Anwendung …"
Runner = Callable[[dict, Warehouse, TextIO, TextIO], int]


def spool(path: Path) -> Path:
    """The job folder of a warehouse file."""
    return path.with_name(path.name + ".jobs")


def desk_pid(path: Path) -> int | None:
    """The process whose desk takes jobs for this warehouse, if it is alive."""
    try:
        pid = int(json.loads((spool(path) / "desk.json").read_text(encoding="utf-8"))["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid


class Desk:
    """Runs the jobs of ``<warehouse>.jobs/`` on ``wh`` in a daemon thread, until ``wh`` is gone or closed."""

    def __init__(self, wh: Warehouse, run: Runner) -> None:
        self._wh = weakref.ref(wh)
        self.path = wh.path
        self.folder = spool(wh.path)
        self.run = run

    def start(self) -> Desk:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        threading.Thread(target=self._loop, name=f"keck-desk-{self.folder.name}", daemon=True).start()
        return self

    def _announce(self) -> None:
        if desk_pid(self.path) != os.getpid():
            _write_atomic(self.folder / "desk.json", json.dumps({"pid": os.getpid()}))

    def _loop(self) -> None:
        while self.poll():
            time.sleep(POLL_SECONDS)

    def poll(self) -> bool:
        """One look at the job folder, running what is there; False once the warehouse is gone or closed (the
        desk does not keep it alive)."""
        wh = self._wh()
        if wh is None or wh.closed:
            return False
        self._announce()
        for job in sorted(self.folder.glob("*.job"), key=_mtime):
            self._take(job, wh)
        return True

    def _take(self, job: Path, wh: Warehouse) -> None:
        running = job.with_suffix(".run")
        try:
            os.rename(job, running)  # claimed: a command that gave up waiting can no longer withdraw it
        except FileNotFoundError:
            return
        with open(job.with_suffix(".out"), "a", encoding="utf-8", buffering=1) as out, \
                open(job.with_suffix(".err"), "a", encoding="utf-8", buffering=1) as err:
            try:
                rc = self.run(json.loads(running.read_text(encoding="utf-8")), wh, out, err)
            except Exception:  # noqa: BLE001 - the instance keeps serving; the command sees what went wrong
                print(f"Fehler in der laufenden Anwendung:\n{traceback.format_exc()}", file=err)
                rc = 1
        _write_atomic(job.with_suffix(".rc"), str(rc))
        running.unlink(missing_ok=True)


def open_waiting(open_file: Callable[[], T], timeout: float, on_wait: Callable[[WarehouseLocked], None]) -> T:
    """``open_file()``, retried while another process holds the file (``on_wait`` is told once), up to
    ``timeout`` seconds; then the German WarehouseLocked error."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            return open_file()
        except WarehouseLocked as locked:
            if time.monotonic() >= deadline:
                raise WarehouseLocked(
                    f"{locked} Nach {timeout:.0f} s Warten noch immer belegt; bitte später erneut versuchen "
                    "(Wartezeit: KECK_WAIT_SECONDS).", locked.pid) from None
            if not told:
                on_wait(locked)
                told = True
            time.sleep(0.5)


def run_or_hand_over(path: Path, args: dict, open_file: Callable[[], Warehouse], run: Runner, out: TextIO,
                     err: TextIO, timeout: float) -> int:
    """Run a command job here on a warehouse of its own; if the running instance holds the file, hand the job to
    its desk; if another command holds it, wait for it (up to ``timeout`` seconds)."""
    def attempt() -> Warehouse | None:
        try:
            return open_file()
        except WarehouseLocked as locked:
            if locked.pid is not None and locked.pid == desk_pid(path):
                return None
            raise

    wh = open_waiting(attempt, timeout, lambda locked: print(f"{WAITING} ({locked})", file=err, flush=True))
    if wh is None:
        print(f"{WAITING} Sie führt den Auftrag aus (PID {desk_pid(path)}).", file=err, flush=True)
        return submit(path, args, out, err, timeout)
    with wh:
        return run(args, wh, out, err)


def submit(path: Path, args: dict, out: TextIO, err: TextIO, timeout: float) -> int:
    """Hand a job to the desk of the running instance, relay its output as it comes, return its exit code.

    Gives up with WarehouseError if the desk has not taken the job after ``timeout`` seconds, or if the instance
    ends before the job is done.
    """
    folder = spool(path)
    job = folder / f"{uuid.uuid4().hex}.job"
    try:
        _write_atomic(job, json.dumps(args, ensure_ascii=False))
    except OSError as exc:
        raise WarehouseError(f"Der Auftrag lässt sich der laufenden Anwendung nicht übergeben ({folder}: "
                             f"{exc.strerror}). Bitte als derselbe Benutzer wie die Anwendung ausführen.") from None
    deadline = time.monotonic() + timeout
    relay = [(job.with_suffix(".out"), out, 0), (job.with_suffix(".err"), err, 0)]
    try:
        while not job.with_suffix(".rc").exists():
            relay = _relay(relay)
            if job.exists() and time.monotonic() >= deadline and _withdraw(job):
                raise WarehouseError(f"Die laufende Anwendung hat den Auftrag nach {timeout:.0f} s nicht "
                                     f"angenommen ({path}); bitte später erneut versuchen.")
            if desk_pid(path) is None and not job.with_suffix(".rc").exists():
                if _withdraw(job):
                    raise WarehouseError("Die laufende Anwendung wurde beendet, bevor sie den Auftrag annahm; er "
                                         "wurde nicht ausgeführt. Bitte erneut starten.")
                raise WarehouseError("Die laufende Anwendung wurde beendet, bevor der Auftrag fertig war. Ob er "
                                     "gespeichert wurde, zeigt das Änderungsprotokoll oder „python -m keck_data "
                                     "info“.")
            time.sleep(0.1)
        _relay(relay, final=True)
        return int(job.with_suffix(".rc").read_text(encoding="utf-8"))
    finally:
        _withdraw(job)  # interrupted before the desk took it: it does not run later
        for suffix in (".out", ".err", ".rc"):
            job.with_suffix(suffix).unlink(missing_ok=True)


def _relay(streams: list[tuple[Path, TextIO, int]], final: bool = False) -> list[tuple[Path, TextIO, int]]:
    """Copy the complete lines (``final``: everything) the job wrote since the last call; returns the new read
    positions (bytes)."""
    moved = []
    for file, target, pos in streams:
        if file.exists():
            with open(file, "rb") as f:
                f.seek(pos)
                data = f.read()
            lines = data if final else data[: data.rfind(b"\n") + 1]
            if lines:
                target.write(lines.decode("utf-8"))
                target.flush()
                pos += len(lines)
        moved.append((file, target, pos))
    return moved


def _withdraw(job: Path) -> bool:
    """Take back a job the desk has not claimed yet (False: it was claimed meanwhile)."""
    try:
        job.unlink()
        return True
    except FileNotFoundError:
        return False


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
