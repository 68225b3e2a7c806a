"""How a storyreel command ends when something goes wrong: one line on the terminal and a meaningful exit status.

- Signals: SIGINT (Ctrl-C, which a terminal sends to the whole process group), SIGTERM and SIGHUP raise
  ``Interrupted`` (a ``KeyboardInterrupt``, so every ``except KeyboardInterrupt`` treats them alike) in the main
  thread. Tasks that run in other threads cannot be interrupted; if the command has not ended ``GRACE`` seconds
  after the signal (or at a second signal), ``on_overdue`` is called and the process exits at once with
  ``128 + signal``. Finished assets are safe either way: every write is atomic, and resuming redoes the rest.
  ``run_async(work)`` runs a coroutine so that a signal cancels it instead (``storyreel serve``).
- ``working_on(run_dir)``: the run a command writes, for the messages and for ``crash_log``.
- ``crash_log(exc)``: an unexpected error's traceback in a log file (the run's ``logs/``, else the cache dir),
  so the terminal shows one line and the file's path.
- ``os_error_line(exc)``: the one line for the OS errors a user can fix (a full disk, a read-only folder, a
  deleted working directory), or None for the others.
"""

from __future__ import annotations

import datetime
import errno
import os
import shutil
import signal
import threading
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

GRACE = 5.0  # seconds a command has to end by itself after a signal before it is ended at once
SIGNALS = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


class Interrupted(KeyboardInterrupt):
    """A signal asked storyreel to stop (``signum``; its exit status is ``128 + signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(SIGNALS.get(signal.Signals(signum), f"signal {signum}"))
        self.signum = signum


received: int | None = None  # the first signal received, or None
_run_dir: Path | None = None
_finishing = False
_grace = GRACE
_instead: Callable[[int], None] | None = None  # called on the first signal in place of raising (``run_async``)
T = TypeVar("T")


def exit_code(signum: int | None = None) -> int:
    """The exit status of a command stopped by ``signum`` (default: the signal received; Ctrl-C if none)."""
    return 128 + int(signum or received or signal.SIGINT)


def what_stopped() -> str:
    """``interrupted`` (Ctrl-C) or ``stopped by SIGTERM`` / ``SIGHUP``: the start of the line that says so."""
    if received in (None, signal.SIGINT):
        return "interrupted"
    return f"stopped by {SIGNALS.get(signal.Signals(received), f'signal {received}')}"


def install(on_overdue: Callable[[int], None]) -> None:
    """Handle SIGINT, SIGTERM and SIGHUP in this (the main) thread as said above. ``on_overdue(code)`` must end
    the process (``os._exit``); it runs in a watchdog thread when the command overstays its grace period."""

    def handle(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        global received
        if _finishing and received is None:  # the command is over: only its exit status changes
            received = signum
            return
        if received is not None:  # a second signal: no more waiting
            on_overdue(exit_code())
            return
        received = signum
        watchdog = threading.Timer(_grace, lambda: on_overdue(exit_code()))
        watchdog.daemon = True
        watchdog.start()
        if _instead is not None:
            _instead(signum)
            return
        raise Interrupted(signum)

    for signum in SIGNALS:
        signal.signal(signum, handle)


def allow(seconds: float) -> None:
    """Give the current command ``seconds`` after a signal to end by itself (``storyreel serve``: Prefect pauses
    what it served before it stops, over the network)."""
    global _grace
    _grace = seconds


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` in a new event loop in this (the main) thread until it is done. A signal cancels its task,
    as asyncio's own Ctrl-C handling does, instead of raising ``Interrupted`` wherever the main thread is (often
    inside the loop's ``select``, after which asyncio cancels every task at once and clean-up that awaits can be
    cancelled too); ``Interrupted`` is raised once ``work`` has unwound. The grace period and a second signal
    work as usual."""
    import asyncio

    global _instead
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        task = loop.create_task(work)
        before, _instead = _instead, lambda signum: loop.call_soon_threadsafe(task.cancel)  # noqa: ARG005
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if received is None:
                raise
            raise Interrupted(received) from None
        finally:
            _instead = before


def finishing() -> None:
    """The command has ended: a signal from now on sets the exit status but raises nothing (no traceback from
    the clean-up that follows)."""
    global _finishing
    _finishing = True


def working_on(run_dir: Path | str | None) -> None:
    """Say which run directory the current command writes (None: none)."""
    global _run_dir
    _run_dir = Path(run_dir) if run_dir else None


def run_dir() -> Path | None:
    """The run directory the current command writes, if it is known yet."""
    return _run_dir


def crash_log(exc: BaseException) -> Path | None:
    """Write ``exc``'s traceback to ``<run>/logs/error-<time>.log`` (or under the cache dir when there is no run
    yet); returns the file, or None when neither place can be written."""
    from storyreel.runtime import cache_dir

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = "".join(traceback.format_exception(exc))
    places = [_run_dir / "logs"] if _run_dir else []
    for folder in [*places, cache_dir() / "logs"]:
        path = folder / f"error-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    return None


def os_error_line(exc: BaseException) -> str | None:
    """The one line for an OS error a user can fix, or None."""
    if not isinstance(exc, OSError):
        return None
    cause = exc  # a library's own OSError ("could not write …") may carry the system's one as its cause
    while cause.errno is None and isinstance(cause.__cause__ or cause.__context__, OSError):
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    resume = f"; then resume with: storyreel make --run {_run_dir}" if _run_dir else ""
    if cause.errno in (errno.ENOSPC, errno.EDQUOT) or (cause.errno is None and _disk_full(exc)):
        return f"no space left on the device{where}: free some space{resume}"
    if cause.errno == errno.EROFS:
        return f"the folder is on a read-only file system{where}: write the runs elsewhere with --out{resume}"
    if cause.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}: make the folder writable or choose another with --out{resume}"
    if cause.errno == errno.ENOENT and not working_dir_exists():
        return "the current folder no longer exists (deleted or moved): cd to an existing folder and run it again"
    return None


FULL = 1 << 20  # bytes: a device with less free space than this is full, for a write error without an errno


def _disk_full(exc: OSError) -> bool:
    """Whether the device of the run (or of the file the error names) is full: the errno of a failed write is
    lost when a library raises its own OSError (Pillow: "could not write …")."""
    for place in (exc.filename, _run_dir):
        path = Path(place) if place else None
        while path is not None and not path.exists() and path != path.parent:
            path = path.parent
        if path is not None:
            try:
                return shutil.disk_usage(path).free < FULL
            except OSError:
                continue
    return False


def working_dir_exists() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return False
    return True
