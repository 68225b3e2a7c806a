"""Progress reporting: the flow says what it does; whoever runs it decides how to show it.

The flow calls ``progress.start(stage, total)`` and ``progress.advance(stage, detail)``. By default that
goes to the ``storyreel`` logger; the CLI installs a reporter on stderr with ``use(...)``: live bars
(``RichReporter``) on a terminal, plain timestamped lines (``PlainReporter``) when stderr is a file or a pipe.

The story stage ticks once per page written: the offline writer calls ``advance("story", ...)`` after each
page, and ``catch_up`` ticks the pages a chat model wrote in one answer.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Protocol, TextIO

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


class PlainReporter:
    """One timestamped line per event, no bars: for logs, CI and pipes (``12:03:04 images 2/6: page 2``)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _line(self, text: str) -> None:
        stream = self.stream or sys.stderr  # looked up at each line: a test runner may swap sys.stderr
        stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        stream.flush()

    def start(self, stage: str, total: int) -> None:
        with self._lock:
            self._totals[stage], self._done[stage] = total, 0
            self._line(f"{stage}: {total} step(s)")

    def advance(self, stage: str, detail: str = "") -> None:
        with self._lock:
            self._done[stage] = self._done.get(stage, 0) + 1
            total = self._totals.get(stage)
            count = f"{self._done[stage]}/{total}" if total else str(self._done[stage])
            self._line(f"{stage} {count}" + (f": {detail}" if detail else ""))

    def note(self, message: str) -> None:
        with self._lock:
            for line in message.splitlines() or [""]:
                self._line(line)


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
        self.progress.console.print(message, highlight=False, soft_wrap=True, markup=False)


_current: Reporter = LogReporter()
_ticks: dict[str, int] = {}  # advances per stage since its start, for catch_up


def use(reporter: Reporter) -> Reporter:
    """Install ``reporter`` for this process; returns the previous one."""
    global _current
    previous, _current = _current, reporter
    return previous


def start(stage: str, total: int) -> None:
    _ticks[stage] = 0
    _current.start(stage, total)


def advance(stage: str, detail: str = "") -> None:
    _ticks[stage] = _ticks.get(stage, 0) + 1
    _current.advance(stage, detail)


def catch_up(stage: str, count: int, detail: str = "") -> None:
    """Advance ``stage`` until it has ``count`` ticks since its start (those a callee gave count).
    ``detail`` may hold ``{n}``, the number of the tick: ``"page {n} written"``."""
    while (n := _ticks.get(stage, 0) + 1) <= count:
        advance(stage, detail.format(n=n))


def note(message: str) -> None:
    _current.note(message)
