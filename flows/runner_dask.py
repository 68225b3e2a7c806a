"""The Dask task runner of storyreel: prefect-dask's, plus the tasks' progress sent back to the flow.

Tasks report progress through ``storyreel.progress`` (``advance("images", "page 2")``). On a Dask worker
that call happens in another process, so the terminal display of the flow would not move. A worker
plugin installs a reporter on every worker that logs each call as a Dask event; the flow's client
subscribes to those events and replays the calls of its own flow run into its own reporter.

Imported only when ``run.task_runner = "dask"`` (see ``storyreel.flows.runners``).
"""

from __future__ import annotations

import functools
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin
from prefect.context import FlowRunContext, TaskRunContext
from prefect_dask import DaskTaskRunner
from prefect_dask.client import PrefectDaskClient

from storyreel import progress

TOPIC = "storyreel-progress"


class _EventReporter:
    """A ``progress.Reporter`` on a Dask worker: every call becomes an event for the flow's client."""

    def __init__(self, worker: Any):
        self.worker = worker

    def _send(self, call: str, *args: Any) -> None:
        context = TaskRunContext.get()
        flow_run = str(context.task_run.flow_run_id) if context and context.task_run.flow_run_id else ""
        self.worker.log_event(TOPIC, {"flow_run": flow_run, "call": call, "args": list(args)})

    def start(self, stage: str, total: int) -> None:
        self._send("start", stage, total)

    def advance(self, stage: str, detail: str = "") -> None:
        self._send("advance", stage, detail)

    def note(self, message: str) -> None:
        self._send("note", message)


class ProgressToFlow(WorkerPlugin):
    """Installs the event reporter on each worker (idempotent: one per worker, however many flows)."""

    idempotent = True
    name = TOPIC

    def setup(self, worker: Any) -> None:
        self._previous = progress.use(_EventReporter(worker))

    def teardown(self, worker: Any) -> None:
        progress.use(getattr(self, "_previous", progress.LogReporter()))


def _replay(flow_run: str, event: tuple[float, dict[str, Any]]) -> None:
    """Replay a worker's progress call into this process's reporter, if it belongs to this flow run."""
    _, message = event
    if message.get("flow_run") == flow_run and message.get("call") in ("start", "advance", "note"):
        getattr(progress, message["call"])(*message.get("args", []))


class FilmDaskTaskRunner(DaskTaskRunner):
    """``DaskTaskRunner`` whose client, once connected, forwards the workers' progress to this flow."""

    @property
    def client(self) -> PrefectDaskClient:
        connecting = self._client is None
        client = super().client
        if connecting:
            context = FlowRunContext.get()
            flow_run = str(context.flow_run.id) if context and context.flow_run else ""
            client.register_plugin(ProgressToFlow(), name=TOPIC)
            client.subscribe_topic(TOPIC, functools.partial(_replay, flow_run))
        return client
