"""Task runners: where the tasks of one film run, chosen by ``run.task_runner``.

- ``thread`` (default): a thread pool in the flow's own process, ``run.max_workers`` tasks at once.
- ``dask``: prefect-dask's ``DaskTaskRunner``: the scheduler at ``run.dask_address``, or a temporary local
  cluster of ``run.dask_workers`` processes. The pages of one film render in parallel across the workers.
- ``ray``: prefect-ray's ``RayTaskRunner``: the cluster at ``run.ray_address``, or a local Ray.

Which worker runs which task does not change the film: tasks pass paths and small records, every asset
is keyed by its spec and written through the run directory's manifest (guarded by a file lock), and the
made/reused counts are kept in the run directory, not in one process's memory.

The make-film flow picks its runner itself: Prefect starts a flow's task runner before the flow's body
runs, and the config (a profile, settings, or a resumed run's ``config.json``) is only known in the body.
So the flow is declared with ``ConfiguredTaskRunner``, and once its config is resolved it submits its
tasks inside ``configured_tasks(config)``, on the runner ``run.*`` asks for. However the flow is called
(``from storyreel import make_film``, the CLI, a deployment, a revision), ``run.task_runner`` and
``run.max_workers`` apply. A runner given explicitly wins::

    config, _ = load_config("preview", ["run.task_runner=dask"])
    make_film(prompt="A fox", config=config)  # on a local Dask cluster
    with_task_runner(make_film, other_config)(prompt="A fox", config=config)  # on other_config's runner
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prefect import Flow
from prefect.context import FlowRunContext
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from storyreel.config import Config
from storyreel.errors import BackendError, ConfigError


def task_runner(config: Config) -> TaskRunner:
    """A fresh task runner for ``config.run``; a missing package is a BackendError that says what to install."""
    run = config.run
    if run.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=run.max_workers)
    if run.task_runner == "dask":
        try:
            from storyreel.flows.runner_dask import FilmDaskTaskRunner
        except ImportError as exc:
            raise BackendError(
                f"run.task_runner = 'dask' needs prefect-dask and dask.distributed ({exc.name} is missing): "
                "pip install 'storyreel[dask]'"
            ) from None
        if run.dask_address:
            return FilmDaskTaskRunner(address=run.dask_address)
        return FilmDaskTaskRunner(
            cluster_kwargs={
                "n_workers": run.dask_workers,
                "threads_per_worker": 1,  # one task per process: a worker holds one model at a time
                "processes": True,
                "host": "127.0.0.1",  # a local cluster listens on this machine only
                "dashboard_address": None,  # no web server on a port nobody asked for
            }
        )
    if run.task_runner == "ray":
        try:
            from prefect_ray import RayTaskRunner
        except ImportError as exc:
            raise BackendError(
                f"run.task_runner = 'ray' needs prefect-ray ({exc.name} is missing): pip install 'storyreel[ray]'"
            ) from None
        if run.ray_address:
            return RayTaskRunner(address=run.ray_address)
        return RayTaskRunner(init_kwargs={"include_dashboard": False})  # a local Ray, no dashboard server
    raise ConfigError(f"unknown run.task_runner {run.task_runner!r}; choose thread, dask or ray")


def with_task_runner(flow: Flow[Any, Any], config: Config) -> Flow[Any, Any]:
    """``flow`` with the task runner that ``config.run`` asks for, fixed when the flow starts. make-film
    needs none of this (it picks its runner from its own config); use it to run a flow's tasks on another
    config's runner than the one the flow is given."""
    return flow.with_options(task_runner=task_runner(config))


class ConfiguredTaskRunner(ThreadPoolTaskRunner):
    """The task runner a flow is declared with when its config chooses the runner: it stands until the
    flow's body knows its config, and ``configured_tasks`` replaces it then. Nothing is submitted to it."""


@contextlib.contextmanager
def configured_tasks(config: Config) -> Iterator[None]:
    """Inside, the current flow's tasks are submitted to the runner ``config.run`` asks for, started here
    and stopped on the way out; unless the flow was given a runner explicitly (``with_task_runner``),
    which is kept."""
    context = FlowRunContext.get()
    if context is None or not isinstance(context.task_runner, ConfiguredTaskRunner):
        yield
        return
    with task_runner(config) as runner, context.model_copy(update={"task_runner": runner}):
        yield
