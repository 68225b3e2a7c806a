"""Progress reporting: the flow says what it does; whoever runs it decides how to show it.

The flow calls ``progress.start(stage, total)`` and ``progress.advance(stage, detail)``. By default that
goes to the ``storyreel`` logger; the CLI installs a rich display on stderr with ``use(...)``.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

log = logging.getLogger("storyreel")


class Reporter(Protocol):
    def start(self, stage: str, total: int) -> None: ...

    def advance(self, stage: str, detail: str = "") -> None: ...

    def note(self, message: str) -> None: ...


class LogReporter:
    def start(self, stage: str, total: int) -> None:
        log.info("%s: %d step(s)", stage, total)

    def advance(self, stage: str, detail: str = "") -> None:
        log.info("%s: %s done", stage, detail)

    def note(self, message: str) -> None:
        log.info("%s", message)


class RichReporter:
    """A live progress display on stderr: one bar per stage, the page being worked on."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.fields[stage]:<12}"),
            BarColumn(bar_width=28),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start(self, stage: str, total: int) -> None:
        with self._lock:
            if stage in self._tasks:
                self.progress.update(self._tasks[stage], total=total, completed=0)
            else:
                self._tasks[stage] = self.progress.add_task(stage, total=total, stage=stage, detail="")

    def advance(self, stage: str, detail: str = "") -> None:
        with self._lock:
            if stage not in self._tasks:
                self._tasks[stage] = self.progress.add_task(stage, total=None, stage=stage, detail="")
            self.progress.update(self._tasks[stage], advance=1, detail=detail)

    def note(self, message: str) -> None:
        self.progress.console.print(message, highlight=False, soft_wrap=True)


_current: Reporter = LogReporter()


def use(reporter: Reporter) -> Reporter:
    """Install ``reporter`` for this process; returns the previous one."""
    global _current
    previous, _current = _current, reporter
    return previous


def start(stage: str, total: int) -> None:
    _current.start(stage, total)


def advance(stage: str, detail: str = "") -> None:
    _current.advance(stage, detail)


def note(message: str) -> None:
    _current.note(message)
