"""Prefect's temporary local server, started so that it outlives a Ctrl-C and never outlives storyreel.

With no ``PREFECT_API_URL``, Prefect starts a uvicorn subprocess (``SubprocessASGIServer``) for the run. Left
as Prefect starts it, that process shares the terminal's process group, so a Ctrl-C (which a terminal sends to
the whole group) kills the server together with the flow, and the flow then spends minutes failing to report
its state. ``install()`` makes Prefect start it:

- in its own session (its own process group): the terminal's signals reach storyreel only, which then stops
  cleanly, telling the still-running server what happened;
- with a parent-death signal (Linux): when storyreel is killed outright (SIGKILL), the server gets SIGTERM
  instead of living on as an orphan. The kernel sends it when the *thread* that started the server ends, so it
  is asked for only when the main thread starts the server (the CLI, the Python API and the test harness do);
- with the start-up timeout raised to ``STARTUP_TIMEOUT`` seconds unless the user set
  ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` (a fresh ``PREFECT_HOME`` migrates its database first,
  which takes a minute on a loaded machine), and a time-out said as a StoryreelError with what to do;
- without the server's telemetry (a temporary server has nothing to report; offline it logs an ERROR).

``stop()`` sends the queued logs and events first, then stops the server, then keeps any late failure of
Prefect's log worker off the terminal. It is called at the end of a CLI command, not inside one (a test
harness's server must survive the commands run in its process).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from storyreel.errors import StoryreelError

STARTUP_TIMEOUT = 90  # seconds: a fresh PREFECT_HOME's migrations on a busy machine take about a minute
TIMEOUT_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DRAIN_TIMEOUT = 20.0  # seconds to send the queued logs and events before the server stops

_installed = False
_user_timeout = TIMEOUT_SETTING in os.environ  # a timeout the user chose is kept as it is


class ServerStartError(StoryreelError):
    """Prefect's temporary server did not answer in time."""


def _die_with(parent: int) -> None:
    """In the server's process, before it runs: SIGTERM when the thread that started it ends (Linux)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


class _OwnSession:
    """Stands for the ``subprocess`` module inside Prefect's server module: the same, except that its
    ``Popen`` starts the server in its own session, dying with storyreel, and without telemetry."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - the name of what it stands for
        env = dict(kwargs.pop("env", None) or os.environ)
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        if sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
            kwargs["preexec_fn"] = lambda parent=os.getpid(): _die_with(parent)
        return subprocess.Popen(*args, start_new_session=True, env=env, **kwargs)


def install() -> None:
    """Make Prefect start its temporary server as this module says (once per process; cheap: nothing starts)."""
    global _installed
    if _installed:
        return
    from prefect.server.api import server as module

    module.subprocess = _OwnSession()  # type: ignore[assignment]
    original = module.SubprocessASGIServer.start

    def start(self: Any, timeout: int | None = None) -> None:
        if timeout is None:
            from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as setting

            timeout = startup_timeout(setting.value())
        try:
            original(self, timeout=timeout)
        except RuntimeError as exc:
            if "Timed out" not in str(exc):
                raise
            if self.server_process is not None and self.server_process.poll() is None:
                self.server_process.terminate()  # the server that did not answer is not left running
            raise ServerStartError(
                f"Prefect's temporary server did not start within {timeout} s (a busy machine, or a new "
                f"PREFECT_HOME setting up its database): try again, raise {TIMEOUT_SETTING}, or set "
                "PREFECT_API_URL to a running server (prefect server start)"
            ) from None

    module.SubprocessASGIServer.start = start  # type: ignore[method-assign]
    _installed = True


def startup_timeout(setting: int) -> int:
    """Seconds to wait for the temporary server: Prefect's setting when the user chose it, else at least
    ``STARTUP_TIMEOUT``."""
    return setting if _user_timeout else max(setting, STARTUP_TIMEOUT)


def running() -> Any:
    """The temporary server this process started, or None (none started, or a server in PREFECT_API_URL)."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances.get(None)
    return server if server is not None and server.running and server.server_process is not None else None


def drain(timeout: float = DRAIN_TIMEOUT) -> None:
    """Send the queued log lines and events to the server now."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):  # what cannot be sent must not turn a finished film into a failure
            worker.drain_all(timeout=timeout)


def stop(timeout: float = DRAIN_TIMEOUT) -> None:
    """Drain the logs, then stop the temporary server, if this process started one; afterwards a log line
    that could not be sent is dropped silently (stdlib's ``logging.raiseExceptions``, which Prefect's log
    worker honours) instead of printing a connection traceback."""
    if "prefect" not in sys.modules:
        return
    drain(timeout)
    server = running()
    if server is not None:
        with contextlib.suppress(Exception):
            server.stop()
    logging.raiseExceptions = False
