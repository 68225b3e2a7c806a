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

The CLI starts the same server earlier and itself (``launch()``): before this process imports Prefect, so the
server's start (about 9 s of its own process's CPU) runs on another core beside storyreel's imports and the
offline model's load, and this process never imports Prefect's server code (4 s) just to start it. It runs
the command Prefect's ``SubprocessASGIServer`` runs (uvicorn on ``prefect.server.api.server:create_app``, the
UI off, marked ephemeral; a test holds the two equal), with the same session, parent-death signal and
telemetry rules as above. Once Prefect's settings are read (``use_launched``), the server is kept and named
in ``PREFECT_API_URL`` for this process, or stopped at once when the settings name a server of their own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from storyreel.errors import StoryreelError

STARTUP_TIMEOUT = 90  # seconds: a fresh PREFECT_HOME's migrations on a busy machine take about a minute
TIMEOUT_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DRAIN_TIMEOUT = 20.0  # seconds to send the queued logs and events before the server stops

_installed = False
_user_timeout = TIMEOUT_SETTING in os.environ  # a timeout the user chose is kept as it is
_launched: Launched | None = None  # the temporary server the CLI started itself (``launch``)


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
            raise _not_started(timeout) from None

    module.SubprocessASGIServer.start = start  # type: ignore[method-assign]
    _installed = True


def _not_started(timeout: float, why: str = "") -> ServerStartError:
    """The one line for a temporary server that did not answer within ``timeout`` seconds."""
    return ServerStartError(
        f"Prefect's temporary server did not start within {timeout:.0f} s{why} (a busy machine, or a new "
        f"PREFECT_HOME setting up its database): try again, raise {TIMEOUT_SETTING}, or set "
        "PREFECT_API_URL to a running server (prefect server start)"
    )


def startup_timeout(setting: int) -> int:
    """Seconds to wait for the temporary server: Prefect's setting when the user chose it, else at least
    ``STARTUP_TIMEOUT``."""
    return setting if _user_timeout else max(setting, STARTUP_TIMEOUT)


def running() -> Any:
    """The temporary server this process started, or None (none started, or a server in PREFECT_API_URL)."""
    if _launched is not None and _launched.process.poll() is None:
        return _launched
    if "prefect.server.api.server" not in sys.modules:  # Prefect never started one here
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances.get(None)
    return server if server is not None and server.running and server.server_process is not None else None


# --- the CLI's early start ---------------------------------------------------------------------------------

# what Prefect's SubprocessASGIServer sets for its server (prefect 3): no UI, an ephemeral server
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
PORT_IN_USE = 3  # uvicorn's exit status when its port is taken


def server_command(port: int) -> list[str]:
    """The command that runs Prefect's API server on ``port``, as Prefect's temporary server runs it."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")  # where Prefect is installed, without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError("Prefect is not installed: pip install prefect")
    app_dir = os.path.dirname(list(spec.submodule_search_locations)[0])
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        app_dir,
        "--factory",
        "prefect.server.api.server:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "error",
        "--lifespan",
        "on",
    ]


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Launched:
    """A temporary Prefect server this process started (``launch``): its process, port and start time."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.port = 0
        self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        self.port = _free_port()
        env = {**os.environ, **SERVER_ENV}
        return _OwnSession.Popen(server_command(self.port), env=env)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait(self, timeout: float) -> float:
        """Wait until the server answers its health check; the seconds since it was started. A server that
        does not answer in ``timeout`` seconds is stopped and said as a ServerStartError."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            code = self.process.poll()
            if code == PORT_IN_USE:  # the free port was taken meanwhile: another one
                self.process = self._spawn()
            elif code is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        code = self.process.poll()
        self.stop()
        raise _not_started(timeout, f" (it exited with status {code})" if code is not None else "")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch() -> Launched | None:
    """Start Prefect's temporary server now, for a CLI command about to run a flow, when nothing decides
    otherwise yet: no ``PREFECT_API_URL`` in the environment, and Prefect not imported in this process (an
    embedding program or a test harness has its own settings and server). ``use_launched`` decides, once
    Prefect's settings are read, whether it is kept."""
    global _launched
    if _launched is not None or os.environ.get("PREFECT_API_URL") or "prefect" in sys.modules:
        return None
    try:
        _launched = Launched()
    except OSError:  # no process or no port now: Prefect's own start is tried later, with its own message
        return None
    return _launched


def use_launched(configured_url: str) -> Launched | None:
    """The launched server, now named in ``PREFECT_API_URL`` for this process and its children; or None,
    the launched one stopped, when Prefect's settings (a profile) name a server (``configured_url``) or none
    was launched."""
    global _launched
    if _launched is None:
        return None
    if configured_url:
        _launched.stop()
        _launched = None
        return None
    os.environ["PREFECT_API_URL"] = _launched.api_url
    if "prefect.context" in sys.modules:  # settings already read: read them again, with the URL
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()
    return _launched


def launched() -> Launched | None:
    """The temporary server the CLI launched and kept (``launch``, ``use_launched``), or None."""
    return _launched


def has_ui() -> bool:
    """Whether the flows run on a server with a UI to visit: ``PREFECT_API_URL`` names one, and it is not a
    temporary server (which has none)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value() or ""
    return bool(url) and (_launched is None or url != _launched.api_url)


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
    if "prefect" in sys.modules:
        drain(timeout)
    server = running()
    if server is not None:
        with contextlib.suppress(Exception):
            server.stop()
    logging.raiseExceptions = False
